//! The SES binding against the emulator, loaded from component YAML as an app
//! loads it: every email sent is read back from moto by its message id.
//!
//! moto records the body's text but not whether it was the HTML or the text
//! part, so that choice is checked by the unit tests of `output::ses` (the
//! `SendEmail` content built); here only that a text email is sent whole.

use bindery::output::{Bindings, ErrorKind, InvokeRequest};
use bindery_e2e::aws::{Emulator, load_bindings};
use serde_json::{Value, json};

const FROM: &str = "app@example.com";
const OTHER_FROM: &str = "billing@example.com";

/// The emulator with verified senders, and a binding `mail` with `items`.
async fn setup(items: &[(&str, &str)]) -> (Emulator, Bindings, tempfile::TempDir) {
    let emulator = Emulator::from_env();
    emulator.email_identity(FROM).await;
    emulator.email_identity(OTHER_FROM).await;
    let (bindings, dir) = load_bindings(&[emulator.component("mail", "bindings.aws.ses", items)]).await;
    (emulator, bindings, dir)
}

/// Sends, checks the response's shape, and returns the email moto recorded.
async fn send(emulator: &Emulator, bindings: &Bindings, request: InvokeRequest) -> Value {
    let response = bindings.invoke("mail", request).await.unwrap_or_else(|e| panic!("{e}")).expect("a response");
    assert!(response.data.is_empty(), "no data, only the id in the metadata");
    assert_eq!(response.metadata.keys().collect::<Vec<_>>(), ["messageId"]);
    let mail = emulator.sent_email(&response.metadata["messageId"]).await;
    assert_eq!(mail["id"], response.metadata["messageId"]);
    mail
}

fn addresses(mail: &Value, kind: &str) -> Value {
    mail["destinations"][kind].clone()
}

#[tokio::test]
async fn component_metadata_is_the_default_and_the_id_comes_back() {
    let (emulator, bindings, _dir) = setup(&[
        ("emailFrom", FROM),
        ("emailTo", "ops@example.com"),
        ("emailCc", "cc@example.com"),
        ("emailBcc", "audit@example.com;archive@example.com"),
        ("subject", "Nightly report"),
    ])
    .await;
    // The HTTP API sends a string quoted, JSON-escaped; the quotes are removed.
    let mail = send(&emulator, &bindings, InvokeRequest::new("create", r#""<p>3 tasks removed \u2713</p>""#)).await;
    assert_eq!(mail["source"], FROM);
    assert_eq!(mail["subject"], "Nightly report");
    assert_eq!(mail["body"], "<p>3 tasks removed ✓</p>");
    assert_eq!(addresses(&mail, "ToAddresses"), json!(["ops@example.com"]));
    assert_eq!(addresses(&mail, "CcAddresses"), json!(["cc@example.com"]));
    assert_eq!(addresses(&mail, "BccAddresses"), json!(["audit@example.com", "archive@example.com"]));
}

#[tokio::test]
async fn request_metadata_overrides_each_field_in_any_case() {
    let (emulator, bindings, _dir) = setup(&[
        ("EmailFrom", FROM),
        ("EMAILTO", "ops@example.com"),
        ("emailcc", "cc@example.com"),
        ("emailBCC", "audit@example.com"),
        ("Subject", "default subject"),
    ])
    .await;
    let request = InvokeRequest::new("create", "<b>raw, as gRPC sends it</b>")
        .with_metadata("EMAILFROM", OTHER_FROM)
        .with_metadata("emailto", " a@example.com ; b@example.com;")
        .with_metadata("EmailCc", "c@example.com;d@example.com")
        .with_metadata("EMAILBCC", "e@example.com")
        .with_metadata("SUBJECT", "Réunion ✓");
    let mail = send(&emulator, &bindings, request).await;
    assert_eq!(mail["source"], OTHER_FROM);
    assert_eq!(mail["subject"], "Réunion ✓");
    assert_eq!(mail["body"], "<b>raw, as gRPC sends it</b>", "Dapr fails on a raw body");
    assert_eq!(addresses(&mail, "ToAddresses"), json!(["a@example.com", "b@example.com"]), "trimmed, empties dropped");
    assert_eq!(addresses(&mail, "CcAddresses"), json!(["c@example.com", "d@example.com"]));
    assert_eq!(addresses(&mail, "BccAddresses"), json!(["e@example.com"]));

    // Only the subject overridden (an empty value counts as absent): the rest is the component's.
    let request = InvokeRequest::new("create", "x").with_metadata("subject", "merged").with_metadata("emailTo", "");
    let mail = send(&emulator, &bindings, request).await;
    assert_eq!((&mail["source"], &mail["subject"]), (&json!(FROM), &json!("merged")));
    assert_eq!(addresses(&mail, "ToAddresses"), json!(["ops@example.com"]));
    assert_eq!(addresses(&mail, "CcAddresses"), json!(["cc@example.com"]));
    assert_eq!(addresses(&mail, "BccAddresses"), json!(["audit@example.com"]));
}

#[tokio::test]
async fn every_field_may_come_with_the_request_alone() {
    let (emulator, bindings, _dir) = setup(&[]).await;
    let request = InvokeRequest::new("create", r#""line 1\nline 2""#)
        .with_metadata("emailFrom", FROM)
        .with_metadata("emailTo", "ops@example.com")
        .with_metadata("subject", "only the request");
    let mail = send(&emulator, &bindings, request).await;
    assert_eq!(mail["body"], "line 1\nline 2");
    assert_eq!(addresses(&mail, "ToAddresses"), json!(["ops@example.com"]));
    assert!(addresses(&mail, "CcAddresses").as_array().is_none_or(Vec::is_empty), "{mail}");
}

#[tokio::test]
async fn text_bodies_when_asked() {
    let (emulator, bindings, _dir) = setup(&[("emailFrom", FROM), ("contentType", "text/plain")]).await;
    let request = InvokeRequest::new("create", "plain <words>")
        .with_metadata("emailTo", "ops@example.com")
        .with_metadata("subject", "text");
    assert_eq!(send(&emulator, &bindings, request).await["body"], "plain <words>");
    let back_to_html = InvokeRequest::new("create", "<p>html</p>")
        .with_metadata("emailTo", "ops@example.com")
        .with_metadata("subject", "html")
        .with_metadata("ContentType", "text/html");
    assert_eq!(send(&emulator, &bindings, back_to_html).await["body"], "<p>html</p>");
    let bad = InvokeRequest::new("create", "x")
        .with_metadata("emailTo", "ops@example.com")
        .with_metadata("subject", "s")
        .with_metadata("contentType", "image/png");
    let error = bindings.invoke("mail", bad).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadRequest);
    assert_eq!(error.message, r#"SES binding error: contentType must be text/html or text/plain, got "image/png""#);
}

#[tokio::test]
async fn each_missing_field_is_named_and_nothing_is_sent() {
    let (emulator, bindings, _dir) = setup(&[]).await;
    let marker = emulator.unique("never-sent");
    let full = [("emailFrom", FROM), ("emailTo", "ops@example.com"), ("subject", marker.as_str())];
    for missing in ["emailFrom", "emailTo", "subject"] {
        let mut request = InvokeRequest::new("create", marker.clone());
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
    assert_eq!(unsupported.kind, ErrorKind::UnsupportedOperation);
    assert_eq!(unsupported.message, "binding mail does not support operation get. supported operations:create");
    let injected = full.iter().fold(InvokeRequest::new("create", marker.clone()), |r, (k, v)| r.with_metadata(*k, *v));
    let injected = injected.with_metadata("subject", format!("{marker}\r\nBcc: everyone@example.com"));
    assert_eq!(bindings.invoke("mail", injected).await.unwrap_err().kind, ErrorKind::BadRequest);

    let sent: Vec<_> = emulator.sent_emails().await.into_iter().filter(|m| m["body"] == marker.as_str()).collect();
    assert!(sent.is_empty(), "{sent:?}");
}

#[tokio::test]
async fn an_unverified_sender_is_the_services_error() {
    let (_emulator, bindings, _dir) = setup(&[("emailTo", "ops@example.com"), ("subject", "s")]).await;
    let request = InvokeRequest::new("create", "x").with_metadata("emailFrom", "stranger@example.org");
    let error = bindings.invoke("mail", request).await.unwrap_err();
    assert!(error.message.starts_with("SES binding error: "), "{error}");
    assert!(error.message.contains("stranger@example.org"), "{error}");
    assert_eq!(error.kind, ErrorKind::Other, "{error}");
}

#[tokio::test]
async fn a_bad_default_stops_the_load() {
    let emulator = Emulator::from_env();
    let dir = tempfile::tempdir().unwrap();
    let yaml = emulator.component("mail", "bindings.aws.ses", &[("emailFrom", FROM), ("contentType", "markdown")]);
    std::fs::write(dir.path().join("c.yaml"), yaml).unwrap();
    let Err(error) = Bindings::load(dir.path()).await else { panic!("loaded") };
    let text = error.to_string();
    assert!(text.contains("contentType") && text.contains("must be text/html or text/plain"), "{text}");
}
