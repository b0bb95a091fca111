//! `bindery-sqs`: an SQS batch becomes one `POST /<binding>` per record, and
//! the app's answers become the partial-batch response.

use std::time::Instant as StdInstant;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};
use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};
use tracing::{error, info, warn};

use super::env::number;
use super::lifecycle::{self, InputFunction};
use super::setup::FunctionSetup;
use super::startup::StartupError;
use super::unreadable_event;
use crate::component::{BindingKind, EnvLookup};
use crate::deliver::App;
use crate::deliver::batch::{RecordOutcome, deliver_batch_until};
use crate::input::sqs::parse_shared_batch;
use crate::telemetry;
use crate::telemetry::metrics::{self, Failure};

const DEFAULT_CONCURRENCY: u64 = 16;

/// The SQS function, configured.
#[derive(Debug)]
pub struct SqsFunction {
    setup: FunctionSetup,
    concurrency: usize,
}

impl InputFunction for SqsFunction {
    const NAME: &'static str = "bindery-sqs";
    const KIND: BindingKind = BindingKind::AwsSqs;
    /// `BINDERY_SQS_CONCURRENCY`.
    type Config = usize;
    type Answer = SqsBatchResponse;

    fn config(_: &FunctionSetup, env: EnvLookup<'_>) -> Result<usize, StartupError> {
        Ok(number(env, "BINDERY_SQS_CONCURRENCY", DEFAULT_CONCURRENCY, 1..=10_000)? as usize)
    }

    fn new(setup: FunctionSetup, concurrency: usize) -> Self {
        Self { setup, concurrency }
    }

    /// Handles one batch, `payload` being the event as Lambda sent it. Every
    /// record ends acknowledged or in `batchItemFailures`; only a record
    /// without a message id, which could not be named there, fails the whole
    /// invocation.
    async fn handle(&self, payload: &Bytes, context: &Context) -> Result<SqsBatchResponse, Diagnostic> {
        let started = StdInstant::now();
        let records = parse_shared_batch(payload).map_err(|e| unreadable_event("Bindery.MalformedBatch", e.message))?;
        let total = records.len();
        let deadline = self.setup.deadline.until(context.deadline);
        let cutoff = self.setup.stopping.cutoff(deadline);
        let binding = &self.setup.component.name;
        let invocation = tracing::Span::current();
        let report = deliver_batch_until(records, self.concurrency, cutoff, |event| {
            // The message's own trace (its AWSTraceHeader), linked from the
            // invocation's: the producer's trace leads to the consumer's.
            if let Some(sent_in) = &event.traceparent {
                telemetry::link_trace(&invocation, sent_in);
            }
            async move { self.setup.deliver_record(event, deadline).await.map(|_duplicate| ()) }
        })
        .await;

        for (id, outcome) in report.iter() {
            match outcome {
                RecordOutcome::Acked => {}
                RecordOutcome::Failed(reason) => {
                    error!(binding = %binding, message_id = %id, error = %reason, "record failed")
                }
                RecordOutcome::Skipped => {
                    warn!(binding = %binding, message_id = %id, "record not delivered: an earlier record of its group failed")
                }
                RecordOutcome::Unfinished => {
                    metrics::delivery(Err(Failure::Timeout), None);
                    error!(binding = %binding, message_id = %id, "record not finished before the deadline (or the stop grace)")
                }
            }
        }
        let failed = report.failed_ids();
        metrics::batch(total, failed.len());
        info!(
            binding = %binding,
            records = total,
            acked = report.acked(),
            failed = failed.len(),
            latency_ms = started.elapsed().as_millis() as u64,
            "batch done"
        );
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failed
            .into_iter()
            .map(|id| {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                failure
            })
            .collect();
        Ok(response)
    }
}

/// `main` of `bindery-sqs`.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    run_with(None).await
}

/// Runs the function with the given app instead of `BINDERY_APP_URL`.
pub async fn run_with(app: Option<App>) -> Result<(), lambda_runtime::Error> {
    lifecycle::run::<SqsFunction>(app, None).await
}
