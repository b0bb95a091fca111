//! One tracing span per call, one line with its outcome, and its count and
//! latency in the metrics. Neither data nor metadata values are recorded:
//! they may hold message bodies or secrets.
//!
//! With traces exported, the call's span continues the caller's trace: the
//! `traceparent` in its metadata (an app's, through the Dapr API), else the
//! span it is made in (an in-process app's invocation). The metadata's
//! `traceparent` then becomes the call's own, and the HTTP binding sends
//! it on (its target's spans are children of the call).

use std::time::Instant;

use tracing::{Instrument, Span, debug, info_span, warn};

use crate::output::{BoxFuture, InvokeRequest, InvokeResult, OutputBinding};
use crate::telemetry::trace_context::valid_traceparent;
use crate::telemetry::{self, metrics};

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

    fn invoke(&self, mut request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        let span = info_span!(
            "output_binding",
            binding = %self.name,
            r#type = %self.type_,
            operation = %request.operation,
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
        );
        continue_callers_trace(&span, &mut request);
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
                    Err(e) => {
                        telemetry::span_failed(&Span::current());
                        warn!(kind = ?e.kind, error = %e.message, micros, "invocation failed");
                    }
                }
                result
            }
            .instrument(span),
        )
    }
}

/// Makes the caller's `traceparent` the parent of `span`, and `span`'s the
/// request's; nothing when traces are not exported.
fn continue_callers_trace(span: &Span, request: &mut InvokeRequest) {
    let Some(callers) = request.metadata.get("traceparent").filter(|v| valid_traceparent(v)) else { return };
    telemetry::continue_trace(span, callers, request.metadata.get("tracestate").map(String::as_str));
    if let Some(own) = telemetry::traceparent_of(span) {
        request.metadata.insert("traceparent".to_owned(), own);
    }
}
