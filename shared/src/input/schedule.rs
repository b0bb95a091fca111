//! EventBridge schedules: Scheduler invocations and legacy scheduled-rule
//! events become the cron binding's empty-body event.
//!
//! Dapr's cron binding sends `timeZone` and `readTimeUTC`; bindery adds what
//! the schedule itself says, when it says it: `scheduledTime`, `attempt`,
//! `scheduleArn`, `executionId` (reference/lambda-anchors.md §6.3).

use std::borrow::Cow;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde_json::Value;

use super::{BindingEvent, InputError};
use crate::component::{FieldError, Metadata};
use crate::schedule::Schedule;

const LEGACY_DETAIL_TYPE: &str = "Scheduled Event";

/// A cron binding's component metadata, checked.
#[derive(Debug, Clone)]
pub struct CronConfig {
    pub schedule: Schedule,
}

impl CronConfig {
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let text = metadata.required("schedule").map_err(|e| vec![e])?;
        let schedule = text
            .parse::<Schedule>()
            .map_err(|e| vec![FieldError::invalid("schedule", format!("invalid schedule format {text:?}: {e}"))])?;
        Ok(Self { schedule })
    }

    /// The schedule's time zone (`CRON_TZ=`), `UTC` when it names none.
    pub fn time_zone_name(&self) -> String {
        self.schedule.time_zone().map_or_else(|| "UTC".to_owned(), |tz| tz.name().to_owned())
    }
}

/// The event for one schedule invocation.
///
/// `payload` is whatever Lambda received: a legacy rule's envelope, or the
/// Scheduler target's `Input` (any JSON). `time_zone` is the schedule's zone
/// (`CRON_TZ=`), `UTC` when it has none: Lambda's local time.
pub fn schedule_event(
    payload: &Value,
    binding: &str,
    time_zone: &str,
    now: DateTime<Utc>,
) -> Result<BindingEvent, InputError> {
    let mut metadata: Vec<(Cow<'static, str>, String)> =
        vec![("timeZone".into(), time_zone.to_owned()), ("readTimeUTC".into(), go_utc_string(now))];
    if payload.get("detail-type").and_then(Value::as_str) == Some(LEGACY_DETAIL_TYPE) {
        legacy_rule(payload, &mut metadata)?;
    } else if let Some(input) = payload.as_object() {
        if let Some(source) = other_trigger(input) {
            return Err(InputError::new(format!(
                "this is {source}, not a schedule: is the function wired to the right trigger?"
            )));
        }
        // Any value but this binding's name, a string or not, names another.
        if let Some(named) = input.get("binding")
            && named.as_str() != Some(binding)
        {
            return Err(InputError::new(format!(
                "the schedule's input names binding {named}, but this function serves {binding:?}"
            )));
        }
        for key in ["scheduledTime", "attempt", "scheduleArn", "executionId"] {
            if let Some(value) = input.get(key).and_then(text) {
                metadata.push((key.into(), value));
            }
        }
    }
    Ok(BindingEvent { data: Default::default(), metadata, traceparent: None })
}

/// What an event plainly of another trigger is: a batch of records that
/// name their source (SQS, SNS, S3, Kinesis, DynamoDB), or an HTTP request
/// (API Gateway, Function URL). A Scheduler input may be any JSON, but
/// acknowledging such an event as a schedule would lose it: Lambda deletes
/// an SQS batch its function answered.
fn other_trigger(input: &serde_json::Map<String, Value>) -> Option<String> {
    if let Some(Value::Array(records)) = input.get("Records") {
        let source = |r: &Value| r.get("eventSource").or_else(|| r.get("EventSource"))?.as_str().map(str::to_owned);
        return records.iter().find_map(source);
    }
    input.get("requestContext").filter(|c| c.is_object()).map(|_| "an HTTP request".to_owned())
}

fn legacy_rule(payload: &Value, metadata: &mut Vec<(Cow<'static, str>, String)>) -> Result<(), InputError> {
    let event: EventBridgeEvent<Value> = serde_json::from_value(payload.clone())
        .map_err(|e| InputError::new(format!("malformed scheduled-rule event: {e}")))?;
    if let Some(time) = event.time {
        metadata.push(("scheduledTime".into(), time.to_rfc3339_opts(SecondsFormat::AutoSi, true)));
    }
    if let Some(arn) = event.resources.as_ref().and_then(|r| r.first()) {
        metadata.push(("scheduleArn".into(), arn.clone()));
    }
    if let Some(id) = event.id {
        metadata.push(("executionId".into(), id));
    }
    Ok(())
}

/// A string or number as text; Scheduler substitutes `<aws.scheduler.attempt-number>`
/// as written, so `"attempt": 1` and `"attempt": "1"` both occur.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Go's `time.Now().UTC().String()`, which is what Dapr sends as `readTimeUTC`:
/// `2026-08-21 20:12:09.123456789 +0000 UTC`, trailing zeros of the fraction dropped.
pub fn go_utc_string(t: DateTime<Utc>) -> String {
    let base = t.format("%Y-%m-%d %H:%M:%S");
    let nanos = t.nanosecond() % 1_000_000_000;
    if nanos == 0 {
        format!("{base} +0000 UTC")
    } else {
        let fraction = format!("{nanos:09}");
        format!("{base}.{} +0000 UTC", fraction.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 8, 21, 20, 12, 9).unwrap() + chrono::Duration::nanoseconds(123_456_789)
    }

    fn fixture(name: &str) -> Value {
        let path = format!("{}/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn go_time_format() {
        assert_eq!(go_utc_string(now()), "2026-08-21 20:12:09.123456789 +0000 UTC");
        let whole = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(go_utc_string(whole), "2026-01-02 03:04:05 +0000 UTC");
        assert_eq!(go_utc_string(whole + chrono::Duration::milliseconds(500)), "2026-01-02 03:04:05.5 +0000 UTC");
    }

    #[test]
    fn legacy_scheduled_rule() {
        let event = schedule_event(&fixture("eventbridge-scheduled-event.json"), "cron-binding", "UTC", now()).unwrap();
        assert!(event.data.is_empty());
        assert_eq!(
            event.metadata,
            vec![
                ("timeZone".into(), "UTC".to_owned()),
                ("readTimeUTC".into(), "2026-08-21 20:12:09.123456789 +0000 UTC".to_owned()),
                ("scheduledTime".into(), "2015-10-08T16:53:06Z".to_owned()),
                ("scheduleArn".into(), "arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule".to_owned()),
                ("executionId".into(), "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa".to_owned()),
            ]
        );
    }

    #[test]
    fn scheduler_input_with_context_attributes() {
        let event =
            schedule_event(&fixture("scheduler-input.json"), "cron-binding", "America/New_York", now()).unwrap();
        assert_eq!(event.metadata("timeZone"), Some("America/New_York"));
        assert_eq!(event.metadata("scheduledTime"), Some("2026-03-22T18:59:00Z"));
        assert_eq!(event.metadata("attempt"), Some("2"));
        assert_eq!(
            event.metadata("scheduleArn"),
            Some("arn:aws:scheduler:us-east-1:123456789012:schedule/default/cron-binding")
        );
        assert_eq!(event.metadata("executionId"), Some("d1c4e3d8-8e1b-4c63-9a52-6f1f0c9b2f3e"));
    }

    #[test]
    fn any_json_input_is_accepted() {
        for payload in
            [Value::Null, serde_json::json!("tick"), serde_json::json!({"job": "cleanup"}), serde_json::json!([1, 2])]
        {
            let event = schedule_event(&payload, "b", "UTC", now()).unwrap();
            assert_eq!(event.metadata.len(), 2, "{payload}");
        }
        let numeric = schedule_event(&serde_json::json!({"attempt": 3}), "b", "UTC", now()).unwrap();
        assert_eq!(numeric.metadata("attempt"), Some("3"));
    }

    #[test]
    fn input_for_another_binding_is_refused() {
        let err = schedule_event(&serde_json::json!({"binding": "other"}), "cron-binding", "UTC", now()).unwrap_err();
        assert_eq!(
            err.message,
            "the schedule's input names binding \"other\", but this function serves \"cron-binding\""
        );
    }

    /// The check compared string values only, so `{"binding": ["other"]}`,
    /// a number or `null` passed it and was delivered.
    #[test]
    fn a_binding_that_is_not_a_string_is_refused_too() {
        for named in [serde_json::json!(["other"]), serde_json::json!(5), Value::Null, serde_json::json!({})] {
            let payload = serde_json::json!({ "binding": named });
            let err = schedule_event(&payload, "cron-binding", "UTC", now())
                .expect_err(&format!("{payload} names no binding this function serves"));
            assert_eq!(
                err.message,
                format!("the schedule's input names binding {named}, but this function serves \"cron-binding\"")
            );
        }
    }

    /// The function took any JSON for a Scheduler input, so one wired to the
    /// wrong trigger acknowledged an SQS batch (Lambda then deleted its
    /// messages) with an empty cron event, and answered HTTP requests `null`.
    #[test]
    fn another_triggers_event_is_refused() {
        for (name, source) in [
            ("sqs-standard.json", "aws:sqs"),
            ("sqs-fifo.json", "aws:sqs"),
            ("apigw-v2-http-api.json", "an HTTP request"),
            ("apigw-v1-rest-api.json", "an HTTP request"),
            ("function-url.json", "an HTTP request"),
        ] {
            let err = schedule_event(&fixture(name), "cron-binding", "UTC", now())
                .expect_err(&format!("{name} is not a schedule"));
            assert_eq!(
                err.message,
                format!("this is {source}, not a schedule: is the function wired to the right trigger?"),
                "{name}"
            );
        }
        let sns = serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": {}}]});
        assert!(schedule_event(&sns, "b", "UTC", now()).unwrap_err().message.starts_with("this is aws:sns"));
    }

    #[test]
    fn malformed_legacy_event_is_an_error() {
        let payload = serde_json::json!({"detail-type": "Scheduled Event", "time": "not a time"});
        assert!(schedule_event(&payload, "b", "UTC", now()).is_err());
    }
}
