//! One tracing span per call, one line with its outcome, and its count and
//! latency in the metrics. Neither data nor metadata values are recorded:
//! they may hold message bodies or secrets.

use std::time::Instant;

use tracing::{Instrument, debug, info_span, warn};

use crate::output::{BoxFuture, InvokeRequest, InvokeResult, OutputBinding};
use crate::telemetry::metrics;

pub struct Traced<B> {
    inner: B,
    name: String,
    type_: String,
}

impl<B> Traced<B> {
    pub fn new(inner: B, name: &str, type_: &str) -> Self {
        Self { inner, name: name.to_owned(), type_: type_.to_owned() }
    }

    /// The binding inside this layer.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }
}

impl<B: OutputBinding> OutputBinding for Traced<B> {
    fn operations(&self) -> &'static [&'static str] {
        self.inner.operations()
    }

    fn is_idempotent(&self, request: &InvokeRequest) -> bool {
        self.inner.is_idempotent(request)
    }

    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        let span =
            info_span!("output_binding", binding = %self.name, r#type = %self.type_, operation = %request.operation);
        let bytes = request.data.len();
        let operation = request.operation.clone();
        Box::pin(
            async move {
                let started = Instant::now();
                let result = self.inner.invoke(request).await;
                let elapsed = started.elapsed();
                metrics::output_call(&self.name, &operation, result.is_ok(), elapsed);
                let micros = elapsed.as_micros() as u64;
                match &result {
                    Ok(_) => debug!(bytes, micros, "invoked"),
                    Err(e) => warn!(kind = ?e.kind, error = %e.message, micros, "invocation failed"),
                }
                result
            }
            .instrument(span),
        )
    }
}
