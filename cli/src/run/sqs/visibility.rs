//! Keeping a batch's messages hidden while `bindery run` delivers them.
//!
//! A batch gets the queue's visibility timeout less a margin, but never less
//! than [`MIN_BATCH_TIME`]: SQS allows timeouts down to 0 s, far shorter than
//! an app may take. When the batch may outlast its messages' visibility, they
//! are extended by [`EXTENSION`] whenever less than [`RENEW_AHEAD`] of it is
//! left (the heartbeat AWS recommends), so no other consumer receives a
//! message while the app has it; an extension due at once is made before
//! anything is delivered. On a queue whose timeout is shorter than an
//! extension, messages are received hidden for [`EXTENSION`] (see
//! [`receive_visibility`]). At the end, the messages not deleted get the
//! queue's own timeout again, so a failed one reappears after it, as it does
//! when nothing was extended.

use std::convert::Infallible;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry;
use tokio::time::Instant;

use super::Poller;

/// Finish a batch this long before its messages become visible again.
const VISIBILITY_MARGIN: Duration = Duration::from_secs(2);
/// The least time a batch gets: SQS's default visibility timeout, and the
/// function timeout `bindery infra` deploys.
const MIN_BATCH_TIME: Duration = Duration::from_secs(30);
/// How long each extension hides the messages, from when it is asked for.
const EXTENSION_SECONDS: u16 = 10;
const EXTENSION: Duration = Duration::from_secs(EXTENSION_SECONDS as u64);
/// Extend when less than this is left of the messages' visibility.
const RENEW_AHEAD: Duration = Duration::from_secs(5);
/// Between attempts when the queue could not be asked for an extension.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// How long a batch may take on a queue with this visibility timeout.
pub(super) fn batch_time(visibility: Duration) -> Duration {
    visibility.saturating_sub(VISIBILITY_MARGIN).max(MIN_BATCH_TIME)
}

/// The visibility timeout (seconds) to receive with, on a queue with this
/// one: [`EXTENSION`] where the queue's is shorter, else the queue's own
/// (`None`). A message received with a timeout of 0 s is visible again at
/// once, no longer in flight, so its visibility can no longer be changed
/// (SQS documents a `MessageNotInflight` error; LocalStack ignores the change): it
/// could never be kept hidden while it is delivered.
pub(super) fn receive_visibility(visibility: Duration) -> Option<i32> {
    (visibility < EXTENSION).then_some(i32::from(EXTENSION_SECONDS))
}

/// When messages hidden until `hidden_until` must next be extended to stay
/// hidden until the batch's `deadline` and the margin after it; `None` once
/// they are.
fn next_extension(hidden_until: Instant, deadline: Instant) -> Option<Instant> {
    (hidden_until < deadline + VISIBILITY_MARGIN).then(|| hidden_until.checked_sub(RENEW_AHEAD).unwrap_or(hidden_until))
}

/// The messages of a batch being delivered, by receipt handle.
pub(super) struct InFlight<'a> {
    poller: &'a Poller,
    receipts: Vec<String>,
    /// When the messages may become visible again, at the earliest.
    hidden_until: Instant,
    extended: bool,
    warned: bool,
}

impl<'a> InFlight<'a> {
    /// `receipts` of messages whose receive was asked for at `asked`.
    pub(super) fn new(poller: &'a Poller, receipts: Vec<String>, asked: Instant) -> Self {
        let hidden_until = asked + poller.visibility.max(EXTENSION);
        // Received with a longer timeout than the queue's: given it back at the end.
        let extended = receive_visibility(poller.visibility).is_some();
        Self { poller, receipts, hidden_until, extended, warned: false }
    }

    /// Extends the messages' visibility now if it is already due: before
    /// their delivery starts.
    pub(super) async fn extend_if_due(&mut self, deadline: Instant) {
        if next_extension(self.hidden_until, deadline).is_some_and(|due| due <= Instant::now()) {
            self.extend().await;
        }
    }

    /// Extends the messages' visibility whenever it is due until the batch's
    /// deadline; then waits for ever (the batch ends first).
    pub(super) async fn keep_hidden(&mut self, deadline: Instant) -> Infallible {
        while let Some(due) = next_extension(self.hidden_until, deadline) {
            tokio::time::sleep_until(due).await;
            if !self.extend().await {
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
        std::future::pending().await
    }

    /// Gives the messages that were not deleted the queue's own visibility
    /// timeout again, if they were extended.
    pub(super) async fn give_back(&self, receipts: &[&str]) {
        if !self.extended || receipts.is_empty() {
            return;
        }
        let seconds = i32::try_from(self.poller.visibility.as_secs()).unwrap_or(i32::MAX);
        let poller = self.poller;
        match change_visibility(&poller.client, &poller.queue_url, receipts, seconds).await {
            Ok(0) => {}
            Ok(failed) => poller.console.warn(&format!(
                "{}: {failed} failed message(s) will reappear up to {EXTENSION_SECONDS} s late",
                poller.binding
            )),
            Err(e) => poller.console.warn(&format!(
                "{}: {} failed message(s) will reappear up to {EXTENSION_SECONDS} s late: {e}",
                poller.binding,
                receipts.len()
            )),
        }
    }

    /// Hides the messages for [`EXTENSION`] from now; false when the queue
    /// could not be asked.
    async fn extend(&mut self) -> bool {
        if self.receipts.is_empty() {
            return true;
        }
        let asked = Instant::now();
        // Counted as extended even if the answer is lost: the change may have been made.
        self.extended = true;
        let receipts: Vec<&str> = self.receipts.iter().map(String::as_str).collect();
        let poller = self.poller;
        let changed =
            change_visibility(&poller.client, &poller.queue_url, &receipts, i32::from(EXTENSION_SECONDS)).await;
        let failure = match &changed {
            Ok(0) => None,
            Ok(failed) => Some(format!("{failed} of {} message(s)", receipts.len())),
            Err(e) => Some(format!("{} message(s): {e}", receipts.len())),
        };
        if let Some(failure) = failure
            && !self.warned
        {
            self.warned = true;
            poller.console.warn(&format!(
                "{}: cannot keep {failure} hidden while they are delivered; another consumer may receive them",
                poller.binding
            ));
        }
        if changed.is_ok() {
            self.hidden_until = asked + EXTENSION;
        }
        changed.is_ok()
    }
}

/// Sets the visibility timeout of up to ten messages (one batch) to
/// `seconds` from now: the number of messages SQS could not change, or why
/// it could not be asked.
pub(super) async fn change_visibility(
    client: &Client,
    queue_url: &str,
    receipts: &[&str],
    seconds: i32,
) -> Result<usize, String> {
    let entries: Vec<ChangeMessageVisibilityBatchRequestEntry> = receipts
        .iter()
        .enumerate()
        .filter_map(|(i, receipt)| {
            let entry = ChangeMessageVisibilityBatchRequestEntry::builder().id(format!("m{i}"));
            entry.receipt_handle(*receipt).visibility_timeout(seconds).build().ok()
        })
        .collect();
    let output = client
        .change_message_visibility_batch()
        .queue_url(queue_url)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())?;
    Ok(output.failed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn a_batch_gets_the_visibility_timeout_less_the_margin_but_never_less_than_the_minimum() {
        for short in [0, 1, 2, 10, 31, 32] {
            assert_eq!(batch_time(short * SECOND), MIN_BATCH_TIME, "{short} s");
        }
        assert_eq!(batch_time(33 * SECOND), 31 * SECOND);
        assert_eq!(batch_time(180 * SECOND), 178 * SECOND);
        assert_eq!(batch_time(43_200 * SECOND), 43_198 * SECOND);
    }

    #[test]
    fn messages_hidden_past_the_deadline_and_margin_are_never_extended() {
        let now = Instant::now();
        let visibility = 180 * SECOND;
        assert_eq!(next_extension(now + visibility, now + batch_time(visibility)), None);
        assert_eq!(next_extension(now + 32 * SECOND, now + 30 * SECOND), None);
    }

    #[test]
    fn short_visibility_is_extended_at_once_and_then_before_each_extension_runs_out() {
        let now = Instant::now();
        let deadline = now + batch_time(SECOND);
        // Received (asked) 1 s ago with 1 s of visibility, or just now with 1 s or 0 s: due already.
        for hidden_until in [now, now + SECOND] {
            assert!(next_extension(hidden_until, deadline).is_some_and(|due| due <= now));
        }
        // Each extension is renewed RENEW_AHEAD before it runs out, until the
        // messages are hidden past the deadline and its margin.
        let mut hidden_until = now + SECOND;
        let mut extensions = Vec::new();
        while let Some(due) = next_extension(hidden_until, deadline) {
            let asked = due.max(now);
            extensions.push(asked - now);
            hidden_until = asked + EXTENSION;
        }
        let expected: Vec<Duration> = [0, 5, 10, 15, 20, 25].iter().map(|&s| s * SECOND).collect();
        assert_eq!(extensions, expected);
        assert!(hidden_until >= deadline + VISIBILITY_MARGIN);
    }

    #[test]
    fn a_queue_whose_timeout_is_shorter_than_an_extension_is_received_with_one() {
        for short in [0, 1, 2, 9] {
            assert_eq!(receive_visibility(short * SECOND), Some(10), "{short} s");
        }
        for long in [10, 30, 43_200] {
            assert_eq!(receive_visibility(long * SECOND), None, "{long} s");
        }
    }

    #[test]
    fn a_visibility_just_short_of_the_batch_is_extended_once_before_it_runs_out() {
        let now = Instant::now();
        let deadline = now + batch_time(30 * SECOND);
        let due = next_extension(now + 30 * SECOND, deadline);
        assert_eq!(due, Some(now + 25 * SECOND));
        assert_eq!(next_extension(now + 25 * SECOND + EXTENSION, deadline), None);
    }
}
