//! `bindings.cron` → an EventBridge Scheduler schedule (`ScheduleV2`).
//!
//! The Scheduler invokes the function asynchronously: its retry policy covers
//! failures to invoke (throttling, permissions), and the function's own
//! `EventInvokeConfig` covers a failed delivery to the app (bindery-cron
//! returns an error). Both end in the same dead-letter queue, so a run that
//! never reached the app is kept, where Dapr drops it.

use std::time::Duration;

use bindery::component::Component;
use bindery::input::schedule::CronConfig;
use bindery::schedule::to_scheduler;
use serde_json::json;

use crate::dead_letters::async_dead_letters;
use crate::template::arn_of;
use crate::trigger::Trigger;
use crate::{Settings, Stack};

/// The Scheduler's own maximum and default; bindery keeps the default.
const MAX_RETRY_ATTEMPTS: u64 = 185;
/// A run more than an hour late is rarely still wanted; `maxEventAge` changes it.
const DEFAULT_EVENT_AGE: Duration = Duration::from_secs(3600);
/// Lambda's asynchronous event age bounds: one minute to six hours.
const EVENT_AGE_RANGE: (u64, u64) = (60, 6 * 3600);

/// The Scheduler's target input: the binding, and the context values the
/// Scheduler fills in at each run (reference/lambda-anchors.md §6.3).
fn input(binding: &str) -> String {
    json!({
        "binding": binding,
        "scheduleArn": "<aws.scheduler.schedule-arn>",
        "scheduledTime": "<aws.scheduler.scheduled-time>",
        "executionId": "<aws.scheduler.execution-id>",
        "attempt": "<aws.scheduler.attempt-number>",
    })
    .to_string()
}

pub(crate) fn trigger(stack: &mut Stack, component: &Component, id: &str, settings: &Settings) -> Option<Trigger> {
    let CronConfig { schedule } = stack.config(component, CronConfig::from_metadata)?;
    let text = schedule.to_string();
    let converted = match to_scheduler(&schedule, settings.now) {
        Ok(converted) => converted,
        Err(why) => {
            stack.refuse(component, "schedule", format!("{text:?} cannot run on EventBridge Scheduler: {why}"));
            return None;
        }
    };
    stack.notes.extend(converted.notes.iter().map(|note| format!("{}: {note}", component.name)));
    let (attempts, age) = retry_policy(stack, component)?;
    let what = format!("Runs of {:?} that never reached the app", component.name);
    let (dlq, invoke_config) = async_dead_letters(stack, id, what, Some(age));
    let mut properties = json!({
        "Description": format!("Dapr cron binding {:?}: {text}", component.name),
        "ScheduleExpression": converted.expression,
        "FlexibleTimeWindow": { "Mode": "OFF" },
        "Input": input(&component.name),
        "RetryPolicy": { "MaximumRetryAttempts": attempts, "MaximumEventAgeInSeconds": age },
        "DeadLetterConfig": { "Arn": arn_of(&dlq) },
    });
    if let Some(zone) = converted.time_zone {
        properties["ScheduleExpressionTimezone"] = json!(zone);
    }
    Some(Trigger {
        binary: "bindery-cron",
        events: json!({ "Schedule": { "Type": "ScheduleV2", "Properties": properties } }),
        properties: vec![("EventInvokeConfig", invoke_config)],
        statements: Vec::new(),
    })
}

/// `maxRetryAttempts` (0-185) and `maxEventAge` (1m-6h): bindery's own
/// metadata, which Dapr ignores.
fn retry_policy(stack: &mut Stack, component: &Component) -> Option<(u64, u64)> {
    let metadata = &component.metadata;
    let attempts = match metadata.u64("maxRetryAttempts") {
        Ok(None) => MAX_RETRY_ATTEMPTS,
        Ok(Some(n)) if n <= MAX_RETRY_ATTEMPTS => n,
        Ok(Some(n)) => {
            stack.refuse(component, "maxRetryAttempts", format!("{n} is more than the Scheduler's maximum, 185"));
            return None;
        }
        Err(e) => {
            stack.refuse(component, &e.field, e.message);
            return None;
        }
    };
    let age = match metadata.duration("maxEventAge") {
        Ok(age) => age.unwrap_or(DEFAULT_EVENT_AGE),
        Err(e) => {
            stack.refuse(component, &e.field, e.message);
            return None;
        }
    };
    let (min, max) = EVENT_AGE_RANGE;
    if age.subsec_nanos() != 0 || !(min..=max).contains(&age.as_secs()) {
        stack.refuse(component, "maxEventAge", format!("{age:?} is outside Lambda's range for retries, 1m to 6h"));
        return None;
    }
    Some((attempts, age.as_secs()))
}
