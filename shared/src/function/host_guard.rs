//! A guard in front of lambda_http's request conversion, which panics on a
//! `Host` header (or request-context domain name) that is not a URL host,
//! such as `us%east-1.amazonaws.com`: lambda_http 1.3's `build_request_uri`
//! unwraps `Url::parse`. The `apigw_request` fuzz target found it. With
//! `panic = "abort"` that would end the function on outside input, so such a
//! host is dropped before the conversion (bindery-webhook does not use it),
//! and a path gets the leading `/` the conversion expects.

use std::task::{Context, Poll};

use http::HeaderMap;
use http::header::HOST;
use lambda_http::request::LambdaRequest;
use lambda_runtime::LambdaEvent;
use tower::Service;
use url::Url;

/// Makes `request` safe for lambda_http's conversion.
pub(crate) fn guard(request: &mut LambdaRequest) {
    match request {
        LambdaRequest::ApiGatewayV1(r) => fix(&mut r.headers, &mut r.request_context.domain_name, &mut r.path),
        LambdaRequest::ApiGatewayV2(r) => fix(&mut r.headers, &mut r.request_context.domain_name, &mut r.raw_path),
        _ => {}
    }
}

fn fix(headers: &mut HeaderMap, domain: &mut Option<String>, path: &mut Option<String>) {
    if let Some(path) = path.as_mut().filter(|p| !p.is_empty() && !p.starts_with('/')) {
        path.insert(0, '/');
    }
    // The host and scheme lambda_http would use; the path, which starts
    // with `/`, cannot make the URL fail to parse.
    let scheme = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).unwrap_or("https");
    let Some(host) = headers.get(HOST).and_then(|v| v.to_str().ok()).or(domain.as_deref()) else { return };
    if Url::parse(&format!("{scheme}://{host}/")).is_err() {
        headers.remove(HOST);
        *domain = None;
    }
}

/// The service in front of lambda_http's adapter.
pub(crate) struct HostGuard<S>(pub(crate) S);

impl<S> Service<LambdaEvent<LambdaRequest>> for HostGuard<S>
where
    S: Service<LambdaEvent<LambdaRequest>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut event: LambdaEvent<LambdaRequest>) -> Self::Future {
        guard(&mut event.payload);
        self.0.call(event)
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
    fn a_host_lambda_http_cannot_parse_is_dropped_and_the_request_converts() {
        for (host, proto) in
            [("1234567890.execute-api.us%east-1.amazonaws.com", "https"), ("[::1", "https"), ("example.com", "1ht tp")]
        {
            let mut request = rest_event(host, proto);
            guard(&mut request);
            let converted: lambda_http::Request = request.into();
            assert_eq!(converted.uri().path(), "/Prod/hook", "{host}");
        }
    }

    #[test]
    fn a_good_host_is_kept() {
        let mut request = rest_event("abc.execute-api.us-east-1.amazonaws.com", "https");
        guard(&mut request);
        let converted: lambda_http::Request = request.into();
        assert_eq!(converted.uri().host(), Some("abc.execute-api.us-east-1.amazonaws.com"));
    }
}
