//! Kinesis records become events, one per record (reference §2.1): the body
//! is the record's `data`, base64-decoded; the partition key, sequence
//! number, shard id (the part of `eventID` before `:`, as the record has no
//! field of its own for it) and arrival time are metadata.
//!
//! A batch is read in one pass out of the invocation's buffer, as SQS's is
//! (input/sqs.rs): [`parse_batch`] reads each record's sequence number and
//! shard, and notes where its other fields lie; [`KinesisRecord::event`]
//! reads and decodes them when the record's delivery starts. A record whose
//! fields cannot be read fails on its own, at its position in its shard.
//!
//! Sequence numbers are decimal strings of up to 129 digits (they do not
//! fit in a `u128`): they are kept as the text they are, never as numbers.
//! The fields are `aws_lambda_events`' `KinesisEventRecord` ones; a test
//! checks every event read here against its parse of the same fixture.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::batch::{BatchRecord, Lane};
use super::json::{BatchView, FromView, text, without_content};
use super::stream::{StreamSettings, check_name};
use super::{BindingEvent, InputError};
use crate::component::{FieldError, Metadata};
use crate::output::config::AwsConfig;

/// `bindings.aws.kinesis`'s input side: the stream it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisSourceConfig {
    pub aws: AwsConfig,
    /// `streamName`, Dapr's field.
    pub stream: String,
    /// `startingPosition` and `batchSize`, bindery's own.
    pub settings: StreamSettings,
}

impl KinesisSourceConfig {
    /// Checks `streamName` and bindery's stream settings. Dapr's
    /// `consumerName` names a KCL lease table or an enhanced fan-out
    /// consumer, neither of which Lambda's event source mapping uses, so it
    /// is accepted and not needed; `mode: extended` (enhanced fan-out) is
    /// refused, as bindery reads shards with GetRecords only.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let aws = AwsConfig::from_metadata(metadata).map_err(|e| errors.extend(e)).ok();
        let stream = metadata
            .required("streamName")
            .map(str::trim)
            .and_then(|s| check_name("streamName", "Kinesis stream name", s, 1, 128).map(|()| s.to_owned()))
            .map_err(|e| errors.push(e))
            .ok();
        match metadata.get("mode").map(str::trim) {
            None | Some("shared") => {}
            Some(mode) => errors.push(FieldError::invalid(
                "mode",
                format!(
                    "bindery reads a stream's shards with GetRecords (mode \"shared\"); enhanced fan-out \
                     (\"extended\") is not supported, got {mode:?}"
                ),
            )),
        }
        let settings = StreamSettings::from_metadata(metadata).map_err(|e| errors.extend(e)).ok();
        match (aws, stream, settings) {
            (Some(aws), Some(stream), Some(settings)) if errors.is_empty() => Ok(Self { aws, stream, settings }),
            _ => Err(errors),
        }
    }
}

/// Where a record's fields lie in the buffer. `kinesis` is read in a second
/// step, so that a record whose `kinesis` is not an object still has an id
/// (from `eventID`) to be reported failed by.
#[derive(Deserialize)]
pub(crate) struct RecordView<'a> {
    #[serde(rename = "eventID", borrow)]
    event_id: Option<&'a RawValue>,
    #[serde(borrow)]
    kinesis: Option<&'a RawValue>,
}

/// The `kinesis` object's fields; each may hold any JSON value.
#[derive(Deserialize, Default)]
struct PayloadView<'a> {
    #[serde(rename = "partitionKey", borrow)]
    partition_key: Option<&'a RawValue>,
    #[serde(rename = "sequenceNumber", borrow)]
    sequence_number: Option<&'a RawValue>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(rename = "approximateArrivalTimestamp", borrow)]
    approximate_arrival_timestamp: Option<&'a RawValue>,
}

/// One record: its sequence number and shard, and where the rest lies.
#[derive(Debug, Clone)]
pub struct KinesisRecord<'a> {
    /// What `batchItemFailures` names it by.
    pub sequence_number: Cow<'a, str>,
    /// Its shard, [`Lane::Unknown`] when its `eventID` does not say.
    pub shard: Lane<'a>,
    partition_key: Option<&'a RawValue>,
    data: Option<&'a RawValue>,
    arrival: Option<&'a RawValue>,
    /// `kinesis` was not an object with these fields.
    malformed: bool,
}

/// Finds the records of a batch. `Err` when the payload is not a Kinesis
/// batch at all, or a record has no sequence number (in `kinesis` or in
/// `eventID`): then `batchItemFailures` could not name it.
pub fn parse_batch(payload: &[u8]) -> Result<Vec<KinesisRecord<'_>>, InputError> {
    let view: BatchView<KinesisRecord<'_>> = serde_json::from_slice(payload).map_err(|e| {
        InputError::new(format!("not a Kinesis batch (expected {{\"Records\": [...]}}): {}", without_content(&e)))
    })?;
    view.records.0
}

/// Reads one record on its own. `Err` only when it has no sequence number.
pub fn parse_record(raw: &RawValue) -> Result<KinesisRecord<'_>, InputError> {
    let view = serde_json::from_str::<RecordView<'_>>(raw.get()).map_err(|_| no_id())?;
    KinesisRecord::from_view(view)
}

impl<'a> FromView<'a> for KinesisRecord<'a> {
    type View = RecordView<'a>;

    fn from_view(view: RecordView<'a>) -> Result<Self, InputError> {
        let payload = view.kinesis.map(|k| serde_json::from_str::<PayloadView<'a>>(k.get()));
        let malformed = matches!(payload, Some(Err(_)));
        let payload = payload.and_then(Result::ok).unwrap_or_default();
        let event_id = view.event_id.and_then(text);
        let (shard, id_sequence) = match event_id {
            Some(Cow::Borrowed(id)) => match id.split_once(':') {
                Some((shard, sequence)) => (Some(Cow::Borrowed(shard)), Some(Cow::Borrowed(sequence))),
                None => (None, None),
            },
            Some(Cow::Owned(id)) => match id.split_once(':') {
                Some((shard, sequence)) => (Some(Cow::Owned(shard.to_owned())), Some(Cow::Owned(sequence.to_owned()))),
                None => (None, None),
            },
            None => (None, None),
        };
        let sequence_number =
            payload.sequence_number.and_then(text).or(id_sequence).filter(|s| !s.is_empty()).ok_or_else(no_id)?;
        let shard = match shard.filter(|s| !s.is_empty()) {
            Some(shard) => Lane::Id(shard),
            None => Lane::Unknown,
        };
        Ok(KinesisRecord {
            sequence_number,
            shard,
            partition_key: payload.partition_key,
            data: payload.data,
            arrival: payload.approximate_arrival_timestamp,
            malformed,
        })
    }
}

impl KinesisRecord<'_> {
    /// The event to deliver: `data` decoded, and the metadata.
    pub fn event(&self) -> Result<BindingEvent, InputError> {
        if self.malformed {
            return Err(malformed("kinesis", "expected an object"));
        }
        let data = self.data.and_then(text).ok_or_else(|| malformed("data", "expected a base64 string"))?;
        let data = STANDARD.decode(data.as_bytes()).map_err(|_| malformed("data", "not base64"))?;
        let mut metadata = Vec::with_capacity(4);
        if let Some(key) = self.partition_key.filter(|k| k.get() != "null") {
            let key = text(key).ok_or_else(|| malformed("partitionKey", "expected a string"))?;
            metadata.push(("partitionKey".into(), key.into_owned()));
        }
        metadata.push(("sequenceNumber".into(), self.sequence_number.clone().into_owned()));
        if let Lane::Id(shard) = &self.shard {
            metadata.push(("shardId".into(), shard.clone().into_owned()));
        }
        if let Some(arrival) = self.arrival.filter(|a| a.get() != "null") {
            // Epoch seconds with milliseconds, as Kinesis wrote them.
            let seconds = arrival.get();
            if !is_json_number(seconds) {
                return Err(malformed("approximateArrivalTimestamp", "expected a number"));
            }
            metadata.push(("approximateArrivalTimestamp".into(), seconds.to_owned()));
        }
        Ok(BindingEvent { data: Bytes::from(data), metadata, traceparent: None })
    }
}

impl<'a> BatchRecord<'a> for KinesisRecord<'a> {
    fn id(&self) -> &Cow<'a, str> {
        &self.sequence_number
    }

    fn lane(&self) -> &Lane<'a> {
        &self.shard
    }

    fn ordered(&self) -> bool {
        true
    }

    fn event(&self) -> Result<BindingEvent, InputError> {
        KinesisRecord::event(self)
    }

    fn unplaced(&self) -> String {
        "its shard cannot be read from its eventID (expected \"<shard id>:<sequence number>\")".into()
    }
}

/// `raw` (already valid JSON) is a number, not a string or anything else.
pub(crate) fn is_json_number(raw: &str) -> bool {
    raw.starts_with(|c: char| c == '-' || c.is_ascii_digit())
}

fn malformed(field: &str, why: &str) -> InputError {
    InputError::new(format!("malformed Kinesis record: {field}: {why}"))
}

fn no_id() -> InputError {
    InputError::new("a Kinesis record has no sequence number, so it cannot be reported failed on its own")
}

#[cfg(test)]
mod tests;
