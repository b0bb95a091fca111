//! `bindings.aws.ses`: operation `create` sends one email through SES v2
//! (`SendEmail`, simple content, UTF-8), with Dapr's metadata read by
//! [`super::email`]: `emailFrom`, `emailTo`, `emailCc`, `emailBcc` and
//! `subject` from the component, overridden per request, keys matched
//! case-insensitively, address lists `;`-separated.
//!
//! Where bindery differs from daprd:
//! - A body delivered raw (as gRPC delivers it) is accepted; Dapr fails to
//!   unquote it. A quoted body (the HTTP API's) is unquoted, as Dapr does.
//! - `contentType: text/plain` sends a text body; Dapr only sends HTML (still
//!   the default).
//! - The response carries the SES message id as `messageId` in its metadata,
//!   with no data (the HTTP API's 200 and a `metadata.messageId` header);
//!   Dapr only logs the id and answers 204.
//! - The component's defaults are checked when it is loaded (a `contentType`
//!   that is neither HTML nor text, a line break in an address), not at the
//!   first send.
//! - SES's `BadRequestException` (e.g. a malformed address) is a bad request,
//!   so it is never retried; `NotFoundException` is "not found".
//!
//! Sending is not idempotent: a repeated `SendEmail` sends the mail twice, so
//! the retry layer repeats it only when SES throttled it (not sent).

use aws_config::SdkConfig;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::http::HttpResponse;
use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use super::aws::sdk_error;
use super::config::SesConfig;
use super::config::ses::PREFIX;
use super::email::{EmailMessage, email_from};
use super::error::{ErrorKind, InvokeError};
use super::{BoxFuture, InvokeRequest, InvokeResponse, InvokeResult, OutputBinding, operation};
use crate::component::{FieldError, Metadata};

pub struct SesBinding {
    client: Client,
    /// The component's metadata: the default of every email field.
    metadata: Metadata,
}

impl SesBinding {
    /// Checks the component's email defaults (none is required: each may come
    /// with the request) and keeps them.
    pub fn from_metadata(metadata: &Metadata, config: &SdkConfig) -> Result<Self, Vec<FieldError>> {
        let SesConfig { defaults, .. } = SesConfig::from_metadata(metadata)?;
        Ok(Self { client: Client::new(config), metadata: defaults })
    }

    async fn create(&self, request: InvokeRequest) -> InvokeResult {
        let email = email_from(&self.metadata, &request, PREFIX)?;
        let output = self
            .client
            .send_email()
            .from_email_address(&email.from)
            .destination(destination(&email))
            .content(content(&email)?)
            .send()
            .await
            .map_err(send_error)?;
        let mut response = InvokeResponse::default();
        if let Some(id) = output.message_id {
            response = response.with_metadata("messageId", id);
        }
        Ok(Some(response))
    }
}

/// The SDK error, with SES's "your request is wrong" and "no such thing"
/// answers given their kinds ([`sdk_error`] calls every 4xx "other").
fn send_error(error: SdkError<SendEmailError, HttpResponse>) -> InvokeError {
    let kind = match error.as_service_error() {
        Some(SendEmailError::BadRequestException(_)) => Some(ErrorKind::BadRequest),
        Some(SendEmailError::NotFoundException(_)) => Some(ErrorKind::NotFound),
        _ => None,
    };
    let mut invoke_error = sdk_error(PREFIX, error);
    if let Some(kind) = kind {
        invoke_error.kind = kind;
    }
    invoke_error
}

fn destination(email: &EmailMessage) -> Destination {
    Destination::builder()
        .set_to_addresses(Some(email.to.clone()))
        .set_cc_addresses((!email.cc.is_empty()).then(|| email.cc.clone()))
        .set_bcc_addresses((!email.bcc.is_empty()).then(|| email.bcc.clone()))
        .build()
}

/// Simple content: the subject, and the body as HTML or as text, both UTF-8.
fn content(email: &EmailMessage) -> Result<EmailContent, InvokeError> {
    let utf8 = |text: &str| {
        Content::builder()
            .data(text)
            .charset("UTF-8")
            .build()
            .map_err(|e| InvokeError::bad_request(format!("{PREFIX}: {e}")))
    };
    let text = utf8(&email.body)?;
    let body = if email.html { Body::builder().html(text).build() } else { Body::builder().text(text).build() };
    let message = Message::builder().subject(utf8(&email.subject)?).body(body).build();
    Ok(EmailContent::builder().simple(message).build())
}

impl OutputBinding for SesBinding {
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
    use aws_config::{BehaviorVersion, Region};

    use super::*;
    use crate::component::ConfigErrorKind;

    fn config() -> SdkConfig {
        SdkConfig::builder().behavior_version(BehaviorVersion::latest()).region(Region::new("us-east-1")).build()
    }

    fn email(html: bool) -> EmailMessage {
        EmailMessage {
            from: "app@example.com".into(),
            to: vec!["ops@example.com".into()],
            cc: vec![],
            bcc: vec![],
            subject: "Réunion".into(),
            body: "<p>hé</p>".into(),
            html,
        }
    }

    #[test]
    fn html_by_default_text_when_asked() {
        let html = content(&email(true)).unwrap();
        let simple = html.simple().unwrap();
        assert_eq!(simple.subject().map(|s| (s.data(), s.charset())), Some(("Réunion", Some("UTF-8"))));
        let body = simple.body().unwrap();
        assert_eq!(body.html().map(|c| (c.data(), c.charset())), Some(("<p>hé</p>", Some("UTF-8"))));
        assert!(body.text().is_none());

        let text = content(&email(false)).unwrap();
        let body = text.simple().unwrap().body().unwrap();
        assert_eq!(body.text().map(Content::data), Some("<p>hé</p>"));
        assert!(body.html().is_none());
    }

    #[test]
    fn cc_and_bcc_are_left_out_when_empty() {
        let mut e = email(true);
        let d = destination(&e);
        assert_eq!(d.to_addresses(), ["ops@example.com"]);
        assert!(d.cc_addresses.is_none() && d.bcc_addresses.is_none());
        e.cc = vec!["c@example.com".into()];
        e.bcc = vec!["d@example.com".into(), "e@example.com".into()];
        let d = destination(&e);
        assert_eq!(
            (d.cc_addresses(), d.bcc_addresses()),
            (&["c@example.com".to_owned()][..], &["d@example.com".to_owned(), "e@example.com".to_owned()][..])
        );
    }

    #[test]
    fn no_default_is_required() {
        assert!(SesBinding::from_metadata(&Metadata::default(), &config()).is_ok());
        let full = Metadata::from_pairs([
            ("emailFrom", "app@example.com"),
            ("EMAILTO", "a@example.com; b@example.com"),
            ("emailCc", "c@example.com"),
            ("emailBcc", "d@example.com"),
            ("subject", "Hi"),
            ("contentType", "text/plain"),
        ]);
        assert!(SesBinding::from_metadata(&full, &config()).is_ok());
    }

    #[test]
    fn bad_defaults_fail_at_load_naming_the_field() {
        let metadata = Metadata::from_pairs([
            ("emailFrom", "app@example.com"),
            ("emailTo", " ; "),
            ("subject", "Hi\r\nBcc: everyone@example.com"),
            ("ContentType", "image/png"),
        ]);
        let Err(errors) = SesBinding::from_metadata(&metadata, &config()) else { panic!("accepted") };
        let found: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(
            found,
            [
                ("emailTo", "emailTo holds no address"),
                ("subject", "subject must not contain line breaks or control characters"),
                ("contentType", "contentType must be text/html or text/plain, got \"image/png\""),
            ]
        );
        assert!(errors.iter().all(|e| e.kind == ConfigErrorKind::InvalidValue));
    }
}
