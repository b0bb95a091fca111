//! Idempotent delivery in `bindery-sqs`, its records in a DynamoDB table on
//! moto (Powertools' layout: key `id`), written by the function's own
//! signed calls and read back with boto3. A batch Lambda delivers again
//! reaches the app once; a refused record is delivered again; two
//! deliveries of one message at once call the app once; and the record a
//! crash leaves in progress holds a redelivery back until its deadline,
//! then lets it through: one more delivery, never none.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bindery_e2e::aws::Emulator;
use bindery_e2e::{InvokeOptions, RecordingApp, Reply};
use serde_json::{Value, json};

use crate::common::{ComponentsDir, Running, SECOND, sqs_record};

async fn start(emulator: &Emulator, table: &str, app: &RecordingApp) -> Running {
    let items = [
        ("queueName", "task-events"),
        ("direction", "input"),
        ("idempotency", "dynamodb"),
        ("idempotencyTable", table),
    ];
    let components =
        ComponentsDir::with("task-events.yaml", &emulator.component("task-events", "bindings.aws.sqs", &items));
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
