use aws_lambda_events::sqs::{SqsMessage, SqsMessageAttribute};

use super::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn raw(json: serde_json::Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(&json).unwrap()
}

/// The reference translation: the event for a message `aws_lambda_events`
/// parsed whole, its attributes sorted by name.
fn record_event(mut message: SqsMessage) -> BindingEvent {
    let mut metadata = Vec::with_capacity(6 + message.message_attributes.len());
    if let Some(id) = message.message_id {
        metadata.push(("messageId".into(), id));
    }
    let attrs = &mut message.attributes;
    for (attribute, key) in [
        ("ApproximateReceiveCount", "approximateReceiveCount"),
        ("SentTimestamp", "sentTimestamp"),
        ("MessageGroupId", "messageGroupId"),
        ("MessageDeduplicationId", "messageDeduplicationId"),
        ("SequenceNumber", "sequenceNumber"),
    ] {
        if let Some(value) = attrs.remove(attribute) {
            metadata.push((key.into(), value));
        }
    }
    let mut attributes: Vec<(String, SqsMessageAttribute)> = message.message_attributes.into_iter().collect();
    attributes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (name, attribute) in attributes {
        let value = match (attribute.string_value, attribute.binary_value) {
            (Some(s), _) => Some(s),
            (None, Some(b)) => Some(STANDARD.encode(&b.0)),
            (None, None) => None,
        };
        if let Some(value) = value {
            metadata.push((format!("attr-{name}").into(), value));
        }
    }
    let traceparent = attrs.get("AWSTraceHeader").and_then(|h| traceparent_from_xray(h));
    BindingEvent { data: message.body.map(Into::into).unwrap_or_default(), metadata, traceparent }
}

#[test]
fn fixtures_round_trip_through_the_aws_types() {
    for name in ["sqs-standard.json", "sqs-fifo.json"] {
        let event: aws_lambda_events::sqs::SqsEvent = serde_json::from_str(&fixture(name)).unwrap();
        let again: aws_lambda_events::sqs::SqsEvent =
            serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
        assert_eq!(event, again, "{name}");
    }
}

#[test]
fn standard_record_metadata() {
    let text = fixture("sqs-standard.json");
    let recs = parse_batch(text.as_bytes()).unwrap();
    assert_eq!(recs.len(), 2);
    let first = &recs[0];
    assert!(!first.fifo);
    assert_eq!(first.group, Group::None);
    assert_eq!(first.message_id, "059f36b4-87a3-44ab-83d2-661975830a7d");
    let event = first.event().unwrap();
    assert_eq!(&event.data[..], br#"{"taskId": 42, "status": "done"}"#);
    assert_eq!(
        event.metadata,
        [
            ("messageId", "059f36b4-87a3-44ab-83d2-661975830a7d"),
            ("approximateReceiveCount", "1"),
            ("sentTimestamp", "1545082649183"),
            ("attr-checksum", "MTEwMA=="),
            ("attr-priority", "7"),
            ("attr-tenant", "acme"),
        ]
        .map(|(k, v)| (k.into(), v.to_owned()))
    );
    assert_eq!(event.traceparent.as_deref(), Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"));
    // The receipt handle is a credential for deleting the message: never forwarded.
    assert!(event.metadata.iter().all(|(k, v)| !k.contains("receipt") && !v.starts_with("AQEB")));
}

#[test]
fn fifo_record_metadata() {
    let text = fixture("sqs-fifo.json");
    let recs = parse_batch(text.as_bytes()).unwrap();
    assert!(recs.iter().all(|r| r.fifo));
    let groups: Vec<Group> = recs.iter().map(|r| r.group.clone()).collect();
    assert_eq!(groups, ["order-1", "order-1", "order-2"].map(|g| Group::Id(g.into())));
    let event = recs[0].event().unwrap();
    assert_eq!(event.metadata("messageGroupId"), Some("order-1"));
    assert_eq!(event.metadata("sequenceNumber"), Some("18849496460467696128"));
    assert_eq!(
        event.metadata("messageDeduplicationId"),
        Some("1eea03c3f7e782c7bdc2f2a917f40389314733ff39f5ab16219580c0109ade98")
    );
}

#[test]
fn malformed_record_is_failed_alone() {
    let text = r#"{"Records":[{"messageId":"bad-1","body":12,"attributes":"nope"},{"messageId":"ok-1","body":"x"}]}"#;
    let recs = parse_batch(text.as_bytes()).unwrap();
    assert_eq!(recs[0].message_id, "bad-1");
    assert!(recs[0].event().unwrap_err().message.starts_with("malformed SQS record: "));
    assert_eq!(&recs[1].event().unwrap().data[..], b"x");
}

#[test]
fn malformed_fifo_record_keeps_its_group_when_it_can() {
    let arn = "arn:aws:sqs:us-east-2:123456789012:orders.fifo";
    let readable = raw(serde_json::json!({"messageId": "a2", "body": {"not": "a string"}, "eventSourceARN": arn,
                                          "attributes": {"MessageGroupId": "A"}}));
    let record = parse_record(&readable).unwrap();
    assert!(record.fifo && record.event().is_err());
    assert_eq!(record.group, Group::Id("A".into()));
    let unreadable = raw(serde_json::json!({"messageId": "a2", "eventSourceARN": arn, "attributes": "garbage"}));
    assert_eq!(parse_record(&unreadable).unwrap().group, Group::Unknown);
    let standard =
        raw(serde_json::json!({"messageId": "s", "eventSourceARN": "arn:aws:sqs:us-east-2:1:q", "attributes": 3}));
    assert_eq!(parse_record(&standard).unwrap().group, Group::None);
}

#[test]
fn record_without_id_cannot_be_reported() {
    for text in [r#"{"body":"x"}"#, r#"{"messageId":""}"#, r#"{"messageId":7}"#, r#"[1,2]"#, r#""text""#] {
        let value: Box<RawValue> = serde_json::from_str(text).unwrap();
        assert!(parse_record(&value).is_err(), "{text}");
    }
}

#[test]
fn payloads_that_are_not_batches_are_refused() {
    for text in ["", "{}", r#"{"Records": 5}"#, "[]", "not json"] {
        assert!(parse_batch(text.as_bytes()).is_err(), "{text:?}");
    }
    assert!(parse_batch(br#"{"Records": []}"#).unwrap().is_empty());
    // Records AWS never sends: one that is not an object, or names a field twice.
    for text in [r#"{"Records": [1]}"#, r#"{"Records": [{"messageId": "a", "body": "x", "body": "y"}]}"#] {
        assert!(parse_batch(text.as_bytes()).is_err(), "{text:?}");
    }
}

#[test]
fn missing_body_is_empty() {
    let value = raw(serde_json::json!({"messageId": "m"}));
    assert!(parse_record(&value).unwrap().event().unwrap().data.is_empty());
}

/// Every record read in place gives the event `record_event` builds from
/// `aws_lambda_events`' own parse of it.
#[test]
fn events_match_the_aws_lambda_events_parse() {
    let mut records: Vec<serde_json::Value> = Vec::new();
    for name in ["sqs-standard.json", "sqs-fifo.json"] {
        let event: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
        records.extend(event["Records"].as_array().unwrap().iter().cloned());
    }
    records.extend([
        serde_json::json!({"messageId": "esc\"aped", "body": "{\"a\":\"\\u00e9\"}", "attributes": null,
                           "messageAttributes": null}),
        serde_json::json!({"messageId": "m", "body": null, "attributes": {"AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", "Other": "x"},
                           "messageAttributes": {"b": {"binaryValue": "AAEC", "dataType": "Binary"},
                                                  "a": {"stringValue": "1", "dataType": "Number"},
                                                  "empty": {"dataType": "String"}}}),
        serde_json::json!({"messageId": "only"}),
        // Strings read without a second parse: empty, non-ASCII, quotes
        // and backslashes (escaped, so parsed again).
        serde_json::json!({"messageId": "u", "body": "", "attributes": {"SentTimestamp": "hé ✓"}}),
        serde_json::json!({"messageId": "ü", "body": "héllo ✓", "messageAttributes": {"q": {"stringValue": "a\\b\"c"}}}),
    ]);
    for record in records {
        let raw = raw(record.clone());
        let mine = parse_record(&raw).unwrap().event().unwrap();
        let theirs = record_event(serde_json::from_value::<SqsMessage>(record.clone()).unwrap());
        assert_eq!(mine.data, theirs.data, "{record}");
        assert_eq!(mine.metadata, theirs.metadata, "{record}");
        assert_eq!(mine.traceparent, theirs.traceparent, "{record}");
    }
}

#[test]
fn a_wrongly_typed_field_fails_its_record_and_says_which() {
    for (record, field) in [
        (serde_json::json!({"messageId": "m", "body": 12}), "body"),
        (serde_json::json!({"messageId": "m", "attributes": {"SentTimestamp": 5}}), "attributes"),
        (serde_json::json!({"messageId": "m", "messageAttributes": [1]}), "messageAttributes"),
        (
            serde_json::json!({"messageId": "m", "messageAttributes": {"b": {"binaryValue": "not base64!"}}}),
            "messageAttributes",
        ),
    ] {
        // `aws_lambda_events` refuses the record too.
        assert!(serde_json::from_value::<SqsMessage>(record.clone()).is_err(), "{record}");
        let raw = raw(record);
        let error = parse_record(&raw).unwrap().event().unwrap_err();
        assert!(error.message.starts_with(&format!("malformed SQS record: {field}: ")), "{}", error.message);
    }
}

/// serde's messages quote the value they did not expect, and the reason a
/// record failed is logged: a malformed record put its content in the logs.
#[test]
fn a_malformed_record_is_described_without_its_content() {
    for (record, field) in [
        (serde_json::json!({"messageId": "m", "attributes": "SECRET"}), "attributes"),
        (serde_json::json!({"messageId": "m", "attributes": {"SentTimestamp": ["SECRET"]}}), "attributes"),
        (serde_json::json!({"messageId": "m", "messageAttributes": {"token": "SECRET"}}), "messageAttributes"),
        (serde_json::json!({"messageId": "m", "messageAttributes": "SECRET, expected x"}), "messageAttributes"),
        (
            serde_json::json!({"messageId": "m", "messageAttributes": {"t": {"stringValue": ["SECRET"]}}}),
            "messageAttributes",
        ),
        (
            serde_json::json!({"messageId": "m", "messageAttributes": {"t": {"binaryValue": "SECRET!"}}}),
            "messageAttributes",
        ),
    ] {
        let raw = raw(record);
        let error = parse_record(&raw).unwrap().event().unwrap_err();
        assert!(error.message.starts_with(&format!("malformed SQS record: {field}: ")), "{}", error.message);
        assert!(!error.message.contains("SECRET"), "{}", error.message);
    }
}

#[test]
fn a_shared_batch_delivers_plain_bodies_as_slices_of_it() {
    let text = r#"{"Records":[{"messageId":"a","body":"plain text"},{"messageId":"b","body":"{\"escaped\":1}"}]}"#;
    let buffer = Bytes::from(text);
    let records = parse_shared_batch(&buffer).unwrap();
    let plain = records[0].event().unwrap().data;
    assert_eq!(&plain[..], b"plain text");
    let inside = buffer.as_ptr() as usize..buffer.as_ptr() as usize + buffer.len();
    assert!(inside.contains(&(plain.as_ptr() as usize)), "a slice of the buffer, not a copy");
    assert_eq!(&records[1].event().unwrap().data[..], br#"{"escaped":1}"#);
    // The same events as from an unshared parse.
    let unshared = parse_batch(text.as_bytes()).unwrap();
    for (shared, own) in records.iter().zip(&unshared) {
        assert_eq!(shared.event().unwrap().data, own.event().unwrap().data);
    }
}
