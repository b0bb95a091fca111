//! bindery-dynamodb-streams's batch parser in both formats, then each
//! record's event and the request the app gets: a record that cannot be
//! read is failed alone, never a panic; a plain image is always JSON.
#![no_main]

use bindery::deliver::{DEFAULT_METADATA_LIMIT, build_request};
use bindery::input::dynamodb_streams::{StreamFormat, parse_batch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [StreamFormat::DynamoDb, StreamFormat::Plain] {
        let Ok(records) = parse_batch(data, format) else { return };
        for record in &records {
            if let Ok(event) = record.event() {
                if format == StreamFormat::Plain && !event.data.is_empty() {
                    assert!(
                        serde_json::from_slice::<serde::de::IgnoredAny>(&event.data).is_ok(),
                        "plain image is not JSON"
                    );
                }
                let request = build_request(&http::Uri::from_static("/changes"), event, None, DEFAULT_METADATA_LIMIT);
                assert!(request.is_ok(), "a readable record could not become a request: {:?}", request.err());
            }
        }
    }
});
