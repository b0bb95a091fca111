//! The one trait every output binding implements.

use std::future::Future;
use std::pin::Pin;

use super::error::InvokeError;
use super::request::{InvokeRequest, InvokeResponse};

/// A boxed future, so that [`OutputBinding`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The result of one invocation.
pub type InvokeResult = Result<Option<InvokeResponse>, InvokeError>;

/// One output binding (S3, SES, HTTP, ...). Implementations do only their own
/// service's work: timeouts, retries and tracing are layers
/// ([`super::layer`]) wrapped around every binding by the registry.
pub trait OutputBinding: Send + Sync + 'static {
    /// The operations it accepts; anything else is refused before `invoke`.
    fn operations(&self) -> &'static [&'static str];

    /// Whether repeating `request` after a failure that may have happened
    /// midway has the same effect as doing it once. Only such requests are
    /// retried after timeouts and transient failures; throttled requests were
    /// not performed and are always retried.
    fn is_idempotent(&self, request: &InvokeRequest) -> bool;

    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult>;
}

impl<T: OutputBinding + ?Sized> OutputBinding for Box<T> {
    fn operations(&self) -> &'static [&'static str] {
        (**self).operations()
    }
    fn is_idempotent(&self, request: &InvokeRequest) -> bool {
        (**self).is_idempotent(request)
    }
    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        (**self).invoke(request)
    }
}
