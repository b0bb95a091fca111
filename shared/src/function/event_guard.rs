//! A guard in front of lambda_http's request conversion, which panics on two
//! kinds of event the `apigw_request` fuzz target found. With
//! `panic = "abort"` either would end the function on outside input:
//!
//! - a `Host` header (or request-context domain name) that is not a URL
//!   host, such as `us%east-1.amazonaws.com` (lambda_http 1.3's
//!   `build_request_uri` unwraps `Url::parse`): the host is dropped before the
//!   conversion (bindery-webhook does not use it), and a path gets the
//!   leading `/` the conversion expects;
//! - (not a crash) a REST API event's repeated header would reach
//!   verification and the app with its last value only: every value is kept;
//! - (not a crash) an `X-Forwarded-Proto` that is not `http` or `https`
//!   would become the start of the URL lambda_http builds, and could set the
//!   request's path: it is dropped (lambda_http then says `https`);
//! - a body marked base64 that is not (aws_lambda_events 1.2's
//!   `Body::from_maybe_encoded` expects it): the invocation fails with
//!   `Bindery.InvalidEvent`, so the caller gets an error, not a guess.

use std::task::{Context, Poll};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::future::{Either, Ready, ready};
use http::HeaderMap;
use http::header::HOST;
use lambda_http::request::LambdaRequest;
use lambda_runtime::{Diagnostic, LambdaEvent};
use tower::Service;
use url::Url;

/// Makes `request` safe for lambda_http's conversion, or says why it cannot be.
pub(crate) fn guard(request: &mut LambdaRequest) -> Result<(), String> {
    let (body, base64) = match request {
        LambdaRequest::ApiGatewayV1(r) => {
            keep_repeated_headers(&r.multi_value_headers, &mut r.headers);
            let stage = r.request_context.stage.clone();
            fix(&mut r.headers, &mut r.request_context.domain_name, &mut r.path, stage.as_deref())?;
            (r.body.as_deref(), r.is_base64_encoded)
        }
        LambdaRequest::ApiGatewayV2(r) => {
            let stage = r.request_context.stage.clone();
            fix(&mut r.headers, &mut r.request_context.domain_name, &mut r.raw_path, stage.as_deref())?;
            // lambda_http appends the raw query string as it is.
            if let Some(query) = r.raw_query_string.as_deref().filter(|q| !q.is_empty())
                && !is_uri(&format!("/?{query}"))
            {
                return Err("the request's query string is not a valid URI query".to_owned());
            }
            (r.body.as_deref(), r.is_base64_encoded)
        }
        _ => (None, false),
    };
    match body {
        Some(body) if base64 && STANDARD.decode(body).is_err() => {
            Err("the request's body is marked base64-encoded but is not valid base64".to_owned())
        }
        _ => Ok(()),
    }
}

/// lambda_http lays a REST API event's `headers` (the last value of each
/// header) over its `multiValueHeaders`, which hides all but the last value
/// of a repeated header: a signature header sent twice, once forged, would
/// look sent once. Dropping such names from `headers` keeps every value, so
/// verification sees the repetition (and refuses it, as for HTTP APIs and
/// `bindery run`), and the app gets what was sent.
fn keep_repeated_headers(multi: &HeaderMap, single: &mut HeaderMap) {
    for name in multi.keys() {
        if multi.get_all(name).iter().nth(1).is_some() {
            single.remove(name);
        }
    }
}

/// The header lambda_http takes the request URL's scheme from.
const FORWARDED_PROTO: &str = "x-forwarded-proto";

fn is_uri(text: &str) -> bool {
    text.parse::<http::Uri>().is_ok()
}

/// Keeps the host only if the URL lambda_http builds from it, the scheme and
/// the path is a valid URI; without a host it builds one from the path alone.
fn fix(
    headers: &mut HeaderMap,
    domain: &mut Option<String>,
    path: &mut Option<String>,
    stage: Option<&str>,
) -> Result<(), String> {
    if let Some(path) = path.as_mut().filter(|p| !p.is_empty() && !p.starts_with('/')) {
        path.insert(0, '/');
    }
    let full_path = with_stage(stage, path.as_deref().unwrap_or_default());
    // lambda_http puts it before `://` as it is: any other text could bring
    // a host and path of its own, which the request's path would become.
    let proto = headers.get(FORWARDED_PROTO).map(|v| v.as_bytes());
    if proto.is_some_and(|p| !p.eq_ignore_ascii_case(b"https") && !p.eq_ignore_ascii_case(b"http")) {
        headers.remove(FORWARDED_PROTO);
    }
    let scheme = headers.get(FORWARDED_PROTO).and_then(|v| v.to_str().ok()).unwrap_or("https");
    if let Some(host) = headers.get(HOST).and_then(|v| v.to_str().ok()).or(domain.as_deref()) {
        let with_host = Url::parse(&format!("{scheme}://{host}{full_path}"));
        if !with_host.is_ok_and(|url| is_uri(url.as_str())) {
            headers.remove(HOST);
            *domain = None;
        }
    }
    if headers.get(HOST).is_none() && domain.is_none() {
        let relative = Url::parse(&format!("http://localhost{full_path}"));
        if !relative.is_ok_and(|url| is_uri(url.path())) {
            return Err("the request's path is not a valid URI path".to_owned());
        }
    }
    Ok(())
}

/// lambda_http's `apigw_path_with_stage`: the path as it builds the URL.
fn with_stage(stage: Option<&str>, path: &str) -> String {
    match stage {
        _ if std::env::var_os("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_some() => path.to_owned(),
        None | Some("$default") => path.to_owned(),
        Some(stage) if path.starts_with(&format!("/{stage}/")) => path.to_owned(),
        Some(stage) => format!("/{stage}{path}"),
    }
}

/// The service in front of lambda_http's adapter.
pub(crate) struct EventGuard<S>(pub(crate) S);

impl<S> Service<LambdaEvent<LambdaRequest>> for EventGuard<S>
where
    S: Service<LambdaEvent<LambdaRequest>, Error = Diagnostic>,
{
    type Response = S::Response;
    type Error = Diagnostic;
    type Future = Either<S::Future, Ready<Result<S::Response, Diagnostic>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut event: LambdaEvent<LambdaRequest>) -> Self::Future {
        match guard(&mut event.payload) {
            Ok(()) => Either::Left(self.0.call(event)),
            Err(message) => Either::Right(ready(Err(Diagnostic {
                error_type: "Bindery.InvalidEvent".to_owned(),
                error_message: message,
            }))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fuzzer's crash, reduced: a REST API event whose Host has a `%`.
    fn rest_event(host: &str, proto: &str) -> LambdaRequest {
        let event = serde_json::json!({
            "resource": "/hook", "path": "/hook", "httpMethod": "POST",
            "headers": {"Host": host, "X-Forwarded-Proto": proto},
            "multiValueHeaders": {"Host": [host], "X-Forwarded-Proto": [proto]},
            "requestContext": {"httpMethod": "POST", "stage": "Prod", "domainName": host, "requestId": "r"},
            "body": "{}", "isBase64Encoded": false
        });
        serde_json::from_value(event).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_value_of_a_repeated_rest_api_header_is_kept() {
        let event = serde_json::json!({
            "resource": "/hook", "path": "/hook", "httpMethod": "POST",
            "headers": {"X-Hub-Signature-256": "sha256=good", "Accept": "*/*"},
            "multiValueHeaders": {"X-Hub-Signature-256": ["sha256=forged", "sha256=good"], "Accept": ["*/*"]},
            "requestContext": {"httpMethod": "POST", "stage": "Prod", "requestId": "r"},
            "body": "{}", "isBase64Encoded": false
        });
        let mut request: LambdaRequest = serde_json::from_value(event).unwrap_or_else(|e| panic!("{e}"));
        guard(&mut request).unwrap_or_else(|e| panic!("{e}"));
        let converted: lambda_http::Request = request.into();
        let values: Vec<_> = converted.headers().get_all("x-hub-signature-256").iter().collect();
        assert_eq!(values, ["sha256=forged", "sha256=good"]);
        assert_eq!(converted.headers().get_all("accept").iter().count(), 1);
    }

    #[test]
    fn a_host_lambda_http_cannot_parse_is_dropped_and_the_request_converts() {
        for (host, proto) in
            [("1234567890.execute-api.us%east-1.amazonaws.com", "https"), ("[::1", "https"), ("example.com", "1ht tp")]
        {
            let mut request = rest_event(host, proto);
            guard(&mut request).unwrap_or_else(|e| panic!("{e}"));
            let converted: lambda_http::Request = request.into();
            assert_eq!(converted.uri().path(), "/Prod/hook", "{host}");
        }
    }

    /// lambda_http builds the request URL as `{x-forwarded-proto}://{host}{path}`:
    /// a "scheme" that holds a URL of its own made the path (the `path`
    /// metadata the app reads) whatever it said, while the body verified.
    #[test]
    fn a_forwarded_proto_that_is_not_a_scheme_cannot_change_the_path() {
        for proto in ["https://evil.example/admin?", "http://x/y#", "javascript:alert(1)//", "https:"] {
            let mut request = rest_event("abc.execute-api.us-east-1.amazonaws.com", proto);
            guard(&mut request).unwrap_or_else(|e| panic!("{e}"));
            let converted: lambda_http::Request = request.into();
            assert_eq!(converted.uri().path(), "/Prod/hook", "{proto}");
            assert_eq!(converted.uri().query(), None, "{proto}");
        }
    }

    #[test]
    fn a_body_marked_base64_that_is_not_is_an_invalid_event() {
        let mut request = rest_event("abc.execute-api.us-east-1.amazonaws.com", "https");
        if let LambdaRequest::ApiGatewayV1(r) = &mut request {
            r.body = Some("not=base64!".to_owned());
            r.is_base64_encoded = true;
        }
        let error = guard(&mut request).unwrap_err();
        assert!(error.contains("not valid base64"), "{error}");
    }

    #[test]
    fn a_good_host_is_kept() {
        let mut request = rest_event("abc.execute-api.us-east-1.amazonaws.com", "https");
        guard(&mut request).unwrap_or_else(|e| panic!("{e}"));
        let converted: lambda_http::Request = request.into();
        assert_eq!(converted.uri().host(), Some("abc.execute-api.us-east-1.amazonaws.com"));
    }
}
