//! Thin typed helpers over [`Bindings::invoke`] for Rust apps, so business
//! logic says what it means (`storage("reports").put(key, bytes)`) and not
//! which metadata keys a Dapr component reads.
//!
//! Each helper works with the cloud binding and its local stand-in alike:
//! [`Storage`] with `bindings.aws.s3` and `bindings.localstorage`, [`Mailer`]
//! with `bindings.aws.ses` and `bindings.local.mailbox`. The same code runs
//! against S3 and SES on AWS and against a folder on a laptop; only the
//! component YAML differs.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use bindery::output::{Bindings, Email, Notification};
//!
//! let bindings = Bindings::load("components".as_ref()).await?;
//! bindings.storage("reports").put("nightly/2026-11-28.json", br#"{"removed":3}"#.to_vec()).await?;
//! let report = bindings.storage("reports").get("nightly/2026-11-28.json").await?;
//! bindings.email("notifications").send(&Email::html("ops@example.com", "Nightly cleanup", "<p>3 removed</p>")).await?;
//! bindings.http("http-binding").post("/tasks/done", br#"{"id":1}"#.to_vec()).await?;
//! bindings.table("tasks").put(&serde_json::json!({"id": "t-1", "done": true})).await?;
//! let task = bindings.table("tasks").get(&serde_json::json!({"id": "t-1"})).await?;
//! bindings.topic("task-events").publish(Notification::new("t-1 done").with_subject("Task done")).await?;
//! bindings.stream("clicks").put("user-7", br#"{"page":"/"}"#.to_vec()).await?;
//! # Ok(()) }
//! ```

use bytes::Bytes;

use super::error::{ErrorKind, InvokeError};
use super::registry::Bindings;
use super::{InvokeRequest, InvokeResponse, operation};
use crate::component::{BindingKind, OutputKind};

impl Bindings {
    /// Objects in a bucket (`bindings.aws.s3`) or a folder (`bindings.localstorage`).
    pub fn storage<'a>(&'a self, name: &'a str) -> Storage<'a> {
        Storage { bindings: self, name }
    }

    /// Email through SES (`bindings.aws.ses`) or into a folder (`bindings.local.mailbox`).
    pub fn email<'a>(&'a self, name: &'a str) -> Mailer<'a> {
        Mailer { bindings: self, name }
    }

    /// Requests to the base URL of a `bindings.http` component.
    pub fn http<'a>(&'a self, name: &'a str) -> HttpTarget<'a> {
        HttpTarget { bindings: self, name }
    }

    /// Messages to a queue (`bindings.aws.sqs`).
    pub fn queue<'a>(&'a self, name: &'a str) -> Queue<'a> {
        Queue { bindings: self, name }
    }

    /// Notifications to an SNS topic (`bindings.aws.sns`).
    pub fn topic<'a>(&'a self, name: &'a str) -> Topic<'a> {
        Topic { bindings: self, name }
    }

    /// Items in a DynamoDB table (`bindings.aws.dynamodb`).
    pub fn table<'a>(&'a self, name: &'a str) -> Table<'a> {
        Table { bindings: self, name }
    }

    /// Records into a Kinesis stream (`bindings.aws.kinesis`).
    pub fn stream<'a>(&'a self, name: &'a str) -> Stream<'a> {
        Stream { bindings: self, name }
    }
}

/// Any binding has a `create`: without this check a helper pointed at another
/// type (a queue helper at a bucket) would do that type's `create`.
fn check_kind(bindings: &Bindings, name: &str, wanted: OutputKind, kind: BindingKind) -> Result<(), InvokeError> {
    match bindings.kind_of(name) {
        Some(Some(found)) if found == wanted => Ok(()),
        _ => Err(wrong_type(bindings, name, &[kind])),
    }
}

/// See [`Bindings::storage`].
#[derive(Clone, Copy)]
pub struct Storage<'a> {
    bindings: &'a Bindings,
    name: &'a str,
}

impl Storage<'_> {
    /// Stores `bytes` under `key`, exactly as given.
    pub async fn put(&self, key: &str, bytes: impl Into<Bytes>) -> Result<(), InvokeError> {
        let bytes = bytes.into();
        let mut request = InvokeRequest::new(operation::CREATE, Bytes::new()).with_metadata(self.key_field()?, key);
        // Both bindings unquote a body that is a JSON string literal (Dapr's
        // rule for the HTTP API); base64 carries such a body through intact.
        if looks_like_json_string(&bytes) {
            use base64::Engine;
            request.data = Bytes::from(base64::engine::general_purpose::STANDARD.encode(&bytes));
            request.metadata.insert("decodeBase64".into(), "true".into());
        } else {
            request.data = bytes;
        }
        self.bindings.invoke(self.name, request).await.map(drop)
    }

    /// The bytes stored under `key`; [`ErrorKind::NotFound`] when there are none.
    pub async fn get(&self, key: &str) -> Result<Bytes, InvokeError> {
        let request = InvokeRequest::new(operation::GET, Bytes::new()).with_metadata(self.key_field()?, key);
        Ok(self.bindings.invoke(self.name, request).await?.map(|r| r.data).unwrap_or_default())
    }

    pub async fn delete(&self, key: &str) -> Result<(), InvokeError> {
        let request = InvokeRequest::new(operation::DELETE, Bytes::new()).with_metadata(self.key_field()?, key);
        self.bindings.invoke(self.name, request).await.map(drop)
    }

    /// S3 names the object `key`, localstorage names the file `fileName`.
    fn key_field(&self) -> Result<&'static str, InvokeError> {
        match self.bindings.kind_of(self.name) {
            Some(Some(OutputKind::LocalStorage)) => Ok("fileName"),
            Some(Some(OutputKind::S3)) => Ok("key"),
            _ => Err(wrong_type(self.bindings, self.name, &[BindingKind::AwsS3, BindingKind::LocalStorage])),
        }
    }
}

fn looks_like_json_string(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().first() == Some(&b'"')
}

/// An email for [`Mailer::send`]. Empty fields fall back to the component's
/// metadata (`emailFrom`, `emailTo`, `subject`, ...), as in Dapr.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Email {
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: Option<String>,
    pub body: String,
    /// Plain text instead of HTML.
    pub text: bool,
}

impl Email {
    pub fn html(to: &str, subject: &str, body: &str) -> Self {
        Self { to: vec![to.to_owned()], subject: Some(subject.to_owned()), body: body.to_owned(), ..Self::default() }
    }

    pub fn text(to: &str, subject: &str, body: &str) -> Self {
        Self { text: true, ..Self::html(to, subject, body) }
    }

    fn into_request(self) -> InvokeRequest {
        let mut request = InvokeRequest::new(operation::CREATE, self.body);
        let mut set = |key: &str, value: String| {
            if !value.is_empty() {
                request.metadata.insert(key.to_owned(), value);
            }
        };
        set("emailFrom", self.from.unwrap_or_default());
        set("emailTo", self.to.join(";"));
        set("emailCc", self.cc.join(";"));
        set("emailBcc", self.bcc.join(";"));
        set("subject", self.subject.unwrap_or_default());
        if self.text {
            set(super::email::CONTENT_TYPE_KEY, "text/plain".to_owned());
        }
        request
    }
}

/// See [`Bindings::email`].
#[derive(Clone, Copy)]
pub struct Mailer<'a> {
    bindings: &'a Bindings,
    name: &'a str,
}

impl Mailer<'_> {
    /// Sends `email`; the answer is its message id.
    pub async fn send(&self, email: &Email) -> Result<String, InvokeError> {
        match self.bindings.kind_of(self.name) {
            Some(Some(OutputKind::Ses | OutputKind::Mailbox)) => {}
            _ => return Err(wrong_type(self.bindings, self.name, &[BindingKind::AwsSes, BindingKind::LocalMailbox])),
        }
        let response = self.bindings.invoke(self.name, email.clone().into_request()).await?;
        Ok(response.and_then(|r| r.metadata.get("messageId").cloned()).unwrap_or_default())
    }
}

/// See [`Bindings::http`].
#[derive(Clone, Copy)]
pub struct HttpTarget<'a> {
    bindings: &'a Bindings,
    name: &'a str,
}

impl HttpTarget<'_> {
    /// `POST <url>/<path>` with a JSON body; a non-2xx answer is an error
    /// that keeps the response.
    pub async fn post(&self, path: &str, json: impl Into<Bytes>) -> Result<InvokeResponse, InvokeError> {
        self.request("post", path, json.into()).await
    }

    pub async fn get(&self, path: &str) -> Result<InvokeResponse, InvokeError> {
        self.request("get", path, Bytes::new()).await
    }

    /// Any of the binding's operations (`put`, `delete`, ...).
    pub async fn request(&self, operation: &str, path: &str, body: Bytes) -> Result<InvokeResponse, InvokeError> {
        let mut request = InvokeRequest::new(operation, body);
        if !path.is_empty() {
            request.metadata.insert("path".into(), path.to_owned());
        }
        Ok(self.bindings.invoke(self.name, request).await?.unwrap_or_default())
    }
}

/// See [`Bindings::queue`].
#[derive(Clone, Copy)]
pub struct Queue<'a> {
    bindings: &'a Bindings,
    name: &'a str,
}

impl Queue<'_> {
    /// Sends one message, its body exactly `body`; the answer is its message id.
    pub async fn send(&self, body: impl Into<Bytes>) -> Result<String, InvokeError> {
        check_kind(self.bindings, self.name, OutputKind::Sqs, BindingKind::AwsSqs)?;
        let response = self.bindings.invoke(self.name, InvokeRequest::new(operation::CREATE, body.into())).await?;
        Ok(response.and_then(|r| r.metadata.get("messageId").cloned()).unwrap_or_default())
    }
}

/// A notification for [`Topic::publish`]: the message, and what SNS sends with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notification {
    pub message: String,
    pub subject: Option<String>,
    /// String message attributes, by name.
    pub attributes: std::collections::BTreeMap<String, String>,
    /// FIFO topics: the message group, and the deduplication id (unless the
    /// topic deduplicates by content).
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
}

impl Notification {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), ..Self::default() }
    }

    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    fn into_request(self) -> InvokeRequest {
        let mut data = serde_json::json!({ "message": self.message });
        if let Some(subject) = self.subject {
            data["subject"] = subject.into();
        }
        let mut request = InvokeRequest::new(operation::CREATE, serde_json::to_vec(&data).unwrap_or_default());
        for (name, value) in self.attributes {
            request.metadata.insert(format!("attr-{name}"), value);
        }
        request.metadata.extend(self.group_id.map(|g| ("MessageGroupId".to_owned(), g)));
        request.metadata.extend(self.deduplication_id.map(|d| ("MessageDeduplicationId".to_owned(), d)));
        request
    }
}

/// See [`Bindings::topic`].
#[derive(Clone, Copy)]
pub struct Topic<'a> {
    bindings: &'a Bindings,
    name: &'a str,
}

impl Topic<'_> {
    /// Publishes `notification`; the answer is its SNS message id.
    pub async fn publish(&self, notification: Notification) -> Result<String, InvokeError> {
        check_kind(self.bindings, self.name, OutputKind::Sns, BindingKind::AwsSns)?;
        let response = self.bindings.invoke(self.name, notification.into_request()).await?;
        Ok(response.and_then(|r| r.metadata.get("messageId").cloned()).unwrap_or_default())
    }
}

/// See [`Bindings::table`]. Items and keys are JSON objects, typed as Dapr
/// types them (strings `S`, numbers `N`, arrays `L`, objects `M`, ...).
#[derive(Clone, Copy)]
pub struct Table<'a> {
    bindings: &'a Bindings,
    name: &'a str,
}

impl Table<'_> {
    /// Puts `item`, replacing any item with its key.
    pub async fn put(&self, item: &serde_json::Value) -> Result<(), InvokeError> {
        self.call(InvokeRequest::new(operation::CREATE, json_bytes(item))).await.map(drop)
    }

    /// Puts `item` only if no item has its key: `key_attribute` is the
    /// table's partition key. An existing item is a [`ErrorKind::BadRequest`]
    /// naming `ConditionalCheckFailedException`.
    pub async fn put_new(&self, item: &serde_json::Value, key_attribute: &str) -> Result<(), InvokeError> {
        let names = serde_json::json!({ "#key": key_attribute }).to_string();
        let request = InvokeRequest::new(operation::CREATE, json_bytes(item))
            .with_metadata("conditionExpression", "attribute_not_exists(#key)")
            .with_metadata("expressionAttributeNames", names);
        self.call(request).await.map(drop)
    }

    /// The item with `key` (e.g. `{"id": "t-1"}`), as plain JSON; `None` when there is none.
    pub async fn get(&self, key: &serde_json::Value) -> Result<Option<serde_json::Value>, InvokeError> {
        match self.call(InvokeRequest::new(operation::GET, json_bytes(key))).await {
            Ok(response) => {
                let data = response.map(|r| r.data).unwrap_or_default();
                let item = serde_json::from_slice(&data)
                    .map_err(|e| InvokeError::other(format!("the item read is not JSON: {e}")))?;
                Ok(Some(item))
            }
            // A missing table is not-found too; the service's code, which
            // the binding's errors carry, tells it from a missing item.
            Err(e) if e.kind == ErrorKind::NotFound && !e.message.contains("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes the item with `key`; none is not an error.
    pub async fn delete(&self, key: &serde_json::Value) -> Result<(), InvokeError> {
        self.call(InvokeRequest::new(operation::DELETE, json_bytes(key))).await.map(drop)
    }

    async fn call(&self, request: InvokeRequest) -> Result<Option<InvokeResponse>, InvokeError> {
        check_kind(self.bindings, self.name, OutputKind::DynamoDb, BindingKind::AwsDynamoDb)?;
        self.bindings.invoke(self.name, request).await
    }
}

fn json_bytes(value: &serde_json::Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

/// Where [`Stream::put`] stored a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPosition {
    pub shard_id: String,
    pub sequence_number: String,
}

/// See [`Bindings::stream`].
#[derive(Clone, Copy)]
pub struct Stream<'a> {
    bindings: &'a Bindings,
    name: &'a str,
}

impl Stream<'_> {
    /// Puts one record, its data exactly `data`, under `partition_key`.
    pub async fn put(&self, partition_key: &str, data: impl Into<Bytes>) -> Result<RecordPosition, InvokeError> {
        check_kind(self.bindings, self.name, OutputKind::Kinesis, BindingKind::AwsKinesis)?;
        let request = InvokeRequest::new(operation::CREATE, data.into()).with_metadata("partitionKey", partition_key);
        let metadata = self.bindings.invoke(self.name, request).await?.map(|r| r.metadata).unwrap_or_default();
        let field = |key: &str| metadata.get(key).cloned().unwrap_or_default();
        Ok(RecordPosition { shard_id: field("shardId"), sequence_number: field("sequenceNumber") })
    }
}

/// The error of a typed helper on a binding that is not of the `wanted` kinds.
fn wrong_type(bindings: &Bindings, name: &str, wanted: &[BindingKind]) -> InvokeError {
    let wanted: Vec<&str> = wanted.iter().map(|k| k.type_name()).collect();
    match bindings.type_of(name) {
        None => InvokeError::new(ErrorKind::UnknownBinding, format!("couldn't find output binding {name}")),
        Some(found) => {
            InvokeError::bad_request(format!("output binding {name} is a {found}, not {}", wanted.join(" or ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::Metadata;
    use crate::output::localstorage::LocalStorageBinding;

    #[tokio::test]
    async fn topic_table_and_stream_helpers_on_another_type_do_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().display().to_string();
        let folder = LocalStorageBinding::from_metadata(&Metadata::from_pairs([("rootPath", root.as_str())])).unwrap();
        let mut bindings = Bindings::default();
        bindings.insert("files", BindingKind::LocalStorage.type_name(), Box::new(folder));

        let error = bindings.topic("files").publish(Notification::new("hi")).await.unwrap_err();
        assert_eq!(error.message, "output binding files is a bindings.localstorage, not bindings.aws.sns");
        let error = bindings.table("files").put(&serde_json::json!({"id": 1})).await.unwrap_err();
        assert_eq!(error.message, "output binding files is a bindings.localstorage, not bindings.aws.dynamodb");
        let error = bindings.stream("files").put("k", "x").await.unwrap_err();
        assert_eq!(error.message, "output binding files is a bindings.localstorage, not bindings.aws.kinesis");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file was created");
    }

    #[test]
    fn a_notification_is_dapr_s_data_and_bindery_s_metadata() {
        let mut notification = Notification::new("t-1 \"done\"").with_subject("Task done");
        notification.attributes.insert("priority".into(), "high".into());
        notification.group_id = Some("tasks".into());
        let request = notification.into_request();
        assert_eq!(request.data, r#"{"message":"t-1 \"done\"","subject":"Task done"}"#);
        assert_eq!(request.metadata["attr-priority"], "high");
        assert_eq!(request.metadata["MessageGroupId"], "tasks");
        assert!(!request.metadata.contains_key("MessageDeduplicationId"));
        assert_eq!(Notification::new("m").into_request().data, r#"{"message":"m"}"#, "no subject at all");
    }

    #[tokio::test]
    async fn a_queue_helper_on_another_type_sends_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().display().to_string();
        let folder = LocalStorageBinding::from_metadata(&Metadata::from_pairs([("rootPath", root.as_str())])).unwrap();
        let mut bindings = Bindings::default();
        bindings.insert("files", BindingKind::LocalStorage.type_name(), Box::new(folder));

        let error = bindings.queue("files").send("hello").await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::BadRequest);
        assert_eq!(error.message, "output binding files is a bindings.localstorage, not bindings.aws.sqs");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file was created");
        let error = bindings.queue("nowhere").send("hello").await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::UnknownBinding);
    }
}
