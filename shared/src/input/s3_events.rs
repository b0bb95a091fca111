//! S3 event notifications become events, one per object event
//! (reference: docs/reference/aws-bindings-and-event-sources.md §2.4).
//!
//! Dapr has no S3 input; bindery's is `bindings.aws.s3` with `direction:
//! input`. The data is the event record as S3 wrote it; the metadata is what
//! an app routes on: the bucket, the key (decoded: S3 writes it form-encoded,
//! a space as `+`), the event name, and the object's size, ETag, version and
//! sequencer when S3 gives them.
//!
//! Each record is read on its own, so one that cannot be read fails alone.
//! The fields are `aws_lambda_events`' `S3EventRecord` ones, under the same
//! names; a test checks every fixture against its parse. Events from moto,
//! which leave out fields AWS always sends (`userIdentity`, say), are read
//! too: only the bucket, the key and the event name are required.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{BindingEvent, InputError, Text};
use crate::component::{FieldError, Metadata};

/// What `bindery infra` subscribes to when `events` is not given.
pub const DEFAULT_EVENTS: &str = "s3:ObjectCreated:*";

/// The input side of a `bindings.aws.s3` component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3EventsConfig {
    /// The bucket whose notifications are delivered; a record from another
    /// bucket is refused.
    pub bucket: String,
    /// S3 event types to subscribe to (`s3:ObjectCreated:*`, …).
    pub events: Vec<String>,
    /// Key prefix and suffix filters of the notification.
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    /// The bucket exists outside the template: `bindery infra` grants S3 the
    /// right to invoke the function and says how to add the notification.
    pub existing_bucket: bool,
}

impl S3EventsConfig {
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let bucket = metadata.required("bucket").map(|b| b.trim().to_owned()).unwrap_or_else(|e| {
            errors.push(e);
            String::new()
        });
        let events: Vec<String> = metadata
            .get("events")
            .unwrap_or(DEFAULT_EVENTS)
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect();
        if events.is_empty() {
            errors.push(FieldError::invalid("events", "names no S3 event type (e.g. s3:ObjectCreated:*)"));
        }
        if let Some(bad) = events.iter().find(|e| !e.starts_with("s3:")) {
            errors
                .push(FieldError::invalid("events", format!("{bad:?} is not an S3 event type (they start with s3:)")));
        }
        let existing_bucket = metadata.bool("existingBucket", false).unwrap_or_else(|e| {
            errors.push(e);
            false
        });
        let filter = |name: &str| metadata.get(name).map(str::to_owned).filter(|v| !v.is_empty());
        let config =
            Self { bucket, events, prefix: filter("filterPrefix"), suffix: filter("filterSuffix"), existing_bucket };
        if errors.is_empty() { Ok(config) } else { Err(errors) }
    }
}

#[derive(Deserialize)]
struct EventView<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct RecordView<'a> {
    #[serde(rename = "eventName", borrow)]
    event_name: Option<Text<'a>>,
    #[serde(rename = "eventTime", borrow)]
    event_time: Option<Text<'a>>,
    #[serde(borrow)]
    s3: Option<EntityView<'a>>,
}

#[derive(Deserialize)]
struct EntityView<'a> {
    #[serde(borrow)]
    bucket: Option<BucketView<'a>>,
    #[serde(borrow)]
    object: Option<ObjectView<'a>>,
}

#[derive(Deserialize)]
struct BucketView<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct ObjectView<'a> {
    #[serde(borrow)]
    key: Option<Text<'a>>,
    size: Option<i64>,
    #[serde(rename = "eTag", borrow)]
    e_tag: Option<Text<'a>>,
    #[serde(rename = "versionId", borrow)]
    version_id: Option<Text<'a>>,
    #[serde(borrow)]
    sequencer: Option<Text<'a>>,
}

/// The records of a notification, each still to be read. `Err` when the
/// payload is not an S3 event at all.
pub fn parse_event(payload: &[u8]) -> Result<Vec<&RawValue>, InputError> {
    let view: EventView<'_> = serde_json::from_slice(payload)
        .map_err(|e| InputError::new(format!("not an S3 event (expected {{\"Records\": [...]}}): {e}")))?;
    Ok(view.records)
}

/// One record as the app's event: the record's JSON as data, its object's
/// facts as metadata.
pub fn record_event(record: &RawValue) -> Result<BindingEvent, InputError> {
    let malformed = |what: &str| InputError::new(format!("malformed S3 record: {what}"));
    let view: RecordView<'_> = serde_json::from_str(record.get()).map_err(|e| malformed(&e.to_string()))?;
    let entity = view.s3.ok_or_else(|| malformed("no s3 entity"))?;
    let Text(bucket) = entity.bucket.and_then(|b| b.name).ok_or_else(|| malformed("no s3.bucket.name"))?;
    let object = entity.object.ok_or_else(|| malformed("no s3.object"))?;
    let Text(encoded) = object.key.ok_or_else(|| malformed("no s3.object.key"))?;
    let Text(event_name) = view.event_name.ok_or_else(|| malformed("no eventName"))?;
    let key = decode_key(&encoded).ok_or_else(|| malformed("s3.object.key is not a URL-encoded UTF-8 key"))?;
    let mut metadata: Vec<(Cow<'static, str>, String)> = vec![
        ("bucket".into(), bucket.into_owned()),
        ("key".into(), key),
        ("eventName".into(), event_name.into_owned()),
    ];
    if let Some(Text(time)) = view.event_time {
        metadata.push(("eventTime".into(), time.into_owned()));
    }
    if let Some(size) = object.size {
        metadata.push(("size".into(), size.to_string()));
    }
    for (name, value) in [("eTag", object.e_tag), ("versionId", object.version_id), ("sequencer", object.sequencer)] {
        if let Some(Text(value)) = value {
            metadata.push((name.into(), value.into_owned()));
        }
    }
    let data = Bytes::copy_from_slice(record.get().as_bytes());
    Ok(BindingEvent { data, metadata, traceparent: None })
}

/// S3's key encoding is a form's: `+` is a space, then `%XX` escapes
/// ("red flower.jpg" arrives as "red+flower.jpg"). `None` if the bytes it
/// decodes to are not UTF-8.
pub fn decode_key(encoded: &str) -> Option<String> {
    let spaced = encoded.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8().ok().map(Cow::into_owned)
}

#[cfg(test)]
mod tests;
