//! Retries with exponential backoff and full jitter, for the failures that
//! another attempt can fix: throttling always (the request was refused, not
//! performed), timeouts and transient failures only when the request is
//! idempotent. The AWS SDK clients have their own retries turned off, so this
//! is the only place a call is repeated.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tracing::debug;

use crate::output::{BoxFuture, InvokeRequest, InvokeResult, OutputBinding};

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub max_retries: u32,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 3, min_delay: Duration::from_millis(50), max_delay: Duration::from_secs(2) }
    }
}

impl RetryPolicy {
    fn backoff(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries as usize)
            .with_jitter()
            .build()
    }
}

pub struct Retry<B> {
    inner: B,
    policy: RetryPolicy,
}

impl<B> Retry<B> {
    pub fn new(inner: B, policy: RetryPolicy) -> Self {
        Self { inner, policy }
    }

    /// The binding inside this layer.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }
}

impl<B: OutputBinding> OutputBinding for Retry<B> {
    fn operations(&self) -> &'static [&'static str] {
        self.inner.operations()
    }

    fn is_idempotent(&self, request: &InvokeRequest) -> bool {
        self.inner.is_idempotent(request)
    }

    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(async move {
            let idempotent = self.inner.is_idempotent(&request);
            let mut delays = self.policy.backoff();
            let mut attempt = 1u32;
            loop {
                let error = match self.inner.invoke(request.clone()).await {
                    Ok(response) => return Ok(response),
                    Err(e) => e,
                };
                let delay = match delays.next() {
                    Some(delay) if error.is_retryable(idempotent) => delay,
                    _ => return Err(error),
                };
                debug!(attempt, kind = ?error.kind, ?delay, "retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
        })
    }
}
