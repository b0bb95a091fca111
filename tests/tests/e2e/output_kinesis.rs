//! The Kinesis output binding against moto, loaded from component YAML as an
//! app loads it. Every record is read back with boto3 (GetShardIterator
//! TRIM_HORIZON, GetRecords) and checked byte for byte.

use base64::Engine;
use bindery::output::{Bindings, ErrorKind, InvokeRequest};
use bindery_e2e::aws::{Emulator, load_bindings};
use serde_json::{Value, json};

use crate::common::{ComponentsDir, bindery_invoke, bindery_sidecar};
use crate::python_sdk::{call, python_calls};

async fn stream(emulator: &Emulator, shards: u32) -> String {
    let name = emulator.unique("clicks");
    emulator.boto3(json!({"op": "kinesis_stream", "name": name, "shards": shards})).await;
    name
}

/// Every record in the stream: `(shard id, sequence number, partition key, data)`.
async fn records(emulator: &Emulator, stream: &str) -> Vec<(String, String, String, Vec<u8>)> {
    let answer = emulator.boto3(json!({"op": "kinesis_records", "stream": stream})).await;
    let text = |r: &Value, k: &str| r[k].as_str().unwrap().to_owned();
    answer
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let data = base64::engine::general_purpose::STANDARD.decode(text(r, "data")).unwrap();
            (text(r, "shard_id"), text(r, "sequence_number"), text(r, "partition_key"), data)
        })
        .collect()
}

async fn binding(emulator: &Emulator, stream: &str) -> (Bindings, tempfile::TempDir) {
    load_bindings(&[emulator.component("clicks", "bindings.aws.kinesis", &[("streamName", stream)])]).await
}

#[tokio::test]
async fn create_puts_the_data_as_it_comes_under_the_partition_key() {
    let emulator = Emulator::from_env();
    let stream = stream(&emulator, 2).await;
    let (bindings, _dir) = binding(&emulator, &stream).await;
    let request = InvokeRequest::new("create", r#"{"page":"/"}"#).with_metadata("partitionKey", "user-7");
    let response = bindings.invoke("clicks", request).await.unwrap_or_else(|e| panic!("{e}")).expect("a response");
    assert!(response.data.is_empty());
    let (shard, sequence) = (&response.metadata["shardId"], &response.metadata["sequenceNumber"]);
    assert_eq!(response.metadata["partitionKey"], "user-7");
    // Without a partition key, a random UUID, as Dapr; raw bytes as they are.
    let raw = InvokeRequest::new("create", vec![0u8, 0xff, b'"']);
    let random = bindings.invoke("clicks", raw).await.unwrap().unwrap();
    let key = &random.metadata["partitionKey"];
    assert_eq!(uuid::Uuid::parse_str(key).map(|u| u.get_version_num()), Ok(4), "{key}");

    let mut stored = records(&emulator, &stream).await;
    stored.sort_by_key(|r| r.2 != "user-7");
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[0], (shard.clone(), sequence.clone(), "user-7".to_owned(), br#"{"page":"/"}"#.to_vec()));
    assert_eq!(
        stored[1],
        (
            random.metadata["shardId"].clone(),
            random.metadata["sequenceNumber"].clone(),
            key.clone(),
            vec![0, 0xff, b'"']
        )
    );
}

#[tokio::test]
async fn the_typed_stream_helper_answers_where_the_record_went() {
    let emulator = Emulator::from_env();
    let stream = stream(&emulator, 1).await;
    let (bindings, _dir) = binding(&emulator, &stream).await;
    let clicks = bindings.stream("clicks");
    let first = clicks.put("user-1", &b"one"[..]).await.unwrap_or_else(|e| panic!("{e}"));
    let second = clicks.put("user-1", &b"two"[..]).await.unwrap();
    let stored = records(&emulator, &stream).await;
    let positions: Vec<(&str, &str, &[u8])> =
        stored.iter().map(|(shard, sequence, _, data)| (shard.as_str(), sequence.as_str(), data.as_slice())).collect();
    assert_eq!(
        positions,
        [
            (first.shard_id.as_str(), first.sequence_number.as_str(), &b"one"[..]),
            (second.shard_id.as_str(), second.sequence_number.as_str(), &b"two"[..])
        ],
        "in order, one shard"
    );
}

#[tokio::test]
async fn a_missing_stream_and_a_long_key_fail_clearly() {
    let emulator = Emulator::from_env();
    let stream = stream(&emulator, 1).await;
    let (bindings, _dir) = binding(&emulator, &stream).await;
    let long = InvokeRequest::new("create", "x").with_metadata("partitionKey", "k".repeat(257));
    let error = bindings.invoke("clicks", long).await.unwrap_err();
    assert_eq!(
        (error.kind, error.message.as_str()),
        (ErrorKind::BadRequest, "kinesis binding error: partitionKey is longer than Kinesis's 256 characters")
    );
    let unsupported = bindings.invoke("clicks", InvokeRequest::new("read", "")).await.unwrap_err();
    assert_eq!(unsupported.message, "binding clicks does not support operation read. supported operations:create");
    assert!(records(&emulator, &stream).await.is_empty());

    let (missing, _dir) = binding(&emulator, &emulator.unique("gone")).await;
    let error = missing.invoke("clicks", InvokeRequest::new("create", "x")).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
    assert!(error.message.starts_with("kinesis binding error: ResourceNotFoundException"), "{error}");
}

/// The Dapr API over HTTP and gRPC (the Python SDK through `bindery
/// sidecar`), and `bindery invoke`: over HTTP a string arrives quoted, as in Dapr.
#[tokio::test(flavor = "multi_thread")]
async fn puts_through_the_dapr_api_and_the_cli() {
    let emulator = Emulator::from_env();
    let stream = stream(&emulator, 1).await;
    let dir = ComponentsDir::new();
    dir.write("clicks.yaml", &emulator.component("clicks", "bindings.aws.kinesis", &[("streamName", &stream)]));
    let sidecar = bindery_sidecar(&dir, &[]).await;
    let calls = json!([
        call("http", "clicks", "create", json!("quoted"), json!({"partitionKey": "h"})),
        call("grpc", "clicks", "create", json!("raw"), json!({"partitionKey": "g"})),
    ]);
    let results = python_calls(&sidecar, None, &calls).await;
    assert_eq!(results[0]["status"], 200, "{}", results[0]);
    assert_eq!(results[0]["headers"]["metadata.partitionkey"], "h", "{}", results[0]);
    assert_eq!(results[1]["metadata"]["partitionKey"], "g", "{}", results[1]);
    assert!(results[1]["metadata"]["sequenceNumber"].as_str().is_some_and(|s| !s.is_empty()), "{}", results[1]);

    let output =
        bindery_invoke(&dir, &["clicks", "--operation", "create", "--data", "cli", "--metadata", "partitionKey=c"])
            .await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stored: Vec<(String, Vec<u8>)> = records(&emulator, &stream).await.into_iter().map(|r| (r.2, r.3)).collect();
    assert_eq!(
        stored,
        [
            ("h".to_owned(), br#""quoted""#.to_vec()),
            ("g".to_owned(), b"raw".to_vec()),
            ("c".to_owned(), b"cli".to_vec())
        ]
    );
}
