//! `bindery-s3-events`: an S3 event notification becomes one
//! `POST /<binding>` per object event.
//!
//! S3 invokes the function asynchronously: a record not acknowledged fails
//! the invocation, for Lambda's retries (`notification::deliver_each`).

use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};

use super::lifecycle::{self, InputFunction};
use super::notification::deliver_each;
use super::setup::FunctionSetup;
use super::startup::StartupError;
use super::unreadable_event;
use crate::component::{BindingKind, EnvLookup};
use crate::deliver::App;
use crate::input::s3_events::{S3EventsConfig, parse_event, record_event};
use crate::telemetry::metrics::Failure;

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
        let records = parse_event(payload).map_err(|e| unreadable_event("Bindery.InvalidEvent", e.message))?;
        deliver_each(&self.setup, context, "S3", &records, |record, _| async move {
            let event = record_event(record).map_err(|e| (Failure::InvalidEvent, e.message))?;
            match event.metadata("bucket") {
                Some(bucket) if bucket == self.bucket => Ok(event),
                other => Err((
                    Failure::InvalidEvent,
                    format!(
                        "the record is from bucket {:?}; this binding is for {:?}",
                        other.unwrap_or_default(),
                        self.bucket
                    ),
                )),
            }
        })
        .await
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
