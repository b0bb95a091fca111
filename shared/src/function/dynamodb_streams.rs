//! `bindery-dynamodb-streams`: a DynamoDB Streams batch becomes one
//! `POST /<binding>` per change, in order, and the app's answers become
//! Lambda's checkpoint, as for Kinesis (a batch is one shard).

use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};

use super::lifecycle::{self, InputFunction};
use super::setup::FunctionSetup;
use super::startup::StartupError;
use super::stream::deliver_stream_batch;
use super::unreadable_event;
use crate::component::{BindingKind, EnvLookup};
use crate::deliver::App;
use crate::input::dynamodb_streams::{DynamoDbStreamConfig, StreamFormat, parse_shared_batch};

/// The DynamoDB Streams function, configured.
#[derive(Debug)]
pub struct DynamoDbStreamsFunction {
    setup: FunctionSetup,
    format: StreamFormat,
}

impl InputFunction for DynamoDbStreamsFunction {
    const NAME: &'static str = "bindery-dynamodb-streams";
    const KIND: BindingKind = BindingKind::AwsDynamoDb;
    /// The component's `streamFormat`.
    type Config = StreamFormat;
    type Answer = DynamoDbEventResponse;

    fn config(setup: &FunctionSetup, _: EnvLookup<'_>) -> Result<StreamFormat, StartupError> {
        // The loader checked it already; this only reads it.
        DynamoDbStreamConfig::from_metadata(&setup.component.metadata)
            .map(|config| config.format)
            .map_err(|errors| StartupError::from_fields(&errors))
    }

    fn new(setup: FunctionSetup, format: StreamFormat) -> Self {
        Self { setup, format }
    }

    /// Handles one batch. Only a record without a sequence number, which
    /// could not be named in `batchItemFailures`, fails the invocation.
    async fn handle(&self, payload: &Bytes, context: &Context) -> Result<DynamoDbEventResponse, Diagnostic> {
        let records = parse_shared_batch(payload, self.format)
            .map_err(|e| unreadable_event("Bindery.MalformedBatch", e.message))?;
        let deadline = self.setup.deadline.until(context.deadline);
        let checkpoints = deliver_stream_batch(&self.setup, records, deadline).await;
        let mut response = DynamoDbEventResponse::default();
        response.batch_item_failures = checkpoints
            .into_iter()
            .map(|sequence_number| {
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(sequence_number);
                failure
            })
            .collect();
        Ok(response)
    }
}

/// `main` of `bindery-dynamodb-streams`.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    run_with(None).await
}

/// Runs the function with the given app instead of `BINDERY_APP_URL`.
pub async fn run_with(app: Option<App>) -> Result<(), lambda_runtime::Error> {
    lifecycle::run::<DynamoDbStreamsFunction>(app, None).await
}
