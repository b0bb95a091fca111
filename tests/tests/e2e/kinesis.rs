//! `bindery-kinesis` end to end: each record of a Kinesis batch becomes one
//! `POST /<binding>` in shard order with its data decoded, and the app's
//! answers become Lambda's checkpoint: `batchItemFailures` names the first
//! record of the shard that was not acknowledged, and nothing after it was
//! delivered.

use std::time::{Duration, Instant};

use crate::common::{
    ComponentsDir, Running, SECOND, assert_error, assert_no_requests, component, deadline_ms, unexpected_headers, value,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bindery_e2e::{InvokeOptions, RecordingApp, Reply, workspace};
use serde_json::{Value, json};

const SHARD: &str = "shardId-000000000000";

async fn start(app_url: &str) -> Running {
    let yaml = component(
        "clickstream",
        "bindings.aws.kinesis",
        &[value("streamName", "clickstream"), value("direction", "input")],
    );
    let components = ComponentsDir::with("clickstream.yaml", &yaml);
    Running::start("bindery-kinesis", components, &[("BINDERY_BINDING", "clickstream"), ("BINDERY_APP_URL", app_url)])
        .await
}

/// A 56-digit sequence number, as Kinesis gives them (more than any integer holds).
fn sequence(n: u32) -> String {
    format!("4959033827149025660855969253836157109592157598913658{n:04}")
}

/// A record of shard `SHARD` as Lambda delivers it.
fn record(n: u32, data: &[u8]) -> Value {
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": format!("key-{n}"),
            "sequenceNumber": sequence(n),
            "data": STANDARD.encode(data),
            "approximateArrivalTimestamp": 1545084650.987
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("{SHARD}:{}", sequence(n)),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/clickstream"
    })
}

fn failures(response: &Value) -> Vec<String> {
    let list =
        response["batchItemFailures"].as_array().unwrap_or_else(|| panic!("not a partial-batch response: {response}"));
    list.iter().map(|f| f["itemIdentifier"].as_str().unwrap_or_else(|| panic!("{f}")).to_owned()).collect()
}

#[tokio::test]
async fn aws_s_sample_is_one_post_per_record_with_its_data_decoded_and_its_metadata() {
    let app = RecordingApp::start().await;
    let f = start(&app.url()).await;
    let text = std::fs::read_to_string(workspace().join("shared/fixtures/events/kinesis.json")).unwrap();
    let event: Value = serde_json::from_str(&text).unwrap();

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(response, json!({"batchItemFailures": []}));
    let requests = app.requests();
    let bodies: Vec<&[u8]> = requests.iter().map(|r| &r.body[..]).collect();
    assert_eq!(bodies, [&b"Hello, this is a test."[..], b"This is only a test."], "in shard order");
    let first = &requests[0];
    assert_eq!((first.method.as_str(), first.path.as_str()), ("POST", "/clickstream"));
    assert_eq!(first.header("partitionkey"), Some("1"));
    assert_eq!(first.header("sequencenumber"), Some("49590338271490256608559692538361571095921575989136588898"));
    assert_eq!(first.header("shardid"), Some("shardId-000000000006"));
    assert_eq!(first.header("approximatearrivaltimestamp"), Some("1545084650.987"));
    let allowed = [
        "host",
        "content-type",
        "content-length",
        "partitionkey",
        "sequencenumber",
        "shardid",
        "approximatearrivaltimestamp",
    ];
    assert_eq!(unexpected_headers(&first.headers, &allowed), Vec::<String>::new());
}

#[tokio::test]
async fn a_failure_stops_the_shard_and_is_its_checkpoint() {
    let app = RecordingApp::start().await;
    app.set_reply(|r| if &r.body[..] == b"three" { Reply::Status(503) } else { Reply::Status(200) });
    let f = start(&app.url()).await;
    let names = ["one", "two", "three", "four", "five"];
    let event = json!({"Records": names.iter().zip(1..).map(|(d, n)| record(n, d.as_bytes())).collect::<Vec<_>>()});

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(failures(&response), [sequence(3)], "the first failure's sequence number, alone");
    let delivered: Vec<String> = app.requests().iter().map(|r| String::from_utf8(r.body.to_vec()).unwrap()).collect();
    assert_eq!(delivered, ["one", "two", "three"], "nothing after the failure is delivered");
}

#[tokio::test]
async fn a_malformed_record_fails_at_its_position_and_stops_its_shard() {
    let app = RecordingApp::start().await;
    let f = start(&app.url()).await;
    let mut bad = record(2, b"");
    bad["kinesis"]["data"] = json!("not base64 %%%");
    let event = json!({"Records": [record(1, b"one"), bad, record(3, b"three")]});

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(failures(&response), [sequence(2)]);
    let delivered: Vec<Vec<u8>> = app.requests().iter().map(|r| r.body.to_vec()).collect();
    assert_eq!(delivered, [b"one".to_vec()]);
}

#[tokio::test]
async fn a_record_not_finished_by_the_deadline_is_the_checkpoint() {
    let app = RecordingApp::start().await;
    app.set_reply(|r| {
        if &r.body[..] == b"slow" {
            Reply::Delay(10 * SECOND, Box::new(Reply::Status(200)))
        } else {
            Reply::Status(200)
        }
    });
    let f = start(&app.url()).await;
    let event = json!({"Records": [record(1, b"fast"), record(2, b"slow"), record(3, b"after")]});

    let started = Instant::now();
    let response = f.invoke(&event, deadline_ms(2000)).await.response();

    assert!(started.elapsed() < Duration::from_millis(2000), "answered after the deadline: {:?}", started.elapsed());
    assert_eq!(failures(&response), [sequence(2)]);
    assert_eq!(app.requests().len(), 2, "the record after the slow one is never delivered");
}

#[tokio::test]
async fn a_record_without_a_sequence_number_fails_the_whole_invocation() {
    let app = RecordingApp::start().await;
    let f = start(&app.url()).await;
    let mut anonymous = record(2, b"two");
    anonymous["kinesis"].as_object_mut().unwrap().remove("sequenceNumber");
    anonymous.as_object_mut().unwrap().remove("eventID");
    let event = json!({"Records": [record(1, b"one"), anonymous]});

    let error = f.invoke(&event, InvokeOptions::default()).await.error();

    assert_error(&error, "Bindery.MalformedBatch");
    assert_no_requests(&app).await;
}
