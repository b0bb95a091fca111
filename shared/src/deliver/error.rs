//! Why a delivery failed. Every kind means "not acknowledged": the source
//! reports it failed so AWS delivers it again.

use http::StatusCode;

use crate::telemetry::metrics::Failure;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryErrorKind {
    /// The event cannot be expressed as an HTTP request (e.g. a metadata
    /// value with control characters); retrying will not help.
    InvalidEvent,
    /// No connection to the app (refused, unreachable).
    AppUnreachable,
    /// The connection broke, or the response could not be read.
    AppFailed,
    /// The app answered with a status other than 2xx.
    AppRejected(StatusCode),
    /// The invocation deadline came first.
    Timeout,
    /// Idempotency held it back: another delivery of the same event is in
    /// progress, or the idempotency store failed.
    Idempotency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub kind: DeliveryErrorKind,
    pub message: String,
}

impl DeliveryError {
    pub fn new(kind: DeliveryErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// The reason it is counted under in the metrics.
    pub fn failure(&self) -> Failure {
        match self.kind {
            DeliveryErrorKind::InvalidEvent => Failure::InvalidEvent,
            DeliveryErrorKind::AppUnreachable | DeliveryErrorKind::AppFailed => Failure::AppUnreachable,
            DeliveryErrorKind::AppRejected(status) => {
                Failure::of_app_status(status.as_u16()).err().unwrap_or(Failure::App4xx)
            }
            DeliveryErrorKind::Timeout => Failure::Timeout,
            DeliveryErrorKind::Idempotency => Failure::Idempotency,
        }
    }

    /// Whether the app answered it (with a status that is not 2xx).
    pub fn answered(&self) -> bool {
        matches!(self.kind, DeliveryErrorKind::AppRejected(_))
    }

    /// The `errorType` reported to Lambda.
    pub fn error_type(&self) -> &'static str {
        match self.kind {
            DeliveryErrorKind::InvalidEvent => "Bindery.InvalidEvent",
            DeliveryErrorKind::AppUnreachable => "Bindery.AppUnreachable",
            DeliveryErrorKind::AppFailed => "Bindery.AppFailed",
            DeliveryErrorKind::AppRejected(_) => "Bindery.AppRejected",
            DeliveryErrorKind::Timeout => "Bindery.Timeout",
            DeliveryErrorKind::Idempotency => "Bindery.Idempotency",
        }
    }
}
