//! bindery-s3-events's parser, then each record's event and the request the
//! app gets: a record that cannot be read is failed alone, never a panic;
//! one that can always names its bucket and key, and is deliverable.
#![no_main]

use bindery::deliver::{DEFAULT_METADATA_LIMIT, build_request};
use bindery::input::s3_events::{parse_event, record_event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(records) = parse_event(data) else { return };
    for record in records {
        if let Ok(event) = record_event(record) {
            assert!(event.metadata("bucket").is_some() && event.metadata("key").is_some());
            // The data is the record exactly as it came.
            assert_eq!(event.data.as_ref(), record.get().as_bytes());
            let request = build_request(&http::Uri::from_static("/uploads"), event, None, DEFAULT_METADATA_LIMIT);
            assert!(request.is_ok(), "a readable record could not become a request: {:?}", request.err());
        }
    }
});
