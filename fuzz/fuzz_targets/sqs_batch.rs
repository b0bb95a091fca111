//! bindery-sqs's batch parser, then each record's event and the request the
//! app gets: a record that cannot be read is failed alone, never a panic;
//! one that can is always deliverable, whatever its metadata holds.
#![no_main]

use bindery::deliver::{DEFAULT_METADATA_LIMIT, build_request};
use bindery::input::sqs::parse_batch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(records) = parse_batch(data) else { return };
    for record in &records {
        if let Ok(event) = record.event() {
            // The receipt handle is never passed to the app.
            assert!(event.metadata.iter().all(|(key, _)| !key.eq_ignore_ascii_case("receiptHandle")));
            // No attribute (control characters, odd names) makes it undeliverable.
            let request = build_request(&http::Uri::from_static("/orders"), event, None, DEFAULT_METADATA_LIMIT);
            assert!(request.is_ok(), "a readable record could not become a request: {:?}", request.err());
        }
    }
});
