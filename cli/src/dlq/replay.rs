//! `bindery dlq replay`: dead-lettered messages back to the binding's queue,
//! or straight to the app.
//!
//! One message at a time: it is received (ten at once, hidden for
//! [`HIDDEN`]), sent on (to the queue, or to the app as the function would
//! deliver it), and deleted from the dead-letter queue only once the target
//! accepted it. A crash in between duplicates at most that message; a target
//! that refuses leaves it where it was, visible again at once, as are the
//! others received with it.

use std::time::Duration;

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use bindery::component::{BindingKind, InputKind};
use bindery::deliver::{App, Deliverer};
use tokio::time::Instant;

use super::app_events::app_events;
use super::stream_batch::Stream;
use super::{DeadLetters, Queue};
use crate::Failure;
use crate::args::DlqReplayArgs;

/// How long a message being replayed stays hidden from other consumers.
const HIDDEN: i32 = 60;
/// Between looks at a running message move task.
const MOVE_TASK_POLL: Duration = Duration::from_millis(500);
/// How long the app has to answer one message.
const DELIVERY_TIME: Duration = Duration::from_secs(30);

/// Where the messages go.
enum Target {
    Queue(Queue),
    App(Deliverer),
    /// The app, given the records of the stream batch each message names.
    Stream(Deliverer, Stream),
}

pub(crate) async fn replay(args: DlqReplayArgs) -> Result<(), Failure> {
    let dlq = DeadLetters::find(&args.target).await?;
    let name = dlq.binding.name.clone();
    let target = target(&dlq, &args).await?;
    let limit = args.max.unwrap_or(u64::MAX);
    if args.dry_run {
        return dry_run(&dlq, &target, limit).await;
    }
    if let (Target::Queue(queue), None) = (&target, args.max) {
        match move_task(&dlq, queue).await {
            Ok(moved) => {
                println!("{name}: {moved} message(s) replayed to {} by SQS's message move task", queue.url);
                return Ok(());
            }
            Err(why) => println!("{name}: {why}: moving one message at a time"),
        }
    }
    let mut replayed = 0u64;
    'receiving: while replayed < limit {
        // Up to ten at a time, each sent on and deleted before the next: a
        // crash duplicates at most the one in flight, and the rest come back
        // after the visibility timeout.
        let messages = dlq.receive((limit - replayed).min(10) as i32, HIDDEN).await?;
        if messages.is_empty() {
            break;
        }
        for (index, message) in messages.iter().enumerate() {
            let id = message.message_id.as_deref().unwrap_or_default();
            if let Err(why) = send(&dlq, &target, message).await {
                // Left in the dead-letter queue, visible again for the next try.
                release(&dlq, &messages[index..]).await;
                return Err(Failure::new(format!(
                    "{name}: message {id} was not replayed, and stays in the dead-letter queue: {why} \
                     ({replayed} replayed before it)"
                )));
            }
            let receipt = message.receipt_handle.as_deref().unwrap_or_default();
            let deleted = dlq.client.delete_message().queue_url(&dlq.url).receipt_handle(receipt).send().await;
            if let Err(e) = deleted {
                release(&dlq, &messages[index + 1..]).await;
                return Err(dlq.failed(&format!("message {id} was replayed, but could not be deleted from"), &e));
            }
            replayed += 1;
            println!("{name}: replayed {id}");
            if replayed == limit {
                release(&dlq, &messages[index + 1..]).await;
                break 'receiving;
            }
        }
    }
    println!("{name}: {replayed} message(s) replayed {}", describe(&target));
    Ok(())
}

/// Where `args` send the dead letters of `dlq`'s binding: back to its
/// queue, or to the app (a stream's, with its records read again).
async fn target(dlq: &DeadLetters, args: &DlqReplayArgs) -> Result<Target, Failure> {
    let name = &dlq.binding.name;
    let input = dlq.binding.kind.binding().and_then(BindingKind::input);
    let is_stream = matches!(input, Some(InputKind::Kinesis | InputKind::DynamoDbStreams));
    if is_stream && !args.to_app {
        return Err(Failure::new(format!(
            "{name}: a stream's failure queue holds each failed batch's shard and sequence numbers, not its \
             records, and there is no queue to move them back to: replay them with --to-app, which reads the \
             records again from the stream"
        )));
    }
    if args.to_app {
        if input == Some(InputKind::Webhook) {
            return Err(Failure::new(format!("{name}: a webhook has no dead letters: its caller got the error")));
        }
        let url = match (&args.app_url, args.app_port) {
            (Some(url), _) => url.clone(),
            (None, Some(port)) => format!("http://127.0.0.1:{port}"),
            (None, None) => {
                return Err(Failure::new("--to-app needs the app: --app-url URL or --app-port N").with_code(2));
            }
        };
        let app = App::http(&url).map_err(|e| Failure::new(format!("--app-url {url}: {}", e.reason)))?;
        let token = std::env::var("APP_API_TOKEN").ok();
        let deliverer = Deliverer::new(app, dlq.binding.route.clone(), token.as_deref())
            .map_err(|e| Failure::new(format!("{name}: {}", e.message)))?;
        if is_stream {
            let stream = Stream::connect(&dlq.binding).await.map_err(|e| Failure::new(format!("{name}: {e}")))?;
            return Ok(Target::Stream(deliverer, stream));
        }
        Ok(Target::App(deliverer))
    } else {
        let source = dlq.source.as_ref().ok_or_else(|| {
            Failure::new(format!(
                "{name}: a {} binding has no queue to move its messages back to: replay them with --to-app",
                dlq.binding.kind
            ))
        })?;
        Ok(Target::Queue(Queue { url: source.url.clone(), arn: source.arn.clone() }))
    }
}

/// Makes messages received and not replayed visible again at once.
async fn release(dlq: &DeadLetters, messages: &[Message]) {
    for receipt in messages.iter().filter_map(|m| m.receipt_handle.as_deref()) {
        let change = dlq.client.change_message_visibility().queue_url(&dlq.url).receipt_handle(receipt);
        // At worst the message waits out its visibility timeout.
        let _ = change.visibility_timeout(0).send().await;
    }
}

/// Moves every message back with SQS's own message move task, and waits for
/// it to end: SQS deletes each message from the dead-letter queue once it
/// is on the destination. `Err` when the queue service cannot run one (moto
/// has no such task), before anything moved.
async fn move_task(dlq: &DeadLetters, destination: &Queue) -> Result<u64, String> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let attributes =
        dlq.client.get_queue_attributes().queue_url(&dlq.url).attribute_names(QueueAttributeName::QueueArn);
    let attributes = attributes.send().await.map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())?;
    let source_arn =
        attributes.attributes.unwrap_or_default().remove(&QueueAttributeName::QueueArn).unwrap_or_default();
    let started = dlq
        .client
        .start_message_move_task()
        .source_arn(&source_arn)
        .destination_arn(&destination.arn)
        .send()
        .await
        .map_err(|e| format!("no message move task: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
    let handle = started.task_handle.unwrap_or_default();
    loop {
        tokio::time::sleep(MOVE_TASK_POLL).await;
        let tasks = dlq.client.list_message_move_tasks().source_arn(&source_arn).send().await;
        let tasks = tasks.map_err(|e| {
            format!("task {handle} started, but cannot be followed: {}", aws_sdk_sqs::error::DisplayErrorContext(&e))
        })?;
        // The newest task first; only a running one has a handle.
        let Some(task) = tasks.results.unwrap_or_default().into_iter().next() else { continue };
        let moved = task.approximate_number_of_messages_moved.max(0) as u64;
        match task.status.as_deref() {
            Some("COMPLETED") => return Ok(moved),
            Some("FAILED" | "CANCELLED") => {
                let reason = task.failure_reason.unwrap_or_default();
                return Err(format!("the move task stopped after {moved} message(s): {reason}"));
            }
            _ => {}
        }
    }
}

/// Lists what would be replayed, without hiding or moving anything.
async fn dry_run(dlq: &DeadLetters, target: &Target, limit: u64) -> Result<(), Failure> {
    let messages = dlq.receive(limit.min(10) as i32, 0).await?;
    for message in &messages {
        println!("{}: would replay {}", dlq.binding.name, super::describe(message).trim_start());
    }
    println!("{}: dry run, nothing replayed {} (a page of at most 10 shown)", dlq.binding.name, describe(target));
    Ok(())
}

fn describe(target: &Target) -> String {
    match target {
        Target::Queue(queue) => format!("to {}", queue.url),
        Target::App(deliverer) | Target::Stream(deliverer, _) => format!("to the app (POST {})", deliverer.route()),
    }
}

/// Sends one message on to the target.
async fn send(dlq: &DeadLetters, target: &Target, message: &Message) -> Result<(), String> {
    match target {
        Target::Queue(queue) => {
            let system = message.attributes.clone().unwrap_or_default();
            let mut send = dlq
                .client
                .send_message()
                .queue_url(&queue.url)
                .message_body(message.body.clone().unwrap_or_default())
                .set_message_attributes(message.message_attributes.clone());
            if queue.is_fifo() {
                // A FIFO queue's dead-letter queue is FIFO: the group and
                // deduplication id came along.
                let group = system.get(&MessageSystemAttributeName::MessageGroupId).cloned();
                let dedup = system.get(&MessageSystemAttributeName::MessageDeduplicationId).cloned();
                send = send
                    .set_message_group_id(group)
                    .message_deduplication_id(dedup.or_else(|| message.message_id.clone()).unwrap_or_default());
            }
            send.send().await.map(drop).map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
        }
        Target::App(deliverer) => {
            // Every record of the failed invocation, in order; the message
            // is deleted only when the app acknowledged them all.
            for event in app_events(dlq, message)? {
                deliverer.deliver(event, Instant::now() + DELIVERY_TIME).await.map_err(|e| e.message)?;
            }
            Ok(())
        }
        Target::Stream(deliverer, stream) => {
            let body = message.body.as_deref().unwrap_or_default();
            stream.replay(body, deliverer, DELIVERY_TIME).await.map(drop)
        }
    }
}
