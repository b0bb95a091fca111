//! Abandons an attempt that takes too long.

use std::time::Duration;

use crate::output::error::InvokeError;
use crate::output::{BoxFuture, InvokeRequest, InvokeResult, OutputBinding};

pub struct Timeout<B> {
    inner: B,
    limit: Duration,
}

impl<B> Timeout<B> {
    pub fn new(inner: B, limit: Duration) -> Self {
        Self { inner, limit }
    }

    /// The binding inside this layer.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }
}

impl<B: OutputBinding> OutputBinding for Timeout<B> {
    fn operations(&self) -> &'static [&'static str] {
        self.inner.operations()
    }

    fn is_idempotent(&self, request: &InvokeRequest) -> bool {
        self.inner.is_idempotent(request)
    }

    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(async move {
            match tokio::time::timeout(self.limit, self.inner.invoke(request)).await {
                Ok(result) => result,
                Err(_) => Err(InvokeError::timeout(self.limit)),
            }
        })
    }
}
