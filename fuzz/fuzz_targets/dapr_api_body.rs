//! The Dapr HTTP API's request body: `{"data", "metadata", "operation"}`,
//! with `data` re-encoded as Go's json.Marshal does.
#![no_main]

use bindery::fuzzing::dapr_invoke_body;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = dapr_invoke_body(data) {
        // What is re-encoded is JSON again.
        assert!(serde_json::from_slice::<serde_json::Value>(&request.data).is_ok());
    }
});
