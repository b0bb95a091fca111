//! `bindings.aws.sqs` output: operation `create` sends the data as one
//! message (`SendMessage`), as Dapr does: the bytes as they are, so over the
//! HTTP API a string arrives quoted (`"data":"hi"` sends `"hi"`) and an
//! object as its JSON; over gRPC the raw bytes. They must be UTF-8 text.
//!
//! Dapr ignores every request metadata item; bindery honours, with keys
//! matched case-insensitively and empty values counting as absent:
//! - `DelaySeconds`: a whole number from 0 to 900, else a bad request;
//! - `MessageGroupId`, `MessageDeduplicationId` (FIFO queues);
//! - `attr-<name>`: the String message attribute `<name>` (at most 10). This
//!   mirrors `bindery-sqs`, which delivers each attribute to the app as the
//!   header `attr-<name>`, so what one app sends the next one receives under
//!   the same key. Other keys (`traceparent`, ...) are not attributes.
//!
//! The response carries `messageId`, and `sequenceNumber` on FIFO queues, in
//! its metadata with no data (the HTTP API's 200); Dapr answers 204.
//!
//! `queueName` is a queue name, looked up with `GetQueueUrl` on first use and
//! kept for the binding's life; a failed lookup is not kept, so a queue created
//! after the binding is found at the next call. It may also be the queue's
//! URL, which saves the lookup (and `sqs:GetQueueUrl` permission).

use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::operation::send_message::builders::SendMessageFluentBuilder;
use aws_sdk_sqs::types::MessageAttributeValue;
use tokio::sync::OnceCell;

use super::aws::{ErrorCodes, sdk_error_by_code};
use super::config::SqsConfig;
use super::error::InvokeError;
use super::{BoxFuture, InvokeRequest, InvokeResponse, InvokeResult, OutputBinding, operation};
use crate::component::{FieldError, Metadata};

const PREFIX: &str = "sqs binding error";
/// Request metadata keys starting so (in any case) are message attributes.
pub const ATTRIBUTE_PREFIX: &str = "attr-";
const DELAY_SECONDS: &str = "DelaySeconds";
const GROUP_ID: &str = "MessageGroupId";
const DEDUPLICATION_ID: &str = "MessageDeduplicationId";
/// SQS's limits: the longest delay, and the most attributes on one message.
const MAX_DELAY_SECONDS: i32 = 900;
const MAX_ATTRIBUTES: usize = 10;

/// The error codes SQS answers for a queue that does not exist: the JSON
/// protocol's, and the query protocol's that LocalStack and older SQS send.
const NOT_FOUND_CODES: &[&str] = &["QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"];
/// The error codes SQS answers for a message it will not take as sent: never
/// worth retrying.
const BAD_REQUEST_CODES: &[&str] = &[
    "InvalidMessageContents",
    "AWS.SimpleQueueService.InvalidMessageContents",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "MissingParameter",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "UnsupportedOperation",
    "AWS.SimpleQueueService.UnsupportedOperation",
];

pub struct SqsBinding {
    client: Client,
    /// `queueName` as configured: a name, or a queue URL.
    queue: String,
    /// The queue URL: set once resolved (or at build time from a URL), left
    /// empty by a failed lookup so that the next call tries again.
    url: OnceCell<String>,
    /// FIFO queues are the ones whose name ends in `.fifo` (an SQS rule).
    fifo: bool,
}

impl SqsBinding {
    /// Checks `queueName` (an SQS queue name or an http(s) queue URL) without
    /// calling SQS: the lookup happens at the first send.
    pub fn from_metadata(metadata: &Metadata, config: &SdkConfig) -> Result<Self, Vec<FieldError>> {
        let SqsConfig { queue, is_url, fifo, .. } = SqsConfig::from_metadata(metadata)?;
        let url = OnceCell::new_with(is_url.then(|| queue.clone()));
        Ok(Self { client: Client::new(config), queue, url, fifo })
    }

    /// The queue URL, looked up the first time. `OnceCell` runs one lookup at a
    /// time, so concurrent first sends make a single `GetQueueUrl` call.
    async fn queue_url(&self) -> Result<&str, InvokeError> {
        let url = self
            .url
            .get_or_try_init(|| async {
                let output = self
                    .client
                    .get_queue_url()
                    .queue_name(&self.queue)
                    .send()
                    .await
                    .map_err(|e| classify(&format!("{PREFIX}: queue {:?}", self.queue), e))?;
                let url = output.queue_url.filter(|u| !u.is_empty());
                let url =
                    url.ok_or_else(|| InvokeError::other(format!("{PREFIX}: no URL for queue {:?}", self.queue)))?;
                tracing::debug!(queue = %self.queue, "resolved the queue URL");
                Ok::<_, InvokeError>(url)
            })
            .await?;
        Ok(url)
    }

    async fn create(&self, request: InvokeRequest) -> InvokeResult {
        // Everything about the request is checked before the queue is looked up.
        let outgoing = Outgoing::read(&request).map_err(|e| e.context(PREFIX))?;
        let output = outgoing
            .apply(self.client.send_message().queue_url(self.queue_url().await?))?
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
struct Outgoing<'a> {
    body: &'a str,
    delay_seconds: Option<i32>,
    group_id: Option<&'a str>,
    deduplication_id: Option<&'a str>,
    /// `(name, value)` in key order.
    attributes: Vec<(&'a str, &'a str)>,
}

impl<'a> Outgoing<'a> {
    /// Errors are bad requests, without the binding's prefix.
    fn read(request: &'a InvokeRequest) -> Result<Self, InvokeError> {
        let body = std::str::from_utf8(&request.data)
            .map_err(|_| InvokeError::bad_request("SQS message bodies must be UTF-8 text"))?;
        if body.is_empty() {
            return Err(InvokeError::bad_request("SQS messages cannot be empty"));
        }
        let delay_seconds = request
            .meta_ignore_case(DELAY_SECONDS)
            .map(|delay| {
                delay.trim().parse::<i32>().ok().filter(|s| (0..=MAX_DELAY_SECONDS).contains(s)).ok_or_else(|| {
                    InvokeError::bad_request(format!(
                        "{DELAY_SECONDS} must be a whole number from 0 to {MAX_DELAY_SECONDS}, got {delay:?}"
                    ))
                })
            })
            .transpose()?;
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
        if attributes.len() > MAX_ATTRIBUTES {
            return Err(InvokeError::bad_request(format!(
                "SQS takes at most {MAX_ATTRIBUTES} message attributes, got {}",
                attributes.len()
            )));
        }
        Ok(Self {
            body,
            delay_seconds,
            group_id: request.meta_ignore_case(GROUP_ID),
            deduplication_id: request.meta_ignore_case(DEDUPLICATION_ID),
            attributes,
        })
    }

    fn apply(self, send: SendMessageFluentBuilder) -> Result<SendMessageFluentBuilder, InvokeError> {
        let mut send = send
            .message_body(self.body)
            .set_delay_seconds(self.delay_seconds)
            .set_message_group_id(self.group_id.map(str::to_owned))
            .set_message_deduplication_id(self.deduplication_id.map(str::to_owned));
        for (name, value) in self.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| InvokeError::bad_request(format!("{PREFIX}: attribute {name:?}: {e}")))?;
            send = send.message_attributes(name, attribute);
        }
        Ok(send)
    }
}

/// The attribute a request metadata key names: `attr-<name>`, the prefix in any case.
pub(crate) fn attribute_name(key: &str) -> Option<&str> {
    let (prefix, name) = key.split_at_checked(ATTRIBUTE_PREFIX.len())?;
    prefix.eq_ignore_ascii_case(ATTRIBUTE_PREFIX).then_some(name)
}

/// [`sdk_error`], with SQS's "no such queue" and "bad message" answers given
/// their kinds (it calls every 4xx "other").
fn classify<E>(prefix: &str, error: SdkError<E, HttpResponse>) -> InvokeError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    sdk_error_by_code(
        prefix,
        error,
        &ErrorCodes { not_found: NOT_FOUND_CODES, bad_request: BAD_REQUEST_CODES, throttled: &[], transient: &[] },
    )
}

impl OutputBinding for SqsBinding {
    fn operations(&self) -> &'static [&'static str] {
        &[operation::CREATE]
    }

    /// Only a FIFO send with a deduplication id can be repeated safely: SQS
    /// drops a copy with the same id within five minutes. (A FIFO queue with
    /// content-based deduplication would be too, but that is the queue's
    /// setting, unknown here, so those sends are treated as not idempotent.)
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

    fn binding(queue: &str) -> Result<SqsBinding, Vec<FieldError>> {
        let config =
            SdkConfig::builder().behavior_version(BehaviorVersion::latest()).region(Region::new("us-east-1")).build();
        SqsBinding::from_metadata(&Metadata::from_pairs([("queueName", queue)]), &config)
    }

    fn read(request: &InvokeRequest) -> Result<Outgoing<'_>, InvokeError> {
        Outgoing::read(request)
    }

    #[test]
    fn the_body_is_sent_as_it_came() {
        let quoted = InvokeRequest::new("create", r#""hello""#);
        assert_eq!(read(&quoted).unwrap().body, r#""hello""#, "Dapr keeps the HTTP API's quotes");
        let plain = InvokeRequest::new("create", "hello");
        let outgoing = read(&plain).unwrap();
        assert_eq!(
            outgoing,
            Outgoing { body: "hello", delay_seconds: None, group_id: None, deduplication_id: None, attributes: vec![] }
        );
    }

    #[test]
    fn metadata_keys_match_in_any_case() {
        let request = InvokeRequest::new("create", "x")
            .with_metadata("delayseconds", " 900 ")
            .with_metadata("MESSAGEGROUPID", "g")
            .with_metadata("messageDeduplicationId", "d")
            .with_metadata("attr-Priority", "high")
            .with_metadata("ATTR-source", "api")
            .with_metadata("attr-empty", "")
            .with_metadata("traceparent", "00-x")
            .with_metadata("attribute", "not one");
        let outgoing = read(&request).unwrap();
        assert_eq!(outgoing.delay_seconds, Some(900));
        assert_eq!((outgoing.group_id, outgoing.deduplication_id), (Some("g"), Some("d")));
        assert_eq!(outgoing.attributes, [("source", "api"), ("Priority", "high")], "key order; empty values skipped");
    }

    #[test]
    fn bad_requests_are_refused_before_sending() {
        let refused = |request: InvokeRequest| {
            let error = read(&request).unwrap_err();
            assert_eq!(error.kind, ErrorKind::BadRequest, "{error}");
            error.message
        };
        for delay in ["901", "-1", "soon", "1.5", "99999999999"] {
            let message = refused(InvokeRequest::new("create", "x").with_metadata("DelaySeconds", delay));
            assert_eq!(message, format!("DelaySeconds must be a whole number from 0 to 900, got {delay:?}"));
        }
        assert!(refused(InvokeRequest::new("create", vec![0xff, 0xfe])).contains("UTF-8"));
        assert!(refused(InvokeRequest::new("create", "")).contains("cannot be empty"));
        assert!(refused(InvokeRequest::new("create", "x").with_metadata("attr-", "v")).contains("names no attribute"));
        let twice = InvokeRequest::new("create", "x").with_metadata("attr-a", "1").with_metadata("ATTR-a", "2");
        assert!(refused(twice).contains("\"a\" is given twice"));
        let eleven = (0..11).fold(InvokeRequest::new("create", "x"), |r, i| r.with_metadata(format!("attr-{i}"), "v"));
        assert!(refused(eleven).contains("at most 10 message attributes, got 11"));
        let ten = (0..10).fold(InvokeRequest::new("create", "x"), |r, i| r.with_metadata(format!("attr-{i}"), "v"));
        assert_eq!(read(&ten).unwrap().attributes.len(), 10);
    }

    #[test]
    fn attribute_keys() {
        assert_eq!(attribute_name("attr-x"), Some("x"));
        assert_eq!(attribute_name("Attr-x.y"), Some("x.y"));
        assert_eq!(attribute_name("attr-"), Some(""));
        assert_eq!(attribute_name("attr"), None);
        assert_eq!(attribute_name("attré-x"), None, "no panic off a character boundary");
        assert_eq!(attribute_name("x-attr-y"), None);
    }

    #[test]
    fn queue_names_and_urls_are_checked_at_load() {
        for good in ["tasks", "Tasks_2-b", "tasks.fifo", &"q".repeat(80), "http://127.0.0.1:5000/123456789012/tasks"] {
            assert!(binding(good).is_ok(), "{good}");
        }
        for bad in ["", " ", "has space", "a.b", ".fifo", &"q".repeat(81), "ftp://x/q", "http://", "https://host"] {
            let Err(errors) = binding(bad) else { panic!("{bad:?} accepted") };
            assert_eq!(errors[0].field, "queueName", "{bad:?}");
        }
    }

    #[test]
    fn a_url_needs_no_lookup() {
        let url = "https://sqs.us-east-1.amazonaws.com/123456789012/tasks";
        assert_eq!(binding(url).unwrap().url.get().map(String::as_str), Some(url));
        assert!(binding("tasks").unwrap().url.get().is_none(), "a name is looked up at the first send");
    }

    #[test]
    fn only_deduplicated_fifo_sends_are_idempotent() {
        let dedup = InvokeRequest::new("create", "x").with_metadata("messagededuplicationid", "d");
        let plain = InvokeRequest::new("create", "x").with_metadata("MessageGroupId", "g");
        let fifo = binding("events.fifo").unwrap();
        assert!(fifo.is_idempotent(&dedup));
        assert!(!fifo.is_idempotent(&plain));
        assert!(binding("https://sqs.us-east-1.amazonaws.com/1/events.fifo").unwrap().is_idempotent(&dedup));
        assert!(!binding("events").unwrap().is_idempotent(&dedup), "standard queues do not deduplicate");
    }
}
