//! A [`BindingEvent`] becomes Dapr's input-binding request
//! (reference/dapr-bindings-contract.md §1.2): `POST /<route>`, the raw body,
//! `Content-Type: application/json`, each metadata item as a lower-cased
//! header without prefix, `dapr-api-token` and `traceparent`.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Request};
use http_body_util::Full;

use super::error::{DeliveryError, DeliveryErrorKind};
use crate::input::BindingEvent;

pub(crate) const API_TOKEN_HEADER: &str = "dapr-api-token";
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Keys Dapr never turns into headers: the body's own framing, hop-by-hop
/// headers, and trace context (which travels as `traceparent` instead).
const SKIPPED: &[&str] = &[
    "content-type",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "http2-settings",
    "host",
    "destination-app-id",
    "traceparent",
    "tracestate",
    API_TOKEN_HEADER,
];

/// Builds the request for `route` (a path such as `/orders`).
pub fn build_request(
    route: &str,
    event: BindingEvent,
    api_token: Option<&HeaderValue>,
) -> Result<Request<Full<Bytes>>, DeliveryError> {
    let mut request = Request::new(Full::new(event.data));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = route.parse().map_err(|_| invalid(format!("route {route:?} is not a URL path")))?;
    let headers = request.headers_mut();
    headers.insert(CONTENT_TYPE, JSON);
    for (key, value) in event.metadata {
        let Some(name) = header_name(&key)? else { continue };
        let value = HeaderValue::from_maybe_shared(Bytes::from(value))
            .map_err(|_| invalid(format!("metadata {key:?} has a value that cannot be an HTTP header")))?;
        headers.append(name, value);
    }
    if let Some(token) = api_token {
        headers.insert(HeaderName::from_static(API_TOKEN_HEADER), token.clone());
    }
    if let Some(trace) = event.traceparent.and_then(|t| HeaderValue::try_from(t).ok()) {
        headers.insert(TRACEPARENT, trace);
    }
    Ok(request)
}

/// The header for a metadata key: lower-cased, `None` when Dapr skips it,
/// gRPC-reserved names renamed as daprd renames them.
fn header_name(key: &str) -> Result<Option<HeaderName>, DeliveryError> {
    let mut lower = key.to_ascii_lowercase();
    if SKIPPED.contains(&lower.as_str()) || lower.starts_with("proxy-") || lower.ends_with("-bin") {
        return Ok(None);
    }
    if let Some(rest) = lower.strip_prefix(':') {
        lower = format!("dapr-{rest}");
    } else if lower.starts_with("grpc-") {
        lower = format!("dapr-{lower}");
    }
    HeaderName::from_bytes(lower.as_bytes())
        .map(Some)
        .map_err(|_| invalid(format!("metadata key {key:?} cannot be an HTTP header name")))
}

fn invalid(message: String) -> DeliveryError {
    DeliveryError::new(DeliveryErrorKind::InvalidEvent, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(metadata: &[(&str, &str)]) -> BindingEvent {
        BindingEvent {
            data: Bytes::from_static(b"{\"a\":1}"),
            metadata: metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            traceparent: Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01".into()),
        }
    }

    #[test]
    fn dapr_input_contract() {
        let token = HeaderValue::from_static("app-secret");
        let req = build_request(
            "/cron-binding",
            event(&[("timeZone", "UTC"), ("readTimeUTC", "2026-08-21 20:12:09 +0000 UTC"), ("attr-Tenant", "acme")]),
            Some(&token),
        )
        .unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri(), "/cron-binding");
        let h = req.headers();
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["timezone"], "UTC");
        assert_eq!(h["readtimeutc"], "2026-08-21 20:12:09 +0000 UTC");
        assert_eq!(h["attr-tenant"], "acme");
        assert_eq!(h["dapr-api-token"], "app-secret");
        assert_eq!(h["traceparent"], "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01");
        assert_eq!(h.len(), 6);
    }

    #[test]
    fn skipped_and_renamed_keys() {
        let req = build_request(
            "/b",
            event(&[
                ("Content-Type", "text/plain"),
                ("content-length", "9"),
                ("Connection", "close"),
                ("Proxy-Authorization", "x"),
                ("trace-bin", "x"),
                ("tracestate", "x"),
                ("dapr-api-token", "forged"),
                ("grpc-timeout", "1S"),
                ("baggage", "k=v"),
            ]),
            None,
        )
        .unwrap();
        let h = req.headers();
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["dapr-grpc-timeout"], "1S");
        assert_eq!(h["baggage"], "k=v");
        assert!(h.get("dapr-api-token").is_none() && h.get("connection").is_none() && h.get("tracestate").is_none());
        assert_eq!(h.len(), 4);
    }

    #[test]
    fn repeated_keys_and_utf8_values_survive() {
        let req = build_request("/b", event(&[("x-tag", "a"), ("X-Tag", "b"), ("city", "Zürich")]), None).unwrap();
        let tags: Vec<_> = req.headers().get_all("x-tag").iter().collect();
        assert_eq!(tags, ["a", "b"]);
        assert_eq!(req.headers()["city"].as_bytes(), "Zürich".as_bytes());
    }

    #[test]
    fn unrepresentable_metadata_is_an_error_not_a_panic() {
        let err = build_request("/b", event(&[("note", "line1\r\nInjected: yes")]), None).unwrap_err();
        assert_eq!(err.kind, DeliveryErrorKind::InvalidEvent);
        assert_eq!(err.message, "metadata \"note\" has a value that cannot be an HTTP header");
        let err = build_request("/b", event(&[("bad key", "v")]), None).unwrap_err();
        assert_eq!(err.message, "metadata key \"bad key\" cannot be an HTTP header name");
    }
}
