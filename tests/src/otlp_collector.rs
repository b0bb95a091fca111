//! An OpenTelemetry collector on loopback, as far as a trace test needs one:
//! it takes OTLP/HTTP exports (`POST /v1/traces`, protobuf) and keeps their
//! spans, flattened, decoded by the OTel project's own message types
//! (`opentelemetry-proto`), not by bindery's.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use prost::Message;

use crate::server::Server;

/// One span as exported, with its resource's attributes.
#[derive(Debug, Clone)]
pub struct CollectedSpan {
    pub name: String,
    /// Hex, as in a `traceparent`.
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    /// OTLP's `SpanKind` (2 server, 3 client).
    pub kind: i32,
    /// OTLP's `StatusCode` (0 unset, 1 ok, 2 error).
    pub status: i32,
    pub attributes: Vec<(String, String)>,
    pub resource: Vec<(String, String)>,
    /// The spans it links to: their trace ids and span ids, in hex.
    pub links: Vec<(String, String)>,
}

impl CollectedSpan {
    /// The span's attribute `key`, as a string.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Its resource's attribute `key`, as a string.
    pub fn resource_attribute(&self, key: &str) -> Option<&str> {
        self.resource.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Received {
    spans: Mutex<Vec<CollectedSpan>>,
}

impl Received {
    fn spans(&self) -> MutexGuard<'_, Vec<CollectedSpan>> {
        self.spans.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The collector; stops serving when dropped.
pub struct OtlpCollector {
    received: Arc<Received>,
    server: Server,
}

impl OtlpCollector {
    /// Starts the collector on 127.0.0.1 with an ephemeral port.
    pub async fn start() -> OtlpCollector {
        let received = Arc::new(Received::default());
        let router = Router::new().route("/v1/traces", post(export)).with_state(received.clone());
        let collector = OtlpCollector { received, server: Server::start(router).await };
        crate::loopback_only(&collector.endpoint());
        collector
    }

    /// `http://127.0.0.1:PORT`: `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The spans received so far.
    pub fn spans(&self) -> Vec<CollectedSpan> {
        self.received.spans().clone()
    }

    /// Waits up to `timeout` for `count` spans; what arrived, however many.
    pub async fn wait_for_spans(&self, count: usize, timeout: Duration) -> Vec<CollectedSpan> {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.spans().len() < count && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.spans()
    }
}

async fn export(State(received): State<Arc<Received>>, headers: HeaderMap, body: Bytes) -> (StatusCode, Vec<u8>) {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if content_type != Some("application/x-protobuf") {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, Vec::new());
    }
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return (StatusCode::BAD_REQUEST, Vec::new());
    };
    let mut spans = received.spans();
    for resource_spans in request.resource_spans {
        let resource: Vec<_> =
            resource_spans.resource.map(|r| r.attributes.iter().map(flat).collect()).unwrap_or_default();
        for span in resource_spans.scope_spans.into_iter().flat_map(|scope| scope.spans) {
            spans.push(CollectedSpan {
                name: span.name,
                trace_id: hex::encode(span.trace_id),
                span_id: hex::encode(span.span_id),
                parent_span_id: hex::encode(span.parent_span_id),
                kind: span.kind,
                status: span.status.map_or(0, |s| s.code),
                attributes: span.attributes.iter().map(flat).collect(),
                resource: resource.clone(),
                links: span.links.iter().map(|l| (hex::encode(&l.trace_id), hex::encode(&l.span_id))).collect(),
            });
        }
    }
    (StatusCode::OK, ExportTraceServiceResponse::default().encode_to_vec())
}

/// An attribute as two strings.
fn flat(attribute: &KeyValue) -> (String, String) {
    let value = match attribute.value.as_ref().and_then(|AnyValue { value }| value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    };
    (attribute.key.clone(), value)
}
