//! `bindings.local.mailbox`: the local stand-in for SES. Each `create` is
//! written to `rootPath` (created when the binding is built) as an RFC 5322
//! `.eml` file, which any mail client opens. Its metadata is the SES
//! binding's (see [`super::email`]): `emailFrom`, `emailTo`, `emailCc`,
//! `emailBcc`, `subject`, and bindery's `contentType: text/plain`.
//!
//! - File names are `<UTC time, to the millisecond>-<message id>.eml`, so a
//!   folder listing sorts by sending time; each file is written atomically.
//! - The response carries the message id as `messageId` in its metadata (as
//!   the SES binding does) and no data.
//! - Bcc: a delivered message does not show its Bcc recipients, so there is
//!   no `Bcc:` header that a mail client would display as part of the
//!   message. But a local mailbox exists so the developer sees what would
//!   have been sent, to whom, so they are kept in an `X-Bindery-Bcc` header.
//! - An address may be `Name <address>`; the name is encoded as needed.

use std::path::{Path, PathBuf};

use chrono::Utc;
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;

use super::email::{EmailMessage, email_from};
use super::error::InvokeError;
use super::localstorage::{create_root, write_atomically};
use super::{BoxFuture, InvokeRequest, InvokeResponse, InvokeResult, OutputBinding, operation};
use crate::component::{FieldError, Metadata};

const PREFIX: &str = "mailbox binding error";
/// The header that records Bcc recipients.
pub const BCC_HEADER: &str = "X-Bindery-Bcc";

/// The component's settings, checked without touching the disk: `rootPath`
/// is made real (and created) when the binding is built. The default
/// addresses are read at each send, as the request may give them instead.
#[derive(Debug, Clone)]
pub struct MailboxConfig {
    /// `rootPath` as written.
    pub root_path: String,
}

impl MailboxConfig {
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let root_path = metadata.required("rootPath").map_err(|e| vec![e])?;
        Ok(Self { root_path: root_path.to_owned() })
    }
}

pub struct MailboxBinding {
    root: PathBuf,
    /// Default `emailFrom`, `emailTo`, ... for every request.
    metadata: Metadata,
}

impl MailboxBinding {
    /// `rootPath` (created if missing, system folders refused, see
    /// [`super::localstorage`]) and the component's default addresses.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let MailboxConfig { root_path } = MailboxConfig::from_metadata(metadata)?;
        let root = create_root(&root_path).map_err(|e| vec![e])?;
        Ok(Self { root, metadata: metadata.clone() })
    }

    /// The real folder the emails are written to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    async fn create(&self, request: &InvokeRequest) -> InvokeResult {
        let email = email_from(&self.metadata, request, PREFIX)?;
        let now = Utc::now();
        let message_id = format!("{}@bindery.local", uuid::Uuid::new_v4());
        let bytes = render(&email, &message_id, now.timestamp())?;
        let name = format!("{}-{message_id}.eml", now.format("%Y%m%dT%H%M%S%.3fZ"));
        write_atomically(&self.root.join(name), &bytes)
            .await
            .map_err(|e| InvokeError::other(format!("{PREFIX}: cannot write the email: {e}")))?;
        Ok(Some(InvokeResponse::default().with_metadata("messageId", message_id)))
    }
}

/// `Name <address>` or a bare address.
fn address(text: &str) -> Address<'_> {
    let parts = text.strip_suffix('>').and_then(|inner| {
        let open = inner.rfind('<')?;
        let name = inner.get(..open)?.trim().trim_matches('"').trim();
        Some((name, inner.get(open + 1..)?.trim()))
    });
    match parts {
        Some((name, email)) => Address::new_address((!name.is_empty()).then_some(name), email),
        None => Address::new_address(None::<&str>, text),
    }
}

fn addresses(list: &[String]) -> Address<'_> {
    Address::new_list(list.iter().map(|a| address(a)).collect())
}

/// The email as RFC 5322 text: Date, Message-ID, From, To, Cc, Subject
/// (encoded words when not ASCII), MIME-Version and Content-Type.
fn render(email: &EmailMessage, message_id: &str, date: i64) -> Result<Vec<u8>, InvokeError> {
    let mut message = MessageBuilder::new()
        .from(address(&email.from))
        .to(addresses(&email.to))
        .subject(email.subject.as_str())
        .message_id(message_id)
        .date(date);
    if !email.cc.is_empty() {
        message = message.cc(addresses(&email.cc));
    }
    if !email.bcc.is_empty() {
        message = message.header(BCC_HEADER, addresses(&email.bcc));
    }
    message = if email.html { message.html_body(email.body.as_str()) } else { message.text_body(email.body.as_str()) };
    message.write_to_vec().map_err(|e| InvokeError::other(format!("{PREFIX}: cannot build the email: {e}")))
}

impl OutputBinding for MailboxBinding {
    fn operations(&self) -> &'static [&'static str] {
        &[operation::CREATE]
    }

    /// Each `create` writes one more email.
    fn is_idempotent(&self, _request: &InvokeRequest) -> bool {
        false
    }

    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(async move {
            match request.operation.as_str() {
                operation::CREATE => self.create(&request).await,
                other => Err(InvokeError::unsupported("local.mailbox", other, self.operations())),
            }
        })
    }
}

#[cfg(test)]
mod tests;
