//! Stream input bindings polled locally (Kinesis, DynamoDB Streams on
//! LocalStack, moto or AWS) with the rules of their functions. Each shard
//! is read in order, one GetRecords page at a time; a page becomes the
//! Lambda event the function would get and goes through the same delivery
//! (`bindery::deliver::batch`): in order, stopping at the first record the
//! app does not acknowledge.
//!
//! What follows a failure is Lambda's event source mapping with unbounded
//! retries, as `bindery infra` writes it: the shard is read again from the
//! failed record, after a pause that grows while it keeps failing, so
//! nothing after it is delivered before it is, and nothing is skipped.
//! A closed shard (resharding) ends; its children start then, from their
//! first record, as Lambda reads them. Shards are listed every
//! [`SHARD_SCAN`] to find new ones.

mod dynamodb;
mod kinesis;

use std::collections::HashSet;
use std::rc::Rc;
use std::time::{Duration, Instant as StdInstant};

use bindery::component::BindingKind;
use bindery::deliver::Deliverer;
use bindery::deliver::batch::{RecordOutcome, deliver_batch};
use bindery::deliver::once::deliver_record;
use bindery::idempotency::Idempotency;
use bindery::input::InputError;
use bindery::input::batch::BatchRecord;
use bindery::input::stream::{StartingPosition, StreamSettings};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub(crate) use dynamodb::DynamoDbStream;
pub(crate) use kinesis::KinesisStream;

use super::console::{Console, Outcome};

/// How often the shards are listed, for those resharding adds.
const SHARD_SCAN: Duration = Duration::from_secs(10);
/// Between reads of a shard with nothing new: Lambda polls a shard once a
/// second.
const IDLE_PAUSE: Duration = Duration::from_secs(1);
/// The first pause before a failed record is delivered again; it doubles
/// while the record keeps failing, up to [`MAX_RETRY_PAUSE`].
const RETRY_PAUSE: Duration = Duration::from_secs(1);
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(30);
/// How long a page may take to deliver: the timeout `bindery infra` gives
/// the function that would deliver it on Lambda.
const BATCH_TIME: Duration = Duration::from_secs(bindery_infra::Settings::DEFAULT_TIMEOUT_SECONDS);

/// Where reading a shard (re)starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Position {
    /// Where the component's `startingPosition` says, or the oldest record
    /// for a shard found later (all of its records are new).
    Start(StartingPosition),
    /// At this record: it failed, and is read again.
    At(String),
    /// After this record, the last one delivered: a new iterator replaces
    /// an expired one.
    After(String),
}

impl Position {
    /// The `ShardIteratorType` (Kinesis and DynamoDB Streams name them
    /// alike) and the sequence number it starts at.
    pub(crate) fn iterator_type(&self) -> (&'static str, Option<String>) {
        match self {
            Position::Start(start) => (start.as_str(), None),
            Position::At(sequence) => ("AT_SEQUENCE_NUMBER", Some(sequence.clone())),
            Position::After(sequence) => ("AFTER_SEQUENCE_NUMBER", Some(sequence.clone())),
        }
    }
}

/// A shard, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shard {
    pub(crate) id: String,
    /// The shard it was split or merged from; it is read once that one has
    /// been read to its end.
    pub(crate) parent: Option<String>,
}

/// One GetRecords page.
pub(crate) struct Page {
    /// The Lambda event holding its records, as JSON.
    pub(crate) event: Vec<u8>,
    pub(crate) records: usize,
    /// Its last record's sequence number.
    pub(crate) last: Option<String>,
    /// The iterator for the next page; `None` once a closed shard is read
    /// to its end.
    pub(crate) next: Option<String>,
}

pub(crate) enum ReadError {
    /// The iterator is too old (five minutes on Kinesis, fifteen on
    /// DynamoDB Streams): read again from the last position.
    Expired,
    Failed(String),
}

/// The calls that read a stream, over its SDK.
pub(crate) trait ShardSource {
    /// How the console names the source.
    const SOURCE: &'static str;
    /// The binding type whose records it reads (for their natural id).
    const KIND: BindingKind;

    async fn shards(&self) -> Result<Vec<Shard>, String>;

    async fn iterator(&self, shard: &str, from: &Position) -> Result<String, String>;

    async fn read(&self, shard: &str, iterator: &str, limit: u32) -> Result<Page, ReadError>;

    /// Reads the records of a page's event, as the source's function does.
    fn parse<'p>(&self, event: &'p [u8]) -> Result<Vec<impl BatchRecord<'p>>, InputError>;
}

/// How delivering a page ended.
#[derive(Debug, PartialEq, Eq)]
enum Delivered {
    All,
    /// The app did not acknowledge this record: the shard goes on from it.
    StoppedAt(String),
    /// The page could not be read; the shard goes on from where it was.
    Unreadable(String),
}

/// A stream being polled for one binding.
pub(crate) struct StreamPoller<S> {
    binding: String,
    source: S,
    settings: StreamSettings,
    deliverer: Deliverer,
    /// `idempotency` in the component: each sequence number delivered once.
    idempotency: Option<Idempotency>,
    console: Console,
}

impl<S: ShardSource + 'static> StreamPoller<S> {
    pub(crate) fn new(
        binding: String,
        source: S,
        settings: StreamSettings,
        deliverer: Deliverer,
        idempotency: Option<Idempotency>,
        console: Console,
    ) -> Self {
        Self { binding, source, settings, deliverer, idempotency, console }
    }

    /// Reads every shard until `stop`; each finishes the page it is
    /// delivering first.
    pub(crate) async fn poll(self, stop: CancellationToken) {
        let this = Rc::new(self);
        let mut readers: JoinSet<Option<String>> = JoinSet::new();
        let mut started = HashSet::new();
        let mut ended = HashSet::new();
        let mut listed_once = false;
        loop {
            match this.source.shards().await {
                Ok(shards) => {
                    // Shards there at start begin at `startingPosition`; later
                    // ones hold only new records, so from their first one.
                    let position =
                        if listed_once { StartingPosition::TrimHorizon } else { this.settings.starting_position };
                    listed_once = true;
                    for shard in ready(&shards, &started, &ended) {
                        started.insert(shard.clone());
                        readers.spawn_local(Rc::clone(&this).read_shard(
                            shard,
                            Position::Start(position),
                            stop.clone(),
                        ));
                    }
                }
                Err(e) => this.console.warn(&format!("{}: cannot list the shards: {e}", this.binding)),
            }
            tokio::select! {
                () = stop.cancelled() => break,
                // A shard read to its end lets its children start at once.
                Some(Ok(Some(shard))) = readers.join_next() => { ended.insert(shard); }
                () = tokio::time::sleep(SHARD_SCAN) => {}
            }
        }
        while readers.join_next().await.is_some() {}
    }

    /// Reads one shard in order until it ends (then gives its id) or `stop`.
    async fn read_shard(
        self: Rc<Self>,
        shard: String,
        mut position: Position,
        stop: CancellationToken,
    ) -> Option<String> {
        let mut iterator = None;
        let mut retry_pause = RETRY_PAUSE;
        while !stop.is_cancelled() {
            let current = match iterator.take() {
                Some(iterator) => iterator,
                None => match self.source.iterator(&shard, &position).await {
                    Ok(iterator) => iterator,
                    Err(e) => {
                        self.console.warn(&format!("{}: {shard}: cannot start reading: {e}", self.binding));
                        pause(RETRY_PAUSE, &stop).await;
                        continue;
                    }
                },
            };
            let page = match self.source.read(&shard, &current, self.settings.batch_size).await {
                Ok(page) => page,
                // Read again from `position`, with a new iterator.
                Err(ReadError::Expired) => continue,
                Err(ReadError::Failed(e)) => {
                    self.console.warn(&format!("{}: {shard}: cannot read: {e}", self.binding));
                    iterator = Some(current);
                    pause(RETRY_PAUSE, &stop).await;
                    continue;
                }
            };
            let delivered = if page.records == 0 { Delivered::All } else { self.deliver(&page.event).await };
            match delivered {
                Delivered::All => {
                    retry_pause = RETRY_PAUSE;
                    if let Some(last) = page.last {
                        position = Position::After(last);
                    }
                    let Some(next) = page.next else {
                        self.console.status(&format!("{}: {shard} read to its end", self.binding));
                        return Some(shard);
                    };
                    iterator = Some(next);
                    if page.records == 0 {
                        pause(IDLE_PAUSE, &stop).await;
                    }
                }
                Delivered::StoppedAt(sequence_number) => {
                    self.console.warn(&format!(
                        "{}: {shard}: delivering again from record {sequence_number} in {} s",
                        self.binding,
                        retry_pause.as_secs()
                    ));
                    position = Position::At(sequence_number);
                    pause(retry_pause, &stop).await;
                    retry_pause = (retry_pause * 2).min(MAX_RETRY_PAUSE);
                }
                Delivered::Unreadable(e) => {
                    self.console.warn(&format!("{}: {shard}: {e}", self.binding));
                    pause(retry_pause, &stop).await;
                    retry_pause = (retry_pause * 2).min(MAX_RETRY_PAUSE);
                }
            }
        }
        None
    }

    /// Delivers a page's records in order, as the function would.
    async fn deliver(&self, event: &[u8]) -> Delivered {
        let records = match self.source.parse(event) {
            Ok(records) => records,
            Err(e) => return Delivered::Unreadable(e.message),
        };
        let received = StdInstant::now();
        let deadline = Instant::now() + BATCH_TIME;
        let report = deliver_batch(records, 1, deadline, |event| async move {
            let (started, bytes) = (StdInstant::now(), event.data.len());
            let once = self.idempotency.as_ref();
            let result = deliver_record(once, &self.deliverer, &self.binding, S::KIND, event, deadline).await;
            let outcome = Outcome::of_delivery(&result);
            self.console.event(&self.binding, S::SOURCE, &outcome, started.elapsed(), Some(bytes));
            result.map(|_duplicate| ())
        })
        .await;
        for (_, outcome) in report.iter() {
            let why = match outcome {
                // Shown as they happened.
                RecordOutcome::Acked | RecordOutcome::Failed(_) => continue,
                RecordOutcome::Skipped => "an earlier record of its shard failed".to_owned(),
                RecordOutcome::Unfinished => format!("not finished within {} s", BATCH_TIME.as_secs()),
            };
            self.console.event(&self.binding, S::SOURCE, &Outcome::NotDelivered(why), received.elapsed(), None);
        }
        match report.checkpoints().into_iter().next() {
            None => Delivered::All,
            Some(sequence_number) => Delivered::StoppedAt(sequence_number),
        }
    }
}

/// The shards to start reading: those not started yet whose parent was read
/// to its end, or is no longer listed (its records have expired).
fn ready(shards: &[Shard], started: &HashSet<String>, ended: &HashSet<String>) -> Vec<String> {
    let listed: HashSet<&str> = shards.iter().map(|s| s.id.as_str()).collect();
    shards
        .iter()
        .filter(|shard| !started.contains(&shard.id))
        .filter(|shard| match &shard.parent {
            None => true,
            Some(parent) => ended.contains(parent) || !listed.contains(parent.as_str()),
        })
        .map(|shard| shard.id.clone())
        .collect()
}

/// Sleeps, or less when `stop` comes.
async fn pause(time: Duration, stop: &CancellationToken) {
    tokio::select! {
        () = stop.cancelled() => {}
        () = tokio::time::sleep(time) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(id: &str, parent: Option<&str>) -> Shard {
        Shard { id: id.into(), parent: parent.map(Into::into) }
    }

    fn set(ids: &[&str]) -> HashSet<String> {
        ids.iter().map(|&id| id.to_owned()).collect()
    }

    #[test]
    fn children_wait_for_their_parent_to_be_read_to_its_end() {
        let shards = [shard("a", None), shard("b", Some("a")), shard("c", Some("gone"))];
        // A parent no longer listed has expired: its child starts at once.
        assert_eq!(ready(&shards, &set(&[]), &set(&[])), ["a", "c"]);
        assert_eq!(ready(&shards, &set(&["a", "c"]), &set(&[])), Vec::<String>::new());
        assert_eq!(ready(&shards, &set(&["a", "c"]), &set(&["a"])), ["b"]);
    }
}
