use aws_lambda_events::dynamodb::{Event, EventRecord};

use super::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn raw(json: serde_json::Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(&json).unwrap()
}

const FIXTURES: [&str; 2] = ["dynamodb.json", "dynamodb-binary.json"];

/// The reference: the image `aws_lambda_events` read, written back as
/// DynamoDB JSON, and its keys.
fn expected(record: &EventRecord) -> (serde_json::Value, Vec<(String, String)>) {
    let image = if record.event_name == "REMOVE" { &record.change.old_image } else { &record.change.new_image };
    let image = serde_json::to_value(image).unwrap();
    let keys = serde_json::to_value(&record.change.keys).unwrap();
    let keys = keys
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| {
            let (_, scalar) = value.as_object().unwrap().iter().next().unwrap();
            (format!("key-{name}"), scalar.as_str().unwrap().to_owned())
        })
        .collect();
    (image, keys)
}

#[test]
fn fixtures_round_trip_through_the_aws_types() {
    for name in FIXTURES {
        let event: Event = serde_json::from_str(&fixture(name)).unwrap();
        let again: Event = serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
        assert_eq!(event, again, "{name}");
        assert!(!event.records.is_empty(), "{name}");
    }
}

#[test]
fn every_fixture_reads_as_the_aws_types_read_it() {
    for name in FIXTURES {
        let text = fixture(name);
        let theirs: Event = serde_json::from_str(&text).unwrap();
        let ours = parse_batch(text.as_bytes(), StreamFormat::DynamoDb).unwrap();
        assert_eq!(ours.len(), theirs.records.len(), "{name}");
        for (record, reference) in ours.iter().zip(&theirs.records) {
            let event = record.event().unwrap();
            let (image, keys) = expected(reference);
            let body: serde_json::Value = if event.data.is_empty() {
                serde_json::json!({})
            } else {
                serde_json::from_slice(&event.data).unwrap()
            };
            assert_eq!(body, image, "{name}");
            assert_eq!(event.metadata("eventName"), Some(reference.event_name.as_str()));
            assert_eq!(event.metadata("eventID"), Some(reference.event_id.as_str()));
            assert_eq!(Some(record.sequence_number.to_string()), reference.change.sequence_number);
            let ours: Vec<(String, String)> = event
                .metadata
                .iter()
                .filter(|(k, _)| k.starts_with("key-"))
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            let mut keys = keys;
            keys.sort();
            assert_eq!(ours, keys, "{name}");
        }
    }
}

#[test]
fn the_doc_sample_gives_new_images_and_the_old_one_for_remove() {
    let text = fixture("dynamodb.json");
    let records = parse_batch(text.as_bytes(), StreamFormat::Plain).unwrap();
    let bodies: Vec<String> =
        records.iter().map(|r| String::from_utf8(r.event().unwrap().data.to_vec()).unwrap()).collect();
    assert_eq!(
        bodies,
        [
            r#"{"Id":101,"Message":"New item!"}"#,
            r#"{"Id":101,"Message":"This item has changed"}"#,
            r#"{"Id":101,"Message":"This item has changed"}"#,
        ]
    );
    let last = records[2].event().unwrap();
    assert_eq!(last.metadata("eventName"), Some("REMOVE"));
    assert_eq!(last.metadata("key-Id"), Some("101"));
    assert_eq!(last.metadata("sequenceNumber"), Some("333"));
}

#[test]
fn a_shared_buffer_is_sliced_not_copied() {
    let text = Bytes::from(fixture("dynamodb.json"));
    let records = parse_shared_batch(&text, StreamFormat::DynamoDb).unwrap();
    let event = records[0].event().unwrap();
    let start = event.data.as_ptr() as usize - text.as_ptr() as usize;
    assert!(start < text.len());
}

#[test]
fn a_malformed_record_fails_on_its_own_and_keeps_its_id() {
    let change = |extra: serde_json::Value| {
        let mut d =
            serde_json::json!({"SequenceNumber": "9", "Keys": {"id": {"S": "a"}}, "NewImage": {"id": {"S": "a"}}});
        for (k, v) in extra.as_object().unwrap() {
            d[k] = v.clone();
        }
        d
    };
    for (json, why) in [
        (serde_json::json!({"eventName": "UPSERT", "dynamodb": change(serde_json::json!({}))}), "eventName"),
        (serde_json::json!({"dynamodb": change(serde_json::json!({}))}), "eventName"),
        (serde_json::json!({"eventName": "INSERT", "dynamodb": change(serde_json::json!({"NewImage": 3}))}), "image"),
        (
            serde_json::json!({"eventName": "INSERT", "dynamodb": change(serde_json::json!({"Keys": {"id": {"L": []}}}))}),
            "Keys",
        ),
        (
            serde_json::json!({"eventName": "INSERT", "dynamodb": change(serde_json::json!({"NewImage": {"n": {"N": "x"}}}))}),
            "number",
        ),
    ] {
        let raw = raw(json);
        let record = parse_record(&raw, StreamFormat::Plain).unwrap();
        assert_eq!(record.sequence_number, "9");
        let error = record.event().unwrap_err().message;
        assert!(error.contains(why), "{error}");
    }
}

#[test]
fn a_record_without_a_sequence_number_fails_the_batch() {
    let error = parse_batch(
        fixture("dynamodb.json").replace("\"SequenceNumber\": \"222\",", "").as_bytes(),
        StreamFormat::DynamoDb,
    )
    .unwrap_err();
    assert!(error.message.contains("no SequenceNumber"), "{}", error.message);
}

#[test]
fn a_keys_only_record_has_an_empty_body_and_its_keys() {
    let raw = raw(
        serde_json::json!({"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "5", "Keys": {"pk": {"S": "x"}}}}),
    );
    let event = parse_record(&raw, StreamFormat::DynamoDb).unwrap().event().unwrap();
    assert!(event.data.is_empty());
    assert_eq!(event.metadata("key-pk"), Some("x"));
}

#[test]
fn the_config_reads_dapr_s_table_and_the_stream_format() {
    let config = DynamoDbStreamConfig::from_metadata(&Metadata::from_pairs([
        ("table", "tasks"),
        ("streamFormat", "plain"),
        ("streamArn", "arn:aws:dynamodb:us-east-1:123456789012:table/tasks/stream/2024-01-01T00:00:00.000"),
    ]))
    .unwrap();
    assert_eq!((config.table.as_str(), config.format), ("tasks", StreamFormat::Plain));
    let errors =
        DynamoDbStreamConfig::from_metadata(&Metadata::from_pairs([("streamFormat", "yaml"), ("streamArn", "tasks")]))
            .unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["table", "streamArn", "streamFormat"]);
}
