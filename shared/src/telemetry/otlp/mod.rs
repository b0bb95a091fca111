//! Traces over OpenTelemetry's OTLP/HTTP (protobuf), opt-in twice: built
//! with the `otlp` feature, and asked for by the OTel environment.
//!
//! Exporting is on when `OTEL_TRACES_EXPORTER` is `otlp`, or when it is
//! unset and an endpoint is (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_ENDPOINT`); `OTEL_SDK_DISABLED=true` turns it off.
//! The exporter reads the rest of the OTel variables itself (headers,
//! compression); the sampler is the SDK's (`OTEL_TRACES_SAMPLER`, by default
//! parent-based: an X-Ray header with `Sampled=0` exports nothing).
//!
//! Lambda freezes a function between invocations, so nothing is exported
//! in the background: the spans an invocation ends are kept
//! ([`Collect`]) and sent once its answer is posted ([`export_finished`]),
//! before the function asks for its next event. One attempt each, within
//! the OTLP timeout: a collector that is down costs a warning, never the
//! invocation.

mod client;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter as _, SpanProcessor};
use tracing::{Level, Metadata, Span, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::registry::LookupSpan;

use crate::component::EnvLookup;

/// Spans kept for one export at most; more are dropped (and counted).
const MAX_FINISHED: usize = 2048;
/// The OTel default of `OTEL_EXPORTER_OTLP_TIMEOUT`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The exporter and the spans it has yet to send, once traces are on.
static EXPORTING: OnceLock<Exporting> = OnceLock::new();

struct Exporting {
    exporter: opentelemetry_otlp::SpanExporter,
    finished: Arc<Finished>,
    /// Kept so its processor lives: a provider dropped shuts it down.
    provider: SdkTracerProvider,
}

/// Whether the environment asks for traces over OTLP: `Ok(false)` when it
/// does not, `Err` naming the variable when it asks for what is not here.
fn wanted(env: EnvLookup<'_>) -> Result<bool, String> {
    if env("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return Ok(false);
    }
    let wanted = match env("OTEL_TRACES_EXPORTER") {
        Some(exporters) => {
            let exporters: Vec<&str> = exporters.split(',').map(str::trim).filter(|e| !e.is_empty()).collect();
            if let Some(other) = exporters.iter().find(|e| !matches!(**e, "otlp" | "none")) {
                return Err(format!("OTEL_TRACES_EXPORTER names {other:?}: bindery exports traces over otlp only"));
            }
            exporters.contains(&"otlp")
        }
        None => ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"]
            .iter()
            .any(|name| env(name).is_some_and(|v| !v.is_empty())),
    };
    if wanted {
        for name in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
            match env(name) {
                Some(protocol) if protocol != "http/protobuf" => {
                    return Err(format!("{name} is {protocol:?}: bindery exports traces as http/protobuf only"));
                }
                Some(_) => break,
                None => {}
            }
        }
    }
    Ok(wanted)
}

/// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`,
/// in milliseconds.
fn timeout(env: EnvLookup<'_>) -> Duration {
    ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"]
        .iter()
        .find_map(|name| env(name)?.trim().parse().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
}

/// The resource: the OTel environment's (`OTEL_SERVICE_NAME`,
/// `OTEL_RESOURCE_ATTRIBUTES`), with `service` as the service's name when
/// neither names it, and the function as Lambda describes it.
fn resource(env: EnvLookup<'_>, service: &str) -> Resource {
    let mut builder = Resource::builder();
    let named = env("OTEL_SERVICE_NAME").is_some_and(|v| !v.is_empty())
        || env("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|v| v.contains("service.name="));
    if !named {
        builder = builder.with_service_name(service.to_owned());
    }
    let mut attributes = vec![KeyValue::new("cloud.provider", "aws"), KeyValue::new("cloud.platform", "aws_lambda")];
    for (key, name) in [
        ("cloud.region", "AWS_REGION"),
        ("faas.name", "AWS_LAMBDA_FUNCTION_NAME"),
        ("faas.version", "AWS_LAMBDA_FUNCTION_VERSION"),
    ] {
        if let Some(value) = env(name) {
            attributes.push(KeyValue::new(key, value));
        }
    }
    builder.with_attributes(attributes).build()
}

/// The layer that makes bindery's spans (and the in-process app's) OTel
/// spans, when the environment asks for traces; `None` when it does not,
/// an error when it asks for what cannot be done.
pub(super) fn layer<S>(env: EnvLookup<'_>, service: &str) -> Result<Option<impl Layer<S> + use<S>>, String>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if !wanted(env)? {
        return Ok(None);
    }
    let exporting = start(env, service)?;
    let tracer = exporting.provider.tracer("bindery");
    if EXPORTING.set(exporting).is_err() {
        // A second subscriber: the first one exports.
        return Ok(None);
    }
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_context_activation(false);
    // Spans at info and above; of the events, only warnings and errors, on
    // the span they happen in.
    Ok(Some(layer.with_filter(filter_fn(|meta: &Metadata<'_>| {
        *meta.level() <= if meta.is_span() { Level::INFO } else { Level::WARN }
    }))))
}

fn start(env: EnvLookup<'_>, service: &str) -> Result<Exporting, String> {
    let client = client::Client::new(timeout(env));
    let resource = resource(env, service);
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_http_client(client)
        .with_retry_policy(opentelemetry_otlp::RetryPolicy::disabled())
        .build()
        .map_err(|e| format!("the OTLP exporter: {e}"))?;
    exporter.set_resource(&resource);
    let finished = Arc::new(Finished::default());
    let provider =
        SdkTracerProvider::builder().with_span_processor(Collect(finished.clone())).with_resource(resource).build();
    Ok(Exporting { exporter, finished, provider })
}

/// Sends spans as they end, until dropped: for the extension, which has
/// no invocations of its own to export after. Never returns.
#[cfg(feature = "extension")]
pub(crate) async fn export_as_spans_end() {
    let Some(exporting) = EXPORTING.get() else { return std::future::pending().await };
    loop {
        exporting.finished.ended.notified().await;
        export_finished().await;
    }
}

/// Sends the spans ended since the last call, if traces are on. A failure is
/// a warning: the spans are dropped, the function goes on.
pub(crate) async fn export_finished() {
    let Some(exporting) = EXPORTING.get() else { return };
    let (spans, dropped) = exporting.finished.take();
    if dropped > 0 {
        tracing::warn!(dropped, "spans dropped: more ended in one invocation than are kept");
    }
    if spans.is_empty() {
        return;
    }
    let count = spans.len();
    if let Err(e) = exporting.exporter.export(spans).await {
        tracing::warn!(spans = count, error = %e, "spans not exported");
    }
}

/// `span`'s W3C `traceparent`, when traces are on and it has a context.
pub(crate) fn traceparent(span: &Span) -> Option<String> {
    EXPORTING.get()?;
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context.is_valid().then(|| {
        format!("00-{}-{}-{:02x}", span_context.trace_id(), span_context.span_id(), span_context.trace_flags().to_u8())
    })
}

/// Makes the span of `traceparent` (and `tracestate`) the parent of `span`,
/// which must not have been entered yet; nothing when traces are off.
pub(crate) fn set_parent(span: &Span, traceparent: &str, tracestate: Option<&str>) {
    if let Some(parent) = remote(traceparent, tracestate) {
        // Only fails for a span already started, or one no layer traces.
        let _ = span.set_parent(parent);
    }
}

/// Links `span` to the span of `traceparent`; nothing when traces are off.
pub(crate) fn add_link(span: &Span, traceparent: &str) {
    if let Some(linked) = remote(traceparent, None) {
        span.add_link(linked.span().span_context().clone());
    }
}

/// The remote span of `traceparent`, when traces are on and it is valid.
fn remote(traceparent: &str, tracestate: Option<&str>) -> Option<Context> {
    EXPORTING.get()?;
    let mut carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    if let Some(tracestate) = tracestate {
        carrier.insert("tracestate".to_owned(), tracestate.to_owned());
    }
    let remote = TraceContextPropagator::new().extract(&carrier);
    remote.span().span_context().is_valid().then_some(remote)
}

/// Sampled spans, as they end, until [`Finished::take`].
#[derive(Debug, Default)]
struct Finished {
    /// The spans, and how many more were dropped.
    kept: Mutex<(Vec<SpanData>, usize)>,
    /// Woken when a span is kept ([`export_as_spans_end`]).
    ended: tokio::sync::Notify,
}

impl Finished {
    fn push(&self, span: SpanData) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.0.len() < MAX_FINISHED {
            kept.0.push(span);
            self.ended.notify_one();
        } else {
            kept.1 += 1;
        }
    }

    fn take(&self) -> (Vec<SpanData>, usize) {
        std::mem::take(&mut *self.kept.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The span processor: keeps each sampled span for [`export_finished`].
#[derive(Debug)]
struct Collect(Arc<Finished>);

impl SpanProcessor for Collect {
    fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &Context) {}

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.0.push(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn traces_are_exported_when_the_otel_environment_asks() {
        let wanted_by = |vars: &[(&str, &str)]| wanted(&lookup(vars));
        assert_eq!(wanted_by(&[]), Ok(false), "opt-in");
        assert_eq!(wanted_by(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")]), Ok(true));
        assert_eq!(wanted_by(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c/v1/traces")]), Ok(true));
        assert_eq!(wanted_by(&[("OTEL_TRACES_EXPORTER", "otlp")]), Ok(true), "to the default endpoint");
        let none = [("OTEL_TRACES_EXPORTER", "none"), ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")];
        assert_eq!(wanted_by(&none), Ok(false));
        let disabled = [("OTEL_SDK_DISABLED", "TRUE"), ("OTEL_TRACES_EXPORTER", "otlp")];
        assert_eq!(wanted_by(&disabled), Ok(false));
    }

    #[test]
    fn what_cannot_be_exported_is_an_error_naming_the_variable() {
        let zipkin = wanted(&lookup(&[("OTEL_TRACES_EXPORTER", "otlp,zipkin")])).unwrap_err();
        assert!(zipkin.contains("OTEL_TRACES_EXPORTER") && zipkin.contains("zipkin"), "{zipkin}");
        let grpc = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")];
        let grpc = wanted(&lookup(&grpc)).unwrap_err();
        assert!(grpc.contains("OTEL_EXPORTER_OTLP_PROTOCOL") && grpc.contains("grpc"), "{grpc}");
        // The signal's own variable comes first.
        let both = [
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ];
        assert_eq!(wanted(&lookup(&both)), Ok(true));
    }

    #[test]
    fn the_timeout_is_the_signal_s_then_the_general_one_in_milliseconds() {
        assert_eq!(timeout(&lookup(&[])), DEFAULT_TIMEOUT);
        assert_eq!(timeout(&lookup(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")])), Duration::from_millis(2500));
        let both = [("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "300"), ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")];
        assert_eq!(timeout(&lookup(&both)), Duration::from_millis(300));
    }

    #[test]
    fn the_service_is_bindery_s_unless_the_otel_environment_names_one() {
        let service_of = |vars: &[(&str, &str)]| {
            let resource = resource(&lookup(vars), "orders");
            resource.get(&opentelemetry::Key::new("service.name")).map(|v| v.to_string())
        };
        assert_eq!(service_of(&[]).as_deref(), Some("orders"));
        let resource = resource(&lookup(&[("AWS_LAMBDA_FUNCTION_NAME", "f"), ("AWS_REGION", "eu-west-1")]), "o");
        assert_eq!(resource.get(&opentelemetry::Key::new("faas.name")).map(|v| v.to_string()).as_deref(), Some("f"));
        assert_eq!(
            resource.get(&opentelemetry::Key::new("cloud.region")).map(|v| v.to_string()).as_deref(),
            Some("eu-west-1")
        );
    }

    #[test]
    fn only_sampled_spans_are_kept_and_at_most_so_many() {
        use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
        let span = |flags| SpanData {
            span_context: SpanContext::new(TraceId::from(1), SpanId::from(2), flags, false, TraceState::NONE),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Server,
            name: "invocation".into(),
            start_time: std::time::SystemTime::UNIX_EPOCH,
            end_time: std::time::SystemTime::UNIX_EPOCH,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: Default::default(),
            links: Default::default(),
            status: Status::Unset,
            instrumentation_scope: Default::default(),
        };
        let finished = Arc::new(Finished::default());
        let collect = Collect(finished.clone());
        collect.on_end(span(TraceFlags::NOT_SAMPLED));
        assert_eq!(finished.take().0.len(), 0, "not sampled: not exported");
        for _ in 0..MAX_FINISHED + 3 {
            collect.on_end(span(TraceFlags::SAMPLED));
        }
        let (kept, dropped) = finished.take();
        assert_eq!((kept.len(), dropped), (MAX_FINISHED, 3));
        assert_eq!((finished.take().0.len(), finished.take().1), (0, 0), "taken once");
    }
}
