//! The SNS output binding against moto, loaded from component YAML as an app
//! loads it. Each topic has an SQS queue subscribed to it, and what SNS
//! delivered there (its JSON envelope) is read back with boto3.

use bindery::output::{Bindings, ErrorKind, InvokeRequest, InvokeResponse, Notification};
use bindery_e2e::aws::{Emulator, EmulatorKind, load_bindings};
use serde_json::{Value, json};

use crate::common::{ComponentsDir, bindery_invoke, bindery_sidecar};
use crate::python_sdk::{call, python_calls};

/// A topic (FIFO with a `.fifo` name) with a queue subscribed: its ARN and the queue's URL.
async fn topic(emulator: &Emulator, fifo: bool, content_deduplication: bool) -> (String, String) {
    let name = emulator.unique("topic");
    let request = json!({"op": "sns_topic_with_queue", "name": name, "fifo": fifo,
                         "content_deduplication": content_deduplication});
    let answer = emulator.boto3(request).await;
    (answer["topic_arn"].as_str().unwrap().to_owned(), answer["queue_url"].as_str().unwrap().to_owned())
}

/// The SNS envelopes (and the SQS system attributes) now on the queue.
async fn delivered(emulator: &Emulator, queue_url: &str) -> Vec<Value> {
    let answer = emulator.boto3(json!({"op": "sqs_messages", "queue_url": queue_url})).await;
    answer.as_array().cloned().unwrap_or_default()
}

async fn binding(emulator: &Emulator, name: &str, topic_arn: &str) -> (Bindings, tempfile::TempDir) {
    load_bindings(&[emulator.component(name, "bindings.aws.sns", &[("topicArn", topic_arn)])]).await
}

async fn publish(bindings: &Bindings, name: &str, request: InvokeRequest) -> InvokeResponse {
    bindings.invoke(name, request).await.unwrap_or_else(|e| panic!("{e}")).expect("a response")
}

#[tokio::test]
async fn create_publishes_message_subject_and_attributes() {
    let emulator = Emulator::from_env();
    let (arn, queue) = topic(&emulator, false, false).await;
    let (bindings, _dir) = binding(&emulator, "done", &arn).await;
    let request = InvokeRequest::new("create", r#"{"message":"task t-1 is done","subject":"Task done"}"#)
        .with_metadata("attr-priority", "high")
        .with_metadata("ATTR-Source", "task-api")
        .with_metadata("attr-blank", "")
        .with_metadata("traceparent", "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01");
    let response = publish(&bindings, "done", request).await;
    assert!(response.data.is_empty());
    assert_eq!(response.metadata.keys().collect::<Vec<_>>(), ["messageId"], "no sequence number on a standard topic");

    let messages = delivered(&emulator, &queue).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let envelope = &messages[0]["envelope"];
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["TopicArn"], arn.as_str());
    assert_eq!(envelope["MessageId"], response.metadata["messageId"].as_str());
    assert_eq!(envelope["Message"], "task t-1 is done");
    assert_eq!(envelope["Subject"], "Task done");
    assert_eq!(
        envelope["MessageAttributes"],
        json!({"priority": {"Type": "String", "Value": "high"}, "Source": {"Type": "String", "Value": "task-api"}}),
        "only attr-<name> keys, the name's case kept, empty ones skipped"
    );
}

/// Dapr prints each field with Go's `%v`; where it would publish `<nil>`,
/// bindery leaves the subject out.
#[tokio::test]
async fn fields_are_printed_as_dapr_prints_them() {
    let emulator = Emulator::from_env();
    let (arn, queue) = topic(&emulator, false, false).await;
    let (bindings, _dir) = binding(&emulator, "done", &arn).await;
    for data in [r#"{"message":1000000,"subject":2.5}"#, r#"{"Message":{"b":[1,"x"],"a":null}}"#] {
        publish(&bindings, "done", InvokeRequest::new("create", data)).await;
    }
    let mut published: Vec<(Value, Value)> = delivered(&emulator, &queue)
        .await
        .iter()
        .map(|m| (m["envelope"]["Message"].clone(), m["envelope"].get("Subject").cloned().unwrap_or(Value::Null)))
        .collect();
    published.sort_by_key(|(m, _)| m.to_string());
    assert_eq!(published, [(json!("1e+06"), json!("2.5")), (json!("map[a:<nil> b:[1 x]]"), Value::Null)]);
}

#[tokio::test]
async fn the_typed_topic_helper_publishes_and_answers_the_message_id() {
    let emulator = Emulator::from_env();
    let (arn, queue) = topic(&emulator, false, false).await;
    let (bindings, _dir) = binding(&emulator, "done", &arn).await;
    let mut notification = Notification::new(r#"{"task":"t-1","state":"done"}"#).with_subject("Task done");
    notification.attributes.insert("kind".into(), "task".into());
    let id = bindings.topic("done").publish(notification).await.unwrap_or_else(|e| panic!("{e}"));
    let messages = delivered(&emulator, &queue).await;
    let envelope = &messages[0]["envelope"];
    assert_eq!(envelope["MessageId"], id.as_str());
    assert_eq!(envelope["Message"], r#"{"task":"t-1","state":"done"}"#, "the message exactly as given");
    assert_eq!(envelope["Subject"], "Task done");
    assert_eq!(envelope["MessageAttributes"]["kind"]["Value"], "task");
}

#[tokio::test]
async fn fifo_topics_take_group_and_deduplication_ids() {
    let emulator = Emulator::from_env();
    let (arn, queue) = topic(&emulator, true, false).await;
    let (bindings, _dir) = binding(&emulator, "events", &arn).await;
    let request = |message: &str, dedup: &str| {
        InvokeRequest::new("create", json!({ "message": message }).to_string())
            .with_metadata("MessageGroupId", "customer-7")
            .with_metadata("messagededuplicationid", dedup)
    };
    let first = publish(&bindings, "events", request("one", "d-1")).await;
    assert!(first.metadata.get("messageId").is_some_and(|id| !id.is_empty()), "{:?}", first.metadata);
    // SNS answers a FIFO publish's sequence number, and bindery passes it on;
    // moto 5.2.5 answers none (moto/sns/responses.py `publish`: MessageId only).
    match emulator.kind {
        EmulatorKind::Moto => assert!(!first.metadata.contains_key("sequenceNumber"), "{:?}", first.metadata),
        EmulatorKind::LocalStack => assert!(first.metadata.contains_key("sequenceNumber"), "{:?}", first.metadata),
    }
    publish(&bindings, "events", request("one again", "d-1")).await;
    publish(&bindings, "events", request("two", "d-2")).await;

    let messages = delivered(&emulator, &queue).await;
    let bodies: Vec<&str> = messages.iter().filter_map(|m| m["envelope"]["Message"].as_str()).collect();
    assert_eq!(bodies, ["one", "two"], "the duplicate was dropped, the order kept");
    assert_eq!(messages[0]["attributes"]["MessageGroupId"], "customer-7");

    // Without a group, SNS refuses; it is the app's mistake, not retried.
    let no_group = InvokeRequest::new("create", r#"{"message":"x"}"#).with_metadata("MessageDeduplicationId", "d-3");
    let error = bindings.invoke("events", no_group).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadRequest, "{error}");
    assert!(error.message.starts_with("sns binding error: "), "{error}");
    // Without a deduplication id, on a topic that does not deduplicate by content.
    let no_dedup = InvokeRequest::new("create", r#"{"message":"x"}"#).with_metadata("MessageGroupId", "g");
    let error = bindings.invoke("events", no_dedup).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadRequest, "{error}");
    assert!(error.message.contains("ContentBasedDeduplication"), "{error}");
    assert!(delivered(&emulator, &queue).await.is_empty(), "nothing more was published");
}

/// A topic that deduplicates by content takes a publish with a group and no
/// deduplication id. (That it drops a copy is SNS's work: moto 5.2.5 does not,
/// so it is not checked here.)
#[tokio::test]
async fn a_fifo_topic_with_content_deduplication_needs_only_a_group() {
    let emulator = Emulator::from_env();
    let (arn, queue) = topic(&emulator, true, true).await;
    let (bindings, _dir) = binding(&emulator, "events", &arn).await;
    let request = InvokeRequest::new("create", r#"{"message":"grouped"}"#).with_metadata("MessageGroupId", "g");
    let response = publish(&bindings, "events", request).await;
    let messages = delivered(&emulator, &queue).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["envelope"]["MessageId"], response.metadata["messageId"].as_str());
    assert_eq!(messages[0]["envelope"]["Message"], "grouped");
    assert_eq!(messages[0]["attributes"]["MessageGroupId"], "g");
}

#[tokio::test]
async fn bad_data_and_a_missing_topic_fail_clearly() {
    let emulator = Emulator::from_env();
    let (arn, queue) = topic(&emulator, false, false).await;
    let (bindings, _dir) = binding(&emulator, "done", &arn).await;
    for (data, why) in [
        (r#""just text""#, "got a string"),
        ("not json", "got data that is not JSON"),
        (r#"{"subject":"no message"}"#, "with a message"),
    ] {
        let error = bindings.invoke("done", InvokeRequest::new("create", data)).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::BadRequest, "{error}");
        assert!(
            error
                .message
                .starts_with(r#"sns binding error: data must be a JSON object {"message": ..., "subject": ...}"#)
                && error.message.ends_with(why),
            "{error}"
        );
    }
    let unsupported = bindings.invoke("done", InvokeRequest::new("get", "{}")).await.unwrap_err();
    assert_eq!(unsupported.message, "binding done does not support operation get. supported operations:create");
    assert!(delivered(&emulator, &queue).await.is_empty());

    let missing = arn.rsplit_once(':').map(|(account, _)| format!("{account}:{}", emulator.unique("gone"))).unwrap();
    let (bindings, _dir) = binding(&emulator, "gone", &missing).await;
    let error = bindings.invoke("gone", InvokeRequest::new("create", r#"{"message":"x"}"#)).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
    assert!(error.message.starts_with("sns binding error: NotFound"), "{error}");
}

#[tokio::test]
async fn a_bad_topic_arn_stops_the_load() {
    let emulator = Emulator::from_env();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), emulator.component("bad", "bindings.aws.sns", &[("topicArn", "tasks")]))
        .unwrap();
    let Err(error) = Bindings::load(dir.path()).await else { panic!("loaded") };
    let text = error.to_string();
    assert!(text.contains("topicArn") && text.contains("expected a topic ARN"), "{text}");
}

/// The Dapr API over HTTP and gRPC (the Python SDK through `bindery
/// sidecar`), and `bindery invoke`: each publish arrives, and the message id
/// comes back as response metadata.
#[tokio::test(flavor = "multi_thread")]
async fn publishes_through_the_dapr_api_and_the_cli() {
    let emulator = Emulator::from_env();
    let (arn, queue) = topic(&emulator, false, false).await;
    let dir = ComponentsDir::new();
    dir.write("sns.yaml", &emulator.component("done", "bindings.aws.sns", &[("topicArn", &arn)]));
    let sidecar = bindery_sidecar(&dir, &[]).await;
    let calls = json!([
        call("http", "done", "create", json!({"message": "over http", "subject": "s"}), json!({"attr-via": "http"})),
        call("grpc", "done", "create", json!(r#"{"message":"over grpc"}"#), json!({"attr-via": "grpc"})),
        call("http", "done", "create", json!("not an object"), json!({})),
    ]);
    let results = python_calls(&sidecar, None, &calls).await;
    assert_eq!(results[0]["ok"], true, "{}", results[0]);
    assert_eq!(results[0]["status"], 200, "metadata comes with a 200, as from the SQS binding");
    let http_id = results[0]["headers"]["metadata.messageid"].as_str().unwrap().to_owned();
    assert_eq!(results[1]["ok"], true, "{}", results[1]);
    let grpc_id = results[1]["metadata"]["messageId"].as_str().unwrap().to_owned();
    assert_eq!(results[2]["code"], 500, "{}", results[2]);
    assert_eq!(results[2]["error"]["errorCode"], "ERR_INVOKE_OUTPUT_BINDING");
    assert!(results[2]["error"]["message"].as_str().unwrap().contains("got a string"), "{}", results[2]);

    let output =
        bindery_invoke(&dir, &["done", "--operation", "create", "--data", r#"{"message":"from the cli"}"#]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let cli_id = stderr.lines().find_map(|l| l.trim().strip_prefix("messageId: ")).expect("the id").to_owned();

    let mut seen: Vec<(String, String, String)> = delivered(&emulator, &queue)
        .await
        .iter()
        .map(|m| {
            let e = &m["envelope"];
            let via = e["MessageAttributes"]["via"]["Value"].as_str().unwrap_or("cli").to_owned();
            (e["MessageId"].as_str().unwrap().to_owned(), e["Message"].as_str().unwrap().to_owned(), via)
        })
        .collect();
    seen.sort();
    let mut expected = vec![
        (http_id, "over http".to_owned(), "http".to_owned()),
        (grpc_id, "over grpc".to_owned(), "grpc".to_owned()),
        (cli_id, "from the cli".to_owned(), "cli".to_owned()),
    ];
    expected.sort();
    assert_eq!(seen, expected);
}
