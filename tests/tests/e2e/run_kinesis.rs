//! `bindery run`'s Kinesis poller, on moto and on LocalStack (`scripts/test`
//! runs this module against both). Records a producer puts with boto3 reach
//! the app one by one in shard order, with their partition key, sequence
//! number and shard; a record the app refuses is delivered again, and
//! nothing after it in its shard is delivered before it is acknowledged,
//! nor anything before it twice: Lambda's checkpoint, kept by the poller.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bindery_e2e::aws::Emulator;
use bindery_e2e::{RecordingApp, Reply};
use serde_json::{Value, json};

use crate::common::{ComponentsDir, SECOND, bindery_run, metadata_value};

/// How often the app refuses the poison record before taking it.
const REFUSALS: usize = 2;

#[tokio::test]
async fn records_reach_the_app_in_shard_order_and_a_refused_one_holds_its_shard_until_taken() {
    let emulator = Emulator::from_env();
    let stream = emulator.unique("run-clicks");
    emulator.boto3(json!({"op": "kinesis_stream", "name": stream, "shards": 2})).await;
    let app = RecordingApp::start().await;
    let refused = Arc::new(AtomicUsize::new(0));
    let refusals = Arc::clone(&refused);
    app.set_reply(move |request| {
        if request.body == "poison" && refusals.fetch_add(1, Ordering::SeqCst) < REFUSALS {
            Reply::Status(500)
        } else {
            Reply::Status(200)
        }
    });
    let components = ComponentsDir::new();
    let items = [("streamName", stream.as_str()), ("direction", "input")];
    components.write("clicks.yaml", &emulator.component("clicks", "bindings.aws.kinesis", &items));
    let (bindery, _) = bindery_run(&components, &app.url(), &[], "clicks: reading").await;

    // Two partition keys, interleaved; they may land in one shard or two.
    let sent = [("a", "a1"), ("b", "b1"), ("a", "a2"), ("b", "b2"), ("a", "poison"), ("b", "b3"), ("a", "a3")];
    let records: Vec<Value> = sent.iter().map(|(key, data)| json!({"key": key, "data": data})).collect();
    let placed = emulator.boto3(json!({"op": "kinesis_put", "stream": stream, "records": records})).await;
    let placed: Vec<(String, String)> = placed
        .as_array()
        .expect("placements")
        .iter()
        .map(|p| (p["shard_id"].as_str().unwrap().to_owned(), p["sequence_number"].as_str().unwrap().to_owned()))
        .collect();

    // What each shard must deliver: its records in the order they were put,
    // the poison one once per refusal and once more.
    let mut expected: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for ((_, data), (shard, _)) in sent.iter().zip(&placed) {
        let times = if *data == "poison" { REFUSALS + 1 } else { 1 };
        expected.entry(shard.as_str()).or_default().extend(std::iter::repeat_n(*data, times));
    }
    let total = sent.len() + REFUSALS;
    let received = app.wait_for_requests(total, 30 * SECOND).await;
    assert!(received.len() >= total, "the app got {} of {total} deliveries\n{}", received.len(), bindery.logs());
    // Nothing more comes: the acknowledged records are not delivered again.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let received = app.requests();
    let mut delivered: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for request in &received {
        let shard = metadata_value(request, "shardId").expect("a shardId");
        delivered.entry(shard).or_default().push(String::from_utf8_lossy(&request.body).into_owned());
    }
    let expected: BTreeMap<String, Vec<String>> = expected
        .into_iter()
        .map(|(shard, bodies)| (shard.to_owned(), bodies.into_iter().map(str::to_owned).collect()))
        .collect();
    assert_eq!(delivered, expected, "per shard, in order\n{}", bindery.logs());

    // Each record's metadata says where it came from, as on Lambda.
    for ((key, data), (shard, sequence_number)) in sent.iter().zip(&placed) {
        let request = received.iter().find(|r| r.body == *data).expect("delivered");
        assert_eq!(request.path, "/clicks");
        assert_eq!(metadata_value(request, "partitionKey").as_deref(), Some(*key));
        assert_eq!(metadata_value(request, "sequenceNumber").as_ref(), Some(sequence_number));
        assert_eq!(metadata_value(request, "shardId").as_ref(), Some(shard));
        assert!(metadata_value(request, "approximateArrivalTimestamp").is_some_and(|t| t.parse::<f64>().is_ok()));
    }
    assert!(bindery.logs().contains("delivering again from record"), "{}", bindery.logs());
}

#[tokio::test]
async fn latest_reads_only_what_is_put_after_the_start() {
    let emulator = Emulator::from_env();
    let stream = emulator.unique("run-latest");
    emulator.boto3(json!({"op": "kinesis_stream", "name": stream, "shards": 1})).await;
    let records = json!([{"key": "k", "data": "before"}]);
    emulator.boto3(json!({"op": "kinesis_put", "stream": stream, "records": records})).await;
    let app = RecordingApp::start().await;
    let components = ComponentsDir::new();
    let items = [("streamName", stream.as_str()), ("direction", "input"), ("startingPosition", "LATEST")];
    components.write("clicks.yaml", &emulator.component("clicks", "bindings.aws.kinesis", &items));
    let (bindery, _) = bindery_run(&components, &app.url(), &[], "clicks: reading").await;
    // The shard's iterator is taken as the poller starts; give it a moment.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let records = json!([{"key": "k", "data": "after"}]);
    emulator.boto3(json!({"op": "kinesis_put", "stream": stream, "records": records})).await;
    let received = app.wait_for_requests(1, 20 * SECOND).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let bodies: Vec<_> = app.requests().iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect();
    assert_eq!(bodies, ["after"], "{}", bindery.logs());
    assert_eq!(received.len(), 1);
}
