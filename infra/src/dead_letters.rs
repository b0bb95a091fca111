//! Where the failures of a function invoked asynchronously (schedules, S3,
//! SNS) end: a dead-letter queue, a stack output that says what lands in
//! it, and the function's `EventInvokeConfig`, which sends there what the
//! app did not acknowledge after Lambda's retries.

use serde_json::{Value, json};

use crate::Stack;
use crate::queue::dead_letter_queue;
use crate::template::{arn_of, ref_};

/// Lambda's asynchronous retries: at most 2, and bindery keeps them all.
const FUNCTION_RETRIES: u64 = 2;

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
    stack.resources.insert(dlq.clone(), dead_letter_queue());
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
