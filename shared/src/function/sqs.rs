//! `bindery-sqs`: an SQS batch becomes one `POST /<binding>` per record, and
//! the app's answers become the partial-batch response.

use std::time::Instant as StdInstant;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};
use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};
use tracing::{info, warn};

use super::env::number;
use super::setup::{FunctionSetup, setup};
use super::startup::{self, StartupError};
use super::{lifecycle, telemetry};
use crate::component::kinds::SQS_TYPE;
use crate::deliver::App;
use crate::deliver::batch::{RecordOutcome, deliver_batch_until};
use crate::input::sqs::parse_shared_batch;

const FUNCTION: &str = "bindery-sqs";
const DEFAULT_CONCURRENCY: u64 = 16;

/// The SQS function, configured.
#[derive(Debug)]
pub struct SqsFunction {
    setup: FunctionSetup,
    concurrency: usize,
}

impl SqsFunction {
    /// Reads the environment; `app` replaces `BINDERY_APP_URL`.
    pub fn from_env(app: Option<App>) -> Result<Self, StartupError> {
        let env = |name: &str| std::env::var(name).ok();
        let setup = setup(FUNCTION, SQS_TYPE, &env, app)?;
        let concurrency = number(&env, "BINDERY_SQS_CONCURRENCY", DEFAULT_CONCURRENCY, 1..=10_000)? as usize;
        Ok(Self { setup, concurrency })
    }

    /// Handles one batch, `payload` being the event as Lambda sent it. Every
    /// record ends acknowledged or in `batchItemFailures`; only a record
    /// without a message id, which could not be named there, fails the whole
    /// invocation.
    pub async fn handle(&self, payload: &Bytes, context: &Context) -> Result<SqsBatchResponse, Diagnostic> {
        let started = StdInstant::now();
        let records = parse_shared_batch(payload)
            .map_err(|e| Diagnostic { error_type: "Bindery.MalformedBatch".into(), error_message: e.message })?;
        let total = records.len();
        let deadline = self.setup.deadline.until(context.deadline);
        let deliverer = &self.setup.deliverer;
        let cutoff = self.setup.stopping.cutoff(deadline);
        let report = deliver_batch_until(records, self.concurrency, cutoff, |e| deliverer.deliver_untimed(e)).await;

        let binding = &self.setup.component.name;
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
    telemetry::init();
    let mut function = match SqsFunction::from_env(app) {
        Ok(f) => f,
        Err(e) => return Err(startup::fail(FUNCTION, e).await),
    };
    let colocated = function.setup.start_app(FUNCTION).await?;
    let (app, stopping) = (function.setup.deliverer.app().clone(), function.setup.stopping.clone());
    let handler = |event: Bytes, context: Context| {
        let function = &function;
        async move { function.handle(&event, &context).await }
    };
    lifecycle::run_event_loop(FUNCTION, handler, &app, &stopping, colocated).await
}
