//! A binding's dead-letter queue named by the outputs of the stack
//! `bindery infra`'s template was deployed as (`--stack`).

use aws_sdk_cloudformation::error::DisplayErrorContext;
use aws_sdk_cloudformation::types::Output;

/// The outputs that name a binding's dead letters: its queue's or its
/// function's `<Id>DeadLetterQueue`, or a stream mapping's `<Id>FailureQueue`.
fn output_keys(binding: &str) -> [String; 2] {
    let id = bindery_infra::logical_id(binding);
    [format!("{id}DeadLetterQueue"), format!("{id}FailureQueue")]
}

/// The URL of `binding`'s dead-letter queue in `stack`'s outputs.
pub(super) async fn dead_letter_url(
    client: &aws_sdk_cloudformation::Client,
    stack: &str,
    binding: &str,
) -> Result<String, String> {
    let described = client
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| format!("stack {stack:?} cannot be read: {}", DisplayErrorContext(&e)))?;
    let outputs = described.stacks().first().map(|s| s.outputs()).unwrap_or_default();
    find(outputs, binding).ok_or_else(|| {
        let keys: Vec<&str> = outputs.iter().filter_map(Output::output_key).collect();
        format!(
            "stack {stack:?} has no output {} (its outputs: {}): was it deployed from bindery infra's template \
             for these components?",
            output_keys(binding).join(" or "),
            if keys.is_empty() { "none".to_owned() } else { keys.join(", ") }
        )
    })
}

fn find(outputs: &[Output], binding: &str) -> Option<String> {
    let keys = output_keys(binding);
    let named = |o: &&Output| o.output_key().is_some_and(|k| keys.iter().any(|key| key == k));
    outputs.iter().find(named)?.output_value().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(key: &str, value: &str) -> Output {
        Output::builder().output_key(key).output_value(value).build()
    }

    #[test]
    fn a_binding_s_queue_or_stream_failures_are_found_by_its_logical_id() {
        let outputs = [
            output("TaskEventsQueue", "https://sqs/q"),
            output("TaskEventsDeadLetterQueue", "https://sqs/dlq"),
            output("ClickstreamFailureQueue", "https://sqs/failures"),
        ];
        assert_eq!(find(&outputs, "task-events").as_deref(), Some("https://sqs/dlq"));
        assert_eq!(find(&outputs, "clickstream").as_deref(), Some("https://sqs/failures"));
        assert_eq!(find(&outputs, "nightly"), None);
    }
}
