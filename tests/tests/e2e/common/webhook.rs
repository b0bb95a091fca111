//! Webhook events and checks shared by `webhook.rs` and `webhook_auth.rs`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bindery_e2e::{Recorded, Reply};
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{ComponentsDir, Running, component, secret, value};

pub(crate) const BIN: &str = "bindery-webhook";
pub(crate) const SECRET: &str = "It's a Secret to Everybody";
pub(crate) const BODY: &str = r#"{"action":"opened","zen":"Keep it logically awesome.","number":1347}"#;

/// `bindery-webhook` serving `github-webhook` with `scheme` (plus `extra` items);
/// the secret is in `GITHUB_SECRET`.
pub(crate) async fn start(app_url: &str, scheme: &str, extra: &[String]) -> Running {
    let mut items = vec![value("direction", "input"), value("signatureScheme", scheme)];
    items.push(secret("signatureSecret", "GITHUB_SECRET"));
    items.extend_from_slice(extra);
    let components = ComponentsDir::with("github-webhook.yaml", &component("github-webhook", "bindings.http", &items));
    let vars = [
        ("BINDERY_BINDING", "github-webhook"),
        ("BINDERY_APP_URL", app_url),
        ("GITHUB_SECRET", SECRET),
        ("APP_API_TOKEN", "app-token-s3cr3t"),
    ];
    Running::start(BIN, components, &vars).await
}

pub(crate) fn hmac_hex(parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

pub(crate) fn github_signature(body: &[u8]) -> String {
    format!("sha256={}", hmac_hex(&[body]))
}

/// GitHub's delivery headers for `body`, lower-case as API Gateway v2 sends them.
pub(crate) fn github_headers(body: &[u8]) -> Value {
    json!({
        "accept": "*/*",
        "content-type": "application/json",
        "host": "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
        "user-agent": "GitHub-Hookshot/044aadd",
        "x-forwarded-for": "192.30.252.44",
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "x-github-event": "push",
        "x-hub-signature-256": github_signature(body),
    })
}

/// An HTTP API (v2) event; a Function URL event is the same with `routeKey` `$default`.
/// A REST API (v1) event's `multiValueHeaders`: each of `headers` as a one-item list.
pub(crate) fn multi_value(headers: &Value) -> Value {
    let map = headers.as_object().map(|h| h.iter().map(|(k, v)| (k.clone(), json!([v]))).collect());
    Value::Object(map.unwrap_or_default())
}

pub(crate) fn v2_event(route_key: &str, path: &str, query: &str, headers: Value, body: &[u8], base64: bool) -> Value {
    let body = if base64 { STANDARD.encode(body) } else { String::from_utf8(body.to_vec()).unwrap() };
    let params: serde_json::Map<String, Value> =
        query.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (k.to_owned(), Value::from(v))).collect();
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "cookies": ["session=abc123"],
        "headers": headers,
        "queryStringParameters": params,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "r3pmxmplak",
            "domainName": "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
            "domainPrefix": "r3pmxmplak",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.30.252.44",
                "userAgent": "GitHub-Hookshot/044aadd"
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": route_key,
            "stage": "$default",
            "time": "10/Mar/2020:05:16:23 +0000",
            "timeEpoch": 1583817383220u64
        },
        "body": body,
        "isBase64Encoded": base64
    })
}

/// A signed GitHub delivery of `BODY` through an HTTP API route.
pub(crate) fn github_event(body: &[u8]) -> Value {
    v2_event("POST /github-webhook", "/github-webhook", "delivery=1", github_headers(body), body, false)
}

/// The app's answer: 202, a header of its own, a JSON body.
pub(crate) fn accepted() -> Reply {
    let headers = vec![("x-app".into(), "yes".into()), ("content-type".into(), "application/json".into())];
    Reply::StatusBody(202, headers, Bytes::from_static(br#"{"ok":true}"#))
}

/// The request the app got: POST /github-webhook, `body` verbatim, the webhook's
/// metadata as headers and no credentials.
pub(crate) fn assert_delivery(request: &Recorded, body: &[u8]) {
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/github-webhook");
    assert_eq!(request.query, None);
    assert_eq!(&request.body[..], body);
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-github-event"), Some("push"));
    assert_eq!(request.header("method"), Some("POST"));
    assert_eq!(request.header("sourceip"), Some("192.30.252.44"));
    assert_eq!(request.header("dapr-api-token"), Some("app-token-s3cr3t"));
    for withheld in ["authorization", "cookie", "x-api-key"] {
        assert_eq!(request.header(withheld), None, "{withheld} must not reach the app");
    }
    assert!(!request.headers.values().any(|v| v.as_bytes().windows(6).any(|w| w == b"abc123")), "cookie leaked");
}

/// The proxy response: status, a header and the body.
pub(crate) fn assert_response(response: &Value, status: u16, body: &str) {
    assert_eq!(response["statusCode"], json!(status), "{response}");
    assert_eq!(response["body"].as_str(), Some(body), "{response}");
    assert_ne!(response["isBase64Encoded"], json!(true), "{response}");
}

/// A response header, from `headers` or (as `lambda_http` answers REST APIs) `multiValueHeaders`.
pub(crate) fn header<'a>(response: &'a Value, name: &str) -> Option<&'a str> {
    let find = |field: &str| {
        let (_, value) = response[field].as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
        value.as_str().or_else(|| value.as_array()?.first()?.as_str())
    };
    find("headers").or_else(|| find("multiValueHeaders"))
}

/// A 401 with a JSON `{"error": ...}` body.
pub(crate) fn assert_unauthorized(response: &Value) {
    assert_eq!(response["statusCode"], json!(401), "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{response}");
    assert_eq!(header(response, "content-type"), Some("application/json"));
}
