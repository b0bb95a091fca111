//! SQS records become events, one per record, carrying the record's metadata
//! (Dapr forwards none; reference/dapr-bindings-contract.md §3.4).
//!
//! A batch is read in one pass straight out of the invocation's buffer:
//! [`parse_batch`] reads each record's id and message group, and notes where
//! its body and attributes lie without copying them; [`SqsRecord::event`]
//! reads those when the record's delivery starts (a body without escapes, as
//! a slice of the buffer when [`parse_shared_batch`] read it). So a batch is
//! never held twice in memory, a body without escapes is parsed only once
//! (its delivery just checks it has no backslash), and a malformed record
//! is reported failed on its own instead of failing the whole batch.
//!
//! The fields are `aws_lambda_events`' `SqsMessage` ones, under the same
//! names; a test checks that every event read this way equals the one built
//! from `aws_lambda_events`' own parse of the record.

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::batch::{BatchRecord, Lane};
use super::json::{plain_string, slice_of, without_content};
use super::{BindingEvent, InputError, Text};
use crate::telemetry::trace_context::traceparent_from_xray;

/// The Lambda payload, each record read in place.
#[derive(Deserialize)]
struct BatchView<'a> {
    #[serde(rename = "Records", borrow)]
    records: Records<'a>,
}

/// The records, each made an [`SqsRecord`] as soon as it is read, so that
/// no list of [`RecordView`]s is ever held beside them (10,000 of them are
/// almost a megabyte). `Err` once a record has no message id.
struct Records<'a>(Result<Vec<SqsRecord<'a>>, InputError>);

impl<'de: 'a, 'a> Deserialize<'de> for Records<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Each<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Each<'a> {
            type Value = Records<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of SQS records")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Records<'a>, A::Error> {
                let mut records = Ok(Vec::new());
                while let Some(view) = seq.next_element::<RecordView<'a>>()? {
                    if let Ok(list) = &mut records {
                        match SqsRecord::from_view(view) {
                            Ok(record) => list.push(record),
                            Err(e) => records = Err(e),
                        }
                    }
                }
                Ok(Records(records))
            }
        }
        deserializer.deserialize_seq(Each(std::marker::PhantomData))
    }
}

/// Where a record's fields lie in the buffer. Each may hold any JSON value,
/// so that a record with a field of the wrong type still has an id to be
/// reported failed by; everything else (the receipt handle, checksums,
/// region) is skipped. A record that is not an object, or names one of these
/// fields twice, makes the whole batch unreadable (AWS sends neither).
#[derive(Deserialize)]
struct RecordView<'a> {
    #[serde(rename = "messageId", borrow)]
    message_id: Option<&'a RawValue>,
    #[serde(rename = "eventSourceARN", borrow)]
    event_source_arn: Option<&'a RawValue>,
    #[serde(borrow)]
    body: Option<&'a RawValue>,
    #[serde(borrow)]
    attributes: Option<&'a RawValue>,
    #[serde(rename = "messageAttributes", borrow)]
    message_attributes: Option<&'a RawValue>,
}

/// Finds the records of a batch. `Err` when the payload is not an SQS batch
/// at all, or a record has no message id: then nothing could name the failed
/// records in `batchItemFailures`, and the whole invocation must fail.
pub fn parse_batch(payload: &[u8]) -> Result<Vec<SqsRecord<'_>>, InputError> {
    let view: BatchView<'_> = serde_json::from_slice(payload)
        .map_err(|e| InputError::new(format!("not an SQS batch (expected {{\"Records\": [...]}}): {e}")))?;
    view.records.0
}

/// [`parse_batch`] of a shared buffer: a body without escapes is then
/// delivered as a slice of it, never copied.
pub fn parse_shared_batch(payload: &Bytes) -> Result<Vec<SqsRecord<'_>>, InputError> {
    let mut records = parse_batch(payload)?;
    for record in &mut records {
        record.shared = Some(payload);
    }
    Ok(records)
}

/// Reads one record on its own. `Err` only when it has no message id.
pub fn parse_record(raw: &RawValue) -> Result<SqsRecord<'_>, InputError> {
    let view = serde_json::from_str::<RecordView<'_>>(raw.get()).map_err(|_| no_id())?;
    SqsRecord::from_view(view)
}

/// One record: what is needed to schedule and report it, and where the rest
/// of it lies.
#[derive(Debug, Clone)]
pub struct SqsRecord<'a> {
    /// Borrowed from the event where it can be, as 10,000 small strings add up.
    pub message_id: Cow<'a, str>,
    pub group: Group<'a>,
    /// From a queue whose ARN ends in `.fifo`.
    pub fifo: bool,
    body: Option<&'a RawValue>,
    attributes: Option<&'a RawValue>,
    message_attributes: Option<&'a RawValue>,
    /// The buffer the record lies in, when it is shared ([`parse_shared_batch`]).
    shared: Option<&'a Bytes>,
}

/// A record's FIFO message group: [`Group::None`] on a standard queue, or
/// for a FIFO record without a group; [`Group::Unknown`] for a FIFO record
/// too malformed to say its group.
pub type Group<'a> = Lane<'a>;

/// The system attributes forwarded as metadata (names as in
/// `SqsMessage::attributes`); the others are skipped.
#[derive(Deserialize, Default)]
struct SystemAttributes<'a> {
    #[serde(rename = "ApproximateReceiveCount", borrow)]
    approximate_receive_count: Option<Text<'a>>,
    #[serde(rename = "SentTimestamp", borrow)]
    sent_timestamp: Option<Text<'a>>,
    #[serde(rename = "MessageGroupId", borrow)]
    message_group_id: Option<Text<'a>>,
    #[serde(rename = "MessageDeduplicationId", borrow)]
    message_deduplication_id: Option<Text<'a>>,
    #[serde(rename = "SequenceNumber", borrow)]
    sequence_number: Option<Text<'a>>,
    #[serde(rename = "AWSTraceHeader", borrow)]
    aws_trace_header: Option<Text<'a>>,
}

/// Just the group, read before delivery (and only on FIFO queues).
#[derive(Deserialize)]
struct GroupAttribute<'a> {
    #[serde(rename = "MessageGroupId", borrow)]
    group: Option<Text<'a>>,
}

/// A message attribute as far as it is forwarded: `SqsMessageAttribute`'s
/// `stringValue` and `binaryValue`, read in place.
#[derive(Deserialize)]
struct AttributeView<'a> {
    #[serde(rename = "stringValue", borrow)]
    string_value: Option<Text<'a>>,
    #[serde(rename = "binaryValue", borrow)]
    binary_value: Option<Text<'a>>,
}

/// A JSON string, or `None` for anything else.
fn text(raw: &RawValue) -> Option<Cow<'_, str>> {
    string_field(Some(raw), "a string").ok().flatten()
}

/// An optional string field: `null` or absent giving `None`.
fn string_field<'a>(raw: Option<&'a RawValue>, name: &str) -> Result<Option<Cow<'a, str>>, InputError> {
    match raw.and_then(plain_string) {
        Some(plain) => Ok(Some(Cow::Borrowed(plain))),
        None => Ok(field::<Option<Text<'a>>>(raw, name)?.map(|t| t.0)),
    }
}

/// Parses an optional field, `null` or absent giving the default.
fn field<'a, T: Deserialize<'a> + Default>(raw: Option<&'a RawValue>, name: &str) -> Result<T, InputError> {
    let Some(raw) = raw else { return Ok(T::default()) };
    serde_json::from_str::<Option<T>>(raw.get())
        .map(Option::unwrap_or_default)
        .map_err(|e| InputError::new(format!("malformed SQS record: {name}: {}", without_content(&e))))
}

impl<'a> SqsRecord<'a> {
    fn from_view(view: RecordView<'a>) -> Result<Self, InputError> {
        let message_id = view.message_id.and_then(text).filter(|id| !id.is_empty()).ok_or_else(no_id)?;
        let fifo = view.event_source_arn.and_then(text).is_some_and(|arn| arn.ends_with(".fifo"));
        // AWS gives every FIFO message a group; one that cannot be read here
        // could be in any group.
        let group = if fifo {
            match view.attributes.map(|a| serde_json::from_str::<GroupAttribute<'_>>(a.get())) {
                Some(Ok(GroupAttribute { group: Some(Text(id)) })) => Group::Id(id),
                _ => Group::Unknown,
            }
        } else {
            Group::None
        };
        let (body, attributes, message_attributes) = (view.body, view.attributes, view.message_attributes);
        Ok(SqsRecord { message_id, group, fifo, body, attributes, message_attributes, shared: None })
    }

    /// The event to deliver: the body and the metadata, read now.
    pub fn event(&self) -> Result<BindingEvent, InputError> {
        let data = match string_field(self.body, "body")? {
            None => Bytes::new(),
            Some(Cow::Borrowed(body)) => self
                .shared
                .and_then(|buffer| slice_of(buffer, body))
                .unwrap_or_else(|| Bytes::copy_from_slice(body.as_bytes())),
            Some(Cow::Owned(body)) => Bytes::from(body),
        };
        let system: SystemAttributes<'_> = field(self.attributes, "attributes")?;
        let attributes: BTreeMap<Text<'_>, AttributeView<'_>> = field(self.message_attributes, "messageAttributes")?;
        let mut metadata = Vec::with_capacity(6 + attributes.len());
        metadata.push(("messageId".into(), self.message_id.clone().into_owned()));
        for (key, value) in [
            ("approximateReceiveCount", system.approximate_receive_count),
            ("sentTimestamp", system.sent_timestamp),
            ("messageGroupId", system.message_group_id),
            ("messageDeduplicationId", system.message_deduplication_id),
            ("sequenceNumber", system.sequence_number),
        ] {
            if let Some(Text(value)) = value {
                metadata.push((key.into(), value.into_owned()));
            }
        }
        // A BTreeMap, so in name order.
        for (Text(name), attribute) in attributes {
            if let Some(value) = attribute_text(attribute)? {
                metadata.push((format!("attr-{name}").into(), value));
            }
        }
        let traceparent = system.aws_trace_header.and_then(|Text(h)| traceparent_from_xray(&h));
        Ok(BindingEvent { data, metadata, traceparent })
    }
}

impl<'a> BatchRecord<'a> for SqsRecord<'a> {
    fn id(&self) -> &Cow<'a, str> {
        &self.message_id
    }

    fn lane(&self) -> &Lane<'a> {
        &self.group
    }

    fn ordered(&self) -> bool {
        self.fifo
    }

    fn event(&self) -> Result<BindingEvent, InputError> {
        SqsRecord::event(self)
    }

    fn unplaced(&self) -> String {
        if self.fifo {
            "its message group cannot be read".into()
        } else {
            "the batch is from a FIFO queue, but this record's eventSourceARN is not".into()
        }
    }
}

fn no_id() -> InputError {
    InputError::new("an SQS record has no messageId, so it cannot be reported failed on its own")
}

/// String and Number attributes as written; Binary ones base64-encoded, as
/// `aws_lambda_events` decodes and re-encodes them (so one that is not
/// base64 fails its record there and here).
fn attribute_text(attribute: AttributeView<'_>) -> Result<Option<String>, InputError> {
    Ok(match (attribute.string_value, attribute.binary_value) {
        (Some(Text(s)), _) => Some(s.into_owned()),
        (None, Some(Text(b))) => {
            let bytes = STANDARD.decode(b.as_bytes()).map_err(|e| {
                InputError::new(format!("malformed SQS record: messageAttributes: binaryValue is not base64: {e}"))
            })?;
            Some(STANDARD.encode(bytes))
        }
        (None, None) => None,
    })
}

#[cfg(test)]
mod tests;
