//! `bindery-sns`: an SNS notification becomes one `POST /<binding>` per
//! record, checked first against the component's topic and, when it asks
//! (`verifySignature: true`), against SNS's signature.
//!
//! SNS invokes the function asynchronously: a record refused or not
//! acknowledged fails the invocation, for Lambda's retries
//! (`notification::deliver_each`). SNS can also reach it over HTTP, through
//! an API Gateway route or a Function URL ([`http`]).

mod certificates;
mod http;

use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};
use tokio::time::Instant;

use super::lifecycle::{self, InputFunction};
use super::notification::Refusal;
use super::notification::deliver_each;
use super::setup::FunctionSetup;
use super::startup::StartupError;
use crate::component::{BindingKind, EnvLookup};
use crate::deliver::App;
use crate::function::unreadable_event;
use crate::input::apigw::{ApiGatewayResponse, read_request};
use crate::input::sns::{SnsNotification, SnsSourceConfig, parse_event};
use crate::telemetry::metrics::Failure;
use certificates::Certificates;

/// The SNS function, configured.
pub struct SnsFunction {
    setup: FunctionSetup,
    topic_arn: String,
    /// `verifySignature`: check the records of direct invocations too.
    verify_records: bool,
    certificates: Certificates,
}

impl std::fmt::Debug for SnsFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnsFunction").field("topic_arn", &self.topic_arn).finish_non_exhaustive()
    }
}

impl InputFunction for SnsFunction {
    const NAME: &'static str = "bindery-sns";
    const KIND: BindingKind = BindingKind::AwsSns;
    type Config = (SnsSourceConfig, Certificates);
    /// Nothing for a direct invocation; the HTTP answer for a delivery over HTTP.
    type Answer = Option<ApiGatewayResponse>;

    fn config(setup: &FunctionSetup, _: EnvLookup<'_>) -> Result<Self::Config, StartupError> {
        let config =
            SnsSourceConfig::from_metadata(&setup.component.metadata).map_err(|e| StartupError::from_fields(&e))?;
        let certificates = Certificates::new(config.signing_certificate.as_deref()).map_err(StartupError)?;
        Ok((config, certificates))
    }

    fn new(setup: FunctionSetup, (config, certificates): Self::Config) -> Self {
        Self { setup, topic_arn: config.topic_arn, verify_records: config.verify_signature, certificates }
    }

    async fn handle(&self, payload: &Bytes, context: &Context) -> Result<Self::Answer, Diagnostic> {
        let records = match parse_event(payload) {
            Ok(records) => records,
            Err(not_sns) => {
                // Not a direct invocation: an HTTP delivery, or nothing bindery knows.
                let request = read_request(payload).map_err(|_| {
                    let why = format!("{} (nor an API Gateway or Function URL request)", not_sns.message);
                    unreadable_event("Bindery.InvalidEvent", why)
                })?;
                return Ok(Some(self.handle_http(request, context).await));
            }
        };
        deliver_each(&self.setup, context, "SNS", &records, |record, deadline| async move {
            let notification = SnsNotification::from_record(record).map_err(|e| (Failure::InvalidEvent, e.message))?;
            self.check(&notification, self.verify_records, deadline).await?;
            Ok(notification.event())
        })
        .await
        .map(|()| None)
    }
}

impl SnsFunction {
    /// The message is of this binding's topic and, when `verify`, signed by SNS.
    async fn check(&self, notification: &SnsNotification<'_>, verify: bool, deadline: Instant) -> Result<(), Refusal> {
        if notification.topic_arn != self.topic_arn {
            let why = format!(
                "the record is from topic {:?}; this binding is for {:?}",
                notification.topic_arn, self.topic_arn
            );
            return Err((Failure::InvalidEvent, why));
        }
        if !verify {
            return Ok(());
        }
        let url = notification.signature.as_ref().map(|s| s.cert_url.as_ref()).unwrap_or_default();
        let refused = |message: String| (Failure::Verification, message);
        let certificate = self.certificates.get(url, deadline).await.map_err(|e| refused(e.message))?;
        notification.verify(&certificate).map_err(|e| refused(e.message))
    }
}

/// `main` of `bindery-sns`.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    run_with(None).await
}

/// Runs the function with the given app instead of `BINDERY_APP_URL`.
pub async fn run_with(app: Option<App>) -> Result<(), lambda_runtime::Error> {
    lifecycle::run::<SnsFunction>(app, None).await
}
