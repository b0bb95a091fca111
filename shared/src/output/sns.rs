//! `bindings.aws.sns` output: operation `create` publishes to `topicArn`
//! (reference §1.2). As in Dapr, `data` is a JSON object
//! `{"message": ..., "subject": ...}`, and each field is published as Go's
//! `fmt.Sprintf("%v")` prints it: a string as it is, a number as a float64
//! (`1000000` is `1e+06`), an object as `map[a:1]`. Field names match in any
//! case, as Go's `encoding/json` matches them.
//!
//! Where Dapr publishes text the app never wrote, bindery refuses or leaves
//! out: Dapr sends the literal `<nil>` for an absent or null field, so a
//! message without `message` is a bad request here, and one without
//! `subject` has no subject (Dapr's has the subject `<nil>`).
//!
//! Dapr reads no request metadata; bindery honours the same keys as its SQS
//! output (`sqs.rs`), matched case-insensitively, empty values counting as
//! absent:
//! - `attr-<name>`: the String message attribute `<name>`;
//! - `MessageGroupId`, `MessageDeduplicationId` (FIFO topics).
//!
//! The response carries `messageId`, and `sequenceNumber` on FIFO topics, in
//! its metadata with no data (the HTTP API's 200, as for SQS); Dapr answers
//! 204 and drops them.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_sns::Client;
use aws_sdk_sns::config::http::HttpResponse;
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sns::operation::publish::builders::PublishFluentBuilder;
use aws_sdk_sns::types::MessageAttributeValue;
use serde_json::Value;

use super::aws::{ErrorCodes, sdk_error_by_code};
use super::config::SnsConfig;
use super::error::InvokeError;
use super::sqs::{ATTRIBUTE_PREFIX, attribute_name};
use super::{BoxFuture, InvokeRequest, InvokeResponse, InvokeResult, OutputBinding, operation};
use crate::component::{FieldError, Metadata};

const PREFIX: &str = "sns binding error";
const GROUP_ID: &str = "MessageGroupId";
const DEDUPLICATION_ID: &str = "MessageDeduplicationId";

/// SNS's (and moto's) codes for a topic that does not exist.
const NOT_FOUND_CODES: &[&str] = &["NotFound", "NotFoundException"];
/// SNS's codes for a publish it will not take as sent: never worth retrying.
/// The query protocol's names, and those emulators answer.
const BAD_REQUEST_CODES: &[&str] = &[
    "InvalidParameter",
    "ParameterValueInvalid",
    "InvalidParameterValue",
    "MissingParameter",
    "ValidationException",
    "ValidationError",
];

pub struct SnsBinding {
    client: Client,
    topic_arn: String,
    /// FIFO topics deduplicate: see [`OutputBinding::is_idempotent`].
    fifo: bool,
}

impl SnsBinding {
    /// Checks `topicArn` without calling SNS.
    pub fn from_metadata(metadata: &Metadata, config: &SdkConfig) -> Result<Self, Vec<FieldError>> {
        let SnsConfig { topic_arn, fifo, .. } = SnsConfig::from_metadata(metadata)?;
        Ok(Self { client: Client::new(config), topic_arn, fifo })
    }

    async fn create(&self, request: InvokeRequest) -> InvokeResult {
        let publish = Publish::read(&request).map_err(|e| e.context(PREFIX))?;
        let output = publish
            .apply(self.client.publish().topic_arn(&self.topic_arn))?
            .send()
            .await
            .map_err(|e| classify(PREFIX, e))?;
        let mut response = InvokeResponse::default();
        if let Some(id) = output.message_id {
            response = response.with_metadata("messageId", id);
        }
        if let Some(sequence) = output.sequence_number {
            response = response.with_metadata("sequenceNumber", sequence);
        }
        Ok(Some(response))
    }
}

/// What one `create` asks for, read and checked before anything is sent.
#[derive(Debug, PartialEq, Eq)]
struct Publish<'a> {
    message: String,
    subject: Option<String>,
    group_id: Option<&'a str>,
    deduplication_id: Option<&'a str>,
    /// `(name, value)` in key order.
    attributes: Vec<(&'a str, &'a str)>,
}

impl<'a> Publish<'a> {
    /// Errors are bad requests, without the binding's prefix.
    fn read(request: &'a InvokeRequest) -> Result<Self, InvokeError> {
        let shape = || r#"data must be a JSON object {"message": ..., "subject": ...}"#;
        let data: BTreeMap<String, Value> = match serde_json::from_slice::<Value>(&request.data) {
            Ok(Value::Object(fields)) => fields.into_iter().collect(),
            Ok(other) => return Err(InvokeError::bad_request(format!("{}, got {}", shape(), json_type(&other)))),
            Err(_) => return Err(InvokeError::bad_request(format!("{}, got data that is not JSON", shape()))),
        };
        let message = field(&data, "message")
            .map(go_format)
            .ok_or_else(|| InvokeError::bad_request(format!("{} with a message", shape())))?;
        let mut attributes: Vec<(&str, &str)> = Vec::new();
        for (key, value) in &request.metadata {
            let Some(name) = attribute_name(key) else { continue };
            if name.is_empty() {
                return Err(InvokeError::bad_request(format!(
                    "{key:?} names no attribute: use {ATTRIBUTE_PREFIX}<name>"
                )));
            }
            if value.is_empty() {
                continue;
            }
            if attributes.iter().any(|(n, _)| *n == name) {
                return Err(InvokeError::bad_request(format!("attribute {name:?} is given twice")));
            }
            attributes.push((name, value));
        }
        Ok(Self {
            message,
            subject: field(&data, "subject").map(go_format),
            group_id: request.meta_ignore_case(GROUP_ID),
            deduplication_id: request.meta_ignore_case(DEDUPLICATION_ID),
            attributes,
        })
    }

    fn apply(self, publish: PublishFluentBuilder) -> Result<PublishFluentBuilder, InvokeError> {
        let mut publish = publish
            .message(self.message)
            .set_subject(self.subject)
            .set_message_group_id(self.group_id.map(str::to_owned))
            .set_message_deduplication_id(self.deduplication_id.map(str::to_owned));
        for (name, value) in self.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| InvokeError::bad_request(format!("{PREFIX}: attribute {name:?}: {e}")))?;
            publish = publish.message_attributes(name, attribute);
        }
        Ok(publish)
    }
}

/// The non-null field `name` of a JSON object, as Go's `encoding/json` finds a
/// struct field: the exact key, else a key equal to it in another case.
fn field<'v>(data: &'v BTreeMap<String, Value>, name: &str) -> Option<&'v Value> {
    let found = data.get(name).or_else(|| data.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v));
    found.filter(|v| !v.is_null())
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `fmt.Sprintf("%v", v)` of the value Go's `encoding/json` decodes into `any`:
/// strings bare, numbers as float64s, `[a b]` for arrays, `map[k:v]` for
/// objects with their keys sorted, `<nil>` for null.
fn go_format(value: &Value) -> String {
    let mut out = String::new();
    write_go(value, &mut out);
    out
}

fn write_go(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_float(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_go(item, out);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            let sorted: BTreeMap<&String, &Value> = fields.iter().collect();
            out.push_str("map[");
            for (i, (key, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(key);
                out.push(':');
                write_go(item, out);
            }
            out.push(']');
        }
    }
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): the
/// shortest digits that read back, in exponent form when the decimal
/// exponent is below -4 or at least 6 (`1e+06`, `1.5e-05`), else plain.
fn go_float(f: f64) -> String {
    // Rust's `{:e}` gives the same shortest digits: `-1.2345e8`, `1e-5`, `0e0`.
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{first}{point}e{exponent_sign}{:02}", exponent.unsigned_abs());
    }
    // The decimal point goes after `exponent + 1` digits.
    let point = exponent + 1;
    if point <= 0 {
        let zeros = "0".repeat(point.unsigned_abs() as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let point = point as usize;
    if digits.len() <= point {
        format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..point], &digits[point..])
    }
}

/// [`sdk_error`], with SNS's "no such topic" and "bad publish" answers given
/// their kinds (it calls every 4xx "other").
fn classify<E>(prefix: &str, error: SdkError<E, HttpResponse>) -> InvokeError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    sdk_error_by_code(
        prefix,
        error,
        &ErrorCodes {
            not_found: NOT_FOUND_CODES,
            bad_request: BAD_REQUEST_CODES,
            throttled: &["KMSThrottling"],
            transient: &[],
        },
    )
}

impl OutputBinding for SnsBinding {
    fn operations(&self) -> &'static [&'static str] {
        &[operation::CREATE]
    }

    /// Only a FIFO publish with a deduplication id can be repeated safely: SNS
    /// drops a copy with the same id within five minutes. (Content-based
    /// deduplication is the topic's setting, unknown here.)
    fn is_idempotent(&self, request: &InvokeRequest) -> bool {
        self.fifo && request.meta_ignore_case(DEDUPLICATION_ID).is_some()
    }

    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(self.create(request))
    }
}

#[cfg(test)]
mod tests {
    use aws_config::{BehaviorVersion, Region};

    use super::*;
    use crate::output::ErrorKind;

    fn binding(arn: &str) -> SnsBinding {
        let config =
            SdkConfig::builder().behavior_version(BehaviorVersion::latest()).region(Region::new("us-east-1")).build();
        SnsBinding::from_metadata(&Metadata::from_pairs([("topicArn", arn)]), &config).unwrap()
    }

    fn read(data: &str) -> Result<(String, Option<String>), InvokeError> {
        let request = InvokeRequest::new("create", data.to_owned());
        Publish::read(&request).map(|p| (p.message, p.subject))
    }

    #[test]
    fn message_and_subject_are_printed_as_go_prints_them() {
        let read = |data: &str| read(data).unwrap();
        assert_eq!(read(r#"{"message":"hi","subject":"s"}"#), ("hi".into(), Some("s".into())));
        assert_eq!(read(r#"{"Message":"any case","SUBJECT":"x"}"#), ("any case".into(), Some("x".into())));
        assert_eq!(read(r#"{"message":"hi","subject":null}"#), ("hi".into(), None), "no <nil> subject");
        assert_eq!(read(r#"{"message":1000000}"#).0, "1e+06");
        assert_eq!(read(r#"{"message":[1,"a",true,null]}"#).0, "[1 a true <nil>]");
        assert_eq!(read(r#"{"message":{"b":{"c":[]},"a":1.5}}"#).0, "map[a:1.5 b:map[c:[]]]");
        assert_eq!(read(r#"{"message":"é \"q\"","other":1}"#).0, "é \"q\"");
    }

    #[test]
    fn floats_follow_go_v() {
        let cases = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-12.5, "-12.5"),
            (100000.0, "100000"),
            (999999.0, "999999"),
            (1000000.0, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (123456789.0, "1.23456789e+08"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e21, "1e+21"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (12345678901234567890.0, "1.2345678901234567e+19"),
            // A tie that Go's shortest digits resolve to 16 digits (Postgres's Ryu gives 17).
            (4.468743327960138e16, "4.468743327960138e+16"),
        ];
        for (f, go) in cases {
            assert_eq!(go_float(f), go, "{f}");
        }
    }

    #[test]
    fn data_that_is_not_an_object_with_a_message_is_refused() {
        for (data, why) in [
            (r#""text""#, "got a string"),
            ("[1]", "got an array"),
            ("null", "got null"),
            ("plain text", "got data that is not JSON"),
            ("", "got data that is not JSON"),
            (r#"{"subject":"s"}"#, "with a message"),
            (r#"{"message":null}"#, "with a message"),
        ] {
            let error = read(data).unwrap_err();
            assert_eq!(error.kind, ErrorKind::BadRequest);
            assert!(error.message.starts_with("data must be a JSON object"), "{data}: {error}");
            assert!(error.message.ends_with(why), "{data}: {error}");
        }
    }

    #[test]
    fn metadata_gives_attributes_and_fifo_ids() {
        let request = InvokeRequest::new("create", r#"{"message":"m"}"#)
            .with_metadata("messagegroupid", "g")
            .with_metadata("MessageDeduplicationId", "d")
            .with_metadata("attr-Priority", "high")
            .with_metadata("ATTR-source", "api")
            .with_metadata("attr-empty", "")
            .with_metadata("traceparent", "00-x");
        let publish = Publish::read(&request).unwrap();
        assert_eq!((publish.group_id, publish.deduplication_id), (Some("g"), Some("d")));
        assert_eq!(publish.attributes, [("source", "api"), ("Priority", "high")]);
        let twice = request.clone().with_metadata("attr-source", "again");
        assert!(Publish::read(&twice).unwrap_err().message.contains("\"source\" is given twice"));
        let unnamed = InvokeRequest::new("create", r#"{"message":"m"}"#).with_metadata("attr-", "v");
        assert!(Publish::read(&unnamed).unwrap_err().message.contains("names no attribute"));
    }

    #[test]
    fn only_deduplicated_fifo_publishes_are_idempotent() {
        let dedup = InvokeRequest::new("create", "{}").with_metadata("messagededuplicationid", "d");
        assert!(binding("arn:aws:sns:us-east-1:123456789012:done.fifo").is_idempotent(&dedup));
        assert!(!binding("arn:aws:sns:us-east-1:123456789012:done.fifo").is_idempotent(&InvokeRequest::default()));
        assert!(!binding("arn:aws:sns:us-east-1:123456789012:done").is_idempotent(&dedup));
    }
}
