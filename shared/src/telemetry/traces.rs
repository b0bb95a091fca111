//! The traces' side of a function, the same whether or not it is built
//! with `otlp`: without it (or without the OTel environment) spans have no
//! trace context, and the `traceparent` an app receives is X-Ray's.

use tracing::Span;

#[cfg(feature = "otlp")]
use super::otlp;
use super::trace_context::traceparent_from_xray;

/// Marks `span` (an invocation's or an output call's) failed in its trace.
pub(crate) fn span_failed(span: &Span) {
    span.record("otel.status_code", "error");
}

/// The `traceparent` an invocation passes on to the app: its own span's when
/// traces are exported, else the X-Ray header's, converted. Called inside
/// the invocation's span.
pub(crate) fn invocation_traceparent(xray_trace_id: Option<&str>) -> Option<String> {
    current_traceparent().or_else(|| xray_trace_id.and_then(traceparent_from_xray))
}

/// The current span's `traceparent`, when traces are exported. Without the
/// feature the current span is not even looked up (an HTTP call's path).
pub(crate) fn current_traceparent() -> Option<String> {
    #[cfg(feature = "otlp")]
    return otlp::traceparent(&Span::current());
    #[cfg(not(feature = "otlp"))]
    None
}

/// `span`'s `traceparent`, when traces are exported.
#[cfg_attr(not(feature = "otlp"), allow(unused_variables))]
pub(crate) fn traceparent_of(span: &Span) -> Option<String> {
    #[cfg(feature = "otlp")]
    return otlp::traceparent(span);
    #[cfg(not(feature = "otlp"))]
    None
}

/// Makes the span of `traceparent` the parent of `span`, not yet entered,
/// when traces are exported.
#[cfg_attr(not(feature = "otlp"), allow(unused_variables))]
pub(crate) fn continue_trace(span: &Span, traceparent: &str, tracestate: Option<&str>) {
    #[cfg(feature = "otlp")]
    otlp::set_parent(span, traceparent, tracestate);
}

/// Makes the X-Ray segment of `xray_trace_id` the parent of `span`, not
/// yet entered, when traces are exported.
#[cfg_attr(not(feature = "otlp"), allow(unused_variables))]
pub(super) fn continue_xray_trace(span: &Span, xray_trace_id: Option<&str>) {
    #[cfg(feature = "otlp")]
    if let Some(parent) = xray_trace_id.and_then(traceparent_from_xray) {
        otlp::set_parent(span, &parent, None);
    }
}

/// Links `span` to the span of `traceparent` (a message's trace, say),
/// when traces are exported.
#[cfg_attr(not(feature = "otlp"), allow(unused_variables))]
pub(crate) fn link_trace(span: &Span, traceparent: &str) {
    #[cfg(feature = "otlp")]
    otlp::add_link(span, traceparent);
}

/// Sends the spans the last invocation ended, when traces are exported:
/// after its answer, before the next event.
pub(crate) async fn export_traces() {
    #[cfg(feature = "otlp")]
    otlp::export_finished().await;
}

/// Sends spans as they end, when traces are exported; never returns. For
/// the extension, whose calls come between invocations it does not see.
#[cfg(feature = "extension")]
pub(crate) async fn export_traces_as_they_end() {
    #[cfg(feature = "otlp")]
    otlp::export_as_spans_end().await;
    #[cfg(not(feature = "otlp"))]
    std::future::pending().await
}
