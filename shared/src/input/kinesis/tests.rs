use aws_lambda_events::kinesis::{KinesisEvent, KinesisEventRecord};

use super::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn raw(json: serde_json::Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(&json).unwrap()
}

/// The reference translation, from `aws_lambda_events`' parse of a record.
fn record_event(record: &KinesisEventRecord) -> BindingEvent {
    let shard = record.event_id.as_deref().and_then(|id| id.split_once(':')).map(|(shard, _)| shard);
    let mut metadata = vec![
        ("partitionKey".into(), record.kinesis.partition_key.clone()),
        ("sequenceNumber".into(), record.kinesis.sequence_number.clone()),
    ];
    if let Some(shard) = shard {
        metadata.push(("shardId".into(), shard.to_owned()));
    }
    BindingEvent { data: Bytes::from(record.kinesis.data.0.clone()), metadata, traceparent: None }
}

const FIXTURES: [&str; 2] = ["kinesis.json", "kinesis-encrypted.json"];

#[test]
fn fixtures_round_trip_through_the_aws_types() {
    for name in FIXTURES {
        let event: KinesisEvent = serde_json::from_str(&fixture(name)).unwrap();
        let again: KinesisEvent = serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
        assert_eq!(event, again, "{name}");
        assert!(!event.records.is_empty(), "{name}");
    }
}

#[test]
fn every_fixture_reads_as_the_aws_types_read_it() {
    for name in FIXTURES {
        let text = fixture(name);
        let theirs: KinesisEvent = serde_json::from_str(&text).unwrap();
        let ours = parse_batch(text.as_bytes()).unwrap();
        assert_eq!(ours.len(), theirs.records.len(), "{name}");
        for (record, expected) in ours.iter().zip(&theirs.records) {
            let mut event = record.event().unwrap();
            // The arrival time is kept as Kinesis wrote it; the AWS type
            // reads it as a date: they name the same millisecond.
            let arrival = event.metadata.pop().unwrap();
            assert_eq!(arrival.0, "approximateArrivalTimestamp");
            let millis = (arrival.1.parse::<f64>().unwrap() * 1000.0).round() as i64;
            assert_eq!(millis, expected.kinesis.approximate_arrival_timestamp.timestamp_millis(), "{name}");
            assert_eq!(event, record_event(expected), "{name}");
            assert_eq!(record.sequence_number, expected.kinesis.sequence_number);
        }
    }
}

#[test]
fn the_doc_sample_decodes_data_and_names_its_shard() {
    let text = fixture("kinesis.json");
    let records = parse_batch(text.as_bytes()).unwrap();
    let event = records[0].event().unwrap();
    assert_eq!(&event.data[..], b"Hello, this is a test.");
    assert_eq!(event.metadata("shardId"), Some("shardId-000000000006"));
    assert_eq!(event.metadata("partitionKey"), Some("1"));
    assert_eq!(event.metadata("approximateArrivalTimestamp"), Some("1545084650.987"));
    assert_eq!(records[0].shard, Lane::Id("shardId-000000000006".into()));
}

#[test]
fn a_129_digit_sequence_number_is_kept_whole() {
    let sequence = format!("9{}", "8".repeat(128));
    let record = raw(serde_json::json!({
        "eventID": format!("shardId-000000000001:{sequence}"),
        "kinesis": {"sequenceNumber": sequence, "data": "", "partitionKey": "k", "approximateArrivalTimestamp": 1.5},
    }));
    let record = parse_record(&record).unwrap();
    assert_eq!(record.sequence_number, sequence.as_str());
    assert_eq!(record.event().unwrap().metadata("sequenceNumber"), Some(sequence.as_str()));
}

#[test]
fn a_malformed_record_fails_on_its_own_and_keeps_its_id() {
    let cases = [
        (serde_json::json!({"eventID": "s:1", "kinesis": {"sequenceNumber": "1", "data": "%%%"}}), "data: not base64"),
        (serde_json::json!({"eventID": "s:2", "kinesis": {"sequenceNumber": "2", "data": 7}}), "data: expected"),
        (serde_json::json!({"eventID": "s:3", "kinesis": "oops"}), "kinesis: expected an object"),
        (
            serde_json::json!({"eventID": "s:4", "kinesis": {"sequenceNumber": "4", "data": "", "partitionKey": 1}}),
            "partitionKey",
        ),
        (
            serde_json::json!({"eventID": "s:5", "kinesis": {"sequenceNumber": "5", "data": "", "approximateArrivalTimestamp": "x"}}),
            "approximateArrivalTimestamp",
        ),
    ];
    for (n, (json, reason)) in cases.into_iter().enumerate() {
        let raw = raw(json);
        let record = parse_record(&raw).unwrap();
        assert_eq!(record.sequence_number, (n + 1).to_string());
        assert_eq!(record.shard, Lane::Id("s".into()));
        let error = record.event().unwrap_err().message;
        assert!(error.contains(reason), "{error}");
    }
}

#[test]
fn the_sequence_number_comes_from_the_event_id_when_the_record_lacks_it() {
    let raw = raw(serde_json::json!({"eventID": "shardId-1:42", "kinesis": {"data": ""}}));
    assert_eq!(parse_record(&raw).unwrap().sequence_number, "42");
}

#[test]
fn a_record_without_any_sequence_number_fails_the_batch() {
    let error = parse_batch(
        br#"{"Records":[{"eventID":"s:1","kinesis":{"sequenceNumber":"1","data":""}},{"kinesis":{"data":""}}]}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("no sequence number"), "{}", error.message);
    assert!(parse_batch(b"{}").is_err());
    assert!(parse_batch(br#"{"Records": 3}"#).is_err());
}

#[test]
fn a_record_whose_shard_cannot_be_read_is_unknown() {
    let raw = raw(serde_json::json!({"kinesis": {"sequenceNumber": "1", "data": ""}}));
    assert_eq!(parse_record(&raw).unwrap().shard, Lane::Unknown);
}

#[test]
fn the_config_needs_a_stream_and_refuses_enhanced_fan_out() {
    let ok = KinesisSourceConfig::from_metadata(&Metadata::from_pairs([
        ("streamName", "orders"),
        ("consumerName", "app"),
        ("region", "us-east-1"),
    ]))
    .unwrap();
    assert_eq!(ok.stream, "orders");
    let errors = KinesisSourceConfig::from_metadata(&Metadata::from_pairs([("mode", "extended")])).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["streamName", "mode"]);
    let errors = KinesisSourceConfig::from_metadata(&Metadata::from_pairs([("streamName", "bad name")])).unwrap_err();
    assert_eq!(errors[0].field, "streamName");
}
