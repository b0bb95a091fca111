//! `bindings.aws.sqs` input → the queue, its dead-letter queue, and an SQS
//! event source with partial batch responses (reference/lambda-anchors.md §7).
//!
//! The batch settings are bindery's own metadata, which Dapr ignores:
//! `batchSize`, `maxBatchingWindow`, `maxReceiveCount`, `maxConcurrency`,
//! `visibilityTimeout`.

use std::time::Duration;

use bindery::component::Component;
use bindery::output::config::SqsConfig;
use serde_json::json;

use crate::template::{Resource, arn_of, ref_};
use crate::trigger::Trigger;
use crate::{Settings, Stack, dead_letters};

const DEFAULT_BATCH_SIZE: u64 = 10;
/// Lambda's advice: at least 5, so throttling alone does not dead-letter a message.
const DEFAULT_MAX_RECEIVE_COUNT: u64 = 5;
/// Caps one backlog's share of the account's concurrency; `maxConcurrency` raises it.
const DEFAULT_MAX_CONCURRENCY: u64 = 10;
const MAX_VISIBILITY_SECONDS: u64 = 12 * 3600;
const MAX_QUEUE_NAME: usize = 80;
/// The checked batch settings.
struct Batching {
    size: u64,
    window: u64,
    max_receive_count: u64,
    max_concurrency: u64,
    visibility: u64,
}

pub(crate) fn trigger(stack: &mut Stack, component: &Component, id: &str, settings: &Settings) -> Option<Trigger> {
    let SqsConfig { queue: name, fifo, .. } = stack.config(component, SqsConfig::from_metadata)?;
    let dlq_name = match name.strip_suffix(".fifo") {
        Some(base) => format!("{base}-dlq.fifo"),
        None => format!("{name}-dlq"),
    };
    if dlq_name.len() > MAX_QUEUE_NAME {
        stack.refuse(
            component,
            "queueName",
            format!("the dead-letter queue's name {dlq_name:?} would be longer than SQS allows (80): shorten the queue's name"),
        );
        return None;
    }
    let batching = match batching(component, fifo, settings) {
        Ok(batching) => batching,
        Err((field, message)) => {
            stack.refuse(component, field, message);
            return None;
        }
    };
    let (queue, dlq) = (format!("{id}Queue"), format!("{id}DeadLetterQueue"));
    let mut queue_properties = json!({
        "QueueName": name,
        "VisibilityTimeout": batching.visibility,
        "RedrivePolicy": { "deadLetterTargetArn": arn_of(&dlq), "maxReceiveCount": batching.max_receive_count },
        "SqsManagedSseEnabled": true,
    });
    let mut dlq_resource = dead_letters::dead_letter_queue();
    dlq_resource.properties["QueueName"] = json!(dlq_name);
    if fifo {
        queue_properties["FifoQueue"] = json!(true);
        dlq_resource.properties["FifoQueue"] = json!(true);
        stack.notes.push(format!(
            "{}: a message moved to the dead-letter queue leaves its group, so later messages of that group go on",
            component.name
        ));
    }
    stack.resources.insert(queue.clone(), Resource::new("AWS::SQS::Queue", queue_properties));
    dead_letters::insert_queue(stack, &dlq, dlq_resource);
    stack.outputs.insert(
        queue.clone(),
        json!({ "Description": format!("The queue of binding {:?}", component.name), "Value": ref_(&queue) }),
    );
    stack.outputs.insert(
        dlq.clone(),
        json!({ "Description": format!("Messages of {:?} that failed {} times", component.name, batching.max_receive_count), "Value": ref_(&dlq) }),
    );
    let mut event = json!({
        "Queue": arn_of(&queue),
        "BatchSize": batching.size,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": { "MaximumConcurrency": batching.max_concurrency },
    });
    if batching.window > 0 {
        event["MaximumBatchingWindowInSeconds"] = json!(batching.window);
    }
    Some(Trigger {
        binary: "bindery-sqs",
        events: json!({ "Queue": { "Type": "SQS", "Properties": event } }),
        properties: Vec::new(),
        statements: Vec::new(),
    })
}

type Refusal = (&'static str, String);

fn batching(component: &Component, fifo: bool, settings: &Settings) -> Result<Batching, Refusal> {
    let metadata = &component.metadata;
    let number = |field: &'static str, default: u64, (min, max): (u64, u64), why: &str| -> Result<u64, Refusal> {
        match metadata.u64(field) {
            Ok(None) => Ok(default),
            Ok(Some(n)) if (min..=max).contains(&n) => Ok(n),
            Ok(Some(n)) => Err((field, format!("{n} is outside {min}-{max}{why}"))),
            Err(e) => Err((field, e.message)),
        }
    };
    let seconds = |field: &'static str| -> Result<Option<u64>, Refusal> {
        match metadata.duration(field) {
            Ok(None) => Ok(None),
            Ok(Some(d)) if d.subsec_nanos() == 0 => Ok(Some(d.as_secs())),
            Ok(Some(d)) => Err((field, format!("{d:?} is not a whole number of seconds"))),
            Err(e) => Err((field, e.message)),
        }
    };
    let max_size = if fifo { 10 } else { 10_000 };
    let size = number("batchSize", DEFAULT_BATCH_SIZE, (1, max_size), if fifo { " (FIFO queues)" } else { "" })?;
    let window = seconds("maxBatchingWindow")?;
    if fifo && window.is_some() {
        return Err(("maxBatchingWindow", "FIFO queues take no batching window: remove it".to_owned()));
    }
    let window = window.unwrap_or(0);
    if window > 300 {
        return Err((
            "maxBatchingWindow",
            format!("{:?} is more than Lambda's maximum, 5m", Duration::from_secs(window)),
        ));
    }
    if size > 10 && window == 0 {
        return Err((
            "maxBatchingWindow",
            format!(
                "a batchSize of {size} (over 10) needs a batching window of at least 1s: add maxBatchingWindow: 1s"
            ),
        ));
    }
    let max_receive_count = number("maxReceiveCount", DEFAULT_MAX_RECEIVE_COUNT, (1, 1000), "")?;
    let max_concurrency = number("maxConcurrency", DEFAULT_MAX_CONCURRENCY, (2, 1000), " (Lambda's ScalingConfig)")?;
    // Lambda's advice: six times the function's timeout, plus the window.
    let least = 6 * settings.timeout_seconds + window;
    let visibility = seconds("visibilityTimeout")?.unwrap_or(least);
    if visibility < least {
        return Err((
            "visibilityTimeout",
            format!(
                "{visibility}s is less than 6 × the function timeout ({}s) + the batching window ({window}s) = {least}s: \
                 a message could reappear while it is still being delivered",
                settings.timeout_seconds
            ),
        ));
    }
    if visibility > MAX_VISIBILITY_SECONDS {
        return Err((
            "visibilityTimeout",
            format!("{visibility}s is more than SQS allows, 12h: lower the function timeout"),
        ));
    }
    Ok(Batching { size, window, max_receive_count, max_concurrency, visibility })
}
