//! Idempotent delivery, opt-in per input binding: every source is
//! at-least-once (SQS and Kinesis redeliver, Scheduler retries, GitHub and
//! Stripe resend), so a delivery the app already acknowledged is recognised
//! by the event's natural id and not made again.
//!
//! The semantics are Powertools for AWS Lambda's idempotency utility:
//!
//! - before the app is called, the id's record is marked `IN_PROGRESS`,
//!   expiring with the delivery's deadline;
//! - on a 2xx it becomes `COMPLETED`, keeping the app's answer, until the
//!   component's `idempotencyTtl`;
//! - a duplicate of a `COMPLETED` record is acknowledged without calling
//!   the app (a webhook gets the stored answer again);
//! - a duplicate of a live `IN_PROGRESS` record is reported failed, so it
//!   is retried later; an expired one is delivered again;
//! - a delivery that fails releases its record, for the retry.
//!
//! A store that cannot be reached never acknowledges a record: the
//! delivery is reported failed. A crash between the app's answer and the
//! `COMPLETED` write leaves an `IN_PROGRESS` record that expires with its
//! deadline, so the event is delivered once more, never zero times.
//!
//! [`decide`] is the whole rule, pure; [`Idempotency::deliver_once`] runs it
//! around a delivery against a store ([`store`]).

mod config;
mod dynamodb;
mod natural_id;
pub mod store;

use std::borrow::Cow;
use std::future::Future;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::input::BindingEvent;

pub use config::{IdempotencyConfig, StoreKind};
pub use natural_id::natural_id;
pub use store::Store;

/// A store failed: the delivery is reported failed, never acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

/// What `begin` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// No live record: this delivery marked it in progress and goes on.
    Started,
    /// A live record was there, and is left as it was.
    Found(Record),
}

/// What the store holds for one id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// Being delivered, until `expires`: the delivery's deadline.
    InProgress { expires: SystemTime },
    /// Acknowledged, with the app's answer, kept until `expires`.
    Completed { answer: StoredAnswer, expires: SystemTime },
}

/// The app's answer to the first delivery: what a duplicate webhook gets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Bytes,
}

/// What to do with a delivery, given the record its id has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No live record: deliver (after marking it in progress).
    Deliver,
    /// Delivered and acknowledged before: acknowledge, answering this.
    AlreadyDone(StoredAnswer),
    /// Another delivery of it is under way: report this one failed.
    InProgress,
}

/// The rule, pure: an expired record counts as none.
pub fn decide(found: Option<&Record>, now: SystemTime) -> Decision {
    match found {
        Some(Record::Completed { answer, expires }) if *expires > now => Decision::AlreadyDone(answer.clone()),
        Some(Record::InProgress { expires }) if *expires > now => Decision::InProgress,
        _ => Decision::Deliver,
    }
}

/// The key a binding's event is kept under: the binding's name and the
/// event's natural id (an SQS message id, a stream record's sequence number,
/// a webhook's delivery id, a schedule's time), hashed when long.
pub fn key(binding: &str, natural_id: &str) -> String {
    use sha2::Digest;
    if natural_id.len() <= 200 {
        format!("{binding}#{natural_id}")
    } else {
        let digest = sha2::Sha256::digest(natural_id.as_bytes());
        format!("{binding}#sha256:{}", hex::encode(digest))
    }
}

/// How a delivery made through [`Idempotency::deliver_once`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Once<T> {
    /// Delivered now; the app's answer.
    Delivered(T),
    /// A duplicate of a delivery acknowledged before: not delivered again.
    Duplicate(StoredAnswer),
}

/// Why a delivery made through [`Idempotency::deliver_once`] is reported failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotOnce<E> {
    /// The delivery itself failed; its record was released for the retry.
    #[error("{0}")]
    Failed(E),
    /// Another delivery of the same event is under way.
    #[error("a delivery of {0} is already in progress; this one is retried later")]
    InProgress(String),
    /// The store could not say, or could not record the answer: nothing is acknowledged.
    #[error("the idempotency store failed for {key}: {error}")]
    Store { key: String, error: StoreError },
}

/// A binding's idempotency: its store, how long answers are kept, and (a
/// webhook's) the header holding the event's id.
#[derive(Debug)]
pub struct Idempotency {
    store: Store,
    ttl: Duration,
    header: Option<String>,
}

impl Idempotency {
    pub fn new(store: Store, ttl: Duration) -> Self {
        Self { store, ttl, header: None }
    }

    /// The component's idempotency with its records in this process's
    /// memory, whatever store it names: `bindery run`'s default.
    pub fn in_memory(config: IdempotencyConfig) -> Self {
        Self { store: Store::Memory(store::MemoryStore::default()), ttl: config.ttl, header: config.header }
    }

    /// The natural id of `event`, of a source of `kind` ([`natural_id`]).
    pub fn id_of<'e>(&self, kind: crate::component::BindingKind, event: &'e BindingEvent) -> Option<Cow<'e, str>> {
        natural_id(kind, event, self.header.as_deref())
    }

    /// Delivers the event kept under `key` unless it was delivered before:
    /// `deliver` runs only when [`decide`] says so, with the record marked
    /// in progress until `deadline` (the delivery's, on the process's clock;
    /// stored as wall-clock time); its answer is stored on success (by
    /// `answer`), and the record released on failure.
    pub async fn deliver_once<T, E, F, Fut>(
        &self,
        key: &str,
        deadline: tokio::time::Instant,
        deliver: F,
        answer: impl FnOnce(&T) -> StoredAnswer,
    ) -> Result<Once<T>, NotOnce<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let store_failed = |error: StoreError| NotOnce::Store { key: key.to_owned(), error };
        let now = SystemTime::now();
        let until = now + deadline.saturating_duration_since(tokio::time::Instant::now());
        match self.store.begin(key, now, until, self.ttl).await.map_err(store_failed)? {
            Begun::Started => {}
            Begun::Found(record) => match decide(Some(&record), now) {
                Decision::AlreadyDone(stored) => return Ok(Once::Duplicate(stored)),
                Decision::InProgress => return Err(NotOnce::InProgress(key.to_owned())),
                // `begin` starts over an expired record itself.
                Decision::Deliver => return Err(store_failed(StoreError("an expired record was not replaced".into()))),
            },
        }
        match deliver().await {
            Ok(value) => {
                let stored = answer(&value);
                let expires = SystemTime::now() + self.ttl;
                self.store.complete(key, stored, expires).await.map_err(store_failed)?;
                Ok(Once::Delivered(value))
            }
            Err(e) => {
                // If the release fails too, the record expires with its deadline.
                let _ = self.store.release(key).await;
                Err(NotOnce::Failed(e))
            }
        }
    }
}

impl Idempotency {
    /// The idempotency a component asks for, if any, with its store: the
    /// DynamoDB table reached as the component's AWS fields or the
    /// environment say, or the process's memory.
    pub fn from_component(
        metadata: &crate::component::Metadata,
        env: crate::component::EnvLookup<'_>,
    ) -> Result<Option<Self>, String> {
        let problems = |errors: Vec<crate::component::FieldError>| crate::component::FieldError::summary(&errors);
        let Some(config) = IdempotencyConfig::from_metadata(metadata).map_err(problems)? else { return Ok(None) };
        let store = match &config.store {
            StoreKind::Memory => Store::Memory(store::MemoryStore::default()),
            StoreKind::DynamoDb { table } => {
                let aws = crate::output::config::AwsConfig::from_metadata(metadata).map_err(problems)?;
                Store::DynamoDb(Box::new(store::DynamoDbStore::new(table, &aws, env).map_err(|e| e.0)?))
            }
        };
        Ok(Some(Self { store, ttl: config.ttl, header: config.header }))
    }
}

#[cfg(test)]
mod tests;
