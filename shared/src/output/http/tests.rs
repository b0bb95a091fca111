//! The HTTP binding against real servers on loopback: one that echoes what
//! it gets, and a raw TCP one for status lines axum would not write.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::response::Response;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::request::JSON;
use super::*;
use crate::output::InvokeResponse;
use crate::output::layer::{self, LayerSettings};

/// Echoes the request as JSON, or answers `/status/<code>`, `/big/<bytes>`, `/slow`.
async fn echo(request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    if let Some(code) = path.strip_prefix("/status/") {
        let code: u16 = code.parse().unwrap();
        return Response::builder()
            .status(code)
            .header("x-reason", "because")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .body(Body::from(format!("body of {code}")))
            .unwrap();
    }
    if let Some(size) = path.strip_prefix("/big/") {
        return Response::new(Body::from(vec![b'z'; size.parse().unwrap()]));
    }
    if path == "/slow" {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let headers: BTreeMap<String, String> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    let echoed = json!({
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    });
    Response::builder().header("content-type", "application/json").body(Body::from(echoed.to_string())).unwrap()
}

async fn server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, Router::new().fallback(echo)).await });
    url
}

pub(super) fn binding(url: &str, extra: &[(&str, &str)]) -> HttpBinding {
    let mut pairs = vec![("url", url)];
    pairs.extend_from_slice(extra);
    HttpBinding::from_metadata(&Metadata::from_pairs(pairs)).unwrap()
}

pub(super) fn request(operation: &str, data: &str, metadata: &[(&str, &str)]) -> InvokeRequest {
    let mut request = InvokeRequest::new(operation, data.to_owned());
    for (k, v) in metadata {
        request = request.with_metadata(*k, *v);
    }
    request
}

async fn echoed(binding: &HttpBinding, request: InvokeRequest) -> Value {
    let response = binding.invoke(request).await.unwrap().unwrap();
    serde_json::from_slice(&response.data).unwrap()
}

#[tokio::test]
async fn every_operation_with_dapr_method_and_body_rules() {
    let url = server().await;
    let b = binding(&format!("{url}/api"), &[]);
    for operation in OPERATIONS {
        let response = b.invoke(request(operation, r#"{"a":1}"#, &[])).await.unwrap().unwrap();
        assert_eq!(response.metadata["statusCode"], "200", "{operation}");
        if *operation == "head" {
            assert!(response.data.is_empty());
            continue;
        }
        let got: Value = serde_json::from_slice(&response.data).unwrap();
        let method = if *operation == "create" { "POST".to_owned() } else { operation.to_ascii_uppercase() };
        assert_eq!(got["method"], method);
        assert_eq!(got["uri"], "/api", "without a path, the URL as it is");
        let with_body = matches!(*operation, "create" | "post" | "put" | "patch");
        assert_eq!(got["body"], if with_body { r#"{"a":1}"# } else { "" }, "{operation}");
        assert_eq!(got["headers"].get("content-type").is_some(), with_body, "{operation}");
    }
    let idempotent: Vec<_> = OPERATIONS.iter().filter(|op| b.is_idempotent(&request(op, "", &[]))).collect();
    assert_eq!(idempotent, [&"get", &"head", &"put", &"delete", &"options", &"trace"]);
    let unknown = b.invoke(request("connect", "", &[])).await.unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::UnsupportedOperation);
}

#[tokio::test]
async fn path_query_and_headers() {
    let url = server().await;
    let b = binding(&url, &[("securityToken", "s3cr3t"), ("securityTokenHeader", "X-Api-Key")]);
    let metadata = [
        ("path", "/tasks/7?notify=true"),
        ("X-Custom", "yes"),
        ("lowercase", "not a header"),
        ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ("Host", "other.example.com"),
    ];
    let got = echoed(&b, request("post", "x", &metadata)).await;
    assert_eq!(got["uri"], "/tasks/7?notify=true");
    let headers = &got["headers"];
    assert_eq!(headers["x-custom"], "yes");
    assert_eq!(headers["x-api-key"], "s3cr3t");
    assert_eq!(headers["accept"], JSON);
    assert_eq!(headers["content-type"], JSON);
    assert_eq!(headers["traceparent"], "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assert_eq!(headers["host"], url.trim_start_matches("http://"), "Host is the client's");
    assert!(headers.get("lowercase").is_none());

    // Metadata overrides the defaults and the security token.
    let overrides = [("Content-Type", "text/plain"), ("Accept", "text/html"), ("X-Api-Key", "mine")];
    let got = echoed(&b, request("post", "x", &overrides)).await;
    assert_eq!(got["headers"]["content-type"], "text/plain");
    assert_eq!(got["headers"]["accept"], "text/html");
    assert_eq!(got["headers"]["x-api-key"], "mine");

    // A token without its header name is not sent, as in Dapr.
    let half = binding(&url, &[("securityToken", "s3cr3t")]);
    assert!(!echoed(&half, request("get", "", &[])).await["headers"].to_string().contains("s3cr3t"));

    let bad = b.invoke(request("get", "", &[("X-Bad", "line\nbreak")])).await.unwrap_err();
    assert_eq!(bad.kind, ErrorKind::BadRequest);
}

#[tokio::test]
async fn the_url_query_and_user_information_are_kept() {
    let url = server().await;
    let with_auth = url.replace("http://", "http://alice:pa%3Ass@");
    let b = binding(&format!("{with_auth}/fn?code=k"), &[]);
    let got = echoed(&b, request("get", "", &[])).await;
    assert_eq!(got["uri"], "/fn?code=k");
    assert_eq!(got["headers"]["authorization"], "Basic YWxpY2U6cGE6c3M=");
    let got = echoed(&b, request("get", "", &[("path", "run/alice@example.com?x=1 2")])).await;
    assert_eq!(got["uri"], "/fn/run/alice@example.com?code=k&x=1%202");
    let got = echoed(&b, request("get", "", &[("Authorization", "Bearer t")])).await;
    assert_eq!(got["headers"]["authorization"], "Bearer t");
}

#[tokio::test]
async fn escaping_paths_are_refused_before_anything_is_sent() {
    let url = server().await;
    let b = binding(&format!("{url}/base"), &[]);
    let normalised_to_dot_dot =
        ["...", "..%20/x", "..%00/x", "%c0%ae%c0%ae/x", "%25u002e%25u002e/x", "\u{ff0e}\u{ff0e}/x"];
    let spelled_out = ["../admin", "%2e%2e/admin", "http://evil.example.com/", "//evil.example.com", "a\\b", "..;/x"];
    for path in spelled_out.into_iter().chain(normalised_to_dot_dot) {
        let error = b.invoke(request("get", "", &[("path", path)])).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::BadRequest, "{path}");
        assert!(error.message.starts_with("metadata \"path\" "), "{error}");
        assert!(!error.message.contains(path), "the path is not repeated: {error}");
    }
}

#[tokio::test]
async fn user_information_in_the_path_is_refused_before_anything_is_sent() {
    // Nobody accepts on this listener: a connection would wait in its backlog.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let b = binding(&format!("http://{}", listener.local_addr().unwrap()), &[]);
    for path in ["@evil.com/x", "user:pw@evil.com", "/alice:s3cret@evil.com/x?y=1"] {
        let error = b.invoke(request("post", "{}", &[("path", path)])).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::BadRequest, "{path}");
        assert!(error.message.starts_with("metadata \"path\" has an '@' before its first '/'"), "{error}");
        assert!(!error.message.contains("evil.com") && !error.message.contains("s3cret"), "{error}");
    }
    let pending = listener.accept().map(|_| ()).unwrap_err();
    assert_eq!(pending.kind(), std::io::ErrorKind::WouldBlock, "no connection was made");

    let got = echoed(&binding(&server().await, &[]), request("get", "", &[("path", "users/@me")])).await;
    assert_eq!(got["uri"], "/users/@me");
}

#[tokio::test]
async fn non_2xx_keeps_the_response_or_passes_it_through() {
    let url = server().await;
    let b = binding(&url, &[]);
    let error = b.invoke(request("get", "", &[("path", "/status/404")])).await.unwrap_err();
    assert_eq!((error.kind, error.message.as_str()), (ErrorKind::Remote, "received status code 404"));
    let kept: &InvokeResponse = error.response.as_deref().unwrap();
    assert_eq!(kept.data, "body of 404");
    assert_eq!(kept.metadata["statusCode"], "404");
    assert_eq!(kept.metadata["status"], "404 Not Found");
    assert_eq!(kept.metadata["X-Reason"], "because");
    assert_eq!(kept.metadata["Set-Cookie"], "a=1, b=2");
    assert_eq!(kept.metadata["Content-Length"], "11");

    let throttled = b.invoke(request("get", "", &[("path", "/status/429")])).await.unwrap_err();
    assert_eq!(throttled.kind, ErrorKind::Throttled);
    for code in ["502", "503", "504"] {
        let unavailable = b.invoke(request("get", "", &[("path", &format!("/status/{code}"))])).await.unwrap_err();
        assert_eq!(unavailable.kind, ErrorKind::Transient, "{code}");
    }

    // Per request, and per component.
    let passed = b.invoke(request("get", "", &[("path", "/status/500"), ("errorIfNot2XX", "false")])).await.unwrap();
    assert_eq!(passed.unwrap().metadata["statusCode"], "500");
    let lenient = binding(&url, &[("errorIfNot2XX", "false")]);
    let passed = lenient.invoke(request("get", "", &[("path", "/status/404")])).await.unwrap().unwrap();
    assert_eq!(passed.data, "body of 404");
    let strict = lenient.invoke(request("get", "", &[("path", "/status/404"), ("errorIfNot2XX", "true")])).await;
    assert_eq!(strict.unwrap_err().kind, ErrorKind::Remote);
    let nonsense = b.invoke(request("get", "", &[("errorIfNot2XX", "perhaps")])).await.unwrap_err();
    assert_eq!(nonsense.kind, ErrorKind::BadRequest);
}

/// A server that answers every connection with `answer`, byte for byte.
async fn raw_server(answer: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let _ = tcp.read(&mut [0; 4096]).await;
            let _ = tcp.write_all(answer.as_bytes()).await;
        }
    });
    url
}

#[tokio::test]
async fn status_is_the_status_line_the_server_sent() {
    let url =
        raw_server("HTTP/1.1 299 All Fine Really\r\ncontent-length: 2\r\nx-a: 1\r\nconnection: close\r\n\r\nok").await;
    let response = binding(&url, &[]).invoke(request("get", "", &[])).await.unwrap().unwrap();
    assert_eq!(response.metadata["status"], "299 All Fine Really");
    assert_eq!(response.metadata["statusCode"], "299");
    assert_eq!(response.metadata["X-A"], "1");
    assert_eq!(response.data, "ok");
}

#[tokio::test]
async fn large_bodies_are_truncated_and_flagged() {
    let url = server().await;
    let b = binding(&url, &[("maxResponseBodySize", "1Ki")]);
    let cut = b.invoke(request("get", "", &[("path", "/big/100000")])).await.unwrap().unwrap();
    assert_eq!(cut.data.len(), 1024);
    assert_eq!(cut.metadata[TRUNCATED_KEY], "true");
    let whole = b.invoke(request("get", "", &[("path", "/big/1024")])).await.unwrap().unwrap();
    assert_eq!(whole.data.len(), 1024);
    assert!(!whole.metadata.contains_key(TRUNCATED_KEY));
    for unlimited in ["0", "-1"] {
        let b = binding(&url, &[("maxResponseBodySize", unlimited)]);
        let all = b.invoke(request("get", "", &[("path", "/big/300000")])).await.unwrap().unwrap();
        assert_eq!(all.data.len(), 300_000, "{unlimited}");
    }
    // After a cut, the next call still works (the half-read connection is not reused).
    let again = b.invoke(request("get", "", &[("path", "/big/10")])).await.unwrap().unwrap();
    assert_eq!(again.data.len(), 10);
}

#[tokio::test]
async fn unreachable_servers_and_timeouts() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let b = binding(&format!("http://{closed}/x"), &[]);
    let error = b.invoke(request("get", "", &[])).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Transient);
    assert!(error.message.starts_with(&format!("cannot reach http://{closed}: ")), "{error}");
    assert!(error.message.to_lowercase().contains("refused"), "{error}");

    let url = server().await;
    let metadata = Metadata::from_pairs([("url", url.as_str()), ("responseTimeout", "200ms"), ("maxRetries", "0")]);
    let settings = LayerSettings::from_metadata(&metadata, "responseTimeout").unwrap();
    let stacked =
        layer::stack(Box::new(HttpBinding::from_metadata(&metadata).unwrap()), "slow", "bindings.http", &settings);
    let error = stacked.invoke(request("get", "", &[("path", "/slow")])).await.unwrap_err();
    assert_eq!((error.kind, error.message.as_str()), (ErrorKind::Timeout, "timed out after 200ms"));
}

#[test]
fn bad_component_settings_name_their_field() {
    let errors = |pairs: &[(&str, &str)]| {
        HttpBinding::from_metadata(&Metadata::from_pairs(pairs.iter().copied()))
            .err()
            .unwrap()
            .into_iter()
            .map(|e| e.field)
            .collect::<Vec<_>>()
    };
    assert_eq!(errors(&[]), ["url"]);
    assert_eq!(errors(&[("url", "ftp://x")]), ["url"]);
    assert_eq!(errors(&[("url", "http://x"), ("errorIfNot2XX", "maybe")]), ["errorIfNot2XX"]);
    assert_eq!(errors(&[("url", "http://x"), ("maxResponseBodySize", "lots")]), ["maxResponseBodySize"]);
    assert_eq!(errors(&[("url", "http://x"), ("MTLSClientCert", "/nope")]), ["MTLSClientKey"]);
    assert_eq!(errors(&[("url", "http://x"), ("MTLSClientKey", "/nope")]), ["MTLSClientCert"]);
    assert_eq!(errors(&[("url", "http://x"), ("MTLSRootCA", "/no/such/file")]), ["MTLSRootCA"]);
    let renegotiate = [("url", "http://x"), ("MTLSRenegotiation", "RenegotiateFreelyAsClient")];
    assert_eq!(errors(&renegotiate), ["MTLSRenegotiation"]);
    assert!(
        HttpBinding::from_metadata(&Metadata::from_pairs([
            ("url", "https://x"),
            ("MTLSRenegotiation", "RenegotiateNever")
        ]))
        .is_ok()
    );
    let token = [("url", "http://x"), ("securityTokenHeader", "Bad Name"), ("securityToken", "t")];
    assert_eq!(errors(&token), ["securityTokenHeader"]);
    // All the problems at once.
    let all = [("url", "gopher://x"), ("errorIfNot2XX", "maybe"), ("maxResponseBodySize", "lots")];
    assert_eq!(errors(&all), ["url", "errorIfNot2XX", "maxResponseBodySize"]);
}
