//! The outgoing request: Dapr's method and body rules, and its headers in
//! Dapr's order, so that later ones override earlier ones: the component's
//! fixed headers (Basic auth from the URL, the security token), then the
//! capitalised request metadata, then the trace headers (else, with traces
//! exported, the call's own span), then the defaults where nothing set
//! `Accept` or `Content-Type`.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::Full;

use crate::output::InvokeRequest;
use crate::output::error::InvokeError;
use crate::telemetry;

/// Dapr's default for both `Accept` and, with a body, `Content-Type`.
pub(crate) const JSON: &str = "application/json; charset=utf-8";

/// Request metadata forwarded as headers although lower-case, overriding any
/// capitalised spelling, as Dapr forces the caller's trace onto the request.
const TRACE_KEYS: [&str; 3] = ["traceparent", "tracestate", "baggage"];
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Headers the client owns. Go ignores the first four in `Request.Header`;
/// the others would let metadata break HTTP/1 framing or the pooled
/// connection. A `Host` header would pick another virtual host on the same
/// server, which the `path` rules exist to prevent.
const OWNED: [&str; 9] = [
    "host",
    "content-length",
    "transfer-encoding",
    "trailer",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "upgrade",
];

/// The method for one of Dapr's operations; `create` is POST.
pub(crate) fn method(operation: &str) -> Option<Method> {
    Some(match operation {
        "create" | "post" => Method::POST,
        "get" => Method::GET,
        "head" => Method::HEAD,
        "put" => Method::PUT,
        "patch" => Method::PATCH,
        "delete" => Method::DELETE,
        "options" => Method::OPTIONS,
        "trace" => Method::TRACE,
        _ => return None,
    })
}

/// The request for `invoke`; only PUT, POST and PATCH carry its data.
///
/// Errors name the metadata key, never its value.
pub(crate) fn build(
    invoke: &InvokeRequest,
    method: Method,
    uri: Uri,
    fixed: &[(HeaderName, HeaderValue)],
) -> Result<Request<Full<Bytes>>, InvokeError> {
    let with_body = matches!(method, Method::POST | Method::PUT | Method::PATCH);
    let mut request = Request::new(if with_body { Full::new(invoke.data.clone()) } else { Full::default() });
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    for (name, value) in fixed {
        headers.insert(name, value.clone());
    }
    // `char::is_uppercase`, as Go's `unicode.IsUpper`: a key such as `Été`
    // is meant as a header, and is refused as one rather than ignored.
    let capitalised = invoke.metadata.iter().filter(|(k, _)| k.starts_with(char::is_uppercase));
    let traced = invoke.metadata.iter().filter(|(k, v)| TRACE_KEYS.contains(&k.as_str()) && !v.is_empty());
    for (key, value) in capitalised.chain(traced) {
        let name = HeaderName::try_from(key.as_str())
            .map_err(|_| InvokeError::bad_request(format!("metadata {key:?} is not a valid header name")))?;
        if OWNED.contains(&name.as_str()) {
            tracing::debug!(header = %name, "metadata header ignored: the HTTP client sets it");
            continue;
        }
        // Go sends any byte but controls (so UTF-8 too); `HeaderValue::from_bytes` agrees.
        let value = HeaderValue::from_bytes(value.as_bytes())
            .map_err(|_| InvokeError::bad_request(format!("metadata {key:?} is not a valid header value")))?;
        headers.insert(name, value);
    }
    // No caller's trace in the metadata: the call's own span, if traced.
    if !headers.contains_key(TRACEPARENT)
        && let Some(traceparent) = telemetry::current_traceparent()
        && let Ok(value) = HeaderValue::from_str(&traceparent)
    {
        headers.insert(TRACEPARENT, value);
    }
    if !headers.contains_key(ACCEPT) {
        headers.insert(ACCEPT, HeaderValue::from_static(JSON));
    }
    if with_body && !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use http::header::{AUTHORIZATION, HOST};

    use super::*;
    use crate::output::error::ErrorKind;

    fn headers(metadata: &[(&str, &str)], fixed: &[(HeaderName, HeaderValue)]) -> http::HeaderMap {
        let mut invoke = InvokeRequest::new("post", "{}");
        for (k, v) in metadata {
            invoke = invoke.with_metadata(*k, *v);
        }
        build(&invoke, Method::POST, Uri::from_static("http://h/"), fixed).unwrap().headers().clone()
    }

    #[test]
    fn every_operation_has_its_method() {
        let methods: Vec<_> = super::super::OPERATIONS.iter().map(|op| method(op).unwrap()).collect();
        assert_eq!(methods, ["POST", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]);
        for op in ["GET", "connect", "list", ""] {
            assert_eq!(method(op), None, "{op}");
        }
    }

    #[test]
    fn later_headers_override_earlier_ones() {
        let fixed = [
            (AUTHORIZATION, HeaderValue::from_static("Basic dXNlcg==")),
            (HeaderName::from_static("x-api-key"), HeaderValue::from_static("token")),
        ];
        let h = headers(&[], &fixed);
        assert_eq!(
            [&h["authorization"], &h["x-api-key"], &h[ACCEPT], &h[CONTENT_TYPE]],
            ["Basic dXNlcg==", "token", JSON, JSON]
        );

        let h = headers(&[("Authorization", "Bearer b"), ("X-Api-Key", "mine"), ("Accept", "text/csv")], &fixed);
        assert_eq!([&h["authorization"], &h["x-api-key"], &h[ACCEPT]], ["Bearer b", "mine", "text/csv"]);
    }

    #[test]
    fn trace_headers_are_forced_and_lower_case_keys_are_not_headers() {
        let h = headers(&[("Traceparent", "mine"), ("traceparent", "00-abc-01"), ("baggage", ""), ("path", "/x")], &[]);
        assert_eq!(h["traceparent"], "00-abc-01");
        assert!(!h.contains_key("baggage") && !h.contains_key("path"));
    }

    #[test]
    fn client_owned_headers_are_ignored_and_utf8_values_kept() {
        let h = headers(&[("Host", "evil.example.com"), ("Content-Length", "1"), ("X-Name", "José")], &[]);
        assert!(!h.contains_key(HOST) && !h.contains_key("content-length"));
        assert_eq!(h["x-name"].as_bytes(), "José".as_bytes());
    }

    #[test]
    fn bad_headers_are_bad_requests_that_do_not_repeat_the_value() {
        for (key, value) in [("X-Bad", "sekrit\n1"), ("Bad Name", "sekrit2"), ("Été", "sekrit3")] {
            let invoke = InvokeRequest::new("get", "").with_metadata(key, value);
            let error = build(&invoke, Method::GET, Uri::from_static("http://h/"), &[]).unwrap_err();
            assert_eq!(error.kind, ErrorKind::BadRequest, "{key}");
            assert!(error.message.contains(key) && !error.message.contains(value), "{error}");
        }
    }
}
