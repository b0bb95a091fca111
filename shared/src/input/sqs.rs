//! SQS records become events, one per record, carrying the record's metadata
//! (Dapr forwards none; reference/dapr-bindings-contract.md §3.4).
//!
//! Records are parsed one by one from the raw batch, so a malformed record is
//! reported failed on its own instead of failing the whole batch.

use aws_lambda_events::sqs::{SqsMessage, SqsMessageAttribute};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::trace::traceparent_from_xray;
use super::{BindingEvent, InputError};

/// The Lambda payload, records left raw so each parses on its own.
#[derive(Debug, Deserialize)]
pub struct SqsBatchPayload {
    #[serde(rename = "Records")]
    pub records: Vec<Box<RawValue>>,
}

/// One record, ready to deliver (or already known to be undeliverable).
#[derive(Debug)]
pub struct SqsRecord {
    pub message_id: String,
    pub group: Group,
    /// From a queue whose ARN ends in `.fifo`.
    pub fifo: bool,
    pub event: Result<BindingEvent, InputError>,
}

/// A record's FIFO message group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Group {
    /// A standard queue, or a FIFO record without a group.
    None,
    Id(String),
    /// A FIFO record too malformed to say its group: it could belong to any,
    /// so nothing after it in the batch may be delivered.
    Unknown,
}

/// What can still be read of a record that does not parse.
#[derive(Deserialize)]
struct Remains {
    #[serde(rename = "messageId")]
    message_id: Option<serde_json::Value>,
    #[serde(rename = "eventSourceARN")]
    event_source_arn: Option<serde_json::Value>,
    attributes: Option<serde_json::Value>,
}

/// Parses one record. `Err` only when the record has no message id: then
/// nothing can name it in `batchItemFailures`, and the whole batch must fail.
pub fn parse_record(raw: &RawValue) -> Result<SqsRecord, InputError> {
    match serde_json::from_str::<SqsMessage>(raw.get()) {
        Ok(message) => {
            let message_id = message.message_id.clone().filter(|id| !id.is_empty()).ok_or_else(no_id)?;
            let fifo = message.event_source_arn.as_deref().is_some_and(|arn| arn.ends_with(".fifo"));
            let group = match message.attributes.get("MessageGroupId") {
                Some(id) if fifo => Group::Id(id.clone()),
                _ => Group::None,
            };
            Ok(SqsRecord { message_id, group, fifo, event: Ok(record_event(message)) })
        }
        Err(parse_error) => {
            let remains = serde_json::from_str::<Remains>(raw.get()).map_err(|_| no_id())?;
            let text = |v: &Option<serde_json::Value>| v.as_ref().and_then(|v| v.as_str()).map(str::to_owned);
            let message_id = text(&remains.message_id).filter(|id| !id.is_empty()).ok_or_else(no_id)?;
            let fifo = text(&remains.event_source_arn).is_some_and(|arn| arn.ends_with(".fifo"));
            let group_id = remains.attributes.as_ref().and_then(|a| a.get("MessageGroupId")).and_then(|g| g.as_str());
            let group = match group_id {
                Some(id) if fifo => Group::Id(id.to_owned()),
                _ if fifo => Group::Unknown,
                _ => Group::None,
            };
            let event = Err(InputError::new(format!("malformed SQS record: {parse_error}")));
            Ok(SqsRecord { message_id, group, fifo, event })
        }
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
