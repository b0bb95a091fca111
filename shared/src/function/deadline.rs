//! The instant a function must be done by, from the invocation's
//! `Lambda-Runtime-Deadline-Ms`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;
use tracing::warn;

/// 2000-01-01T00:00:00Z in Unix milliseconds: a deadline before it is no
/// epoch time.
const EPOCH_2000_MS: u64 = 946_684_800_000;

/// Lambda's longest timeout, 15 minutes: a deadline up to it is a duration.
const LONGEST_TIMEOUT_MS: u64 = 900_000;

/// How a function turns an invocation's deadline into the instant it answers by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineRule {
    /// How long before the invocation deadline the function answers.
    pub margin: Duration,
    /// The time an invocation gets when its deadline cannot be a real one.
    pub fallback: Duration,
}

impl DeadlineRule {
    /// The instant to be done by: the invocation's deadline less the margin.
    ///
    /// Lambda sends the deadline as Unix milliseconds. Local emulators do
    /// not all do so: `cargo lambda watch` sends its timeout (`600000`), others
    /// 0 or the time of the invoke (aws-lambda-go #564, the .NET test tool's
    /// PR #1998). A deadline that cannot be a real one is not a failure:
    /// - up to 900000 (15 minutes, Lambda's longest timeout), it is a
    ///   duration from the event's receipt;
    /// - 0, anything else before 2000-01-01, or a time already past when the
    ///   event arrives gets `fallback` from its receipt.
    ///
    /// The first such deadline is logged as a warning, once per process.
    pub(crate) fn until(&self, deadline_ms: u64) -> Instant {
        let (remaining, unreal) = remaining(deadline_ms, SystemTime::now(), self.fallback);
        if let Some(unreal) = unreal {
            warn_once(deadline_ms, unreal, remaining);
        }
        Instant::now() + remaining.saturating_sub(self.margin)
    }
}

fn warn_once(deadline_ms: u64, unreal: Unreal, remaining: Duration) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if WARNED.swap(true, Ordering::Relaxed) {
        return;
    }
    let taken_as = match unreal {
        Unreal::Duration => "a duration from the event's receipt",
        Unreal::Fallback => "no deadline: BINDERY_FALLBACK_DEADLINE_MS applies",
    };
    warn!(
        deadline_ms,
        remaining_ms = remaining.as_millis() as u64,
        "lambda-runtime-deadline-ms is not a Unix time in the future (a local emulator?): taken as {taken_as}; \
         warned once"
    );
}

/// What a deadline that cannot be a real one was taken for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unreal {
    /// A duration from the event's receipt.
    Duration,
    /// Nothing: the fallback applies.
    Fallback,
}

/// The time an invocation has from `now`, its receipt, given its
/// `deadline_ms`, and what the deadline was taken for if it cannot be a
/// real one (see [`DeadlineRule::until`]).
fn remaining(deadline_ms: u64, now: SystemTime, fallback: Duration) -> (Duration, Option<Unreal>) {
    if deadline_ms >= EPOCH_2000_MS {
        let deadline = UNIX_EPOCH + Duration::from_millis(deadline_ms);
        return match deadline.duration_since(now) {
            Ok(left) if !left.is_zero() => (left, None),
            _ => (fallback, Some(Unreal::Fallback)),
        };
    }
    if (1..=LONGEST_TIMEOUT_MS).contains(&deadline_ms) {
        return (Duration::from_millis(deadline_ms), Some(Unreal::Duration));
    }
    (fallback, Some(Unreal::Fallback))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-04T20:00:00Z.
    const NOW_MS: u64 = 1_796_500_800_000;

    const FALLBACK: Duration = Duration::from_secs(60);

    fn at_now(deadline_ms: u64) -> (Duration, Option<Unreal>) {
        remaining(deadline_ms, UNIX_EPOCH + Duration::from_millis(NOW_MS), FALLBACK)
    }

    #[test]
    fn a_real_deadline_is_the_time_left_until_it() {
        assert_eq!(at_now(NOW_MS + 3_000), (Duration::from_secs(3), None));
        assert_eq!(at_now(NOW_MS + 900_000), (Duration::from_secs(900), None));
        assert_eq!(at_now(NOW_MS + 1), (Duration::from_millis(1), None));
    }

    /// `cargo lambda watch` sends its timeout, 600000, not an epoch time:
    /// taken for one, it is in 1970 and the function gave up at once.
    #[test]
    fn a_value_up_to_lambdas_longest_timeout_is_a_duration_from_receipt() {
        assert_eq!(at_now(600_000), (Duration::from_secs(600), Some(Unreal::Duration)));
        assert_eq!(at_now(3_000), (Duration::from_secs(3), Some(Unreal::Duration)));
        assert_eq!(at_now(900_000), (Duration::from_secs(900), Some(Unreal::Duration)));
    }

    /// Other emulators send 0 or the time of the invoke (aws-lambda-go #564,
    /// the .NET test tool's PR #1998).
    #[test]
    fn zero_a_past_deadline_or_one_before_2000_get_the_fallback() {
        assert_eq!(at_now(0), (FALLBACK, Some(Unreal::Fallback)));
        assert_eq!(at_now(900_001), (FALLBACK, Some(Unreal::Fallback)));
        assert_eq!(at_now(EPOCH_2000_MS - 1), (FALLBACK, Some(Unreal::Fallback)));
        assert_eq!(at_now(NOW_MS - 5), (FALLBACK, Some(Unreal::Fallback)), "the invoke's own time");
        assert_eq!(at_now(NOW_MS), (FALLBACK, Some(Unreal::Fallback)), "no time left at all");
    }
}
