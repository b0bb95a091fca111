//! DynamoDB Streams records become events, one per record (reference §2.2):
//! the body is the new image, or the old one for a `REMOVE`; `eventName`
//! (`INSERT`, `MODIFY`, `REMOVE`) and each key attribute (`key-<name>`) are
//! metadata. The image is DynamoDB JSON as the stream wrote it, or plain
//! JSON with the component's `streamFormat: plain` ([`plain`]).
//!
//! Read in one pass out of the invocation's buffer, as Kinesis batches are
//! (input/kinesis.rs): each record's sequence number is read at once, the
//! rest when its delivery starts. Lambda's batches hold one shard's
//! records, in order, so a batch is one lane: it stops at its first
//! failure, which is its checkpoint.

mod plain;

use std::borrow::Cow;
use std::collections::BTreeMap;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::batch::{BatchRecord, Lane};
use super::json::{BatchView, FromView, slice_of, text, without_content};
use super::kinesis::is_json_number;
use super::stream::{StreamSettings, check_name};
use super::{BindingEvent, InputError, Text};
use crate::component::{FieldError, Metadata};
use crate::output::config::AwsConfig;

/// How an image reaches the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamFormat {
    /// DynamoDB JSON (`{"id": {"S": "1"}}`), as the stream wrote it.
    #[default]
    DynamoDb,
    /// Plain JSON (`{"id": "1"}`): numbers as JSON numbers with every digit
    /// kept, binary values as base64 strings, sets as arrays.
    Plain,
}

/// `bindings.aws.dynamodb`'s input side: the table whose stream it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoDbStreamConfig {
    pub aws: AwsConfig,
    /// `table`, Dapr's field.
    pub table: String,
    /// `streamArn`: the stream of a table the template does not create.
    pub stream_arn: Option<String>,
    /// `partitionKey`: the string key attribute of the table `bindery infra`
    /// creates when no `streamArn` is given; `key` by default.
    pub partition_key: String,
    /// `streamFormat`: `dynamodb` (the default) or `plain`.
    pub format: StreamFormat,
    pub settings: StreamSettings,
}

impl DynamoDbStreamConfig {
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let aws = AwsConfig::from_metadata(metadata).map_err(|e| errors.extend(e)).ok();
        let table = metadata
            .required("table")
            .map(str::trim)
            .and_then(|t| check_name("table", "DynamoDB table name", t, 3, 255).map(|()| t.to_owned()))
            .map_err(|e| errors.push(e))
            .ok();
        let stream_arn = match metadata.get("streamArn").map(str::trim) {
            None => None,
            Some(arn) if arn.starts_with("arn:") && arn.contains(":table/") && arn.contains("/stream/") => {
                Some(arn.to_owned())
            }
            Some(arn) => {
                errors.push(FieldError::invalid(
                    "streamArn",
                    format!("expected a stream ARN (arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>), got {arn:?}"),
                ));
                None
            }
        };
        let partition_key = metadata.get("partitionKey").map(str::trim).unwrap_or("key").to_owned();
        if partition_key.is_empty() {
            errors.push(FieldError::invalid("partitionKey", "expected an attribute name, got an empty one"));
        }
        let format = match metadata.get("streamFormat").map(str::trim) {
            None => StreamFormat::DynamoDb,
            Some(f) if f.eq_ignore_ascii_case("dynamodb") => StreamFormat::DynamoDb,
            Some(f) if f.eq_ignore_ascii_case("plain") => StreamFormat::Plain,
            Some(f) => {
                errors.push(FieldError::invalid("streamFormat", format!("expected dynamodb or plain, got {f:?}")));
                StreamFormat::DynamoDb
            }
        };
        let settings = StreamSettings::from_metadata(metadata).map_err(|e| errors.extend(e)).ok();
        match (aws, table, settings) {
            (Some(aws), Some(table), Some(settings)) if errors.is_empty() => {
                Ok(Self { aws, table, stream_arn, partition_key, format, settings })
            }
            _ => Err(errors),
        }
    }
}

/// Where a record's fields lie; `dynamodb` is read in a second step.
#[derive(Deserialize)]
pub(crate) struct RecordView<'a> {
    #[serde(rename = "eventID", borrow)]
    event_id: Option<&'a RawValue>,
    #[serde(rename = "eventName", borrow)]
    event_name: Option<&'a RawValue>,
    #[serde(borrow)]
    dynamodb: Option<&'a RawValue>,
}

/// The `dynamodb` object's fields (`StreamRecord`'s); each may hold any JSON.
#[derive(Deserialize, Default)]
struct ChangeView<'a> {
    #[serde(rename = "Keys", borrow)]
    keys: Option<&'a RawValue>,
    #[serde(rename = "NewImage", borrow)]
    new_image: Option<&'a RawValue>,
    #[serde(rename = "OldImage", borrow)]
    old_image: Option<&'a RawValue>,
    #[serde(rename = "SequenceNumber", borrow)]
    sequence_number: Option<&'a RawValue>,
    #[serde(rename = "ApproximateCreationDateTime", borrow)]
    created: Option<&'a RawValue>,
}

/// One record: its sequence number, and where the rest lies.
#[derive(Debug, Clone)]
pub struct ChangeRecord<'a> {
    /// What `batchItemFailures` names it by.
    pub sequence_number: Cow<'a, str>,
    event_id: Option<&'a RawValue>,
    event_name: Option<&'a RawValue>,
    keys: Option<&'a RawValue>,
    new_image: Option<&'a RawValue>,
    old_image: Option<&'a RawValue>,
    created: Option<&'a RawValue>,
    /// `dynamodb` was not an object with these fields.
    malformed: bool,
    format: StreamFormat,
    /// The buffer the record lies in, when it is shared.
    shared: Option<&'a Bytes>,
}

/// The one lane of a batch: Lambda's batches hold one shard's records.
static SHARD: Lane<'static> = Lane::Id(Cow::Borrowed("shard"));

/// Finds the records of a batch. `Err` when the payload is not a DynamoDB
/// Streams batch, or a record has no `SequenceNumber`.
pub fn parse_batch(payload: &[u8], format: StreamFormat) -> Result<Vec<ChangeRecord<'_>>, InputError> {
    let view: BatchView<ChangeRecord<'_>> = serde_json::from_slice(payload).map_err(|e| {
        InputError::new(format!(
            "not a DynamoDB Streams batch (expected {{\"Records\": [...]}}): {}",
            without_content(&e)
        ))
    })?;
    let mut records = view.records.0?;
    for record in &mut records {
        record.format = format;
    }
    Ok(records)
}

/// [`parse_batch`] of a shared buffer: a DynamoDB JSON image is then
/// delivered as a slice of it, never copied.
pub fn parse_shared_batch(payload: &Bytes, format: StreamFormat) -> Result<Vec<ChangeRecord<'_>>, InputError> {
    let mut records = parse_batch(payload, format)?;
    for record in &mut records {
        record.shared = Some(payload);
    }
    Ok(records)
}

/// Reads one record on its own. `Err` only when it has no sequence number.
pub fn parse_record(raw: &RawValue, format: StreamFormat) -> Result<ChangeRecord<'_>, InputError> {
    let view = serde_json::from_str::<RecordView<'_>>(raw.get()).map_err(|_| no_id())?;
    let mut record = ChangeRecord::from_view(view)?;
    record.format = format;
    Ok(record)
}

impl<'a> FromView<'a> for ChangeRecord<'a> {
    type View = RecordView<'a>;

    fn from_view(view: RecordView<'a>) -> Result<Self, InputError> {
        let change = view.dynamodb.map(|d| serde_json::from_str::<ChangeView<'a>>(d.get()));
        let malformed = matches!(change, Some(Err(_)));
        let change = change.and_then(Result::ok).unwrap_or_default();
        let sequence_number = change.sequence_number.and_then(text).filter(|s| !s.is_empty()).ok_or_else(no_id)?;
        Ok(ChangeRecord {
            sequence_number,
            event_id: view.event_id,
            event_name: view.event_name,
            keys: change.keys,
            new_image: change.new_image,
            old_image: change.old_image,
            created: change.created,
            malformed,
            format: StreamFormat::DynamoDb,
            shared: None,
        })
    }
}

impl ChangeRecord<'_> {
    /// The event to deliver: the image, and the metadata.
    pub fn event(&self) -> Result<BindingEvent, InputError> {
        if self.malformed {
            return Err(malformed("dynamodb", "expected an object"));
        }
        let name = self.event_name.and_then(text).ok_or_else(|| malformed("eventName", "expected a string"))?;
        let image = match &*name {
            "INSERT" | "MODIFY" => self.new_image,
            "REMOVE" => self.old_image,
            _ => return Err(malformed("eventName", "expected INSERT, MODIFY or REMOVE")),
        };
        let data = match image.filter(|i| i.get() != "null") {
            // A stream view without this image (KEYS_ONLY, or NEW_IMAGE for a
            // REMOVE): the keys are in the metadata, and the body is empty.
            None => Bytes::new(),
            Some(image) if !image.get().starts_with('{') => return Err(malformed("image", "expected an object")),
            Some(image) => match self.format {
                StreamFormat::DynamoDb => self
                    .shared
                    .and_then(|buffer| slice_of(buffer, image.get()))
                    .unwrap_or_else(|| Bytes::copy_from_slice(image.get().as_bytes())),
                StreamFormat::Plain => {
                    Bytes::from(plain::item(image).map_err(|why| malformed("image", &why))?.into_bytes())
                }
            },
        };
        let mut metadata = Vec::with_capacity(6);
        metadata.push(("eventName".into(), name.into_owned()));
        if let Some(id) = self.event_id.and_then(text) {
            metadata.push(("eventID".into(), id.into_owned()));
        }
        metadata.push(("sequenceNumber".into(), self.sequence_number.clone().into_owned()));
        if let Some(created) = self.created.filter(|c| c.get() != "null") {
            if !is_json_number(created.get()) {
                return Err(malformed("ApproximateCreationDateTime", "expected a number"));
            }
            metadata.push(("approximateCreationDateTime".into(), created.get().to_owned()));
        }
        if let Some(keys) = self.keys.filter(|k| k.get() != "null") {
            let keys: BTreeMap<Text<'_>, &RawValue> =
                serde_json::from_str(keys.get()).map_err(|e| malformed("Keys", &without_content(&e)))?;
            for (Text(name), value) in keys {
                let value = plain::key(value).map_err(|why| malformed("Keys", &why))?;
                metadata.push((format!("key-{name}").into(), value));
            }
        }
        Ok(BindingEvent { data, metadata, traceparent: None })
    }
}

impl<'a> BatchRecord<'a> for ChangeRecord<'a> {
    fn id(&self) -> &Cow<'a, str> {
        &self.sequence_number
    }

    fn lane(&self) -> &Lane<'a> {
        &SHARD
    }

    fn ordered(&self) -> bool {
        true
    }

    fn event(&self) -> Result<BindingEvent, InputError> {
        ChangeRecord::event(self)
    }

    fn unplaced(&self) -> String {
        // Every record is in the batch's one lane.
        "its shard cannot be read".into()
    }
}

fn malformed(field: &str, why: &str) -> InputError {
    InputError::new(format!("malformed DynamoDB Streams record: {field}: {why}"))
}

fn no_id() -> InputError {
    InputError::new("a DynamoDB Streams record has no SequenceNumber, so it cannot be reported failed on its own")
}

#[cfg(test)]
mod tests;
