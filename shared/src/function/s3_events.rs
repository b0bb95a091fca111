//! `bindery-s3-events`: an S3 event notification becomes one
//! `POST /<binding>` per object event.
//!
//! S3 invokes the function asynchronously, so there is no partial-batch
//! answer: when any record is not acknowledged the invocation fails, and
//! Lambda's asynchronous retries and on-failure destination take over (S3
//! sends one record per notification; were there more, the acknowledged
//! ones would be delivered again with it). Records run one after another.

use std::time::Instant as StdInstant;

use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};
use tracing::{info, warn};

use super::lifecycle::{self, InputFunction};
use super::setup::FunctionSetup;
use super::startup::StartupError;
use crate::component::{BindingKind, EnvLookup};
use crate::deliver::App;
use crate::input::s3_events::{S3EventsConfig, parse_event, record_event};
use crate::input::trace::traceparent_from_xray;

/// The S3 event notifications function, configured.
#[derive(Debug)]
pub struct S3EventsFunction {
    setup: FunctionSetup,
    /// Records from any other bucket are refused.
    bucket: String,
}

impl InputFunction for S3EventsFunction {
    const NAME: &'static str = "bindery-s3-events";
    const KIND: BindingKind = BindingKind::AwsS3;
    /// The bucket.
    type Config = String;
    type Answer = ();

    fn config(setup: &FunctionSetup, _: EnvLookup<'_>) -> Result<String, StartupError> {
        let config =
            S3EventsConfig::from_metadata(&setup.component.metadata).map_err(|e| StartupError::from_fields(&e))?;
        Ok(config.bucket)
    }

    fn new(setup: FunctionSetup, bucket: String) -> Self {
        Self { setup, bucket }
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
            let result = match record_event(record) {
                Err(e) => Err(e.message),
                Ok(event) if event.metadata("bucket") != Some(self.bucket.as_str()) => Err(format!(
                    "the record is from bucket {:?}; this binding is for {:?}",
                    event.metadata("bucket").unwrap_or_default(),
                    self.bucket
                )),
                Ok(mut event) => {
                    event.traceparent.clone_from(&traceparent);
                    let delivery = self.setup.deliverer.deliver(event, deadline);
                    self.setup.stopping.bound(deadline, delivery).await.map_err(|e| e.message)
                }
            };
            if let Err(reason) = result {
                failed += 1;
                warn!(binding = %binding, record = index, error = %reason, "record failed");
            }
        }
        let latency_ms = started.elapsed().as_millis() as u64;
        info!(binding = %binding, records = records.len(), failed, latency_ms, "notification done");
        if failed == 0 {
            Ok(())
        } else {
            Err(Diagnostic {
                error_type: "Bindery.DeliveryFailed".into(),
                error_message: format!(
                    "{failed} of {} S3 records were not acknowledged; Lambda will retry",
                    records.len()
                ),
            })
        }
    }
}

/// `main` of `bindery-s3-events`.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    run_with(None).await
}

/// Runs the function with the given app instead of `BINDERY_APP_URL`.
pub async fn run_with(app: Option<App>) -> Result<(), lambda_runtime::Error> {
    lifecycle::run::<S3EventsFunction>(app, None).await
}
