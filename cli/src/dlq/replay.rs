//! `bindery dlq replay`: dead-lettered messages back to the binding's queue,
//! or straight to the app.
//!
//! One message at a time: it is received (hidden for [`HIDDEN`]), sent on
//! (to the queue, or to the app as the function would deliver it), and
//! deleted from the dead-letter queue only once the target accepted it. A
//! crash in between duplicates at most that message; a target that refuses
//! leaves it where it was, visible again at once.

use std::time::Duration;

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use bindery::deliver::{App, Deliverer};
use bindery::input::sqs::parse_batch;
use tokio::time::Instant;

use super::{DeadLetters, Queue};
use crate::Failure;
use crate::args::DlqReplayArgs;
use crate::run::sqs_lambda_event;

/// How long a message being replayed stays hidden from other consumers.
const HIDDEN: i32 = 60;
/// How long the app has to answer one message.
const DELIVERY_TIME: Duration = Duration::from_secs(30);

/// Where the messages go.
enum Target {
    Queue(Queue),
    App(Deliverer),
}

pub(crate) async fn replay(args: DlqReplayArgs) -> Result<(), Failure> {
    let dlq = DeadLetters::find(&args.target).await?;
    let name = dlq.binding.name.clone();
    let target = if args.to_app {
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
        Target::App(deliverer)
    } else {
        let source = dlq.source.as_ref().ok_or_else(|| {
            Failure::new(format!(
                "{name}: a {} binding has no queue to move its messages back to: replay them with --to-app",
                dlq.binding.kind
            ))
        })?;
        Target::Queue(Queue { url: source.url.clone(), arn: source.arn.clone() })
    };
    let limit = args.max.unwrap_or(u64::MAX);
    if args.dry_run {
        return dry_run(&dlq, &target, limit).await;
    }
    let mut replayed = 0u64;
    while replayed < limit {
        let messages = dlq.receive(1, HIDDEN).await?;
        let Some(message) = messages.into_iter().next() else { break };
        let id = message.message_id.clone().unwrap_or_default();
        if let Err(why) = send(&dlq, &target, &message).await {
            // Left in the dead-letter queue, visible again for the next try.
            if let Some(receipt) = &message.receipt_handle {
                let _ = dlq
                    .client
                    .change_message_visibility()
                    .queue_url(&dlq.url)
                    .receipt_handle(receipt)
                    .visibility_timeout(0)
                    .send()
                    .await;
            }
            return Err(Failure::new(format!(
                "{name}: message {id} was not replayed, and stays in the dead-letter queue: {why} ({replayed} replayed before it)"
            )));
        }
        let receipt = message.receipt_handle.as_deref().unwrap_or_default();
        dlq.client
            .delete_message()
            .queue_url(&dlq.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| dlq.failed(&format!("message {id} was replayed, but could not be deleted from"), &e))?;
        replayed += 1;
        println!("{name}: replayed {id}");
    }
    println!("{name}: {replayed} message(s) replayed {}", describe(&target));
    Ok(())
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
        Target::App(deliverer) => format!("to the app (POST {})", deliverer.route()),
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
            // The event the function would deliver for this message from its queue.
            let arn = dlq.source.as_ref().map_or(dlq.url.as_str(), |s| s.arn.as_str());
            let event = sqs_lambda_event(vec![message.clone()], arn);
            let payload = serde_json::to_vec(&event).map_err(|e| e.to_string())?;
            let records = parse_batch(&payload).map_err(|e| e.message)?;
            let event = records.first().ok_or("no record")?.event().map_err(|e| e.message)?;
            deliverer.deliver(event, Instant::now() + DELIVERY_TIME).await.map_err(|e| e.message)
        }
    }
}
