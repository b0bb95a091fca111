//! `bindery-kinesis`: a Kinesis batch becomes one `POST /<binding>` per
//! record, in shard order, and the app's answers become Lambda's checkpoint:
//! `batchItemFailures` names each shard's first record not acknowledged.

use aws_lambda_events::streams::{KinesisBatchItemFailure, KinesisEventResponse};
use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};

use super::lifecycle::{self, InputFunction};
use super::setup::FunctionSetup;
use super::startup::StartupError;
use super::stream::deliver_stream_batch;
use super::unreadable_event;
use crate::component::{BindingKind, EnvLookup};
use crate::deliver::App;
use crate::input::kinesis::parse_batch;

/// The Kinesis function, configured.
#[derive(Debug)]
pub struct KinesisFunction {
    setup: FunctionSetup,
}

impl InputFunction for KinesisFunction {
    const NAME: &'static str = "bindery-kinesis";
    const KIND: BindingKind = BindingKind::AwsKinesis;
    type Config = ();
    type Answer = KinesisEventResponse;

    fn config(_: &FunctionSetup, _: EnvLookup<'_>) -> Result<(), StartupError> {
        Ok(())
    }

    fn new(setup: FunctionSetup, (): ()) -> Self {
        Self { setup }
    }

    /// Handles one batch. Only a record without a sequence number, which
    /// could not be named in `batchItemFailures`, fails the invocation.
    async fn handle(&self, payload: &Bytes, context: &Context) -> Result<KinesisEventResponse, Diagnostic> {
        let records = parse_batch(payload).map_err(|e| unreadable_event("Bindery.MalformedBatch", e.message))?;
        let deadline = self.setup.deadline.until(context.deadline);
        let checkpoints = deliver_stream_batch(&self.setup, records, deadline).await;
        let mut response = KinesisEventResponse::default();
        response.batch_item_failures = checkpoints
            .into_iter()
            .map(|sequence_number| {
                let mut failure = KinesisBatchItemFailure::default();
                failure.item_identifier = Some(sequence_number);
                failure
            })
            .collect();
        Ok(response)
    }
}

/// `main` of `bindery-kinesis`.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    run_with(None).await
}

/// Runs the function with the given app instead of `BINDERY_APP_URL`.
pub async fn run_with(app: Option<App>) -> Result<(), lambda_runtime::Error> {
    lifecycle::run::<KinesisFunction>(app, None).await
}
