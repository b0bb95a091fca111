//! What a dead-lettered message is to the app: the events the binding's
//! function would have delivered for it, for `replay --to-app`.
//!
//! - An SQS binding's dead-letter queue holds the messages themselves
//!   (SQS's redrive): each is a record of the binding's queue.
//! - The functions invoked asynchronously (cron, S3, SNS) fail into their
//!   dead-letter queue as Lambda's invocation record, whose `requestPayload`
//!   is the event the function was given
//!   (`docs/reference/aws-bindings-and-event-sources.md` §3.4.1). A cron
//!   binding's queue also takes EventBridge Scheduler's own dead letters:
//!   the schedule's target input, as it is.

use aws_sdk_sqs::types::Message;
use bindery::component::{BindingKind, InputKind};
use bindery::input::schedule::{CronConfig, schedule_event};
use bindery::input::sns::SnsNotification;
use bindery::input::sqs::parse_batch;
use bindery::input::{BindingEvent, s3_events};
use serde_json::Value;

use super::DeadLetters;
use crate::run::sqs_lambda_event;

/// The events, in order, that the binding's function would deliver for `message`.
pub(super) fn app_events(dlq: &DeadLetters, message: &Message) -> Result<Vec<BindingEvent>, String> {
    let binding = &dlq.binding;
    let body = message.body.as_deref().unwrap_or_default();
    match binding.kind.binding().and_then(BindingKind::input) {
        Some(InputKind::Cron) => {
            let input = invocation_payload(body)?;
            let config = CronConfig::from_metadata(&binding.metadata).map_err(crate::field_problems)?;
            let event = schedule_event(&input, &binding.name, &config.time_zone_name(), chrono::Utc::now());
            Ok(vec![event.map_err(|e| e.message)?])
        }
        Some(InputKind::S3Events) => {
            let payload = invocation_payload(body)?.to_string();
            let records = s3_events::parse_event(payload.as_bytes()).map_err(|e| e.message)?;
            records.into_iter().map(|r| s3_events::record_event(r).map_err(|e| e.message)).collect()
        }
        Some(InputKind::Sns) => {
            let payload = invocation_payload(body)?.to_string();
            let records = bindery::input::sns::parse_event(payload.as_bytes()).map_err(|e| e.message)?;
            let notification = |r| SnsNotification::from_record(r).map(|n| n.event()).map_err(|e| e.message);
            records.into_iter().map(notification).collect()
        }
        _ => {
            let arn = dlq.source.as_ref().map_or(dlq.url.as_str(), |s| s.arn.as_str());
            let event = sqs_lambda_event(vec![message.clone()], arn);
            let payload = serde_json::to_vec(&event).map_err(|e| e.to_string())?;
            let records = parse_batch(&payload).map_err(|e| e.message)?;
            Ok(vec![records.first().ok_or("no record")?.event().map_err(|e| e.message)?])
        }
    }
}

/// The event a failed asynchronous invocation was given: the
/// `requestPayload` of Lambda's invocation record, or the body itself when
/// it is no such record (a Scheduler dead letter, a hand-made message).
fn invocation_payload(body: &str) -> Result<Value, String> {
    let mut value: Value = serde_json::from_str(body).map_err(|e| format!("the message is not JSON: {e}"))?;
    let is_record = value.get("requestContext").and_then(|c| c.get("functionArn")).is_some();
    match value.get_mut("requestPayload") {
        Some(payload) if is_record => Ok(payload.take()),
        _ => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lambda's record of a failed asynchronous invocation of `payload`
    /// (the fixture has the shape of AWS's example in "Capturing records of
    /// Lambda asynchronous invocations").
    fn record(payload: Value) -> String {
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/events/lambda-async-failure.json");
        let mut record: Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
        record["requestPayload"] = payload;
        record.to_string()
    }

    #[test]
    fn an_invocation_record_gives_its_request_payload_and_anything_else_itself() {
        let input = serde_json::json!({"scheduledTime": "2026-12-05T11:00:00Z", "attempt": "1"});
        assert_eq!(invocation_payload(&record(input.clone())), Ok(input.clone()));
        assert_eq!(invocation_payload(&input.to_string()), Ok(input));
        // A payload that merely has the field is not unwrapped.
        let own = serde_json::json!({"requestPayload": 1});
        assert_eq!(invocation_payload(&own.to_string()), Ok(own));
        assert!(invocation_payload("not json").unwrap_err().starts_with("the message is not JSON"));
    }
}
