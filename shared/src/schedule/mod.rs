//! Dapr's cron grammar: parse, validate, compute the next fire.
//!
//! Dapr's cron binding parses its `schedule` with `github.com/dapr/kit/cron`,
//! a fork of robfig/cron v3 (seconds optional, descriptors on). [`Schedule`]
//! accepts that grammar and computes fire times the way that code does,
//! daylight-saving quirks included. [`to_scheduler`] converts it to an
//! EventBridge Scheduler expression, or says why it cannot.

mod aws;
mod cron;
#[cfg(test)]
mod tests;

pub use aws::{SchedulerExpression, Unconvertible, to_scheduler};
pub use cron::{Schedule, ScheduleError, ScheduleKind};
