//! `bindings.aws.sqs` output: operation `create` sends the data as one
//! message, as Dapr does (over the HTTP API a string arrives quoted, and is
//! sent so). Unlike Dapr, which ignores them all, bindery honours request
//! metadata `DelaySeconds` (0-900), `MessageGroupId`, `MessageDeduplicationId`
//! and message attributes: each key `attr-<name>` becomes the String
//! attribute `<name>`, mirroring how `bindery-sqs` delivers attributes to the
//! app. The response metadata carries `messageId` (and `sequenceNumber` on
//! FIFO queues), where Dapr answers nothing.
//!
//! The queue URL is looked up once, on first use, and kept; a failed lookup
//! is not kept, so a queue created later is found. `queueName` may also be
//! the queue's URL.

use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::MessageAttributeValue;
use tokio::sync::OnceCell;

use super::aws::sdk_error;
use super::binding::{BoxFuture, InvokeRequest, InvokeResponse, InvokeResult, OutputBinding, operation};
use super::error::InvokeError;
use crate::component::{FieldError, Metadata};

const PREFIX: &str = "sqs binding error";
const ATTRIBUTE_PREFIX: &str = "attr-";

pub struct SqsBinding {
    client: Client,
    queue: String,
    url: OnceCell<String>,
}

impl SqsBinding {
    pub fn from_metadata(metadata: &Metadata, config: &SdkConfig) -> Result<Self, Vec<FieldError>> {
        let queue = metadata.required("queueName").map_err(|e| vec![e])?.trim().to_owned();
        let url = OnceCell::new_with(queue.contains("://").then(|| queue.clone()));
        Ok(Self { client: Client::new(config), queue, url })
    }

    async fn queue_url(&self) -> Result<&str, InvokeError> {
        let url = self
            .url
            .get_or_try_init(|| async {
                let output = self
                    .client
                    .get_queue_url()
                    .queue_name(&self.queue)
                    .send()
                    .await
                    .map_err(|e| sdk_error(&format!("{PREFIX}: queue {:?}", self.queue), e))?;
                output.queue_url.ok_or_else(|| InvokeError::other(format!("{PREFIX}: no URL for {:?}", self.queue)))
            })
            .await?;
        Ok(url)
    }

    async fn create(&self, request: InvokeRequest) -> InvokeResult {
        let body = std::str::from_utf8(&request.data)
            .map_err(|_| InvokeError::bad_request(format!("{PREFIX}: SQS message bodies must be UTF-8 text")))?;
        let mut send = self.client.send_message().queue_url(self.queue_url().await?).message_body(body);
        if let Some(delay) = request.meta("DelaySeconds") {
            let seconds = delay.trim().parse::<i32>().ok().filter(|s| (0..=900).contains(s)).ok_or_else(|| {
                InvokeError::bad_request(format!(
                    "{PREFIX}: DelaySeconds must be a whole number from 0 to 900, got {delay:?}"
                ))
            })?;
            send = send.delay_seconds(seconds);
        }
        if let Some(group) = request.meta("MessageGroupId") {
            send = send.message_group_id(group);
        }
        if let Some(id) = request.meta("MessageDeduplicationId") {
            send = send.message_deduplication_id(id);
        }
        for (key, value) in &request.metadata {
            if let Some(name) = key.strip_prefix(ATTRIBUTE_PREFIX).filter(|n| !n.is_empty()) {
                let attribute = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(value)
                    .build()
                    .map_err(|e| InvokeError::bad_request(format!("{PREFIX}: attribute {name:?}: {e}")))?;
                send = send.message_attributes(name, attribute);
            }
        }
        let output = send.send().await.map_err(|e| sdk_error(PREFIX, e))?;
        let mut response = InvokeResponse::default().with_metadata("messageId", output.message_id.unwrap_or_default());
        if let Some(sequence) = output.sequence_number {
            response = response.with_metadata("sequenceNumber", sequence);
        }
        Ok(Some(response))
    }
}

impl OutputBinding for SqsBinding {
    fn operations(&self) -> &'static [&'static str] {
        &[operation::CREATE]
    }

    /// Only a FIFO send with a deduplication id can be repeated safely: SQS
    /// drops the copy within five minutes.
    fn is_idempotent(&self, request: &InvokeRequest) -> bool {
        request.meta("MessageDeduplicationId").is_some()
    }

    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(self.create(request))
    }
}
