//! What the stream functions (Kinesis, DynamoDB Streams) share: a batch
//! delivered shard by shard in order, and answered with Lambda's checkpoint
//! semantics (reference §2.1): `batchItemFailures` names each shard's first
//! record not acknowledged, from which Lambda redelivers the shard. Nothing
//! after that record was acknowledged (its shard stopped there), so nothing
//! is lost, and nothing the app acked before it is delivered again.

use std::time::Instant as StdInstant;

use tracing::{error, info};

use super::setup::FunctionSetup;
use crate::deliver::batch::{RecordOutcome, deliver_batch_until};
use crate::input::batch::BatchRecord;
use crate::telemetry::metrics::{self, Failure};

/// Shards delivered at once. Lambda's batches hold one shard; `bindery run`
/// hands over one shard at a time too, so this bounds only odd events.
const SHARDS_AT_ONCE: usize = 16;

/// Delivers `records` and gives the sequence numbers to report: each
/// shard's first failure.
pub(super) async fn deliver_stream_batch<'a, R: BatchRecord<'a>>(
    setup: &FunctionSetup,
    records: Vec<R>,
    deadline: tokio::time::Instant,
) -> Vec<String> {
    let started = StdInstant::now();
    let total = records.len();
    let cutoff = setup.stopping.cutoff(deadline);
    let report = deliver_batch_until(records, SHARDS_AT_ONCE, cutoff, |event| async move {
        setup.deliver_record(event, deadline).await.map(|_duplicate| ())
    })
    .await;

    let binding = &setup.component.name;
    for (sequence_number, outcome) in report.iter() {
        match outcome {
            RecordOutcome::Acked => {}
            RecordOutcome::Failed(reason) => {
                error!(binding = %binding, sequence_number = %sequence_number, error = %reason, "record failed: its shard stops here")
            }
            RecordOutcome::Skipped => {}
            RecordOutcome::Unfinished => {
                metrics::delivery(Err(Failure::Timeout), None);
                error!(binding = %binding, sequence_number = %sequence_number, "record not finished before the deadline (or the stop grace)")
            }
        }
    }
    let checkpoints = report.checkpoints();
    metrics::batch(total, checkpoints.len());
    let skipped = report.outcomes.iter().filter(|o| **o == RecordOutcome::Skipped).count();
    info!(
        binding = %binding,
        records = total,
        acked = report.acked(),
        not_delivered = skipped,
        checkpoints = checkpoints.len(),
        latency_ms = started.elapsed().as_millis() as u64,
        "batch done"
    );
    checkpoints
}
