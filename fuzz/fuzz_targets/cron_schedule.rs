//! Dapr's cron grammar, the next fire, and the conversion to EventBridge
//! Scheduler, on any text.
#![no_main]

use bindery::schedule::{Schedule, to_scheduler};
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(schedule) = text.parse::<Schedule>() else { return };
    let now: DateTime<Utc> = DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default();
    if let Some(next) = schedule.next_after(now) {
        assert!(next > now);
    }
    let _ = to_scheduler(&schedule, now);
});
