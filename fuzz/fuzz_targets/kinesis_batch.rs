//! bindery-kinesis's batch parser, then each record's event and the request
//! the app gets: a record that cannot be read is failed alone, never a
//! panic; one that can is always deliverable, with its sequence number.
#![no_main]

use bindery::deliver::{DEFAULT_METADATA_LIMIT, build_request};
use bindery::input::kinesis::parse_batch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(records) = parse_batch(data) else { return };
    for record in &records {
        assert!(!record.sequence_number.is_empty());
        if let Ok(event) = record.event() {
            assert_eq!(event.metadata("sequenceNumber"), Some(&*record.sequence_number));
            let request = build_request(&http::Uri::from_static("/clicks"), event, None, DEFAULT_METADATA_LIMIT);
            assert!(request.is_ok(), "a readable record could not become a request: {:?}", request.err());
        }
    }
});
