//! The SQS output binding against the emulator, loaded from component YAML as
//! an app loads it: every message is received back with the SDK and checked.
//!
//! How often the binding looks its queue up is seen through a pass-through
//! proxy between the binding and the emulator that counts the SQS actions it
//! forwards; requests and answers are the emulator's, unchanged.

use std::sync::{Arc, Mutex};

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use axum::body::Body;
use bindery::output::{Bindings, ErrorKind, InvokeRequest, InvokeResponse};
use bindery_e2e::aws::{Emulator, load_bindings};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Creates a queue (standard, or FIFO with a `.fifo` name) and returns its name and URL.
async fn queue(emulator: &Emulator, fifo: bool) -> (String, String) {
    let name = if fifo { format!("{}.fifo", emulator.unique("out")) } else { emulator.unique("out") };
    let mut create = emulator.sqs().await.create_queue().queue_name(&name);
    if fifo {
        create = create.attributes(QueueAttributeName::FifoQueue, "true");
    }
    let url = create.send().await.expect("create queue").queue_url.expect("a queue URL");
    (name, url)
}

/// Every message now visible, with all its attributes, left on the queue.
async fn receive(emulator: &Emulator, url: &str) -> Vec<Message> {
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

/// An SQS output binding called `name` on queue `queue` (a name or a URL).
async fn binding(emulator: &Emulator, name: &str, queue: &str) -> (Bindings, tempfile::TempDir) {
    load_bindings(&[emulator.component(name, "bindings.aws.sqs", &[("queueName", queue)])]).await
}

async fn send(bindings: &Bindings, name: &str, request: InvokeRequest) -> InvokeResponse {
    bindings.invoke(name, request).await.unwrap_or_else(|e| panic!("{e}")).expect("a response")
}

#[tokio::test]
async fn create_sends_the_data_as_it_comes_with_attributes() {
    let emulator = Emulator::from_env();
    let (name, url) = queue(&emulator, false).await;
    let (bindings, _dir) = binding(&emulator, "tasks", &name).await;
    let request = InvokeRequest::new("create", r#"{"title":"write the report"}"#)
        .with_metadata("attr-priority", "high")
        .with_metadata("ATTR-Source", "task-api")
        .with_metadata("attr-blank", "")
        .with_metadata("unrelated", "not an attribute")
        .with_metadata("traceparent", "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01");
    let response = send(&bindings, "tasks", request).await;
    assert!(response.data.is_empty());
    assert_eq!(response.metadata.keys().collect::<Vec<_>>(), ["messageId"], "no sequence number on a standard queue");

    let messages = receive(&emulator, &url).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.message_id.as_deref(), Some(response.metadata["messageId"].as_str()));
    assert_eq!(message.body.as_deref(), Some(r#"{"title":"write the report"}"#));
    let attributes = message.message_attributes.as_ref().expect("attributes");
    let mut names: Vec<_> = attributes.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["Source", "priority"], "only attr-<name> keys, the name's case kept, empty ones skipped");
    assert_eq!(attributes["priority"].string_value.as_deref(), Some("high"));
    assert_eq!(attributes["priority"].data_type, "String");
    assert_eq!(attributes["Source"].string_value.as_deref(), Some("task-api"));

    // Over Dapr's HTTP API a string arrives quoted, and Dapr sends it so; gRPC sends raw bytes.
    send(&bindings, "tasks", InvokeRequest::new("create", r#""quoted""#)).await;
    send(&bindings, "tasks", InvokeRequest::new("create", "raw ✓")).await;
    let mut bodies: Vec<_> = receive(&emulator, &url).await.into_iter().filter_map(|m| m.body).collect();
    bodies.sort_unstable();
    assert_eq!(bodies, [r#""quoted""#, "raw ✓"]);
}

#[tokio::test]
async fn the_typed_queue_helper_sends_bodies_exactly_and_answers_their_ids() {
    let emulator = Emulator::from_env();
    let (name, url) = queue(&emulator, false).await;
    let (bindings, _dir) = binding(&emulator, "tasks", &name).await;
    let queue = bindings.queue("tasks");
    let mut sent = Vec::new();
    for body in [r#"{"id":7,"done":true}"#, r#""quoted""#, "plain ✓"] {
        let id = queue.send(body.as_bytes().to_vec()).await.unwrap_or_else(|e| panic!("{e}"));
        sent.push((id, body.to_owned()));
    }
    let mut received: Vec<_> = receive(&emulator, &url)
        .await
        .into_iter()
        .map(|m| (m.message_id.expect("an id"), m.body.expect("a body")))
        .collect();
    sent.sort_unstable();
    received.sort_unstable();
    assert_eq!(received, sent, "each body arrives as sent, under the id send answered");
}

#[tokio::test]
async fn fifo_group_and_deduplication_ids_are_honoured() {
    let emulator = Emulator::from_env();
    let (name, url) = queue(&emulator, true).await;
    let (bindings, _dir) = binding(&emulator, "events", &name).await;
    let request = |body: &str, dedup: &str| {
        InvokeRequest::new("create", body.to_owned())
            .with_metadata("MessageGroupId", "customer-7")
            .with_metadata("messageDeduplicationId", dedup)
    };
    let first = send(&bindings, "events", request("one", "d-1")).await;
    let sequence = first.metadata.get("sequenceNumber").expect("FIFO sends have a sequence number");
    assert!(!sequence.is_empty() && first.metadata.contains_key("messageId"), "{:?}", first.metadata);
    send(&bindings, "events", request("one again", "d-1")).await;
    send(&bindings, "events", request("two", "d-2")).await;

    let messages = receive(&emulator, &url).await;
    let bodies: Vec<_> = messages.iter().filter_map(|m| m.body.as_deref()).collect();
    assert_eq!(bodies, ["one", "two"], "the duplicate was dropped, the order kept");
    let attributes = messages[0].attributes.as_ref().expect("system attributes");
    assert_eq!(attributes[&MessageSystemAttributeName::MessageGroupId], "customer-7");
    assert_eq!(attributes[&MessageSystemAttributeName::MessageDeduplicationId], "d-1");
    assert_eq!(&attributes[&MessageSystemAttributeName::SequenceNumber], sequence);
    assert_eq!(messages[1].attributes.as_ref().unwrap()[&MessageSystemAttributeName::MessageDeduplicationId], "d-2");
}

#[tokio::test]
async fn a_fifo_send_without_a_group_is_a_bad_request() {
    let emulator = Emulator::from_env();
    let (name, url) = queue(&emulator, true).await;
    let (bindings, _dir) = binding(&emulator, "events", &name).await;
    let error = bindings
        .invoke("events", InvokeRequest::new("create", "x").with_metadata("MessageDeduplicationId", "d"))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadRequest, "{error}");
    assert!(error.message.starts_with("sqs binding error: ") && error.message.contains("MessageGroupId"), "{error}");
    assert!(receive(&emulator, &url).await.is_empty());
}

#[tokio::test]
async fn delay_seconds_hides_the_message_and_bad_delays_are_refused() {
    let emulator = Emulator::from_env();
    let (name, url) = queue(&emulator, false).await;
    let (bindings, _dir) = binding(&emulator, "later", &name).await;
    send(&bindings, "later", InvokeRequest::new("create", "in a minute").with_metadata("DelaySeconds", "60")).await;
    send(&bindings, "later", InvokeRequest::new("create", "now").with_metadata("delayseconds", "0")).await;
    // moto honours delays: the delayed message is not visible yet, the other one is.
    let visible: Vec<_> = receive(&emulator, &url).await.into_iter().filter_map(|m| m.body).collect();
    assert_eq!(visible, ["now"]);

    for bad in ["901", "-1", "soon", "2.5"] {
        let request = InvokeRequest::new("create", "refused").with_metadata("DelaySeconds", bad);
        let error = bindings.invoke("later", request).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::BadRequest);
        assert_eq!(
            error.message,
            format!("sqs binding error: DelaySeconds must be a whole number from 0 to 900, got {bad:?}")
        );
    }
    let too_many =
        (0..11).fold(InvokeRequest::new("create", "refused"), |r, i| r.with_metadata(format!("attr-a{i}"), "v"));
    let error = bindings.invoke("later", too_many).await.unwrap_err();
    assert_eq!(
        (error.kind, error.message.as_str()),
        (ErrorKind::BadRequest, "sqs binding error: SQS takes at most 10 message attributes, got 11")
    );
    let empty = bindings.invoke("later", InvokeRequest::new("create", "")).await.unwrap_err();
    assert_eq!(empty.kind, ErrorKind::BadRequest);
    let unsupported = bindings.invoke("later", InvokeRequest::new("delete", "x")).await.unwrap_err();
    assert_eq!(unsupported.message, "binding later does not support operation delete. supported operations:create");
    // Visibility of "now" has passed to the first receive; none of the refused ones was sent.
    let attributes = emulator
        .sqs()
        .await
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    let count = |a: QueueAttributeName| attributes[&a].parse::<u32>().unwrap();
    let total = count(QueueAttributeName::ApproximateNumberOfMessages)
        + count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        + count(QueueAttributeName::ApproximateNumberOfMessagesDelayed);
    assert_eq!(total, 2, "{attributes:?}");
}

#[tokio::test]
async fn a_missing_queue_fails_clearly_then_is_found_and_looked_up_once() {
    let emulator = Emulator::from_env();
    let proxy = CountingProxy::start(&emulator.endpoint).await;
    let name = emulator.unique("late");
    let (bindings, _dir) = binding(&proxy.emulator(&emulator), "late", &name).await;
    assert!(proxy.actions().is_empty(), "nothing is looked up at load");

    let error = bindings.invoke("late", InvokeRequest::new("create", "x")).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
    assert!(error.message.starts_with(&format!("sqs binding error: queue {name:?}: ")), "{error}");
    assert!(error.message.contains("does not exist"), "{error}");
    assert_eq!(proxy.actions(), ["GetQueueUrl"]);

    let url = emulator.sqs().await.create_queue().queue_name(&name).send().await.unwrap().queue_url.unwrap();
    // Many first sends at once: the failed lookup was not kept, and one new lookup serves them all.
    let sends = (0..8).map(|i| bindings.invoke("late", InvokeRequest::new("create", format!("m{i}"))));
    for result in futures_util::future::join_all(sends).await {
        result.expect("the failed lookup was not kept");
    }
    send(&bindings, "late", InvokeRequest::new("create", "m8")).await;
    let actions = proxy.actions();
    assert_eq!(actions.iter().filter(|a| *a == "GetQueueUrl").count(), 2, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "SendMessage").count(), 9, "{actions:?}");
    assert_eq!(receive(&emulator, &url).await.len(), 9);
}

#[tokio::test]
async fn a_queue_url_works_as_the_queue_name_without_a_lookup() {
    let emulator = Emulator::from_env();
    let proxy = CountingProxy::start(&emulator.endpoint).await;
    let (_name, url) = queue(&emulator, false).await;
    let (bindings, _dir) = binding(&proxy.emulator(&emulator), "direct", &url).await;
    send(&bindings, "direct", InvokeRequest::new("create", "by URL")).await;
    assert_eq!(proxy.actions(), ["SendMessage"]);
    let messages = receive(&emulator, &url).await;
    assert_eq!(messages[0].body.as_deref(), Some("by URL"));
}

#[tokio::test]
async fn a_bad_queue_name_stops_the_load() {
    let emulator = Emulator::from_env();
    let dir = tempfile::tempdir().unwrap();
    let yaml = emulator.component("bad", "bindings.aws.sqs", &[("queueName", "no spaces allowed")]);
    std::fs::write(dir.path().join("c.yaml"), yaml).unwrap();
    let Err(error) = Bindings::load(dir.path()).await else { panic!("loaded") };
    let text = error.to_string();
    assert!(text.contains("queueName") && text.contains("expected a queue name"), "{text}");
}

/// A pass-through HTTP proxy to the emulator that records the `X-Amz-Target`
/// action (`GetQueueUrl`, `SendMessage`, ...) of every request it forwards.
struct CountingProxy {
    url: String,
    actions: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    async fn start(target: &str) -> CountingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let actions = Arc::new(Mutex::new(Vec::new()));
        let client = Client::builder(TokioExecutor::new()).build_http::<Body>();
        let (recorded, target) = (actions.clone(), target.to_owned());
        let forward = move |mut request: axum::extract::Request| {
            let (client, recorded, target) = (client.clone(), recorded.clone(), target.clone());
            async move {
                let action = request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("?");
                recorded.lock().unwrap().push(action.trim_start_matches("AmazonSQS.").to_owned());
                let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
                *request.uri_mut() = format!("{target}{path}").parse().unwrap();
                let response = client.request(request).await.unwrap();
                response.map(Body::new)
            }
        };
        let app = axum::Router::new().fallback(forward);
        tokio::spawn(async move { axum::serve(listener, app).await });
        CountingProxy { url, actions }
    }

    /// The emulator, reached through this proxy.
    fn emulator(&self, emulator: &Emulator) -> Emulator {
        Emulator { endpoint: self.url.clone(), ..emulator.clone() }
    }

    fn actions(&self) -> Vec<String> {
        self.actions.lock().unwrap().clone()
    }
}
