//! Delivering a batch of records (SQS, Kinesis, DynamoDB Streams):
//! concurrently up to a bound, in order within a lane (a FIFO message group,
//! a shard), and never past the deadline.
//!
//! The contract is Powertools' partial-batch one: every record ends either
//! acknowledged or in the failure list, so nothing is dropped; in an ordered
//! batch (a FIFO queue's, a stream's) a lane stops at its first failure and
//! the rest of the lane is reported failed without being delivered, while
//! other lanes go on. A record whose lane cannot be read, or a record of an
//! ordered batch that is not ordered itself (an SQS record whose own
//! `eventSourceARN` is not a FIFO queue's), could belong to any lane, so
//! nothing after it in the batch is delivered.
//!
//! SQS reports every record not acknowledged ([`BatchReport::failed_ids`]);
//! a stream reports the first one of each shard, its checkpoint
//! ([`BatchReport::checkpoints`]): Lambda redelivers the shard from there.

use std::borrow::Cow;
use std::cell::RefCell;
use std::future::Future;

use futures_util::StreamExt;
use futures_util::stream;
use tokio::time::Instant;

use super::DeliveryError;
use crate::input::BindingEvent;
use crate::input::batch::{BatchRecord, Lane};

/// How one record ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    Acked,
    Failed(String),
    /// Ordered: an earlier record of its lane failed, so it was not delivered.
    Skipped,
    /// Not finished when the deadline came.
    Unfinished,
}

/// What happened to a batch: the records' ids and outcomes, in batch order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport<'a> {
    pub ids: Vec<Cow<'a, str>>,
    pub outcomes: Vec<RecordOutcome>,
    /// Each record's lane, for an ordered batch only (an unordered one's
    /// records each have a lane of their own, and need no list of them).
    pub lanes: Vec<Lane<'a>>,
}

impl BatchReport<'_> {
    /// Each record's id and outcome.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RecordOutcome)> {
        self.ids.iter().map(|id| id.as_ref()).zip(&self.outcomes)
    }

    /// The ids to report in `batchItemFailures`, in batch order.
    pub fn failed_ids(&self) -> Vec<String> {
        self.iter().filter(|(_, o)| **o != RecordOutcome::Acked).map(|(id, _)| id.to_owned()).collect()
    }

    /// Lambda's checkpoint semantics for a stream: the id of each lane's
    /// first record not acknowledged, in batch order. Lambda redelivers a
    /// shard from the lowest sequence number reported, whatever came after
    /// it, so naming the first failure is naming all of them; and nothing
    /// after a lane's first failure was acknowledged anyway.
    pub fn checkpoints(&self) -> Vec<String> {
        if self.lanes.is_empty() {
            return self.failed_ids();
        }
        let mut stopped: Vec<&Lane<'_>> = Vec::new();
        let mut checkpoints = Vec::new();
        for ((id, outcome), lane) in self.iter().zip(&self.lanes) {
            if *outcome == RecordOutcome::Acked {
                continue;
            }
            // A record of its own lane, or of no known lane, is its own checkpoint.
            let named = matches!(lane, Lane::Id(_));
            if !named || !stopped.contains(&lane) {
                checkpoints.push(id.to_owned());
                if named {
                    stopped.push(lane);
                }
            }
        }
        checkpoints
    }

    pub fn acked(&self) -> usize {
        self.outcomes.iter().filter(|o| **o == RecordOutcome::Acked).count()
    }
}

/// Delivers `records` with at most `limit` deliveries in flight, and stops
/// at `deadline`: whatever has not finished by then is reported failed, so
/// `deliver` itself needs no timer.
pub async fn deliver_batch<'a, R, F, Fut>(
    records: Vec<R>,
    limit: usize,
    deadline: Instant,
    deliver: F,
) -> BatchReport<'a>
where
    R: BatchRecord<'a>,
    F: Fn(BindingEvent) -> Fut,
    Fut: Future<Output = Result<(), DeliveryError>>,
{
    deliver_batch_until(records, limit, tokio::time::sleep_until(deadline), deliver).await
}

/// [`deliver_batch`], stopping when `cutoff` completes rather than at a
/// fixed deadline: e.g. [`Stopping::cutoff`](crate::function::stopping::Stopping::cutoff),
/// which comes early when the process is told to stop.
pub async fn deliver_batch_until<'a, R, F, Fut>(
    mut records: Vec<R>,
    limit: usize,
    cutoff: impl Future<Output = ()>,
    deliver: F,
) -> BatchReport<'a>
where
    R: BatchRecord<'a>,
    F: Fn(BindingEvent) -> Fut,
    Fut: Future<Output = Result<(), DeliveryError>>,
{
    let ordered = records.iter().any(|r| r.ordered());
    // Borrowed ids cost a pointer each; the records keep theirs for delivery.
    let ids: Vec<Cow<'a, str>> = records.iter().map(|r| r.id().clone()).collect();
    let lanes: Vec<Lane<'a>> = if ordered { records.iter().map(|r| r.lane().clone()).collect() } else { Vec::new() };
    let outcomes: RefCell<Vec<RecordOutcome>> = RefCell::new(vec![RecordOutcome::Unfinished; records.len()]);
    let set = |i: usize, o: RecordOutcome| outcomes.borrow_mut()[i] = o;

    // In an ordered batch, a record that does not say it is ordered cannot
    // be placed in a lane either.
    if let Some(barrier) = records.iter().position(|r| ordered && (*r.lane() == Lane::Unknown || !r.ordered())) {
        let rest = records.split_off(barrier);
        // Only the record whose lane is unknown has a reason worth parsing for.
        let reason = match rest[0].event() {
            Err(e) => e.message,
            Ok(_) => rest[0].unplaced(),
        };
        set(barrier, RecordOutcome::Failed(reason));
        for offset in 1..rest.len() {
            set(barrier + offset, RecordOutcome::Skipped);
        }
    }

    // Standard queues need no grouping: each record is a lane of its own,
    // without a Vec per record.
    let run = async {
        if ordered {
            run_lanes(ordered_lanes(records), limit, true, &deliver, &set).await;
        } else {
            run_lanes(records.into_iter().enumerate().map(std::iter::once), limit, false, &deliver, &set).await;
        }
    };
    // At the cutoff the in-flight deliveries are dropped, which cancels them.
    tokio::select! {
        biased;
        () = run => {}
        () = cutoff => {}
    }

    BatchReport { ids, outcomes: outcomes.into_inner(), lanes }
}

/// Runs at most `limit` lanes at once. A lane delivers its records one after
/// another and, in an ordered batch, stops at its first failure.
async fn run_lanes<'a, R, L, F, Fut>(
    lanes: impl IntoIterator<Item = L>,
    limit: usize,
    ordered: bool,
    deliver: &F,
    set: &impl Fn(usize, RecordOutcome),
) where
    R: BatchRecord<'a>,
    L: IntoIterator<Item = (usize, R)>,
    F: Fn(BindingEvent) -> Fut,
    Fut: Future<Output = Result<(), DeliveryError>>,
{
    stream::iter(lanes)
        .map(|lane| async move {
            let mut group_failed = false;
            for (i, record) in lane {
                if group_failed {
                    set(i, RecordOutcome::Skipped);
                    continue;
                }
                let result = match record.event() {
                    Err(e) => Err(e.message),
                    Ok(event) => deliver(event).await.map_err(|e| e.message),
                };
                match result {
                    Ok(()) => set(i, RecordOutcome::Acked),
                    Err(reason) => {
                        set(i, RecordOutcome::Failed(reason));
                        group_failed = ordered;
                    }
                }
            }
        })
        .buffer_unordered(limit.max(1))
        .for_each(|()| async {})
        .await;
}

/// An ordered batch's records in lanes, one per message group or shard in
/// order of first appearance; a record without a lane runs alone.
fn ordered_lanes<'a, R: BatchRecord<'a>>(records: Vec<R>) -> Vec<Vec<(usize, R)>> {
    let mut lanes: Vec<Vec<(usize, R)>> = Vec::new();
    let mut group_lane: Vec<(Cow<'a, str>, usize)> = Vec::new();
    for (i, record) in records.into_iter().enumerate() {
        match record.lane() {
            Lane::Id(g) => match group_lane.iter().find(|(name, _)| name == g) {
                Some(&(_, lane)) => lanes[lane].push((i, record)),
                None => {
                    group_lane.push((g.clone(), lanes.len()));
                    lanes.push(vec![(i, record)]);
                }
            },
            _ => lanes.push(vec![(i, record)]),
        }
    }
    lanes
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;

#[cfg(test)]
mod checkpoints;
