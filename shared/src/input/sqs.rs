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
    /// `MessageGroupId`, set on FIFO queues.
    pub group_id: Option<String>,
    /// From a queue whose ARN ends in `.fifo`.
    pub fifo: bool,
    pub event: Result<BindingEvent, InputError>,
}

#[derive(Deserialize)]
struct IdOnly {
    #[serde(rename = "messageId")]
    message_id: Option<String>,
}

/// Parses one record. `Err` only when the record has no message id: then
/// nothing can name it in `batchItemFailures`, and the whole batch must fail.
pub fn parse_record(raw: &RawValue) -> Result<SqsRecord, InputError> {
    match serde_json::from_str::<SqsMessage>(raw.get()) {
        Ok(message) => {
            let message_id = message.message_id.clone().filter(|id| !id.is_empty()).ok_or_else(no_id)?;
            let fifo = message.event_source_arn.as_deref().is_some_and(|arn| arn.ends_with(".fifo"));
            let group_id = message.attributes.get("MessageGroupId").cloned();
            Ok(SqsRecord { message_id, group_id, fifo, event: Ok(record_event(message)) })
        }
        Err(parse_error) => {
            let id =
                serde_json::from_str::<IdOnly>(raw.get()).ok().and_then(|r| r.message_id).filter(|id| !id.is_empty());
            let message_id = id.ok_or_else(no_id)?;
            let event = Err(InputError::new(format!("malformed SQS record: {parse_error}")));
            Ok(SqsRecord { message_id, group_id: None, fifo: false, event })
        }
    }
}

fn no_id() -> InputError {
    InputError::new("an SQS record has no messageId, so it cannot be reported failed on its own")
}

/// The event for one message: its body, and its metadata as headers.
pub fn record_event(message: SqsMessage) -> BindingEvent {
    let mut metadata = Vec::with_capacity(6 + message.message_attributes.len());
    if let Some(id) = message.message_id {
        metadata.push(("messageId".to_owned(), id));
    }
    let attrs = &message.attributes;
    for (attribute, key) in [
        ("ApproximateReceiveCount", "approximateReceiveCount"),
        ("SentTimestamp", "sentTimestamp"),
        ("MessageGroupId", "messageGroupId"),
        ("MessageDeduplicationId", "messageDeduplicationId"),
        ("SequenceNumber", "sequenceNumber"),
    ] {
        if let Some(value) = attrs.get(attribute) {
            metadata.push((key.to_owned(), value.clone()));
        }
    }
    let mut names: Vec<&String> = message.message_attributes.keys().collect();
    names.sort();
    for name in names {
        if let Some(value) = attribute_text(&message.message_attributes[name]) {
            metadata.push((format!("attr-{name}"), value));
        }
    }
    let traceparent = attrs.get("AWSTraceHeader").and_then(|h| traceparent_from_xray(h));
    BindingEvent { data: message.body.map(Into::into).unwrap_or_default(), metadata, traceparent }
}

/// String and Number attributes as written; Binary ones base64-encoded.
fn attribute_text(attribute: &SqsMessageAttribute) -> Option<String> {
    if let Some(s) = &attribute.string_value {
        return Some(s.clone());
    }
    attribute.binary_value.as_ref().map(|b| STANDARD.encode(&b.0))
}

#[cfg(test)]
#[path = "sqs_tests.rs"]
mod tests;
