use aws_lambda_events::s3::{S3Event, S3EventRecord};
use chrono::{DateTime, Utc};

use super::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Every fixture AWS's own types can read.
const AWS_SHAPED: [&str; 2] = ["s3-put.json", "s3-delete-versioned.json"];

/// The reference translation: the metadata of a record `aws_lambda_events`
/// parsed whole.
fn reference_metadata(record: S3EventRecord) -> Vec<(String, String)> {
    let object = record.s3.object;
    let mut metadata = vec![
        ("bucket".to_owned(), record.s3.bucket.name.unwrap()),
        ("key".to_owned(), decode_key(&object.key.unwrap()).unwrap()),
        ("eventName".to_owned(), record.event_name.unwrap()),
    ];
    let pairs = [
        ("size", object.size.map(|s| s.to_string())),
        ("eTag", object.e_tag),
        ("versionId", object.version_id),
        ("sequencer", object.sequencer),
    ];
    metadata.extend(pairs.into_iter().filter_map(|(k, v)| Some((k.to_owned(), v?))));
    metadata
}

fn metadata_of(event: &BindingEvent) -> Vec<(String, String)> {
    event.metadata.iter().filter(|(k, _)| k != "eventTime").map(|(k, v)| (k.to_string(), v.clone())).collect()
}

#[test]
fn every_fixture_reads_as_aws_lambda_events_reads_it() {
    for name in AWS_SHAPED {
        let text = fixture(name);
        let official: S3Event = serde_json::from_str(&text).unwrap();
        let records = parse_event(text.as_bytes()).unwrap();
        assert_eq!(records.len(), official.records.len(), "{name}");
        for (raw, record) in records.into_iter().zip(official.records) {
            let time = record.event_time;
            let event = record_event(raw).unwrap();
            assert_eq!(metadata_of(&event), reference_metadata(record), "{name}");
            let ours: DateTime<Utc> = event.metadata("eventTime").unwrap().parse().unwrap();
            assert_eq!(ours, time, "{name}");
            // The data is the record as S3 wrote it.
            assert_eq!(event.data, raw.get().as_bytes(), "{name}");
        }
    }
}

#[test]
fn the_key_is_decoded_as_a_form_encodes_it() {
    let text = fixture("s3-delete-versioned.json");
    let records = parse_event(text.as_bytes()).unwrap();
    let event = record_event(records[0]).unwrap();
    assert_eq!(event.metadata("key"), Some("reports/red flower été+1.jpg"));
    assert_eq!(event.metadata("versionId"), Some("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"));
    assert_eq!(event.metadata("size"), None, "a delete marker has no size");

    assert_eq!(decode_key("test%2Fkey").as_deref(), Some("test/key"));
    assert_eq!(decode_key("a%2Bb+c").as_deref(), Some("a+b c"));
    assert_eq!(decode_key("%FF"), None, "not UTF-8");
}

/// moto leaves out `userIdentity`, `requestParameters` and the sequencer,
/// which `aws_lambda_events` requires; bindery needs none of them.
#[test]
fn an_event_from_moto_is_read_though_aws_lambda_events_refuses_it() {
    let text = fixture("s3-moto.json");
    assert!(serde_json::from_str::<S3Event>(&text).is_err());
    let records = parse_event(text.as_bytes()).unwrap();
    let event = record_event(records[0]).unwrap();
    assert_eq!(
        metadata_of(&event),
        [
            ("bucket", "uploads"),
            ("key", "red flower.jpg"),
            ("eventName", "ObjectCreated:Put"),
            ("size", "5"),
            ("eTag", "5d41402abc4b2a76b9719d911017c592"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
}

#[test]
fn a_malformed_record_fails_alone() {
    let text = r#"{"Records":[
        {"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"size":1}}},
        {"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":"big"}}},
        "not a record",
        {"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}
    ]}"#;
    let records = parse_event(text.as_bytes()).unwrap();
    let results: Vec<_> = records.into_iter().map(record_event).collect();
    assert_eq!(results[0].as_ref().unwrap_err().message, "malformed S3 record: no s3.object.key");
    assert!(results[1].as_ref().unwrap_err().message.starts_with("malformed S3 record: invalid type"), "{results:?}");
    assert!(results[2].is_err());
    assert_eq!(results[3].as_ref().unwrap().metadata("key"), Some("k"));
}

#[test]
fn a_payload_that_is_no_s3_event_is_refused_whole() {
    for payload in ["", "{}", "[]", r#"{"Records":{}}"#, "null"] {
        let error = parse_event(payload.as_bytes()).unwrap_err();
        assert!(error.message.starts_with("not an S3 event"), "{payload}: {error}");
    }
}

#[test]
fn the_config_needs_a_bucket_and_names_s3_event_types() {
    let config = S3EventsConfig::from_metadata(&Metadata::from_pairs([("bucket", "uploads")])).unwrap();
    assert_eq!(config.events, [DEFAULT_EVENTS]);
    assert!(!config.existing_bucket);

    let metadata = Metadata::from_pairs([
        ("bucket", "uploads"),
        ("events", "s3:ObjectCreated:*, s3:ObjectRemoved:*"),
        ("filterPrefix", "reports/"),
        ("existingBucket", "true"),
    ]);
    let config = S3EventsConfig::from_metadata(&metadata).unwrap();
    assert_eq!(config.events, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]);
    assert_eq!((config.prefix.as_deref(), config.suffix.as_deref()), (Some("reports/"), None));
    assert!(config.existing_bucket);

    let errors = S3EventsConfig::from_metadata(&Metadata::from_pairs([("events", "ObjectCreated:Put")])).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["bucket", "events"]);
}
