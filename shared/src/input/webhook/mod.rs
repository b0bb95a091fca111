//! API Gateway (REST v1, HTTP API v2) and Function URL requests become the
//! webhook binding's event, once their proof of origin is verified.
//!
//! [`super::apigw`] reads the three event shapes into a [`WebhookRequest`]
//! (and decodes base64 bodies); this module only decides what the app sees.

use bytes::Bytes;
use http::HeaderName;

use super::BindingEvent;
use crate::telemetry::trace_context::valid_traceparent;

mod request;
pub mod verify;

pub use request::WebhookRequest;
pub use verify::{Rejection, WebhookAuth};

/// Request headers never passed to the app: hop-by-hop ones, the body's
/// framing (the app's `Content-Type` is Dapr's fixed one), and credentials.
const WITHHELD: &[&str] = &[
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "authorization",
    "cookie",
    "x-api-key",
    "traceparent",
    "tracestate",
];

/// Metadata keys bindery sets itself: a caller's headers of the same names
/// are dropped, so the app can trust them.
const OWN_KEYS: &[&str] = &["method", "path", "query", "sourceip", "requestid"];

/// The event for one verified webhook request.
///
/// Metadata: the request's headers (lower-cased, less [`WITHHELD`] and the
/// scheme's `credential_headers`), then `method`, `path`, `query`,
/// `sourceIp`, `requestId`. `invocation_trace` is the invocation's
/// `traceparent`, used when the caller sent none.
pub fn webhook_event(
    request: &WebhookRequest,
    body: Bytes,
    credential_headers: &[HeaderName],
    invocation_trace: Option<&str>,
) -> BindingEvent {
    let mut metadata = Vec::with_capacity(request.headers.len() + 5);
    for (name, value) in &request.headers {
        let key = name.as_str();
        if WITHHELD.contains(&key)
            || OWN_KEYS.contains(&key)
            || key.starts_with("proxy-")
            || credential_headers.contains(name)
        {
            continue;
        }
        metadata.push((key.to_owned().into(), String::from_utf8_lossy(value.as_bytes()).into_owned()));
    }
    metadata.push(("method".into(), request.method.as_str().to_owned()));
    metadata.push(("path".into(), request.path.clone()));
    if let Some(query) = request.query.as_ref().filter(|q| !q.is_empty()) {
        metadata.push(("query".into(), query.clone()));
    }
    if let Some(ip) = &request.source_ip {
        metadata.push(("sourceIp".into(), ip.clone()));
    }
    if let Some(id) = &request.request_id {
        metadata.push(("requestId".into(), id.clone()));
    }
    let traceparent = request
        .headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_traceparent(v))
        .map(str::to_owned)
        .or_else(|| invocation_trace.map(str::to_owned));
    BindingEvent { data: body, metadata, traceparent }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str) -> (WebhookRequest, Bytes) {
        let event = std::fs::read(format!("{}/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let request = crate::input::apigw::read_request(&Bytes::from(event)).unwrap();
        (request.head, request.body)
    }

    #[test]
    fn http_api_v2_with_base64_body() {
        let (request, body) = request("apigw-v2-http-api.json");
        let event = webhook_event(&request, body, &[], None);
        assert_eq!(&event.data[..], b"Hello, World!");
        assert_eq!(event.metadata("x-github-event"), Some("push"));
        assert_eq!(event.metadata("method"), Some("POST"));
        assert_eq!(event.metadata("path"), Some("/github-webhook"));
        assert_eq!(event.metadata("query"), Some("delivery=1&retry=false"));
        assert_eq!(event.metadata("sourceIp"), Some("192.30.252.44"));
        assert_eq!(event.metadata("requestId"), Some("JKJaXmPLvHcESHA="));
        assert_eq!(event.metadata("cookie"), None);
        assert_eq!(event.metadata("host"), None);
    }

    #[test]
    fn rest_api_v1() {
        let (request, body) = request("apigw-v1-rest-api.json");
        let event = webhook_event(&request, body, &[], None);
        assert_eq!(&event.data[..], b"Hello, World!");
        assert_eq!(event.metadata("x-hub-signature-256").map(|s| &s[..7]), Some("sha256="));
        assert_eq!(event.metadata("sourceIp"), Some("192.30.252.44"));
        assert_eq!(event.metadata("requestId"), Some("77375676-xmpl-4b79-853a-f982474efe18"));
        assert_eq!(event.metadata("query"), Some("delivery=1"));
    }

    #[test]
    fn function_url() {
        let (request, body) = request("function-url.json");
        let event = webhook_event(&request, body, &[], Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"));
        assert_eq!(&event.data[..], br#"{"id":"evt_test_webhook","object":"event"}"#);
        assert!(event.metadata("stripe-signature").is_some());
        assert_eq!(event.metadata("sourceIp"), Some("3.18.12.63"));
        assert_eq!(event.metadata("query"), None);
        assert_eq!(event.traceparent.as_deref(), Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"));
    }

    #[test]
    fn credentials_are_withheld() {
        let (mut request, body) = request("function-url.json");
        request.headers.insert("authorization", "Bearer t0ken".parse().unwrap());
        request.headers.insert("x-webhook-token", "t0ken".parse().unwrap());
        let event = webhook_event(&request, body, &[HeaderName::from_static("x-webhook-token")], None);
        assert!(event.metadata.iter().all(|(_, v)| !v.contains("t0ken")));
    }

    #[test]
    fn callers_cannot_forge_bindery_metadata() {
        let (mut request, body) = request("apigw-v2-http-api.json");
        for name in ["sourceip", "requestid", "method", "path", "query"] {
            request.headers.insert(name, "forged".parse().unwrap());
        }
        let event = webhook_event(&request, body, &[], None);
        assert!(event.metadata.iter().all(|(_, v)| v != "forged"), "{:?}", event.metadata);
        assert_eq!(event.metadata("sourceIp"), Some("192.30.252.44"));
    }

    #[test]
    fn caller_traceparent_wins() {
        let (mut request, body) = request("function-url.json");
        request
            .headers
            .insert("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".parse().unwrap());
        let event = webhook_event(&request, body, &[], Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"));
        assert_eq!(event.traceparent.as_deref(), Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
    }
}
