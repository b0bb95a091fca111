use mail_parser::{Message, MessageParser, MimeHeaders};

use super::*;
use crate::component::ConfigErrorKind;
use crate::output::ErrorKind;

fn mailbox(dir: &Path) -> MailboxBinding {
    let root = dir.join("mail/box").display().to_string();
    MailboxBinding::from_metadata(&Metadata::from_pairs([
        ("rootPath", root.as_str()),
        ("emailFrom", "app@example.com"),
        ("emailTo", "ops@example.com"),
    ]))
    .unwrap()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

fn only_file(dir: &Path) -> Vec<u8> {
    let files = files(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    std::fs::read(&files[0]).unwrap()
}

fn parse(bytes: &[u8]) -> Message<'_> {
    MessageParser::default().parse(bytes).unwrap()
}

fn addresses<'a>(address: Option<&'a mail_parser::Address<'a>>) -> Vec<&'a str> {
    address.map(|a| a.iter().filter_map(|a| a.address()).collect()).unwrap_or_default()
}

/// The header part of the raw file, unfolded, for what must (not) appear in it.
fn raw_headers(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.split("\r\n\r\n").next().unwrap().replace("\r\n\t", " ").replace("\r\n ", " ")
}

#[tokio::test]
async fn writes_an_rfc5322_file_that_parses_back() {
    let dir = tempfile::tempdir().unwrap();
    let mailbox = mailbox(dir.path());
    let request = InvokeRequest::new("create", r#""<p>Résumé ready</p>""#)
        .with_metadata("subject", "Nightly ✓ résumé")
        .with_metadata("emailTo", "Zoë Ops <ops@example.com>; dev@example.com")
        .with_metadata("emailCC", "cc1@example.com; cc2@example.com")
        .with_metadata("emailBcc", "hidden@example.com;Secret Boss <boss@example.com>");
    let response = mailbox.invoke(request).await.unwrap().unwrap();
    assert!(response.data.is_empty());
    let id = response.metadata["messageId"].clone();
    assert!(id.ends_with("@bindery.local"), "{id}");

    let bytes = only_file(mailbox.root());
    let message = parse(&bytes);
    assert_eq!(message.message_id(), Some(id.as_str()));
    assert!(message.date().is_some());
    assert_eq!(message.mime_version().as_text(), Some("1.0"));
    assert_eq!(message.subject(), Some("Nightly ✓ résumé"));
    assert_eq!(addresses(message.from()), ["app@example.com"]);
    assert_eq!(addresses(message.to()), ["ops@example.com", "dev@example.com"]);
    assert_eq!(message.to().unwrap().first().unwrap().name(), Some("Zoë Ops"));
    assert_eq!(addresses(message.cc()), ["cc1@example.com", "cc2@example.com"]);
    let content_type = message.content_type().unwrap();
    assert_eq!((content_type.ctype(), content_type.subtype()), ("text", Some("html")));
    assert_eq!(message.body_html(0).unwrap().trim(), "<p>Résumé ready</p>");

    // Bcc is recorded for the developer, never as a header a recipient would see.
    assert!(message.bcc().is_none());
    let bcc = message.header_raw(BCC_HEADER).unwrap();
    assert!(bcc.contains("<hidden@example.com>") && bcc.contains("<boss@example.com>"), "{bcc}");
    let headers = raw_headers(&bytes);
    let visible: String = headers.lines().filter(|l| !l.starts_with(BCC_HEADER)).collect();
    assert!(!visible.contains("hidden@") && !visible.contains("boss@"), "{headers}");
    // Headers are ASCII: non-ASCII text went into encoded words.
    assert!(headers.is_ascii(), "{headers}");
    assert!(headers.contains("=?utf-8?"), "{headers}");
}

#[tokio::test]
async fn text_bodies_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mailbox = mailbox(dir.path());
    let request = InvokeRequest::new("create", "plain <words>\nline two")
        .with_metadata("subject", "s")
        .with_metadata("ContentType", "TEXT/plain");
    mailbox.invoke(request).await.unwrap();
    let bytes = only_file(mailbox.root());
    let message = parse(&bytes);
    let content_type = message.content_type().unwrap();
    assert_eq!((content_type.ctype(), content_type.subtype()), ("text", Some("plain")));
    assert_eq!(message.body_text(0).unwrap().replace("\r\n", "\n").trim(), "plain <words>\nline two");
    assert!(message.cc().is_none() && message.header(BCC_HEADER).is_none());
}

#[tokio::test]
async fn quoted_and_raw_bodies_give_the_same_email() {
    let dir = tempfile::tempdir().unwrap();
    let mailbox = mailbox(dir.path());
    let meta = |r: InvokeRequest| r.with_metadata("subject", "s");
    mailbox.invoke(meta(InvokeRequest::new("create", r#""<b>hé</b>""#))).await.unwrap();
    mailbox.invoke(meta(InvokeRequest::new("create", "<b>hé</b>"))).await.unwrap();
    let files = files(mailbox.root());
    assert_eq!(files.len(), 2);
    for file in files {
        let bytes = std::fs::read(file).unwrap();
        assert_eq!(parse(&bytes).body_html(0).unwrap().trim(), "<b>hé</b>");
    }
}

#[tokio::test]
async fn files_sort_by_time_and_are_named_by_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let mailbox = mailbox(dir.path());
    let mut ids = Vec::new();
    for n in 0..3 {
        let request = InvokeRequest::new("create", "x").with_metadata("subject", format!("mail {n}"));
        ids.push(mailbox.invoke(request).await.unwrap().unwrap().metadata["messageId"].clone());
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let files = files(mailbox.root());
    for ((file, id), n) in files.iter().zip(&ids).zip(0..) {
        let name = file.file_name().unwrap().to_str().unwrap();
        // 20261128T211520.123Z-<id>.eml
        assert_eq!(name.len(), "20261128T211520.123Z-".len() + id.len() + ".eml".len(), "{name}");
        assert!(name.ends_with(&format!("-{id}.eml")), "{name}");
        assert_eq!(parse(&std::fs::read(file).unwrap()).subject(), Some(format!("mail {n}").as_str()));
    }
}

#[tokio::test]
async fn missing_fields_and_bad_requests_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mailbox = mailbox(dir.path());
    let error = mailbox.invoke(InvokeRequest::new("create", "x")).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadRequest);
    assert_eq!(
        error.message,
        "mailbox binding error: subject property not supplied in configuration- or request-metadata"
    );
    let injected = InvokeRequest::new("create", "x").with_metadata("subject", "Hi\r\nBcc: all@example.com");
    assert_eq!(mailbox.invoke(injected).await.unwrap_err().kind, ErrorKind::BadRequest);
    let binary = InvokeRequest::new("create", vec![0xff]).with_metadata("subject", "s");
    assert_eq!(mailbox.invoke(binary).await.unwrap_err().kind, ErrorKind::BadRequest);
    let other = mailbox.invoke(InvokeRequest::new("get", "")).await.unwrap_err();
    assert_eq!(other.kind, ErrorKind::UnsupportedOperation);
    assert!(files(mailbox.root()).is_empty());
}

#[test]
fn built_from_its_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let mailbox = mailbox(dir.path());
    assert!(mailbox.root().is_dir(), "rootPath is created");
    assert!(!mailbox.is_idempotent(&InvokeRequest::new("create", "x")));
    assert_eq!(mailbox.operations(), ["create"]);

    let missing = MailboxBinding::from_metadata(&Metadata::from_pairs([("emailFrom", "a@x")])).err().unwrap();
    assert_eq!((missing[0].field.as_str(), missing[0].kind), ("rootPath", ConfigErrorKind::MissingField));
    let system =
        MailboxBinding::from_metadata(&Metadata::from_pairs([("rootPath", "/proc/bindery-mail")])).err().unwrap();
    assert_eq!((system[0].field.as_str(), system[0].kind), ("rootPath", ConfigErrorKind::InvalidValue));
}

#[test]
fn addresses_with_names() {
    let parsed = |text: &str| match address(text) {
        Address::Address(a) => (a.name.map(|n| n.into_owned()), a.email.into_owned()),
        other => panic!("{other:?}"),
    };
    assert_eq!(parsed("a@x"), (None, "a@x".to_owned()));
    assert_eq!(parsed("Ann <a@x>"), (Some("Ann".to_owned()), "a@x".to_owned()));
    assert_eq!(parsed("\"Doe, Ann\" < a@x >"), (Some("Doe, Ann".to_owned()), "a@x".to_owned()));
    assert_eq!(parsed("<a@x>"), (None, "a@x".to_owned()));
    for odd in [">", "<>", "a>", "<", "é <>"] {
        let _ = parsed(odd);
    }
}
