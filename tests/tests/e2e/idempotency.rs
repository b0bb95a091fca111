//! Idempotent delivery in `bindery-sqs`, its records in a DynamoDB table on
//! moto (Powertools' layout: key `id`), written by the function's own
//! signed calls and read back with boto3. A batch Lambda delivers again
//! reaches the app once; a refused record is delivered again; two
//! deliveries of one message at once call the app once; and the record a
//! crash leaves in progress holds a redelivery back until its deadline,
//! then lets it through: one more delivery, never none (a record written
//! as a crash leaves it, and a function killed at the COMPLETED write).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering as AtomicOrdering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bindery_e2e::aws::Emulator;
use bindery_e2e::{InvokeOptions, RecordingApp, Reply};
use serde_json::{Value, json};

use crate::common::{ComponentsDir, Running, SECOND, sqs_record};

async fn start(emulator: &Emulator, table: &str, app: &RecordingApp) -> Running {
    start_against(emulator, &emulator.endpoint, table, app).await
}

/// [`start`], its idempotency store reached at `endpoint`.
async fn start_against(emulator: &Emulator, endpoint: &str, table: &str, app: &RecordingApp) -> Running {
    let reached = Emulator { endpoint: endpoint.to_owned(), kind: emulator.kind };
    let items = [
        ("queueName", "task-events"),
        ("direction", "input"),
        ("idempotency", "dynamodb"),
        ("idempotencyTable", table),
    ];
    let components =
        ComponentsDir::with("task-events.yaml", &reached.component("task-events", "bindings.aws.sqs", &items));
    let url = app.url();
    Running::start("bindery-sqs", components, &[("BINDERY_BINDING", "task-events"), ("BINDERY_APP_URL", &url)]).await
}

async fn table(emulator: &Emulator) -> String {
    let name = emulator.unique("seen");
    emulator.boto3(json!({"op": "dynamodb_table", "name": name})).await;
    name
}

fn batch(ids: &[&str]) -> Value {
    json!({"Records": ids.iter().map(|id| sqs_record(id, &format!("body of {id}"))).collect::<Vec<_>>()})
}

fn failures(response: &Value) -> Vec<String> {
    let failed = response["batchItemFailures"].as_array().cloned().unwrap_or_default();
    failed.iter().map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_owned()).collect()
}

async fn stored(emulator: &Emulator, table: &str, id: &str) -> Value {
    emulator.boto3(json!({"op": "dynamodb_get", "table": table, "id": format!("task-events#{id}")})).await
}

#[tokio::test]
async fn a_batch_delivered_again_reaches_the_app_once_and_a_refused_record_again() {
    let emulator = Emulator::from_env();
    let table = table(&emulator).await;
    let app = RecordingApp::start().await;
    app.set_reply(|r| if r.body == "body of m-3" { Reply::Status(500) } else { Reply::Status(204) });
    let f = start(&emulator, &table, &app).await;

    let first = f.invoke(&batch(&["m-1", "m-2", "m-3"]), InvokeOptions::default()).await.response();
    assert_eq!(failures(&first), ["m-3"], "{}", f.function.logs());
    assert_eq!(app.requests().len(), 3);
    let record = stored(&emulator, &table, "m-1").await;
    assert_eq!(record["status"]["S"], "COMPLETED", "{record}");
    assert!(stored(&emulator, &table, "m-3").await.is_null(), "a refused delivery is released");

    // Lambda delivers the batch again (say, its response was lost).
    app.set_reply(|_| Reply::Status(204));
    let again = f.invoke(&batch(&["m-1", "m-2", "m-3"]), InvokeOptions::default()).await.response();
    assert_eq!(failures(&again), Vec::<String>::new());
    // A standard queue's records are delivered concurrently: in any order.
    let mut bodies: Vec<String> =
        app.requests().iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect();
    bodies.sort();
    assert_eq!(bodies, ["body of m-1", "body of m-2", "body of m-3", "body of m-3"], "m-1 and m-2 once each");
    let said = f.function.wait_for_output("a duplicate of a delivered event", 5 * SECOND).await;
    assert!(said, "{}", f.function.logs());
}

#[tokio::test]
async fn two_deliveries_of_one_message_at_once_call_the_app_once() {
    let emulator = Emulator::from_env();
    let table = table(&emulator).await;
    let app = RecordingApp::start().await;
    app.set_reply(|_| Reply::Delay(Duration::from_millis(1500), Box::new(Reply::Status(204))));
    let (one, two) = (start(&emulator, &table, &app).await, start(&emulator, &table, &app).await);
    let event = batch(&["m-9"]);
    let (a, b) = tokio::join!(one.invoke(&event, InvokeOptions::default()), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        two.invoke(&event, InvokeOptions::default()).await
    });
    assert_eq!(app.requests().len(), 1, "the app is called once");
    assert_eq!(failures(&a.response()), Vec::<String>::new());
    // The second found it in progress: reported failed, so SQS retries it later ...
    assert_eq!(failures(&b.response()), ["m-9"], "{}", two.function.logs());
    // ... when it is a duplicate of a delivered message.
    let later = two.invoke(&event, InvokeOptions::default()).await.response();
    assert_eq!(failures(&later), Vec::<String>::new());
    assert_eq!(app.requests().len(), 1);
}

#[tokio::test]
async fn a_delivery_a_crash_left_in_progress_holds_until_its_deadline_then_is_made_again() {
    let emulator = Emulator::from_env();
    let table = table(&emulator).await;
    let app = RecordingApp::start().await;
    let f = start(&emulator, &table, &app).await;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    // What a function that died after the app's 2xx, before writing COMPLETED, left.
    let crashed = |id: &str, deadline_ms: u128| {
        json!({"op": "dynamodb_put", "table": table, "item": {
            "id": {"S": format!("task-events#{id}")}, "status": {"S": "INPROGRESS"},
            "expiration": {"N": (now.as_secs() + 3600).to_string()},
            "in_progress_expiration": {"N": deadline_ms.to_string()},
        }})
    };
    emulator.boto3(crashed("m-live", now.as_millis() + 60_000)).await;
    emulator.boto3(crashed("m-dead", now.as_millis() - 1_000)).await;

    let response = f.invoke(&batch(&["m-live", "m-dead"]), InvokeOptions::default()).await.response();
    assert_eq!(failures(&response), ["m-live"], "{}", f.function.logs());
    let bodies: Vec<String> = app.requests().iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect();
    assert_eq!(bodies, ["body of m-dead"]);
    assert_eq!(stored(&emulator, &table, "m-dead").await["status"]["S"], "COMPLETED");
}

/// A loopback proxy in front of the emulator that passes every DynamoDB call
/// through but the `COMPLETED` write: at that one it kills the function
/// (`victim`'s pid) before answering, as a crash would at that instant, and
/// says so on `killed`.
async fn crash_at_completed(upstream: String, victim: Arc<AtomicU32>, killed: Arc<tokio::sync::Notify>) -> String {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    let client: Client<_, Full<bytes::Bytes>> = Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let proxy = move |request: axum::extract::Request| {
        let (client, upstream, victim, killed) = (client.clone(), upstream.clone(), victim.clone(), killed.clone());
        async move {
            let (mut head, body) = request.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            if String::from_utf8_lossy(&body).contains("\"COMPLETED\"") {
                let pid = victim.load(AtomicOrdering::SeqCst).to_string();
                std::process::Command::new("kill").args(["-9", &pid]).status().unwrap();
                killed.notify_one();
                return axum::response::Response::builder().status(502).body(axum::body::Body::empty()).unwrap();
            }
            head.uri = format!("{upstream}/").parse().unwrap();
            let answer = client.request(http::Request::from_parts(head, Full::new(body))).await.unwrap();
            let (head, body) = answer.into_parts();
            axum::response::Response::from_parts(head, axum::body::Body::new(body))
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(proxy)).await });
    url
}

/// The function dies after the app's 2xx, at the instant it writes the
/// record COMPLETED: the record stays IN_PROGRESS until the delivery's
/// deadline, so a redelivery before it is held back, and one after it
/// reaches the app again: one more delivery, never none.
#[tokio::test]
async fn a_function_killed_between_the_app_s_answer_and_the_completed_write_delivers_once_more() {
    let emulator = Emulator::from_env();
    let table = table(&emulator).await;
    let app = RecordingApp::start().await;
    let (victim, killed) = (Arc::new(AtomicU32::new(0)), Arc::new(tokio::sync::Notify::new()));
    let proxy = crash_at_completed(emulator.endpoint.clone(), victim.clone(), killed.clone()).await;
    let mut crashing = start_against(&emulator, &proxy, &table, &app).await;
    victim.store(crashing.function.pid(), AtomicOrdering::SeqCst);
    let deadline = Duration::from_secs(6);
    let options = || InvokeOptions { deadline, wait: Duration::from_secs(30), ..Default::default() };

    let started = std::time::Instant::now();
    tokio::select! {
        answered = crashing.api.try_invoke(batch(&["m-1"]).to_string(), options()) => {
            panic!("the function answered instead of dying at the COMPLETED write: {answered:?}")
        }
        () = killed.notified() => {}
    }
    crashing.function.kill();
    assert_eq!(app.requests().len(), 1, "the app answered 2xx once");
    let record = stored(&emulator, &table, "m-1").await;
    assert_eq!(record["status"]["S"], "INPROGRESS", "{record}");

    // Lambda delivers the message again: at once, held back; after the
    // first delivery's deadline, delivered.
    let f = start(&emulator, &table, &app).await;
    let early = f.invoke(&batch(&["m-1"]), options()).await.response();
    if started.elapsed() < deadline - Duration::from_millis(500) {
        assert_eq!(failures(&early), ["m-1"], "{}", f.function.logs());
        assert_eq!(app.requests().len(), 1);
    }
    tokio::time::sleep(deadline.saturating_sub(started.elapsed())).await;
    let late = f.invoke(&batch(&["m-1"]), options()).await.response();
    assert_eq!(failures(&late), Vec::<String>::new(), "{}", f.function.logs());
    assert_eq!(app.requests().len(), 2, "one more delivery");
    assert_eq!(stored(&emulator, &table, "m-1").await["status"]["S"], "COMPLETED");
}
