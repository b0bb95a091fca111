//! API Gateway v1 (REST), v2 (HTTP API) and Function URL requests, as
//! bindery-webhook reads them, then its verification and event.
#![no_main]

use bindery::component::Metadata;
use bindery::input::webhook::{WebhookAuth, webhook_event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = bindery::fuzzing::apigw_request(data) else { return };
    let metadata =
        Metadata::from_pairs([("signatureScheme", "token"), ("signatureSecret", "secret"), ("tokenHeader", "x-token")]);
    let Ok(auth) = WebhookAuth::from_metadata(&metadata) else { return };
    let _ = auth.verify(&request.head.headers, &request.body, 1_795_000_000);
    let event = webhook_event(
        &request.head,
        request.body,
        &auth.credential_headers(),
        Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"),
    );
    // Credentials never reach the app.
    assert!(event.metadata.iter().all(|(key, _)| !matches!(&**key, "x-token" | "authorization" | "cookie")));
});
