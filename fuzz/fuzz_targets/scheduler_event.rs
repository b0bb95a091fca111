//! bindery-cron's event parser: Scheduler input (any JSON) and legacy
//! scheduled-rule events.
#![no_main]

use bindery::input::schedule::schedule_event;
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let now: DateTime<Utc> = DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default();
    if let Ok(event) = schedule_event(&payload, "cron-binding", "UTC", now) {
        assert!(event.data.is_empty(), "a schedule's event has no body");
    }
});
