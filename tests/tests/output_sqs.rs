//! The SQS output binding against the emulator: messages are received back
//! with the SDK and checked.
// Helpers in this file are test code too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use bindery::output::{ErrorKind, InvokeRequest};
use bindery_e2e::aws::{Emulator, load_bindings};

async fn queue(emulator: &Emulator, fifo: bool) -> (String, String) {
    let name = if fifo { format!("{}.fifo", emulator.unique("out")) } else { emulator.unique("out") };
    let mut create = emulator.sqs().await.create_queue().queue_name(&name);
    if fifo {
        create = create.attributes(QueueAttributeName::FifoQueue, "true");
    }
    let url = create.send().await.expect("create queue").queue_url.expect("a queue URL");
    (name, url)
}

async fn receive(emulator: &Emulator, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let output = emulator
        .sqs()
        .await
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive");
    output.messages.unwrap_or_default()
}

#[tokio::test]
async fn create_sends_the_body_and_the_attributes() {
    let emulator = Emulator::from_env();
    let (name, url) = queue(&emulator, false).await;
    let (bindings, _dir) =
        load_bindings(&[emulator.component("tasks", "bindings.aws.sqs", &[("queueName", &name)])]).await;
    let request = InvokeRequest::new("create", r#"{"title":"write the report"}"#)
        .with_metadata("attr-priority", "high")
        .with_metadata("attr-source", "task-api")
        .with_metadata("unrelated", "not an attribute");
    let response = bindings.invoke("tasks", request).await.unwrap().unwrap();

    let messages = receive(&emulator, &url).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.message_id.as_deref(), Some(response.metadata["messageId"].as_str()));
    assert_eq!(message.body.as_deref(), Some(r#"{"title":"write the report"}"#));
    let attributes = message.message_attributes.as_ref().expect("attributes");
    assert_eq!(attributes.len(), 2, "{attributes:?}");
    assert_eq!(attributes["priority"].string_value.as_deref(), Some("high"));
    assert_eq!(attributes["source"].string_value.as_deref(), Some("task-api"));
}

#[tokio::test]
async fn fifo_group_and_deduplication_ids_are_honoured() {
    let emulator = Emulator::from_env();
    let (name, url) = queue(&emulator, true).await;
    let (bindings, _dir) =
        load_bindings(&[emulator.component("events", "bindings.aws.sqs", &[("queueName", &name)])]).await;
    let send = |body: &str, dedup: &str| {
        InvokeRequest::new("create", body.to_owned())
            .with_metadata("MessageGroupId", "customer-7")
            .with_metadata("MessageDeduplicationId", dedup)
    };
    let first = bindings.invoke("events", send("one", "d-1")).await.unwrap().unwrap();
    assert!(first.metadata.contains_key("sequenceNumber"), "{:?}", first.metadata);
    bindings.invoke("events", send("one again", "d-1")).await.unwrap();
    bindings.invoke("events", send("two", "d-2")).await.unwrap();

    let messages = receive(&emulator, &url).await;
    let bodies: Vec<_> = messages.iter().filter_map(|m| m.body.as_deref()).collect();
    assert_eq!(bodies, ["one", "two"], "the duplicate was dropped, the order kept");
    let attributes = messages[0].attributes.as_ref().expect("system attributes");
    assert_eq!(attributes[&MessageSystemAttributeName::MessageGroupId], "customer-7");
    assert_eq!(attributes[&MessageSystemAttributeName::MessageDeduplicationId], "d-1");
}

#[tokio::test]
async fn delay_seconds_hides_the_message_and_bad_delays_are_refused() {
    let emulator = Emulator::from_env();
    let (name, url) = queue(&emulator, false).await;
    let (bindings, _dir) =
        load_bindings(&[emulator.component("later", "bindings.aws.sqs", &[("queueName", &name)])]).await;
    bindings.invoke("later", InvokeRequest::new("create", "soon").with_metadata("DelaySeconds", "60")).await.unwrap();
    assert!(receive(&emulator, &url).await.is_empty(), "a delayed message is not visible yet");

    for bad in ["901", "-1", "soon"] {
        let error = bindings
            .invoke("later", InvokeRequest::new("create", "x").with_metadata("DelaySeconds", bad))
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::BadRequest);
        assert!(error.message.contains("DelaySeconds must be a whole number from 0 to 900"), "{error}");
    }
}

#[tokio::test]
async fn a_missing_queue_fails_clearly_and_is_found_once_created() {
    let emulator = Emulator::from_env();
    let name = emulator.unique("late");
    let (bindings, _dir) =
        load_bindings(&[emulator.component("late", "bindings.aws.sqs", &[("queueName", &name)])]).await;
    let error = bindings.invoke("late", InvokeRequest::new("create", "x")).await.unwrap_err();
    assert!(error.message.starts_with(&format!("sqs binding error: queue {name:?}")), "{error}");

    let url = emulator.sqs().await.create_queue().queue_name(&name).send().await.unwrap().queue_url.unwrap();
    bindings.invoke("late", InvokeRequest::new("create", "now")).await.expect("the failed lookup was not kept");
    assert_eq!(receive(&emulator, &url).await.len(), 1);
}

#[tokio::test]
async fn a_queue_url_works_as_the_queue_name() {
    let emulator = Emulator::from_env();
    let (_name, url) = queue(&emulator, false).await;
    let (bindings, _dir) =
        load_bindings(&[emulator.component("direct", "bindings.aws.sqs", &[("queueName", &url)])]).await;
    bindings.invoke("direct", InvokeRequest::new("create", "by URL")).await.unwrap();
    let messages = receive(&emulator, &url).await;
    assert_eq!(messages[0].body.as_deref(), Some("by URL"));
}
