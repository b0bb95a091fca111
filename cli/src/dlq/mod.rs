//! `bindery dlq`: an input binding's dead-letter queue, seen and replayed.
//!
//! The queue is found from the components: an SQS binding's queue names its
//! dead-letter queue in its `RedrivePolicy` (as `bindery infra` writes it);
//! `--stack` finds it in the outputs of the stack `bindery infra`'s template
//! was deployed as, and `--dlq-url` names it outright. `list` shows without consuming, `replay`
//! moves messages back to the binding's queue or delivers them to the app
//! ([`replay`]), `purge` empties the queue when told `--yes`.

mod app_events;
mod replay;
mod stack;
mod stream_batch;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use bindery::component::{BindingKind, Component, InputKind};
use bindery::output::config::SqsConfig;

use crate::Failure;
use crate::args::{DlqAction, DlqArgs, DlqListArgs, DlqPurgeArgs, DlqTarget};
use crate::field_problems as problems;
use crate::load::load;

/// How many bytes of a body `list` shows.
const BODY_PREVIEW: usize = 80;

pub(crate) async fn dlq(args: DlqArgs) -> Result<(), Failure> {
    match args.action {
        DlqAction::List(args) => list(args).await,
        DlqAction::Replay(args) => replay::replay(args).await,
        DlqAction::Purge(args) => purge(args).await,
    }
}

/// A binding's dead-letter queue, and the queue it feeds back into.
pub(crate) struct DeadLetters {
    pub(crate) binding: Component,
    pub(crate) client: Client,
    pub(crate) url: String,
    /// The binding's own queue (SQS bindings): where `replay` moves messages back to.
    pub(crate) source: Option<Queue>,
}

pub(crate) struct Queue {
    pub(crate) url: String,
    pub(crate) arn: String,
}

impl Queue {
    pub(crate) fn is_fifo(&self) -> bool {
        self.url.ends_with(".fifo")
    }
}

impl DeadLetters {
    /// Finds the binding in the components, and its dead-letter queue.
    pub(crate) async fn find(target: &DlqTarget) -> Result<Self, Failure> {
        let loaded = load(&target.components.resources, None).await?;
        let binding = loaded.components.iter().find(|c| c.name == target.binding).cloned().ok_or_else(|| {
            let names: Vec<&str> = loaded.components.iter().map(|c| c.name.as_str()).collect();
            Failure::new(format!("no component {:?} (the components are: {})", target.binding, names.join(", ")))
        })?;
        let why = |e: String| Failure::new(format!("{}: {e}", binding.name));
        let is_sqs = binding.kind.binding().and_then(BindingKind::input) == Some(InputKind::Sqs);
        if !is_sqs && target.dlq_url.is_none() && target.stack.is_none() {
            // Said before any AWS call: there is nothing to look up.
            return Err(why(format!(
                "a {} binding has no queue of its own to name its dead-letter queue: give the stack bindery \
                 infra's template was deployed as with --stack, or the queue's URL with --dlq-url (the stack's \
                 output {}DeadLetterQueue)",
                binding.kind,
                bindery_infra::logical_id(&binding.name)
            )));
        }
        let config = bindery::output::aws::sdk_config(&binding.metadata).await.map_err(|e| why(problems(e)))?;
        let client = Client::new(&config);
        let source = match is_sqs {
            true => Some(source_queue(&client, &binding).await.map_err(why)?),
            false => None,
        };
        let url = match (&target.dlq_url, &target.stack, &source) {
            (Some(url), _, _) => url.clone(),
            (None, Some(stack), _) => {
                let cloudformation = aws_sdk_cloudformation::Client::new(&config);
                stack::dead_letter_url(&cloudformation, stack, &binding.name).await.map_err(why)?
            }
            (None, None, Some(source)) => dead_letter_url(&client, source).await.map_err(why)?,
            (None, None, None) => return Err(why("no dead-letter queue: give its URL with --dlq-url".into())),
        };
        Ok(Self { binding, client, url, source })
    }

    /// The number of messages waiting (SQS's approximation).
    async fn count(&self) -> Result<(u64, u64), Failure> {
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| self.failed("cannot read the dead-letter queue", &e))?;
        let attributes = attributes.attributes.unwrap_or_default();
        let number = |name| attributes.get(&name).and_then(|v: &String| v.parse().ok()).unwrap_or(0);
        Ok((
            number(QueueAttributeName::ApproximateNumberOfMessages),
            number(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        ))
    }

    /// Up to `max` (at most 10) messages, hidden for `visibility` seconds
    /// (0: left visible, a look only).
    pub(crate) async fn receive(&self, max: i32, visibility: i32) -> Result<Vec<Message>, Failure> {
        let received = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, 10))
            .visibility_timeout(visibility)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| self.failed("cannot receive from the dead-letter queue", &e))?;
        Ok(received.messages.unwrap_or_default())
    }

    pub(crate) fn failed<E: std::error::Error + 'static>(&self, what: &str, error: &E) -> Failure {
        Failure::new(format!("{}: {what} {}: {}", self.binding.name, self.url, DisplayErrorContext(error)))
    }
}

async fn list(args: DlqListArgs) -> Result<(), Failure> {
    let dlq = DeadLetters::find(&args.target).await?;
    let (waiting, in_flight) = dlq.count().await?;
    println!("{}: {waiting} message(s) in {} ({in_flight} in flight)", dlq.binding.name, dlq.url);
    let mut seen = std::collections::HashSet::new();
    // SQS returns a sample per call: ask a few times for a full page.
    for _ in 0..args.max.div_ceil(10) * 2 {
        if seen.len() >= args.max as usize {
            break;
        }
        let messages = dlq.receive((args.max as usize - seen.len()) as i32, 0).await?;
        if messages.is_empty() {
            break;
        }
        for message in messages {
            let id = message.message_id.clone().unwrap_or_default();
            if seen.len() < args.max as usize && seen.insert(id.clone()) {
                println!("{}", describe(&message));
            }
        }
    }
    Ok(())
}

/// One line for `list`: id, receive count, the body's first bytes, attributes.
fn describe(message: &Message) -> String {
    let system = message.attributes.clone().unwrap_or_default();
    let receives = system.get(&MessageSystemAttributeName::ApproximateReceiveCount).map_or("?", String::as_str);
    let body = message.body.as_deref().unwrap_or_default();
    let mut preview: String = body.chars().take(BODY_PREVIEW).collect();
    if preview.len() < body.len() {
        preview.push('…');
    }
    let mut attributes: Vec<String> = message
        .message_attributes
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| format!("{name}={}", value.string_value.unwrap_or(value.data_type)))
        .collect();
    attributes.sort();
    format!(
        "  {}  received {receives}x  {preview:?}{}",
        message.message_id.as_deref().unwrap_or("?"),
        if attributes.is_empty() { String::new() } else { format!("  [{}]", attributes.join(", ")) }
    )
}

async fn purge(args: DlqPurgeArgs) -> Result<(), Failure> {
    if !args.yes {
        return Err(Failure::new(format!(
            "purging {}'s dead-letter queue deletes every message in it for good: add --yes",
            args.target.binding
        ))
        .with_code(2));
    }
    let dlq = DeadLetters::find(&args.target).await?;
    let (waiting, _) = dlq.count().await?;
    dlq.client.purge_queue().queue_url(&dlq.url).send().await.map_err(|e| dlq.failed("cannot purge", &e))?;
    println!("{}: purged {} (about {waiting} message(s))", dlq.binding.name, dlq.url);
    Ok(())
}

/// An SQS binding's queue: its URL and ARN.
async fn source_queue(client: &Client, binding: &Component) -> Result<Queue, String> {
    let SqsConfig { queue, is_url, .. } = SqsConfig::from_metadata(&binding.metadata).map_err(problems)?;
    let url = if is_url {
        queue
    } else {
        let found = client.get_queue_url().queue_name(&queue).send().await;
        let found = found.map_err(|e| format!("queue {queue:?} cannot be found: {}", DisplayErrorContext(&e)))?;
        found.queue_url.unwrap_or_default()
    };
    let attributes = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| format!("queue {url}: {}", DisplayErrorContext(&e)))?;
    let arn = attributes.attributes.unwrap_or_default().remove(&QueueAttributeName::QueueArn).unwrap_or_default();
    Ok(Queue { url, arn })
}

/// The dead-letter queue a queue's `RedrivePolicy` names.
async fn dead_letter_url(client: &Client, source: &Queue) -> Result<String, String> {
    let attributes = client
        .get_queue_attributes()
        .queue_url(&source.url)
        .attribute_names(QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .map_err(|e| format!("queue {}: {}", source.url, DisplayErrorContext(&e)))?;
    let policy = attributes.attributes.unwrap_or_default().remove(&QueueAttributeName::RedrivePolicy);
    let arn = policy
        .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
        .and_then(|p| p["deadLetterTargetArn"].as_str().map(str::to_owned))
        .ok_or_else(|| {
            format!("queue {} has no dead-letter queue (no RedrivePolicy): give its URL with --dlq-url", source.url)
        })?;
    let (name, account) =
        queue_arn_parts(&arn).ok_or_else(|| format!("the RedrivePolicy names {arn:?}, not a queue"))?;
    let found = client.get_queue_url().queue_name(name).queue_owner_aws_account_id(account).send().await;
    let found = found.map_err(|e| format!("dead-letter queue {arn}: {}", DisplayErrorContext(&e)))?;
    Ok(found.queue_url.unwrap_or_default())
}

/// A queue ARN's name and account: `arn:aws:sqs:<region>:<account>:<name>`.
fn queue_arn_parts(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sqs", _, account, name] if !name.is_empty() => Some((name, account)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redrive_target_is_read_from_its_arn() {
        assert_eq!(
            queue_arn_parts("arn:aws:sqs:us-east-1:123456789012:tasks-dlq"),
            Some(("tasks-dlq", "123456789012"))
        );
        assert_eq!(queue_arn_parts("arn:aws:sns:us-east-1:123456789012:topic"), None);
        assert_eq!(queue_arn_parts("tasks-dlq"), None);
    }

    #[test]
    fn a_listed_message_shows_its_id_receives_first_bytes_and_attributes() {
        let message = Message::builder()
            .message_id("m-1")
            .body("x".repeat(100))
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "3")
            .message_attributes(
                "kind",
                aws_sdk_sqs::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("task")
                    .build()
                    .unwrap(),
            )
            .build();
        let line = describe(&message);
        assert!(line.starts_with("  m-1  received 3x  \"xxxx"), "{line}");
        assert!(line.contains("…\"") && line.ends_with("[kind=task]"), "{line}");
    }
}
