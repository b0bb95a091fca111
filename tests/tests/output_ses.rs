//! The SES binding against the emulator: every email is read back from moto.
// Helpers in this file are test code too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use bindery::output::{ErrorKind, InvokeRequest};
use bindery_e2e::aws::{Emulator, load_bindings};

const FROM: &str = "app@example.com";

async fn setup(items: &[(&str, &str)]) -> (Emulator, bindery::output::Bindings, tempfile::TempDir) {
    let emulator = Emulator::from_env();
    emulator.email_identity(FROM).await;
    let (bindings, dir) = load_bindings(&[emulator.component("mail", "bindings.aws.ses", items)]).await;
    (emulator, bindings, dir)
}

async fn send(bindings: &bindery::output::Bindings, request: InvokeRequest) -> String {
    let response = bindings.invoke("mail", request).await.unwrap_or_else(|e| panic!("{e}")).expect("a response");
    response.metadata["messageId"].clone()
}

#[tokio::test]
async fn component_metadata_is_the_default_and_the_id_comes_back() {
    let (emulator, bindings, _dir) =
        setup(&[("emailFrom", FROM), ("emailTo", "ops@example.com"), ("subject", "Nightly report")]).await;
    let id = send(&bindings, InvokeRequest::new("create", r#""<p>3 tasks removed</p>""#)).await;
    let mail = emulator.sent_email(&id).await;
    assert_eq!(mail["source"], FROM);
    assert_eq!(mail["subject"], "Nightly report");
    assert_eq!(mail["body"], "<p>3 tasks removed</p>", "the HTTP API's quotes are removed");
    assert_eq!(mail["destinations"]["ToAddresses"], serde_json::json!(["ops@example.com"]));
}

#[tokio::test]
async fn request_metadata_overrides_case_insensitively_with_lists() {
    let (emulator, bindings, _dir) =
        setup(&[("emailFrom", FROM), ("emailTo", "ops@example.com"), ("subject", "s")]).await;
    let request = InvokeRequest::new("create", "<b>raw, as gRPC sends it</b>")
        .with_metadata("EmailTo", "a@example.com; b@example.com")
        .with_metadata("emailcc", "c@example.com")
        .with_metadata("EMAILBCC", "d@example.com;e@example.com")
        .with_metadata("Subject", "Réunion ✓");
    let id = send(&bindings, request).await;
    let mail = emulator.sent_email(&id).await;
    assert_eq!(mail["subject"], "Réunion ✓");
    assert_eq!(mail["body"], "<b>raw, as gRPC sends it</b>", "Dapr fails on a raw body");
    let d = &mail["destinations"];
    assert_eq!(d["ToAddresses"], serde_json::json!(["a@example.com", "b@example.com"]));
    assert_eq!(d["CcAddresses"], serde_json::json!(["c@example.com"]));
    assert_eq!(d["BccAddresses"], serde_json::json!(["d@example.com", "e@example.com"]));
}

#[tokio::test]
async fn text_bodies_when_asked() {
    let (emulator, bindings, _dir) = setup(&[("emailFrom", FROM)]).await;
    let request = InvokeRequest::new("create", "plain words")
        .with_metadata("emailTo", "ops@example.com")
        .with_metadata("subject", "text")
        .with_metadata("contentType", "text/plain");
    let id = send(&bindings, request).await;
    assert_eq!(emulator.sent_email(&id).await["body"], "plain words");
}

#[tokio::test]
async fn each_missing_field_is_named_and_nothing_is_sent() {
    let (emulator, bindings, _dir) = setup(&[]).await;
    let before = emulator.sent_emails().await.len();
    let full = [("emailFrom", FROM), ("emailTo", "ops@example.com"), ("subject", "s")];
    for missing in ["emailFrom", "emailTo", "subject"] {
        let mut request = InvokeRequest::new("create", "x");
        for (k, v) in full.iter().filter(|(k, _)| *k != missing) {
            request = request.with_metadata(*k, *v);
        }
        let error = bindings.invoke("mail", request).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::BadRequest);
        assert_eq!(
            error.message,
            format!("SES binding error: {missing} property not supplied in configuration- or request-metadata")
        );
    }
    let unsupported = bindings.invoke("mail", InvokeRequest::new("get", "")).await.unwrap_err();
    assert_eq!(unsupported.message, "binding mail does not support operation get. supported operations:create");
    // Other tests send in parallel; none of these did.
    let after: Vec<_> = emulator.sent_emails().await.into_iter().skip(before).filter(|m| m["body"] == "x").collect();
    assert!(after.is_empty(), "{after:?}");
}

#[tokio::test]
async fn an_unverified_sender_is_the_services_error() {
    let (_emulator, bindings, _dir) = setup(&[("emailTo", "ops@example.com"), ("subject", "s")]).await;
    let request = InvokeRequest::new("create", "x").with_metadata("emailFrom", "stranger@example.org");
    let error = bindings.invoke("mail", request).await.unwrap_err();
    assert!(error.message.starts_with("SES binding error: "), "{error}");
    assert_eq!(error.kind, ErrorKind::Other, "{error}");
}
