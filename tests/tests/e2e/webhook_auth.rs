//! `bindery-webhook` verification end to end: requests without a valid proof of
//! origin, or too large, are answered by bindery itself and never reach the app.

use crate::common::webhook::{
    BODY, SECRET, accepted, assert_response, assert_unauthorized, github_event, github_headers, github_signature,
    hmac_hex, start, v2_event,
};
use crate::common::{assert_no_requests, value};
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
