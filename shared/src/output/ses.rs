//! `bindings.aws.ses`: operation `create` sends one email through SES v2,
//! with Dapr's metadata (see [`super::email`]). Two fixes over Dapr: a body
//! delivered raw (as gRPC delivers it) is accepted, where Dapr fails to
//! unquote it; and the SES message id is returned (`messageId` in the response
//! metadata), where Dapr only logs it.

use aws_config::SdkConfig;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use super::aws::sdk_error;
use super::binding::{BoxFuture, InvokeRequest, InvokeResponse, InvokeResult, OutputBinding, operation};
use super::email::{Email, email_from};
use super::error::InvokeError;
use crate::component::{FieldError, Metadata};

const PREFIX: &str = "SES binding error";

pub struct SesBinding {
    client: Client,
    metadata: Metadata,
}

impl SesBinding {
    pub fn from_metadata(metadata: &Metadata, config: &SdkConfig) -> Result<Self, Vec<FieldError>> {
        Ok(Self { client: Client::new(config), metadata: metadata.clone() })
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
            .map_err(|e| sdk_error(PREFIX, e))?;
        let id = output.message_id.unwrap_or_default();
        Ok(Some(InvokeResponse::default().with_metadata("messageId", id)))
    }
}

fn destination(email: &Email) -> Destination {
    Destination::builder()
        .set_to_addresses(Some(email.to.clone()))
        .set_cc_addresses((!email.cc.is_empty()).then(|| email.cc.clone()))
        .set_bcc_addresses((!email.bcc.is_empty()).then(|| email.bcc.clone()))
        .build()
}

fn content(email: &Email) -> Result<EmailContent, InvokeError> {
    let utf8 = |text: &str| {
        aws_sdk_sesv2::types::Content::builder()
            .data(text)
            .charset("UTF-8")
            .build()
            .map_err(|e| InvokeError::bad_request(format!("{PREFIX}: {e}")))
    };
    let text: Content = utf8(&email.body)?;
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
