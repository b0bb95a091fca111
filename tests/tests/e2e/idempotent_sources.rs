//! Idempotent delivery beyond SQS, its records in a DynamoDB table on moto:
//! a Kinesis batch Lambda delivers again reaches the app once per sequence
//! number; a GitHub delivery sent again gets the app's first answer back
//! without reaching it; Scheduler's retry of a schedule the app acknowledged
//! is not delivered again; and `bindery run` keeps a webhook's records in
//! memory, or in the component's own table with `--idempotency-store
//! components`.

use std::time::Duration;

use bindery_e2e::aws::{Emulator, REGION};
use bindery_e2e::{InvokeOptions, RecordingApp, Reply};
use serde_json::{Value, json};

use crate::common::webhook::{BODY, SECRET, accepted, assert_response, github_event, github_signature, header};
use crate::common::{ComponentsDir, Running, bindery_run, component, cron_component, http_post, secret, value};

/// The component items that turn idempotency on, in `table` on the emulator.
fn idempotent(emulator: &Emulator, table: &str) -> Vec<String> {
    vec![
        value("idempotency", "dynamodb"),
        value("idempotencyTable", table),
        value("endpoint", &emulator.endpoint),
        value("region", REGION),
        value("accessKey", "test"),
        value("secretKey", "test"),
    ]
}

/// The GitHub webhook binding `github-webhook`, its secret in
/// `GITHUB_SECRET`, idempotent in `table`.
fn github_webhook(emulator: &Emulator, table: &str) -> ComponentsDir {
    let mut items = vec![value("direction", "input"), value("signatureScheme", "github")];
    items.push(secret("signatureSecret", "GITHUB_SECRET"));
    items.extend(idempotent(emulator, table));
    ComponentsDir::with("github-webhook.yaml", &component("github-webhook", "bindings.http", &items))
}

async fn table(emulator: &Emulator) -> String {
    let name = emulator.unique("seen");
    emulator.boto3(json!({"op": "dynamodb_table", "name": name})).await;
    name
}

async fn stored(emulator: &Emulator, table: &str, key: &str) -> Value {
    emulator.boto3(json!({"op": "dynamodb_get", "table": table, "id": key})).await
}

fn bodies(app: &RecordingApp) -> Vec<String> {
    app.requests().iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect()
}

fn kinesis_record(n: u32) -> Value {
    use base64::Engine;
    let sequence = format!("4959033827149025660855969253836157109592157598913658{n:04}");
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "key",
            "sequenceNumber": sequence,
            "data": base64::engine::general_purpose::STANDARD.encode(format!("record {n}")),
            "approximateArrivalTimestamp": 1545084650.987
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("shardId-000000000000:{sequence}"),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/clickstream"
    })
}

#[tokio::test]
async fn a_kinesis_batch_delivered_again_reaches_the_app_once_per_sequence_number() {
    let emulator = Emulator::from_env();
    let table = table(&emulator).await;
    let app = RecordingApp::start().await;
    app.set_reply(|r| if &r.body[..] == b"record 2" { Reply::Status(500) } else { Reply::Status(204) });
    let mut items = vec![value("streamName", "clickstream"), value("direction", "input")];
    items.extend(idempotent(&emulator, &table));
    let components = ComponentsDir::with("clickstream.yaml", &component("clickstream", "bindings.aws.kinesis", &items));
    let url = app.url();
    let vars = [("BINDERY_BINDING", "clickstream"), ("BINDERY_APP_URL", url.as_str())];
    let f = Running::start("bindery-kinesis", components, &vars).await;
    let batch = json!({"Records": [kinesis_record(1), kinesis_record(2), kinesis_record(3)]});

    let first = f.invoke(&batch, InvokeOptions::default()).await.response();
    assert_eq!(first["batchItemFailures"][0]["itemIdentifier"], kinesis_record(2)["kinesis"]["sequenceNumber"]);
    let key = format!("clickstream#{}", kinesis_record(1)["kinesis"]["sequenceNumber"].as_str().unwrap());
    assert_eq!(stored(&emulator, &table, &key).await["status"]["S"], "COMPLETED");

    // The whole batch again (a bisected or timed-out batch is): record 1 is
    // acknowledged without delivery, the shard goes on from record 2.
    app.set_reply(|_| Reply::Status(204));
    let again = f.invoke(&batch, InvokeOptions::default()).await.response();
    assert_eq!(again["batchItemFailures"], json!([]), "{}", f.function.logs());
    assert_eq!(bodies(&app), ["record 1", "record 2", "record 2", "record 3"]);
}

#[tokio::test]
async fn a_github_delivery_sent_again_gets_the_stored_answer_without_reaching_the_app() {
    let emulator = Emulator::from_env();
    let table = table(&emulator).await;
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());
    let components = github_webhook(&emulator, &table);
    let url = app.url();
    let vars = [("BINDERY_BINDING", "github-webhook"), ("BINDERY_APP_URL", url.as_str()), ("GITHUB_SECRET", SECRET)];
    let f = Running::start("bindery-webhook", components, &vars).await;

    let event = github_event(BODY.as_bytes());
    for _ in 0..2 {
        let response = f.invoke(&event, InvokeOptions::default()).await.response();
        assert_response(&response, 202, r#"{"ok":true}"#);
        assert_eq!(header(&response, "content-type"), Some("application/json"));
    }
    assert_eq!(app.requests().len(), 1, "{}", f.function.logs());
    let record = stored(&emulator, &table, "github-webhook#72d3162e-cc78-11e3-81ab-4c9367dc0958").await;
    assert_eq!(record["status"]["S"], "COMPLETED", "{record}");

    // An answer that is not 2xx is not kept: GitHub's redelivery reaches the app.
    app.set_reply(|_| Reply::Status(500));
    let mut refused = event.clone();
    refused["headers"]["x-github-delivery"] = json!("0b5e7c41-1d3a-4f6e-9e55-1f2b3c4d5e6f");
    for _ in 0..2 {
        assert_eq!(f.invoke(&refused, InvokeOptions::default()).await.response()["statusCode"], 500);
    }
    assert_eq!(app.requests().len(), 3);
}

#[tokio::test]
async fn a_schedule_s_retry_after_the_app_acknowledged_is_not_delivered_again() {
    let emulator = Emulator::from_env();
    let table = table(&emulator).await;
    let app = RecordingApp::start().await;
    let components = ComponentsDir::with(
        "cron-binding.yaml",
        &cron_component("cron-binding", "@every 1m", &idempotent(&emulator, &table)),
    );
    let url = app.url();
    let vars = [("BINDERY_BINDING", "cron-binding"), ("BINDERY_APP_URL", url.as_str())];
    let f = Running::start("bindery-cron", components, &vars).await;
    let input = |time: &str, attempt: &str| json!({"scheduledTime": time, "attempt": attempt});

    for attempt in ["1", "2"] {
        let outcome = f.invoke(&input("2026-03-22T18:59:00Z", attempt), InvokeOptions::default()).await;
        assert_eq!(outcome.response(), Value::Null, "{}", f.function.logs());
    }
    assert_eq!(app.requests().len(), 1, "{}", f.function.logs());
    f.invoke(&input("2026-03-22T19:00:00Z", "1"), InvokeOptions::default()).await;
    assert_eq!(app.requests().len(), 2, "the next run is another event");
}

#[tokio::test]
async fn bindery_run_keeps_a_webhook_s_records_in_memory_or_in_the_component_s_table() {
    let emulator = Emulator::from_env();
    let table = table(&emulator).await;
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());
    let dir = github_webhook(&emulator, &table);
    let signature = github_signature(BODY.as_bytes());
    let send = |port: u16, delivery: &'static str| {
        let signature = signature.clone();
        async move {
            let headers = [("X-Hub-Signature-256", signature.as_str()), ("X-GitHub-Delivery", delivery)];
            http_post(&format!("http://127.0.0.1:{port}/github-webhook"), &headers, BODY).await
        }
    };

    for (store, delivery) in [("embedded", "d-embedded"), ("components", "d-components")] {
        let env = [("GITHUB_SECRET", SECRET), ("BINDERY_IDEMPOTENCY_STORE", store)];
        let (bindery, port) = bindery_run(&dir, &app.url(), &env, "github-webhook: webhook").await;
        let before = app.requests().len();
        for _ in 0..2 {
            assert_eq!(send(port, delivery).await, (202, r#"{"ok":true}"#.to_owned()), "{}", bindery.logs());
        }
        assert_eq!(app.requests().len(), before + 1, "{store}: {}", bindery.logs());
        let record = stored(&emulator, &table, &format!("github-webhook#{delivery}")).await;
        match store {
            "embedded" => assert!(record.is_null(), "kept in memory: {record}"),
            _ => assert_eq!(record["status"]["S"], "COMPLETED", "{record}"),
        }
        drop(bindery);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
