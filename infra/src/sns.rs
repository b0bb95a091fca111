//! `bindings.aws.sns` input → a subscription of the function to `topicArn`,
//! and the permission SNS needs to invoke it, answered by bindery-sns
//! (reference: docs/reference/aws-bindings-and-event-sources.md §3.2, §3.4).
//!
//! Two failures end in one dead-letter queue: a message SNS could not hand
//! to Lambda (the subscription's redrive policy, which needs the queue's
//! policy to let this topic send), and one the app did not acknowledge
//! after Lambda's 2 asynchronous retries (the function's `EventInvokeConfig`).

use bindery::component::Component;
use bindery::input::sns::SnsSourceConfig;
use serde_json::json;

use crate::Stack;
use crate::dead_letters::async_dead_letters;
use crate::template::{Resource, arn_of, ref_};
use crate::trigger::Trigger;

pub(crate) fn trigger(stack: &mut Stack, component: &Component, id: &str) -> Option<Trigger> {
    let SnsSourceConfig { topic_arn, .. } = stack.config(component, SnsSourceConfig::from_metadata)?;
    let what = format!("Notifications of {:?} that never reached the app", component.name);
    let (dlq, invoke_config) = async_dead_letters(stack, id, what, None);
    stack.resources.insert(
        format!("{id}DeadLetterQueuePolicy"),
        Resource::new(
            "AWS::SQS::QueuePolicy",
            json!({
                "Queues": [ref_(&dlq)],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": { "Service": "sns.amazonaws.com" },
                        "Action": "sqs:SendMessage",
                        "Resource": arn_of(&dlq),
                        "Condition": { "ArnEquals": { "aws:SourceArn": topic_arn } },
                    }],
                },
            }),
        ),
    );
    // The subscription and permission are written out rather than as SAM's
    // SNS event: cfn-lint's schema of that event has no RedrivePolicy.
    let function = format!("{id}Function");
    stack.resources.insert(
        format!("{id}Subscription"),
        Resource::new(
            "AWS::SNS::Subscription",
            json!({
                "TopicArn": topic_arn,
                "Protocol": "lambda",
                "Endpoint": arn_of(&function),
                "RedrivePolicy": { "deadLetterTargetArn": arn_of(&dlq) },
            }),
        ),
    );
    stack.resources.insert(
        format!("{id}SnsPermission"),
        Resource::new(
            "AWS::Lambda::Permission",
            json!({
                "Action": "lambda:InvokeFunction",
                "FunctionName": arn_of(&function),
                "Principal": "sns.amazonaws.com",
                "SourceArn": topic_arn,
            }),
        ),
    );
    Some(Trigger {
        binary: "bindery-sns",
        events: json!({}),
        properties: vec![("EventInvokeConfig", invoke_config)],
        statements: Vec::new(),
    })
}
