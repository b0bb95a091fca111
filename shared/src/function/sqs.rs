//! `bindery-sqs`: an SQS batch becomes one `POST /<binding>` per record, and
//! the app's answers become the partial-batch response.

use std::time::{Instant as StdInstant, SystemTime};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};
use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};
use tracing::{info, warn};

use super::env::number;
use super::lifecycle::{self, InputFunction};
use super::setup::FunctionSetup;
use super::startup::StartupError;
use crate::component::{BindingKind, EnvLookup};
use crate::deliver::App;
use crate::deliver::batch::{RecordOutcome, deliver_batch_until};
use crate::idempotency::{Idempotency, sqs_id};
use crate::input::sqs::parse_shared_batch;

const DEFAULT_CONCURRENCY: u64 = 16;

/// The SQS function, configured.
#[derive(Debug)]
pub struct SqsFunction {
    setup: FunctionSetup,
    concurrency: usize,
    /// The component's `idempotency`: each message id delivered once.
    idempotency: Option<Idempotency>,
}

impl InputFunction for SqsFunction {
    const NAME: &'static str = "bindery-sqs";
    const KIND: BindingKind = BindingKind::AwsSqs;
    /// `BINDERY_SQS_CONCURRENCY`, and the component's idempotency.
    type Config = (usize, Option<Idempotency>);
    type Answer = SqsBatchResponse;

    fn config(setup: &FunctionSetup, env: EnvLookup<'_>) -> Result<Self::Config, StartupError> {
        let concurrency = number(env, "BINDERY_SQS_CONCURRENCY", DEFAULT_CONCURRENCY, 1..=10_000)? as usize;
        let idempotency = Idempotency::from_component(&setup.component.metadata, env).map_err(|why| {
            StartupError(format!("{}: component {:?}: {why}", setup.component.file.display(), setup.component.name))
        })?;
        Ok((concurrency, idempotency))
    }

    fn new(setup: FunctionSetup, (concurrency, idempotency): Self::Config) -> Self {
        Self { setup, concurrency, idempotency }
    }

    /// Handles one batch, `payload` being the event as Lambda sent it. Every
    /// record ends acknowledged or in `batchItemFailures`; only a record
    /// without a message id, which could not be named there, fails the whole
    /// invocation.
    async fn handle(&self, payload: &Bytes, context: &Context) -> Result<SqsBatchResponse, Diagnostic> {
        let started = StdInstant::now();
        let records = parse_shared_batch(payload)
            .map_err(|e| Diagnostic { error_type: "Bindery.MalformedBatch".into(), error_message: e.message })?;
        let total = records.len();
        let deadline = self.setup.deadline.until(context.deadline);
        let deliverer = &self.setup.deliverer;
        let cutoff = self.setup.stopping.cutoff(deadline);
        let binding = &self.setup.component.name;
        // The idempotency record of a delivery in progress lasts until the deadline.
        let until = SystemTime::now() + deadline.saturating_duration_since(tokio::time::Instant::now());
        let report = deliver_batch_until(records, self.concurrency, cutoff, |event| async move {
            match &self.idempotency {
                None => deliverer.deliver_untimed(event).await,
                Some(once) => {
                    let id = sqs_id(&event).unwrap_or_default().to_owned();
                    let duplicate = once.deliver_record(deliverer, binding, &id, event, until).await?;
                    if duplicate {
                        info!(binding = %binding, message_id = %id, "duplicate of a delivered message: acknowledged without delivery");
                    }
                    Ok(())
                }
            }
        })
        .await;

        for (id, outcome) in report.iter() {
            match outcome {
                RecordOutcome::Acked => {}
                RecordOutcome::Failed(reason) => {
                    warn!(binding = %binding, message_id = %id, error = %reason, "record failed")
                }
                RecordOutcome::Skipped => {
                    warn!(binding = %binding, message_id = %id, "record not delivered: an earlier record of its group failed")
                }
                RecordOutcome::Unfinished => {
                    warn!(binding = %binding, message_id = %id, "record not finished before the deadline (or the stop grace)")
                }
            }
        }
        let failed = report.failed_ids();
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
