//! `bindings.local.mailbox`: the local stand-in for SES. Each `create` is
//! written to `rootPath` as an RFC 5322 `.eml` file, which any mail client
//! opens, with the same metadata as the SES binding (see [`super::email`]).
//!
//! Bcc recipients are not part of a delivered message's headers, but a local
//! mailbox exists so the developer can see what would have been sent, so they
//! are kept in an `X-Bindery-Bcc` header.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use mail_builder::MessageBuilder;
use mail_builder::headers::text::Text;

use super::binding::{BoxFuture, InvokeRequest, InvokeResponse, InvokeResult, OutputBinding, operation};
use super::email::{Email, email_from};
use super::error::InvokeError;
use super::localstorage::{create_root, write_atomically};
use crate::component::{FieldError, Metadata};

const PREFIX: &str = "mailbox binding error";

pub struct Mailbox {
    root: PathBuf,
    metadata: Metadata,
}

impl Mailbox {
    /// `rootPath` (created if missing) and the default `emailFrom`, `emailTo`, ... of the component.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let root = create_root(metadata).map_err(|e| vec![e])?;
        Ok(Self { root, metadata: metadata.clone() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    async fn create(&self, request: InvokeRequest) -> InvokeResult {
        let email = email_from(&self.metadata, &request, PREFIX)?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let message_id = format!("{}@bindery.local", uuid::Uuid::new_v4());
        let bytes = render(&email, &message_id, now.as_secs() as i64)?;
        // Sortable by time, unique by id.
        let name = format!("{}-{}.eml", now.as_millis(), &message_id[..8]);
        write_atomically(&self.root.join(name), &bytes)
            .await
            .map_err(|e| InvokeError::other(format!("{PREFIX}: cannot write the email: {e}")))?;
        Ok(Some(InvokeResponse::default().with_metadata("messageId", message_id)))
    }
}

fn list(addresses: &[String]) -> Vec<&str> {
    addresses.iter().map(String::as_str).collect()
}

/// The email as RFC 5322 text, with non-ASCII headers as encoded words.
fn render(email: &Email, message_id: &str, date: i64) -> Result<Vec<u8>, InvokeError> {
    let mut message = MessageBuilder::new()
        .from(email.from.as_str())
        .to(list(&email.to))
        .subject(email.subject.as_str())
        .message_id(message_id)
        .date(date);
    if !email.cc.is_empty() {
        message = message.cc(list(&email.cc));
    }
    if !email.bcc.is_empty() {
        message = message.header("X-Bindery-Bcc", Text::new(email.bcc.join(", ")));
    }
    message = if email.html { message.html_body(email.body.as_str()) } else { message.text_body(email.body.as_str()) };
    message.write_to_vec().map_err(|e| InvokeError::other(format!("{PREFIX}: cannot build the email: {e}")))
}

impl OutputBinding for Mailbox {
    fn operations(&self) -> &'static [&'static str] {
        &[operation::CREATE]
    }

    fn is_idempotent(&self, _request: &InvokeRequest) -> bool {
        false
    }

    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(self.create(request))
    }
}

#[cfg(test)]
mod tests {
    use mail_parser::MessageParser;

    use super::*;

    fn mailbox(dir: &Path) -> Mailbox {
        let root = dir.join("mail").display().to_string();
        Mailbox::from_metadata(&Metadata::from_pairs([
            ("rootPath", root.as_str()),
            ("emailFrom", "app@example.com"),
            ("emailTo", "ops@example.com"),
        ]))
        .unwrap()
    }

    fn only_file(dir: &Path) -> Vec<u8> {
        let files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(files[0].extension().unwrap(), "eml");
        std::fs::read(&files[0]).unwrap()
    }

    #[tokio::test]
    async fn writes_an_rfc5322_file_that_parses_back() {
        let dir = tempfile::tempdir().unwrap();
        let mailbox = mailbox(dir.path());
        let request = InvokeRequest::new("create", r#""<p>Résumé ready</p>""#)
            .with_metadata("subject", "Nightly ✓ résumé")
            .with_metadata("emailCC", "cc1@example.com; cc2@example.com")
            .with_metadata("emailBcc", "hidden@example.com");
        let response = mailbox.invoke(request).await.unwrap().unwrap();
        let id = response.metadata["messageId"].clone();

        let bytes = only_file(mailbox.root());
        let message = MessageParser::default().parse(&bytes).unwrap();
        assert_eq!(message.message_id(), Some(id.as_str()));
        assert_eq!(message.subject(), Some("Nightly ✓ résumé"));
        assert_eq!(message.from().unwrap().first().unwrap().address(), Some("app@example.com"));
        assert_eq!(message.to().unwrap().first().unwrap().address(), Some("ops@example.com"));
        let cc: Vec<_> = message.cc().unwrap().iter().filter_map(|a| a.address()).collect();
        assert_eq!(cc, ["cc1@example.com", "cc2@example.com"]);
        assert_eq!(message.body_html(0).unwrap().trim(), "<p>Résumé ready</p>");
        assert!(message.header("X-Bindery-Bcc").is_some());
        assert!(message.bcc().is_none(), "Bcc is not a visible header");
    }

    #[tokio::test]
    async fn text_bodies_and_raw_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let mailbox = mailbox(dir.path());
        let request = InvokeRequest::new("create", "plain words")
            .with_metadata("subject", "s")
            .with_metadata("contentType", "text/plain");
        mailbox.invoke(request).await.unwrap();
        let bytes = only_file(mailbox.root());
        let message = MessageParser::default().parse(&bytes).unwrap();
        assert_eq!(message.body_text(0).unwrap().trim(), "plain words");
        assert!(message.html_body_count() == 0 || message.body_html(0).is_some_and(|h| !h.contains("<p>")));
    }

    #[tokio::test]
    async fn missing_fields_are_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let mailbox = mailbox(dir.path());
        let error = mailbox.invoke(InvokeRequest::new("create", "x")).await.unwrap_err();
        assert_eq!(
            error.message,
            "mailbox binding error: subject property not supplied in configuration- or request-metadata"
        );
        assert_eq!(std::fs::read_dir(mailbox.root()).unwrap().count(), 0);
    }
}
