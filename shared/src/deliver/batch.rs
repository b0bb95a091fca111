//! Delivering a batch of SQS records: concurrently up to a bound, in order
//! within a FIFO message group, and never past the deadline.
//!
//! The contract is Powertools' partial-batch one: every record ends either
//! acknowledged or in the failure list, so nothing is dropped; on FIFO queues
//! a group stops at its first failure and the rest of the group is reported
//! failed without being delivered, while other groups go on. A FIFO record
//! whose group cannot be read, or a record of a FIFO batch whose own
//! `eventSourceARN` is not a FIFO queue's, could belong to any group, so
//! nothing after it in the batch is delivered.

use std::borrow::Cow;
use std::cell::RefCell;
use std::future::Future;

use futures_util::StreamExt;
use futures_util::stream;
use tokio::time::Instant;

use super::DeliveryError;
use crate::input::BindingEvent;
use crate::input::sqs::{Group, SqsRecord};

/// How one record ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    Acked,
    Failed(String),
    /// FIFO: an earlier record of its group failed, so it was not delivered.
    Skipped,
    /// Not finished when the deadline came.
    Unfinished,
}

/// What happened to a batch: the records' ids and outcomes, in batch order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport<'a> {
    pub ids: Vec<Cow<'a, str>>,
    pub outcomes: Vec<RecordOutcome>,
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

    pub fn acked(&self) -> usize {
        self.outcomes.iter().filter(|o| **o == RecordOutcome::Acked).count()
    }
}

/// Delivers `records` with at most `limit` deliveries in flight, and stops
/// at `deadline`: whatever has not finished by then is reported failed, so
/// `deliver` itself needs no timer.
pub async fn deliver_batch<'a, F, Fut>(
    records: Vec<SqsRecord<'a>>,
    limit: usize,
    deadline: Instant,
    deliver: F,
) -> BatchReport<'a>
where
    F: Fn(BindingEvent) -> Fut,
    Fut: Future<Output = Result<(), DeliveryError>>,
{
    deliver_batch_until(records, limit, tokio::time::sleep_until(deadline), deliver).await
}

/// [`deliver_batch`], stopping when `cutoff` completes rather than at a
/// fixed deadline: e.g. [`Stopping::cutoff`](crate::function::stopping::Stopping::cutoff),
/// which comes early when the process is told to stop.
pub async fn deliver_batch_until<'a, F, Fut>(
    mut records: Vec<SqsRecord<'a>>,
    limit: usize,
    cutoff: impl Future<Output = ()>,
    deliver: F,
) -> BatchReport<'a>
where
    F: Fn(BindingEvent) -> Fut,
    Fut: Future<Output = Result<(), DeliveryError>>,
{
    let fifo = records.iter().any(|r| r.fifo);
    // Borrowed ids cost a pointer each; the records keep theirs for delivery.
    let ids: Vec<Cow<'a, str>> = records.iter().map(|r| r.message_id.clone()).collect();
    let outcomes: RefCell<Vec<RecordOutcome>> = RefCell::new(vec![RecordOutcome::Unfinished; records.len()]);
    let set = |i: usize, o: RecordOutcome| outcomes.borrow_mut()[i] = o;

    // In a FIFO batch, a record that does not say it comes from a FIFO queue
    // cannot be placed in a group either.
    if let Some(barrier) = records.iter().position(|r| fifo && (r.group == Group::Unknown || !r.fifo)) {
        let rest = records.split_off(barrier);
        // Only the record whose group is unknown has a reason worth parsing for.
        let reason = match rest[0].event() {
            Err(e) => e.message,
            Ok(_) if !rest[0].fifo => "the batch is from a FIFO queue, but this record's eventSourceARN is not".into(),
            Ok(_) => "its message group cannot be read".into(),
        };
        set(barrier, RecordOutcome::Failed(reason));
        for offset in 1..rest.len() {
            set(barrier + offset, RecordOutcome::Skipped);
        }
    }

    // Standard queues need no grouping: each record is a lane of its own,
    // without a Vec per record.
    let run = async {
        if fifo {
            run_lanes(fifo_lanes(records), limit, true, &deliver, &set).await;
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

    BatchReport { ids, outcomes: outcomes.into_inner() }
}

/// Runs at most `limit` lanes at once. A lane delivers its records one after
/// another and, on a FIFO queue, stops at its first failure.
async fn run_lanes<'a, L, F, Fut>(
    lanes: impl IntoIterator<Item = L>,
    limit: usize,
    fifo: bool,
    deliver: &F,
    set: &impl Fn(usize, RecordOutcome),
) where
    L: IntoIterator<Item = (usize, SqsRecord<'a>)>,
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
                        group_failed = fifo;
                    }
                }
            }
        })
        .buffer_unordered(limit.max(1))
        .for_each(|()| async {})
        .await;
}

/// FIFO records in lanes, one per message group in order of first
/// appearance; a record without a group runs alone.
fn fifo_lanes(records: Vec<SqsRecord<'_>>) -> Vec<Vec<(usize, SqsRecord<'_>)>> {
    let mut lanes: Vec<Vec<(usize, SqsRecord<'_>)>> = Vec::new();
    let mut group_lane: Vec<(Cow<'_, str>, usize)> = Vec::new();
    for (i, record) in records.into_iter().enumerate() {
        match &record.group {
            Group::Id(g) => match group_lane.iter().find(|(name, _)| name == g) {
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
