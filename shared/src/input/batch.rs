//! What a record of a batch source (SQS, Kinesis, DynamoDB Streams) shows
//! the batch delivery (`deliver::batch`): the id it is reported failed by,
//! the lane it is ordered in, and its event, read when its delivery starts.
//!
//! A lane is an SQS FIFO message group or a stream's shard: its records are
//! delivered one after another, and a lane stops at its first failure.

use std::borrow::Cow;

use super::{BindingEvent, InputError};

/// The lane a record is delivered in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lane<'a> {
    /// A lane of its own: a standard SQS queue's record, or a FIFO one
    /// without a group.
    None,
    /// A named lane: a FIFO message group, a shard.
    Id(Cow<'a, str>),
    /// A record too malformed to say its lane: it could belong to any, so
    /// nothing after it in the batch may be delivered.
    Unknown,
}

/// A record of a batch, as the batch delivery needs it.
pub trait BatchRecord<'a> {
    /// What `batchItemFailures` names it by: an SQS message id, a sequence
    /// number.
    fn id(&self) -> &Cow<'a, str>;

    fn lane(&self) -> &Lane<'a>;

    /// It comes from an ordered source (a FIFO queue, a stream). A batch
    /// holding one ordered record is ordered: its lanes stop at their first
    /// failure, and a record that is not ordered itself cannot be placed.
    fn ordered(&self) -> bool;

    /// The event to deliver, read now.
    fn event(&self) -> Result<BindingEvent, InputError>;

    /// Why it cannot be placed in a lane of an ordered batch, when its event
    /// reads: its lane is [`Lane::Unknown`], or it is not ordered itself.
    fn unplaced(&self) -> String;
}
