//! SQS records become events, one per record, carrying the record's metadata
//! (Dapr forwards none; reference/dapr-bindings-contract.md §3.4).
//!
//! Records are read in two steps, straight out of the invocation's buffer:
//! [`parse_batch`] finds each record and reads only its id and message group;
//! [`SqsRecord::event`] parses the whole record when its delivery starts. So a
//! batch is never held twice in memory, and a malformed record is reported
//! failed on its own instead of failing the whole batch.

use std::borrow::Cow;

use aws_lambda_events::sqs::{SqsMessage, SqsMessageAttribute};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::trace::traceparent_from_xray;
use super::{BindingEvent, InputError};

/// The Lambda payload, each record borrowed from the invocation's buffer.
#[derive(Debug, Deserialize)]
pub struct SqsBatchView<'a> {
    #[serde(rename = "Records", borrow)]
    pub records: Vec<&'a RawValue>,
}

/// Finds the records of a batch. `Err` when the payload is not an SQS batch
/// at all, or a record has no message id: then nothing could name the failed
/// records in `batchItemFailures`, and the whole invocation must fail.
pub fn parse_batch(payload: &[u8]) -> Result<Vec<SqsRecord<'_>>, InputError> {
    let view: SqsBatchView<'_> = serde_json::from_slice(payload)
        .map_err(|e| InputError::new(format!("not an SQS batch (expected {{\"Records\": [...]}}): {e}")))?;
    let mut records = Vec::with_capacity(view.records.len());
    for raw in view.records {
        records.push(parse_record(raw)?);
    }
    Ok(records)
}

/// One record: what is needed to schedule and report it, and its raw JSON.
#[derive(Debug, Clone)]
pub struct SqsRecord<'a> {
    /// Borrowed from the event where it can be, as 10,000 small strings add up.
    pub message_id: Cow<'a, str>,
    pub group: Group<'a>,
    /// From a queue whose ARN ends in `.fifo`.
    pub fifo: bool,
    raw: &'a RawValue,
}

/// A record's FIFO message group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Group<'a> {
    /// A standard queue, or a FIFO record without a group.
    None,
    Id(Cow<'a, str>),
    /// A FIFO record too malformed to say its group: it could belong to any,
    /// so nothing after it in the batch may be delivered.
    Unknown,
}

/// The few fields read before delivery. Everything else, the body included,
/// is skipped without being copied.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "messageId", borrow)]
    message_id: Option<Cow<'a, str>>,
    #[serde(rename = "eventSourceARN", borrow)]
    event_source_arn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    attributes: Option<EnvelopeAttributes<'a>>,
}

#[derive(Deserialize)]
struct EnvelopeAttributes<'a> {
    #[serde(rename = "MessageGroupId", borrow)]
    group: Option<Cow<'a, str>>,
}

/// What can still be read of a record whose envelope does not parse.
#[derive(Deserialize)]
struct Remains {
    #[serde(rename = "messageId")]
    message_id: Option<serde_json::Value>,
    #[serde(rename = "eventSourceARN")]
    event_source_arn: Option<serde_json::Value>,
}

/// Reads one record's id and group. `Err` only when it has no message id.
pub fn parse_record(raw: &RawValue) -> Result<SqsRecord<'_>, InputError> {
    let (message_id, arn, group) = match serde_json::from_str::<Envelope<'_>>(raw.get()) {
        Ok(e) => (e.message_id, e.event_source_arn, e.attributes.map(|a| a.group)),
        Err(_) => {
            let remains = serde_json::from_str::<Remains>(raw.get()).map_err(|_| no_id())?;
            let text = |v: Option<serde_json::Value>| v.and_then(|v| v.as_str().map(|s| Cow::Owned(s.to_owned())));
            (text(remains.message_id), text(remains.event_source_arn), None)
        }
    };
    let message_id = message_id.filter(|id| !id.is_empty()).ok_or_else(no_id)?;
    let fifo = arn.is_some_and(|arn| arn.ends_with(".fifo"));
    // AWS gives every FIFO message a group; one that cannot be read here
    // could be in any group.
    let group = match group.flatten() {
        Some(id) if fifo => Group::Id(id),
        _ if fifo => Group::Unknown,
        _ => Group::None,
    };
    Ok(SqsRecord { message_id, group, fifo, raw })
}

impl SqsRecord<'_> {
    /// The whole record, parsed into the event to deliver.
    pub fn event(&self) -> Result<BindingEvent, InputError> {
        serde_json::from_str::<SqsMessage>(self.raw.get())
            .map(record_event)
            .map_err(|e| InputError::new(format!("malformed SQS record: {e}")))
    }
}

fn no_id() -> InputError {
    InputError::new("an SQS record has no messageId, so it cannot be reported failed on its own")
}

/// The event for one message: its body, and its metadata as headers.
pub fn record_event(mut message: SqsMessage) -> BindingEvent {
    let mut metadata = Vec::with_capacity(6 + message.message_attributes.len());
    if let Some(id) = message.message_id {
        metadata.push(("messageId".to_owned(), id));
    }
    let attrs = &mut message.attributes;
    for (attribute, key) in [
        ("ApproximateReceiveCount", "approximateReceiveCount"),
        ("SentTimestamp", "sentTimestamp"),
        ("MessageGroupId", "messageGroupId"),
        ("MessageDeduplicationId", "messageDeduplicationId"),
        ("SequenceNumber", "sequenceNumber"),
    ] {
        if let Some(value) = attrs.remove(attribute) {
            metadata.push((key.to_owned(), value));
        }
    }
    let mut attributes: Vec<(String, SqsMessageAttribute)> = message.message_attributes.into_iter().collect();
    attributes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (name, attribute) in attributes {
        if let Some(value) = attribute_text(attribute) {
            metadata.push((format!("attr-{name}"), value));
        }
    }
    let traceparent = attrs.get("AWSTraceHeader").and_then(|h| traceparent_from_xray(h));
    BindingEvent { data: message.body.map(Into::into).unwrap_or_default(), metadata, traceparent }
}

/// String and Number attributes as written; Binary ones base64-encoded.
fn attribute_text(attribute: SqsMessageAttribute) -> Option<String> {
    match (attribute.string_value, attribute.binary_value) {
        (Some(s), _) => Some(s),
        (None, Some(b)) => Some(STANDARD.encode(&b.0)),
        (None, None) => None,
    }
}

#[cfg(test)]
#[path = "sqs_tests.rs"]
mod tests;
