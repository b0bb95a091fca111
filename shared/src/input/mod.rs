//! One module per event source. Each turns an AWS event into
//! [`BindingEvent`]s: pure functions, no I/O, fed by fixtures in tests.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;

pub mod apigw;
pub mod batch;
pub mod dynamodb_streams;
mod json;
pub mod kinesis;
pub mod s3_events;
pub mod schedule;
pub mod sns;
pub mod sqs;
pub mod stream;
pub mod webhook;

/// What the app receives, before it becomes `POST /<route>`: the raw data and
/// the binding metadata that become headers (Dapr's `ReadResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BindingEvent {
    /// The body, verbatim: empty for schedules, the message body for SQS.
    pub data: Bytes,
    /// Metadata items in order; keys as the source names them (they are
    /// lower-cased on delivery). A key may repeat. Keys are mostly names
    /// bindery knows, so borrowed: an SQS batch makes thousands of them.
    pub metadata: Vec<(Cow<'static, str>, String)>,
    /// A W3C `traceparent` to send with the event, when a trace is active.
    pub traceparent: Option<String>,
}

impl BindingEvent {
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// An event that cannot be turned into a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    pub message: String,
}

impl InputError {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

/// A JSON string read from an event, borrowed from the event's buffer unless
/// it has escapes. (`Option<Cow<str>>` alone would always be copied: serde
/// borrows a `Cow` only through a type of its own.)
#[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(transparent)]
pub(crate) struct Text<'a>(#[serde(borrow)] pub(crate) Cow<'a, str>);
