//! A [`BindingEvent`] becomes Dapr's input-binding request
//! (reference/dapr-bindings-contract.md §1.2): `POST /<route>`, the raw body,
//! `Content-Type: application/json`, each metadata item as a lower-cased
//! header without prefix, `dapr-api-token` and `traceparent`.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Request, Uri};
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

/// The metadata keys an SQS record always carries, with their header names
/// made once: `HeaderName::from_bytes` lower-cases and allocates a name on
/// every call, four times per record.
const SQS_KEYS: [(&str, HeaderName); 4] = [
    ("messageId", HeaderName::from_static("messageid")),
    ("approximateReceiveCount", HeaderName::from_static("approximatereceivecount")),
    ("sentTimestamp", HeaderName::from_static("senttimestamp")),
    ("messageGroupId", HeaderName::from_static("messagegroupid")),
];

/// Builds the request for `uri` (the app's URI for the route, see
/// [`App::uri_for`](super::App::uri_for)).
pub fn build_request(
    uri: &Uri,
    event: BindingEvent,
    api_token: Option<&HeaderValue>,
) -> Result<Request<Full<Bytes>>, DeliveryError> {
    let mut request = Request::new(Full::new(event.data));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri.clone();
    let headers = request.headers_mut();
    // Sized once: content type, token, traceparent and the metadata.
    *headers = http::HeaderMap::with_capacity(3 + event.metadata.len());
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
    if let Some((_, name)) = SQS_KEYS.iter().find(|(known, _)| *known == key) {
        return Ok(Some(name.clone()));
    }
    let starts = |prefix: &str| key.len() >= prefix.len() && key[..prefix.len()].eq_ignore_ascii_case(prefix);
    let ends = |suffix: &str| key.len() >= suffix.len() && key[key.len() - suffix.len()..].eq_ignore_ascii_case(suffix);
    if SKIPPED.iter().any(|s| key.eq_ignore_ascii_case(s)) || starts("proxy-") || ends("-bin") {
        return Ok(None);
    }
    let name = if let Some(rest) = key.strip_prefix(':') {
        HeaderName::from_bytes(format!("dapr-{rest}").as_bytes())
    } else if starts("grpc-") {
        HeaderName::from_bytes(format!("dapr-{key}").as_bytes())
    } else {
        // `from_bytes` lower-cases the name itself.
        HeaderName::from_bytes(key.as_bytes())
    };
    name.map(Some).map_err(|_| invalid(format!("metadata key {key:?} cannot be an HTTP header name")))
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
            metadata: metadata.iter().map(|(k, v)| (k.to_string().into(), v.to_string())).collect(),
            traceparent: Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01".into()),
        }
    }

    #[test]
    fn dapr_input_contract() {
        let token = HeaderValue::from_static("app-secret");
        let req = build_request(
            &Uri::from_static("/cron-binding"),
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
            &Uri::from_static("/b"),
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
        let req =
            build_request(&Uri::from_static("/b"), event(&[("x-tag", "a"), ("X-Tag", "b"), ("city", "Zürich")]), None)
                .unwrap();
        let tags: Vec<_> = req.headers().get_all("x-tag").iter().collect();
        assert_eq!(tags, ["a", "b"]);
        assert_eq!(req.headers()["city"].as_bytes(), "Zürich".as_bytes());
    }

    #[test]
    fn unrepresentable_metadata_is_an_error_not_a_panic() {
        let err =
            build_request(&Uri::from_static("/b"), event(&[("note", "line1\r\nInjected: yes")]), None).unwrap_err();
        assert_eq!(err.kind, DeliveryErrorKind::InvalidEvent);
        assert_eq!(err.message, "metadata \"note\" has a value that cannot be an HTTP header");
        let err = build_request(&Uri::from_static("/b"), event(&[("bad key", "v")]), None).unwrap_err();
        assert_eq!(err.message, "metadata key \"bad key\" cannot be an HTTP header name");
    }
}
