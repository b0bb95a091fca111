//! Where failures end: every dead-letter queue of the stack, with an alarm
//! on its depth ([`insert_queue`]); and for a function invoked
//! asynchronously (schedules, S3, SNS), its queue, a stack output that says
//! what lands in it, and the function's `EventInvokeConfig`, which sends
//! there what the app did not acknowledge after Lambda's retries.

use serde_json::{Value, json};

use crate::Stack;
use crate::template::{Resource, arn_of, get_att, ref_};

/// Lambda's asynchronous retries: at most 2, and bindery keeps them all.
const FUNCTION_RETRIES: u64 = 2;
/// SQS's longest retention: a dead letter waits as long as it can.
const FOURTEEN_DAYS: u64 = 14 * 24 * 3600;

/// A dead-letter queue, named by CloudFormation unless given a `QueueName`.
pub(crate) fn dead_letter_queue() -> Resource {
    Resource::new("AWS::SQS::Queue", json!({ "MessageRetentionPeriod": FOURTEEN_DAYS, "SqsManagedSseEnabled": true }))
}

/// The dead-letter queue `<id>DeadLetterQueue`, added to the stack with an
/// output whose description is `what`; its logical id and the function's
/// `EventInvokeConfig` (with `max_event_age` seconds, when given).
pub(crate) fn async_dead_letters(
    stack: &mut Stack,
    id: &str,
    what: String,
    max_event_age: Option<u64>,
) -> (String, Value) {
    let dlq = format!("{id}DeadLetterQueue");
    insert_queue(stack, &dlq, dead_letter_queue());
    stack.outputs.insert(dlq.clone(), json!({ "Description": what, "Value": ref_(&dlq) }));
    let mut invoke_config = json!({
        "MaximumRetryAttempts": FUNCTION_RETRIES,
        "DestinationConfig": { "OnFailure": { "Type": "SQS", "Destination": arn_of(&dlq) } },
    });
    if let Some(age) = max_event_age {
        invoke_config["MaximumEventAgeInSeconds"] = json!(age);
    }
    (dlq, invoke_config)
}

/// Adds the dead-letter queue `id`, and `<id>DepthAlarm`: in alarm while a
/// message is in it, each one a failure nobody has looked at yet. The
/// alarm has no action: point it at a topic (`AlarmActions`) to be told.
pub(crate) fn insert_queue(stack: &mut Stack, id: &str, queue: Resource) {
    stack.resources.insert(id.to_owned(), queue);
    let alarm = json!({
        "AlarmDescription": format!("Messages wait in the dead-letter queue {id}: failures to look at (bindery dlq list)"),
        "Namespace": "AWS/SQS",
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Dimensions": [{ "Name": "QueueName", "Value": get_att(id, "QueueName") }],
        "Statistic": "Maximum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
    });
    stack.resources.insert(format!("{id}DepthAlarm"), Resource::new("AWS::CloudWatch::Alarm", alarm));
}
