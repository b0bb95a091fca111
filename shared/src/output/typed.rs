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
//! use bindery::output::{Bindings, Email};
//!
//! let bindings = Bindings::load("components".as_ref()).await?;
//! bindings.storage("reports").put("nightly/2026-11-28.json", br#"{"removed":3}"#.to_vec()).await?;
//! let report = bindings.storage("reports").get("nightly/2026-11-28.json").await?;
//! bindings.email("notifications").send(&Email::html("ops@example.com", "Nightly cleanup", "<p>3 removed</p>")).await?;
//! bindings.http("http-binding").post("/tasks/done", br#"{"id":1}"#.to_vec()).await?;
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
        // Any binding has a `create`: without this check a queue helper
        // pointed at a bucket would store an object.
        match self.bindings.kind_of(self.name) {
            Some(Some(OutputKind::Sqs)) => {}
            _ => return Err(wrong_type(self.bindings, self.name, &[BindingKind::AwsSqs])),
        }
        let response = self.bindings.invoke(self.name, InvokeRequest::new(operation::CREATE, body.into())).await?;
        Ok(response.and_then(|r| r.metadata.get("messageId").cloned()).unwrap_or_default())
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
