//! `bindery-sns`: an SNS notification becomes one `POST /<binding>` per
//! record, checked first against the component's topic and, when it asks
//! (`verifySignature: true`), against SNS's signature.
//!
//! SNS invokes the function asynchronously, so there is no partial-batch
//! answer: a record that is refused or not acknowledged fails the
//! invocation, and Lambda's asynchronous retries and on-failure queue take
//! over (SNS sends one record per invocation).

mod certificates;

use std::time::Instant as StdInstant;

use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};
use tokio::time::Instant;
use tracing::{info, warn};

use super::lifecycle::{self, InputFunction};
use super::setup::FunctionSetup;
use super::startup::StartupError;
use crate::component::{BindingKind, EnvLookup};
use crate::deliver::App;
use crate::input::sns::{SnsNotification, SnsSourceConfig, parse_event};
use crate::input::trace::traceparent_from_xray;
use certificates::Certificates;

/// The SNS function, configured.
pub struct SnsFunction {
    setup: FunctionSetup,
    topic_arn: String,
    /// `None` when signatures are not checked.
    certificates: Option<Certificates>,
}

impl std::fmt::Debug for SnsFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnsFunction").field("topic_arn", &self.topic_arn).finish_non_exhaustive()
    }
}

impl InputFunction for SnsFunction {
    const NAME: &'static str = "bindery-sns";
    const KIND: BindingKind = BindingKind::AwsSns;
    type Config = (String, Option<Certificates>);
    type Answer = ();

    fn config(setup: &FunctionSetup, _: EnvLookup<'_>) -> Result<Self::Config, StartupError> {
        let config =
            SnsSourceConfig::from_metadata(&setup.component.metadata).map_err(|e| StartupError::from_fields(&e))?;
        let certificates = match config.verify_signature {
            false => None,
            true => Some(Certificates::new(config.signing_certificate.as_deref()).map_err(StartupError)?),
        };
        Ok((config.topic_arn, certificates))
    }

    fn new(setup: FunctionSetup, (topic_arn, certificates): Self::Config) -> Self {
        Self { setup, topic_arn, certificates }
    }

    async fn handle(&self, payload: &Bytes, context: &Context) -> Result<(), Diagnostic> {
        let started = StdInstant::now();
        let binding = &self.setup.component.name;
        let records = parse_event(payload)
            .map_err(|e| Diagnostic { error_type: "Bindery.InvalidEvent".into(), error_message: e.message })?;
        let deadline = self.setup.deadline.until(context.deadline);
        let traceparent = context.xray_trace_id.as_deref().and_then(traceparent_from_xray);
        let mut failed = 0;
        for (index, record) in records.iter().enumerate() {
            let result = match SnsNotification::from_record(record) {
                Err(e) => Err(e.message),
                Ok(notification) => match self.check(&notification, deadline).await {
                    Err(reason) => Err(reason),
                    Ok(()) => {
                        let mut event = notification.event();
                        event.traceparent.clone_from(&traceparent);
                        let delivery = self.setup.deliverer.deliver(event, deadline);
                        self.setup.stopping.bound(deadline, delivery).await.map_err(|e| e.message)
                    }
                },
            };
            if let Err(reason) = result {
                failed += 1;
                warn!(binding = %binding, record = index, error = %reason, "record failed");
            }
        }
        let latency_ms = started.elapsed().as_millis() as u64;
        info!(binding = %binding, records = records.len(), failed, latency_ms, "notification done");
        match failed {
            0 => Ok(()),
            _ => Err(Diagnostic {
                error_type: "Bindery.DeliveryFailed".into(),
                error_message: format!(
                    "{failed} of {} SNS records were not delivered; Lambda will retry",
                    records.len()
                ),
            }),
        }
    }
}

impl SnsFunction {
    /// The record is of this binding's topic and, when asked, signed by SNS.
    async fn check(&self, notification: &SnsNotification<'_>, deadline: Instant) -> Result<(), String> {
        if notification.topic_arn != self.topic_arn {
            return Err(format!(
                "the record is from topic {:?}; this binding is for {:?}",
                notification.topic_arn, self.topic_arn
            ));
        }
        let Some(certificates) = &self.certificates else { return Ok(()) };
        let url = notification.signature.as_ref().map(|s| s.cert_url.as_ref()).unwrap_or_default();
        let certificate = certificates.get(url, deadline).await.map_err(|e| e.message)?;
        notification.verify(&certificate).map_err(|e| e.message)
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
