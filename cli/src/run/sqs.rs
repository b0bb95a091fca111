//! SQS input bindings polled locally (LocalStack, moto or AWS) with the rules
//! of `bindery-sqs`: each received batch becomes the Lambda event the
//! function would get and goes through the same per-record delivery, FIFO
//! ordering and failure rules. Only acknowledged messages are deleted; the
//! rest reappear after the visibility timeout, as on Lambda. A batch may take
//! longer than a short visibility timeout: its messages are then kept hidden
//! while it is delivered (see [`visibility`]).

mod visibility;

use std::collections::HashMap;
use std::time::{Duration, Instant as StdInstant};

use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName};
use bindery::component::BindingKind;
use bindery::component::Component;
use bindery::deliver::Deliverer;
use bindery::deliver::batch::{RecordOutcome, deliver_batch};
use bindery::deliver::once::deliver_record;
use bindery::idempotency::Idempotency;
use bindery::input::sqs::parse_batch;
use bindery::output::config::SqsConfig;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use visibility::{InFlight, batch_time, change_visibility, receive_visibility};

use super::console::{Console, Outcome};

/// Long-poll wait: short, so Ctrl-C is answered quickly.
const WAIT_SECONDS: i32 = 2;
/// Between attempts when the queue cannot be reached.
const RETRY_PAUSE: Duration = Duration::from_secs(2);

/// A queue being polled for one binding.
pub(crate) struct Poller {
    binding: String,
    client: Client,
    queue_url: String,
    queue_arn: String,
    visibility: Duration,
    deliverer: Deliverer,
    concurrency: usize,
    console: Console,
    /// `idempotency` in the component, in the store `--idempotency-store` says.
    idempotency: Option<Idempotency>,
}

impl Poller {
    /// Resolves the queue's URL, ARN and visibility timeout, once.
    pub(crate) async fn connect(
        component: &Component,
        deliverer: Deliverer,
        idempotency: Option<Idempotency>,
        concurrency: usize,
        console: Console,
    ) -> Result<Self, String> {
        let problems = crate::field_problems;
        let SqsConfig { queue: name, is_url, .. } = SqsConfig::from_metadata(&component.metadata).map_err(problems)?;
        let config = bindery::output::aws::sdk_config(&component.metadata).await.map_err(problems)?;
        let client = Client::new(&config);
        let queue_url = if is_url {
            name.clone()
        } else {
            let found = client.get_queue_url().queue_name(&name).send().await.map_err(|e| {
                format!("queue {name:?} cannot be found: {}", aws_sdk_sqs::error::DisplayErrorContext(&e))
            })?;
            found.queue_url.unwrap_or_default()
        };
        let attributes = client
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .attribute_names(QueueAttributeName::VisibilityTimeout)
            .send()
            .await
            .map_err(|e| format!("queue {name:?}: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
        let attributes = attributes.attributes.unwrap_or_default();
        let queue_arn = attributes
            .get(&QueueAttributeName::QueueArn)
            .cloned()
            .unwrap_or_else(|| format!("arn:aws:sqs:local:000000000000:{name}"));
        let visibility = attributes
            .get(&QueueAttributeName::VisibilityTimeout)
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(Duration::from_secs(30), Duration::from_secs);
        Ok(Self {
            binding: component.name.clone(),
            client,
            queue_url,
            queue_arn,
            visibility,
            deliverer,
            concurrency,
            console,
            idempotency,
        })
    }

    /// Polls until `stop`; a batch in progress is finished first.
    pub(crate) async fn poll(self, stop: CancellationToken) {
        while !stop.is_cancelled() {
            // Not raced with `stop`: a receive dropped in flight may already
            // have taken messages, which would then stay hidden for a whole
            // visibility timeout. A long poll lasts WAIT_SECONDS at most.
            let asked = Instant::now();
            match self.receive().await {
                Ok(messages) if messages.is_empty() => {}
                Ok(messages) if stop.is_cancelled() => self.release(messages).await,
                Ok(messages) => self.deliver(messages, asked).await,
                Err(e) => {
                    self.console.warn(&format!("{}: cannot receive from the queue: {e}", self.binding));
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(RETRY_PAUSE) => {}
                    }
                }
            }
        }
    }

    /// Makes messages received as bindery stops visible again at once, for
    /// the next consumer, instead of after their visibility timeout.
    async fn release(&self, messages: Vec<Message>) {
        let receipts: Vec<&str> = messages.iter().filter_map(|m| m.receipt_handle.as_deref()).collect();
        if let Err(e) = change_visibility(&self.client, &self.queue_url, &receipts, 0).await {
            self.console.warn(&format!(
                "{}: {} message(s) received while stopping will reappear after their visibility timeout: {e}",
                self.binding,
                messages.len(),
            ));
        }
    }

    async fn receive(&self) -> Result<Vec<Message>, String> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(WAIT_SECONDS)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .set_visibility_timeout(receive_visibility(self.visibility))
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())?;
        Ok(output.messages.unwrap_or_default())
    }

    /// Delivers the messages whose receive was asked for at `asked`.
    async fn deliver(&self, messages: Vec<Message>, asked: Instant) {
        let received = StdInstant::now();
        let receipts: HashMap<String, String> =
            messages.iter().filter_map(|m| Some((m.message_id.clone()?, m.receipt_handle.clone()?))).collect();
        let event = lambda_event(messages, &self.queue_arn);
        let payload = match serde_json::to_vec(&event) {
            Ok(payload) => payload,
            Err(e) => return self.console.warn(&format!("{}: cannot build the batch: {e}", self.binding)),
        };
        let records = match parse_batch(&payload) {
            Ok(records) => records,
            Err(e) => return self.console.warn(&format!("{}: {}", self.binding, e.message)),
        };
        let time = batch_time(self.visibility);
        let deadline = Instant::now() + time;
        let mut in_flight = InFlight::new(self, receipts.values().cloned().collect(), asked);
        in_flight.extend_if_due(deadline).await;
        let batch = deliver_batch(records, self.concurrency, deadline, |event| async move {
            let (started, bytes) = (StdInstant::now(), event.data.len());
            let once = self.idempotency.as_ref();
            let result =
                deliver_record(once, &self.deliverer, &self.binding, BindingKind::AwsSqs, event, deadline).await;
            self.console.event(&self.binding, "sqs", &Outcome::of_delivery(&result), started.elapsed(), Some(bytes));
            result.map(|_duplicate| ())
        });
        // The extensions go on while the batch is delivered, and stop with it.
        let report = tokio::select! {
            report = batch => report,
            never = in_flight.keep_hidden(deadline) => match never {},
        };
        let mut acked = Vec::new();
        let mut returned = Vec::new();
        for (id, outcome) in report.iter() {
            if *outcome != RecordOutcome::Acked {
                returned.extend(receipts.get(id).map(String::as_str));
            }
            match outcome {
                RecordOutcome::Acked => acked.extend(receipts.get(id).map(|receipt| (id.to_owned(), receipt.clone()))),
                // Failed deliveries were shown as they happened.
                RecordOutcome::Failed(_) => {}
                RecordOutcome::Skipped => self.console.event(
                    &self.binding,
                    "sqs",
                    &Outcome::NotDelivered("an earlier message of its group failed".into()),
                    received.elapsed(),
                    None,
                ),
                RecordOutcome::Unfinished => self.console.event(
                    &self.binding,
                    "sqs",
                    &Outcome::NotDelivered(format!("not finished within {} s", time.as_secs())),
                    received.elapsed(),
                    None,
                ),
            }
        }
        self.delete(acked).await;
        in_flight.give_back(&returned).await;
    }

    /// Deletes the acknowledged messages; a failure only means they are
    /// delivered again, so it is reported, not fatal.
    async fn delete(&self, acked: Vec<(String, String)>) {
        if acked.is_empty() {
            return;
        }
        let entries: Vec<DeleteMessageBatchRequestEntry> = acked
            .iter()
            .enumerate()
            .filter_map(|(i, (_, receipt))| {
                DeleteMessageBatchRequestEntry::builder().id(format!("m{i}")).receipt_handle(receipt).build().ok()
            })
            .collect();
        let result =
            self.client.delete_message_batch().queue_url(&self.queue_url).set_entries(Some(entries)).send().await;
        match result {
            Ok(output) if output.failed.is_empty() => {}
            Ok(output) => self.console.warn(&format!(
                "{}: {} acknowledged message(s) could not be deleted and will be delivered again",
                self.binding,
                output.failed.len()
            )),
            Err(e) => self.console.warn(&format!(
                "{}: acknowledged messages could not be deleted and will be delivered again: {}",
                self.binding,
                aws_sdk_sqs::error::DisplayErrorContext(&e)
            )),
        }
    }
}

/// The Lambda event SQS would send for `messages` (pure, for the tests).
pub(crate) fn lambda_event(messages: Vec<Message>, queue_arn: &str) -> SqsEvent {
    let region = queue_arn.split(':').nth(3).unwrap_or_default().to_owned();
    let mut event = SqsEvent::default();
    for message in messages {
        let mut record = SqsMessage::default();
        record.message_id = message.message_id;
        record.receipt_handle = message.receipt_handle;
        record.body = message.body;
        record.md5_of_body = message.md5_of_body;
        record.md5_of_message_attributes = message.md5_of_message_attributes;
        record.attributes = message
            .attributes
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| (name.as_str().to_owned(), value))
            .collect();
        record.message_attributes = message
            .message_attributes
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| {
                let mut attribute = SqsMessageAttribute::default();
                attribute.data_type = Some(value.data_type);
                attribute.string_value = value.string_value;
                attribute.binary_value = value.binary_value.map(|blob| {
                    let mut data = aws_lambda_events::encodings::Base64Data::default();
                    *data = blob.into_inner();
                    data
                });
                (name, attribute)
            })
            .collect();
        record.event_source = Some("aws:sqs".into());
        record.event_source_arn = Some(queue_arn.to_owned());
        record.aws_region = Some(region.clone());
        event.records.push(record);
    }
    event
}

#[cfg(test)]
mod tests {
    use aws_sdk_sqs::types::MessageAttributeValue;

    use super::*;

    fn message(id: &str, group: Option<&str>) -> Message {
        let mut builder = Message::builder()
            .message_id(id)
            .receipt_handle(format!("rh-{id}"))
            .body(format!("body {id}"))
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "1")
            .message_attributes(
                "kind",
                MessageAttributeValue::builder().data_type("String").string_value("task").build().unwrap(),
            );
        if let Some(group) = group {
            builder = builder.attributes(MessageSystemAttributeName::MessageGroupId, group);
        }
        builder.build()
    }

    #[test]
    fn received_messages_become_the_lambda_event_the_function_reads() {
        let event =
            lambda_event(vec![message("a", None), message("b", None)], "arn:aws:sqs:eu-west-1:000000000000:tasks");
        let payload = serde_json::to_vec(&event).unwrap();
        let records = parse_batch(&payload).unwrap();
        assert_eq!(records.len(), 2);
        assert!(!records[0].fifo);
        let delivered = records[1].event().unwrap();
        assert_eq!(delivered.data.as_ref(), b"body b");
        assert_eq!(delivered.metadata("messageId"), Some("b"));
        assert_eq!(delivered.metadata("approximateReceiveCount"), Some("1"));
        assert_eq!(delivered.metadata("attr-kind"), Some("task"));
        assert_eq!(event.records[0].aws_region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn fifo_queues_keep_their_groups() {
        let event = lambda_event(vec![message("a", Some("g1"))], "arn:aws:sqs:us-east-1:000000000000:tasks.fifo");
        let payload = serde_json::to_vec(&event).unwrap();
        let records = parse_batch(&payload).unwrap();
        assert!(records[0].fifo);
        assert_eq!(records[0].event().unwrap().metadata("messageGroupId"), Some("g1"));
    }
}
