//! API Gateway v1 (REST), v2 (HTTP API) and Function URL requests, as
//! lambda_http reads them behind bindery-webhook's host guard, then its
//! verification and event.
#![no_main]

use bindery::component::Metadata;
use bindery::input::webhook::{WebhookAuth, webhook_event};
use lambda_http::request::LambdaRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut request) = serde_json::from_slice::<LambdaRequest>(data) else { return };
    // As bindery-webhook does before lambda_http's conversion.
    if bindery::fuzzing::guard_lambda_request(&mut request).is_err() {
        return;
    }
    let request: lambda_http::Request = request.into();
    let (parts, body) = request.into_parts();
    let body = bytes_of(body);
    let metadata =
        Metadata::from_pairs([("signatureScheme", "token"), ("signatureSecret", "secret"), ("tokenHeader", "x-token")]);
    let Ok(auth) = WebhookAuth::from_metadata(&metadata) else { return };
    let _ = auth.verify(&parts.headers, &body, 1_795_000_000);
    let event = webhook_event(
        &parts,
        body.into(),
        &auth.credential_headers(),
        Some("Root=1-5759e988-bd862e3fe1be46a994272793"),
    );
    // Credentials never reach the app.
    assert!(event.metadata.iter().all(|(key, _)| !matches!(key.as_ref(), "x-token" | "authorization" | "cookie")));
});

fn bytes_of(body: lambda_http::Body) -> Vec<u8> {
    match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(text) => text.into_bytes(),
        lambda_http::Body::Binary(bytes) => bytes,
        _ => Vec::new(),
    }
}
