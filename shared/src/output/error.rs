//! The one error type of every output binding.

use std::fmt;
use std::time::Duration;

use super::request::InvokeResponse;

/// What kind of failure, which decides whether it is retried and how the
/// Dapr API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request is wrong: missing metadata, unreadable data. Never retried.
    BadRequest,
    /// No output binding has the name asked for.
    UnknownBinding,
    /// The binding does not implement the operation.
    UnsupportedOperation,
    /// The object, file or queue does not exist.
    NotFound,
    /// The service refused the request because of its rate: it was not
    /// performed, so it is always safe to retry.
    Throttled,
    /// A failure that may pass (connection reset, 5xx). Retried only for
    /// idempotent requests.
    Transient,
    /// The attempt did not finish in time. Retried only for idempotent requests.
    Timeout,
    /// The remote service answered with a failure status; the response
    /// (status, headers, body) is kept in [`InvokeError::response`].
    Remote,
    /// Anything else: permissions, misconfiguration found at call time.
    Other,
}

/// An output binding's failure: a message in Dapr's words, its kind, and
/// (for the HTTP binding's non-2xx answers) the remote response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeError {
    pub kind: ErrorKind,
    pub message: String,
    /// What the remote service answered, when it answered: daprd loses it,
    /// bindery keeps it (components-contrib#2706).
    pub response: Option<Box<InvokeResponse>>,
}

impl InvokeError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), response: None }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn other(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Other, message)
    }

    /// daprd's words for an operation the binding does not list.
    pub fn unsupported(binding: &str, operation: &str, supported: &[&str]) -> Self {
        Self::new(
            ErrorKind::UnsupportedOperation,
            format!(
                "binding {binding} does not support operation {operation}. supported operations:{}",
                supported.join(" ")
            ),
        )
    }

    pub fn timeout(after: Duration) -> Self {
        Self::new(ErrorKind::Timeout, format!("timed out after {after:?}"))
    }

    pub fn with_response(mut self, response: InvokeResponse) -> Self {
        self.response = Some(Box::new(response));
        self
    }

    /// Prefixes the message, e.g. with the binding type.
    pub fn context(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }

    /// Whether another attempt may succeed, given whether the request is idempotent.
    pub fn is_retryable(&self, idempotent: bool) -> bool {
        match self.kind {
            ErrorKind::Throttled => true,
            ErrorKind::Transient | ErrorKind::Timeout => idempotent,
            _ => false,
        }
    }
}

impl fmt::Display for InvokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InvokeError {}
