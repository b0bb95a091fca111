//! `bindery-webhook` end to end: an API Gateway (REST v1, HTTP API v2) or Function
//! URL request, once verified, is delivered as `POST /<binding>` with the raw body,
//! and the app's answer goes back to the caller as the proxy response.

use std::time::{Duration, Instant};

use crate::common::webhook::{
    BODY, SECRET, accepted, assert_delivery, assert_response, github_event, github_headers, github_signature, header,
    multi_value, start, v2_event,
};
use crate::common::{FIRST_REQUEST_ID, SECOND, TRACEPARENT, XRAY_TRACE, assert_error, assert_json_logs, deadline_ms};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bindery_e2e::{InvokeOptions, RecordingApp, Reply, unused_port};
use bytes::Bytes;
use serde_json::{Value, json};

#[tokio::test]
async fn signed_http_api_request_reaches_the_app_and_its_answer_goes_back() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());
    let f = start(&app.url(), "github", &[]).await;
    let mut event = github_event(BODY.as_bytes());
    event["headers"]["authorization"] = json!("Bearer caller-credential");
    event["headers"]["x-api-key"] = json!("caller-api-key");
    let opts = InvokeOptions { trace_id: Some(XRAY_TRACE.into()), ..Default::default() };

    let response = f.invoke(&event, opts).await.response();

    assert_response(&response, 202, r#"{"ok":true}"#);
    assert_eq!(header(&response, "x-app"), Some("yes"));
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    let requests = app.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_delivery(request, BODY.as_bytes());
    assert_eq!(request.header("x-github-delivery"), Some("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
    assert_eq!(request.header("x-hub-signature-256"), Some(github_signature(BODY.as_bytes()).as_str()));
    assert_eq!(request.header("path"), Some("/github-webhook"));
    assert_eq!(request.header("query"), Some("delivery=1"));
    assert_eq!(request.header("requestid"), Some("JKJaXmPLvHcESHA="));
    assert_eq!(request.header("traceparent"), Some(TRACEPARENT));
    let forwarded = format!("{:?}", request.headers);
    assert!(!forwarded.contains("caller-credential") && !forwarded.contains("caller-api-key"), "{forwarded}");
    assert_json_logs(&f.function, FIRST_REQUEST_ID, &[SECRET, "logically awesome", "app-token-s3cr3t"]).await;
}

#[tokio::test]
async fn base64_body_is_decoded_and_verified_as_decoded() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());
    let f = start(&app.url(), "github", &[]).await;
    let body: Vec<u8> = [b"{\"binary\":\"".as_slice(), &[0xff, 0x00, 0xfe], b"\"}"].concat();
    let event = v2_event("POST /github-webhook", "/github-webhook", "", github_headers(&body), &body, true);

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_response(&response, 202, r#"{"ok":true}"#);
    let requests = app.requests();
    assert_eq!(requests.len(), 1);
    assert_delivery(&requests[0], &body);
    assert_eq!(requests[0].header("query"), None);
}

#[tokio::test]
async fn rest_api_v1_request() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());
    let f = start(&app.url(), "github", &[]).await;
    let signature = github_signature(BODY.as_bytes());
    let headers = json!({
        "Content-Type": "application/json",
        "Host": "1234567890.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": "push",
        "X-Hub-Signature-256": signature,
        "Cookie": "session=abc123",
    });
    let multi = multi_value(&headers);
    let event = json!({
        "resource": "/github-webhook",
        "path": "/github-webhook",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": multi,
        "queryStringParameters": {"delivery": "1"},
        "multiValueQueryStringParameters": {"delivery": ["1"]},
        "pathParameters": null,
        "stageVariables": null,
        "requestContext": {
            "resourceId": "2gxmpl",
            "resourcePath": "/github-webhook",
            "httpMethod": "POST",
            "requestTime": "10/Mar/2020:00:03:59 +0000",
            "path": "/Prod/github-webhook",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "Prod",
            "domainPrefix": "1234567890",
            "requestTimeEpoch": 1583798639428u64,
            "requestId": "77375676-xmpl-4b79-853a-f982474efe18",
            "identity": {"sourceIp": "192.30.252.44", "userAgent": "GitHub-Hookshot/044aadd"},
            "domainName": "1234567890.execute-api.us-east-1.amazonaws.com",
            "apiId": "1234567890"
        },
        "body": BODY,
        "isBase64Encoded": false
    });

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_response(&response, 202, r#"{"ok":true}"#);
    assert_eq!(header(&response, "x-app"), Some("yes"));
    let requests = app.requests();
    assert_eq!(requests.len(), 1);
    assert_delivery(&requests[0], BODY.as_bytes());
    assert_eq!(requests[0].header("query"), Some("delivery=1"));
    assert_eq!(requests[0].header("requestid"), Some("77375676-xmpl-4b79-853a-f982474efe18"));
    // lambda_http reports a REST API's path with its stage (`/Prod/github-webhook`).
    assert!(requests[0].header("path").is_some_and(|p| p.ends_with("/github-webhook")), "{:?}", requests[0].headers);
}

#[tokio::test]
async fn function_url_request() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());
    let f = start(&app.url(), "github", &[]).await;
    let mut headers = github_headers(BODY.as_bytes());
    headers["host"] = json!("abcdefg123456789.lambda-url.us-east-1.on.aws");
    let event = v2_event("$default", "/", "", headers, BODY.as_bytes(), false);

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_response(&response, 202, r#"{"ok":true}"#);
    let requests = app.requests();
    assert_eq!(requests.len(), 1);
    assert_delivery(&requests[0], BODY.as_bytes());
    assert_eq!(requests[0].header("path"), Some("/"));
    assert_eq!(requests[0].header("requestid"), Some("JKJaXmPLvHcESHA="));
}

#[tokio::test]
async fn app_errors_pass_through_and_delivery_failures_become_502_and_504() {
    let app = RecordingApp::start().await;
    app.set_reply(|r| {
        if r.header("x-github-delivery") == Some("slow") {
            Reply::Delay(10 * SECOND, Box::new(Reply::Status(200)))
        } else {
            Reply::StatusBody(500, vec![], Bytes::from_static(b"app exploded"))
        }
    });
    let f = start(&app.url(), "github", &[]).await;

    let failed = f.invoke(&github_event(BODY.as_bytes()), InvokeOptions::default()).await.response();
    assert_response(&failed, 500, "app exploded");

    let mut slow = github_event(BODY.as_bytes());
    slow["headers"]["x-github-delivery"] = json!("slow");
    let started = Instant::now();
    let timed_out = f.invoke(&slow, deadline_ms(1500)).await.response();
    let elapsed = started.elapsed();
    assert_eq!(timed_out["statusCode"], json!(504), "{timed_out}");
    assert!(elapsed < Duration::from_millis(1500), "the answer came after the deadline: {elapsed:?}");
    assert_eq!(app.requests().len(), 2);

    let down = format!("http://127.0.0.1:{}", unused_port());
    let f = start(&down, "github", &[]).await;
    let unreachable = f.invoke(&github_event(BODY.as_bytes()), InvokeOptions::default()).await.response();
    assert_eq!(unreachable["statusCode"], json!(502), "{unreachable}");
    assert!(serde_json::from_str::<Value>(unreachable["body"].as_str().unwrap()).unwrap()["error"].is_string());
}

#[tokio::test]
async fn caller_headers_cannot_impersonate_bindery_metadata() {
    let app = RecordingApp::start().await;
    let f = start(&app.url(), "github", &[]).await;
    let mut event = github_event(BODY.as_bytes());
    for (name, forged) in [
        ("sourceip", "6.6.6.6"),
        ("requestid", "forged-request"),
        ("method", "DELETE"),
        ("path", "/admin"),
        ("query", "admin=true"),
        ("dapr-api-token", "forged-token"),
    ] {
        event["headers"][name] = json!(forged);
    }

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(response["statusCode"], json!(200), "{response}");
    let requests = app.requests();
    assert_eq!(requests.len(), 1);
    let values = |name: &str| -> Vec<String> {
        requests[0].headers.get_all(name).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
    };
    let expected = [
        ("sourceip", "192.30.252.44"),
        ("requestid", "JKJaXmPLvHcESHA="),
        ("method", "POST"),
        ("path", "/github-webhook"),
        ("query", "delivery=1"),
        ("dapr-api-token", "app-token-s3cr3t"),
    ];
    let impersonated: Vec<String> = expected
        .iter()
        .filter(|(name, value)| values(name) != [*value])
        .map(|(name, value)| format!("{name}: app got {:?}, expected only {value:?}", values(name)))
        .collect();
    assert!(
        impersonated.is_empty(),
        "caller headers reached the app as bindery metadata:\n{}",
        impersonated.join("\n")
    );
}

#[tokio::test]
async fn binary_app_answer_goes_back_base64_encoded() {
    let app = RecordingApp::start().await;
    let png: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff];
    let headers = vec![("content-type".to_owned(), "image/png".to_owned())];
    app.set_reply(move |_| Reply::StatusBody(200, headers.clone(), Bytes::from_static(png)));
    let f = start(&app.url(), "github", &[]).await;

    let response = f.invoke(&github_event(BODY.as_bytes()), InvokeOptions::default()).await.response();

    assert_eq!(response["statusCode"], json!(200), "{response}");
    assert_eq!(response["isBase64Encoded"], json!(true), "{response}");
    assert_eq!(STANDARD.decode(response["body"].as_str().unwrap()).unwrap(), png);
    assert_eq!(header(&response, "content-type"), Some("image/png"));
}

/// Found by the `apigw_request` fuzz target: lambda_http's request conversion
/// panics on a Host it cannot parse as a URL host, which would abort the
/// function. bindery-webhook drops such a host and delivers the request.
#[tokio::test]
async fn a_host_header_that_is_not_a_host_neither_crashes_nor_loses_the_request() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());
    let f = start(&app.url(), "github", &[]).await;
    let host = "1234567890.execute-api.us%east-1.amazonaws.com";
    let headers =
        json!({"Host": host, "X-GitHub-Event": "push", "X-Hub-Signature-256": github_signature(BODY.as_bytes())});
    let multi = multi_value(&headers);
    let event = json!({
        "resource": "/github-webhook", "path": "/github-webhook", "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": multi,
        "requestContext": {"httpMethod": "POST", "stage": "Prod", "requestId": "r-1", "domainName": host,
                           "identity": {"sourceIp": "192.30.252.44"}},
        "body": BODY, "isBase64Encoded": false
    });

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_response(&response, 202, r#"{"ok":true}"#);
    assert_eq!(app.requests().len(), 1);
    assert_delivery(&app.requests()[0], BODY.as_bytes());
}

/// Found by the `apigw_request` fuzz target: a body marked base64 that is
/// not made lambda_http panic. It is refused as an invalid event instead.
#[tokio::test]
async fn a_body_marked_base64_that_is_not_is_an_invalid_event_and_nothing_is_delivered() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());
    let f = start(&app.url(), "github", &[]).await;
    let mut event = github_event(BODY.as_bytes());
    event["body"] = json!("not=base64!");
    event["isBase64Encoded"] = json!(true);

    let error = f.invoke(&event, InvokeOptions::default()).await.error();

    assert_error(&error, "Bindery.InvalidEvent");
    assert!(error.error_message().unwrap().contains("not valid base64"), "{error:?}");
    assert!(app.requests().is_empty(), "nothing reaches the app");
}
