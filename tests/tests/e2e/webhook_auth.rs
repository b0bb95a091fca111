//! Webhook verification end to end, through `bindery-webhook` and `bindery
//! run`: requests without a valid proof of origin (forged, truncated,
//! expired, repeated signature headers), or too large, are answered by
//! bindery itself and never reach the app.

use crate::common::webhook::{
    BODY, SECRET, accepted, assert_response, assert_unauthorized, github_event, github_headers, github_signature,
    hmac_hex, start, v2_event,
};
use crate::common::{ComponentsDir, assert_no_requests, bindery_run, component, secret, value};
use bindery_e2e::{InvokeOptions, RecordingApp};
use serde_json::{Value, json};

#[tokio::test]
async fn forged_or_missing_github_signatures_are_refused() {
    let app = RecordingApp::start().await;
    let f = start(&app.url(), "github", &[]).await;

    let mut forged = github_event(BODY.as_bytes());
    forged["headers"]["x-hub-signature-256"] = json!(github_signature(b"another body"));
    assert_unauthorized(&f.invoke(&forged, InvokeOptions::default()).await.response());

    let mut tampered = github_event(BODY.as_bytes());
    tampered["body"] = json!(BODY.replace("1347", "1348"));
    assert_unauthorized(&f.invoke(&tampered, InvokeOptions::default()).await.response());

    let mut unsigned = github_event(BODY.as_bytes());
    unsigned["headers"].as_object_mut().unwrap().remove("x-hub-signature-256");
    assert_unauthorized(&f.invoke(&unsigned, InvokeOptions::default()).await.response());

    assert_no_requests(&app).await;
}

#[tokio::test]
async fn stripe_signature_with_an_expired_timestamp_is_refused() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());
    let f = start(&app.url(), "stripe", &[]).await;
    let now = chrono::Utc::now().timestamp();
    let stripe = |t: i64| {
        let mut headers = github_headers(BODY.as_bytes());
        let signature = hmac_hex(&[t.to_string().as_bytes(), b".", BODY.as_bytes()]);
        headers["stripe-signature"] = json!(format!("t={t},v1={signature}"));
        v2_event("$default", "/", "", headers, BODY.as_bytes(), false)
    };

    let expired = f.invoke(&stripe(now - 3600), InvokeOptions::default()).await.response();

    assert_unauthorized(&expired);
    assert_no_requests(&app).await;
    // The same signature, fresh, is accepted: only the timestamp was wrong.
    let fresh = f.invoke(&stripe(now), InvokeOptions::default()).await.response();
    assert_response(&fresh, 202, r#"{"ok":true}"#);
    assert_eq!(app.requests().len(), 1);
}

#[tokio::test]
async fn body_over_max_body_size_is_refused_with_413() {
    let app = RecordingApp::start().await;
    let f = start(&app.url(), "github", &[value("maxBodySize", "1Ki")]).await;
    let body = |len: usize| format!("{{\"padding\":\"{}\"}}", "x".repeat(len - 14)).into_bytes();
    assert_eq!(body(2048).len(), 2048);

    let response = f.invoke(&github_event(&body(2048)), InvokeOptions::default()).await.response();

    assert_eq!(response["statusCode"], json!(413), "{response}");
    let error: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert!(error["error"].is_string(), "{response}");
    assert_no_requests(&app).await;
    // The limit is inclusive: 1 KiB exactly is accepted, one byte more is not.
    let over = f.invoke(&github_event(&body(1025)), InvokeOptions::default()).await.response();
    assert_eq!(over["statusCode"], json!(413), "{over}");
    let at_limit = f.invoke(&github_event(&body(1024)), InvokeOptions::default()).await.response();
    assert_eq!(at_limit["statusCode"], json!(200), "{at_limit}");
    assert_eq!(app.requests().len(), 1);
}

#[tokio::test]
async fn token_scheme_accepts_the_bearer_token_and_withholds_it() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());
    let f = start(&app.url(), "token", &[]).await;
    let with_token = |token: &str| {
        let headers = json!({"content-type": "application/json", "authorization": format!("Bearer {token}")});
        v2_event("$default", "/", "", headers, BODY.as_bytes(), false)
    };

    let wrong = f.invoke(&with_token("not-the-secret"), InvokeOptions::default()).await.response();
    assert_unauthorized(&wrong);
    assert_no_requests(&app).await;

    let right = f.invoke(&with_token(SECRET), InvokeOptions::default()).await.response();
    assert_response(&right, 202, r#"{"ok":true}"#);
    let requests = app.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(&requests[0].body[..], BODY.as_bytes());
    assert_eq!(requests[0].header("authorization"), None);
    assert!(!format!("{:?}", requests[0].headers).contains(SECRET), "the token leaked");
    let logs = f.function.logs();
    assert!(!logs.contains(SECRET), "the token is in the logs:\n{logs}");
}

/// A REST API (v1) event for `/github-webhook` whose `multiValueHeaders` are
/// exactly `headers` (name, values), and `headers` the last value of each, as
/// API Gateway sends them.
fn rest_event(headers: &[(&str, &[&str])], body: &str) -> Value {
    let multi: serde_json::Map<String, Value> = headers.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    let single: serde_json::Map<String, Value> =
        headers.iter().map(|(k, v)| (k.to_string(), json!(v.last().copied().unwrap_or_default()))).collect();
    json!({
        "resource": "/github-webhook", "path": "/github-webhook", "httpMethod": "POST",
        "headers": single, "multiValueHeaders": multi,
        "requestContext": {"httpMethod": "POST", "stage": "Prod", "requestId": "r-1",
                           "identity": {"sourceIp": "192.30.252.44"}},
        "body": body, "isBase64Encoded": false
    })
}

#[tokio::test]
async fn duplicate_truncated_and_odd_case_signature_headers() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());
    let f = start(&app.url(), "github", &[]).await;
    let good = github_signature(BODY.as_bytes());
    let forged = github_signature(b"another body");
    let f = &f;
    let invoke = |event: Value| async move { f.invoke(&event, InvokeOptions::default()).await.response() };

    // A valid signature next to a forged one, in either order: refused, as
    // bindery cannot know which one API Gateway or the app would read.
    for pair in [[good.as_str(), forged.as_str()], [forged.as_str(), good.as_str()]] {
        assert_unauthorized(&invoke(rest_event(&[("X-Hub-Signature-256", &pair)], BODY)).await);
    }
    // The same header twice under two spellings.
    let twice = rest_event(&[("X-Hub-Signature-256", &[&good]), ("x-hub-signature-256", &[&forged])], BODY);
    assert_unauthorized(&invoke(twice).await);
    // HTTP API (v2) joins repeated headers with commas.
    let mut joined = github_headers(BODY.as_bytes());
    joined["x-hub-signature-256"] = json!(format!("{good},{forged}"));
    assert_unauthorized(&invoke(v2_event("$default", "/", "", joined, BODY.as_bytes(), false)).await);
    // Truncated by one hex digit (not hex any more) and by a whole byte.
    for cut in [1, 2] {
        let truncated = rest_event(&[("X-Hub-Signature-256", &[&good[..good.len() - cut]])], BODY);
        assert_unauthorized(&invoke(truncated).await);
    }
    assert_no_requests(&app).await;

    // Header names are case-insensitive: an odd spelling of the one signature verifies.
    let odd_case = rest_event(&[("X-HUB-signature-256", &[&good])], BODY);
    assert_response(&invoke(odd_case).await, 202, r#"{"ok":true}"#);
    assert_eq!(app.requests().len(), 1);
}

/// GitHub's scheme signs the body only, so a captured delivery verifies again
/// when replayed: bindery delivers it, with `x-github-delivery`, the id the
/// app deduplicates on. (Stripe's scheme signs a timestamp: a replay outside
/// the tolerance is refused, see above.)
#[tokio::test]
async fn a_replayed_github_delivery_verifies_and_carries_its_delivery_id() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());
    let f = start(&app.url(), "github", &[]).await;
    let event = github_event(BODY.as_bytes());

    for _ in 0..2 {
        assert_response(&f.invoke(&event, InvokeOptions::default()).await.response(), 202, r#"{"ok":true}"#);
    }

    let requests = app.requests();
    let ids: Vec<Option<&str>> = requests.iter().map(|r| r.header("x-github-delivery")).collect();
    assert_eq!(ids, [Some("72d3162e-cc78-11e3-81ab-4c9367dc0958"); 2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bindery_run_reads_chunked_bodies_whole_limits_them_and_refuses_repeated_signatures() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());
    let dir = ComponentsDir::new();
    let items = [
        value("direction", "input"),
        value("signatureScheme", "github"),
        secret("signatureSecret", "SECRET"),
        value("maxBodySize", "1Ki"),
    ];
    dir.write("github.yaml", &component("github", "bindings.http", &items));
    let (bindery, port) = bindery_run(&dir, &app.url(), &[("SECRET", SECRET)], "github: webhook http").await;
    let url = format!("http://127.0.0.1:{port}/github");
    let post = |body: String, headers: Vec<String>| {
        let mut args = vec!["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "--data-binary", "@-"];
        let chunked = ["-H", "Transfer-Encoding: chunked"];
        args.extend(chunked);
        let headers: Vec<String> = headers.into_iter().flat_map(|h| ["-H".to_owned(), h]).collect();
        let url = url.clone();
        async move {
            let output = tokio::task::spawn_blocking(move || {
                use std::io::Write;
                let mut child = std::process::Command::new("curl")
                    .args(args)
                    .args(headers)
                    .arg(url)
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
                child.wait_with_output().unwrap()
            })
            .await
            .unwrap();
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
    };
    let signed = |body: &str| format!("X-Hub-Signature-256: {}", github_signature(body.as_bytes()));

    // A chunked body (no Content-Length) is read whole, then verified.
    let body = format!("{{\"padding\":\"{}\"}}", "x".repeat(1000));
    assert_eq!(post(body.clone(), vec![signed(&body)]).await, "202", "{}", bindery.logs());
    let requests = app.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].body, body.as_bytes());
    // Over maxBodySize while chunked: 413, nothing delivered.
    let large = format!("{{\"padding\":\"{}\"}}", "x".repeat(2000));
    assert_eq!(post(large.clone(), vec![signed(&large)]).await, "413");
    // The signature header sent twice, valid and forged: 401.
    let forged = format!("X-Hub-Signature-256: {}", github_signature(b"another body"));
    assert_eq!(post(body.clone(), vec![signed(&body), forged]).await, "401");
    assert_eq!(app.requests().len(), 1, "only the first request reached the app");
}
