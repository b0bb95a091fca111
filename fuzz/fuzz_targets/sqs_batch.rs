//! bindery-sqs's batch parser, then each record's event: a record that
//! cannot be read is failed alone, never a panic.
#![no_main]

use bindery::input::sqs::parse_batch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(records) = parse_batch(data) else { return };
    for record in &records {
        if let Ok(event) = record.event() {
            // The receipt handle is never passed to the app.
            assert!(event.metadata.iter().all(|(key, _)| !key.eq_ignore_ascii_case("receiptHandle")));
        }
    }
});
