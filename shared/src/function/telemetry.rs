//! Structured JSON logs. Each line carries the fields of the span it is in,
//! so events logged during an invocation carry the Lambda `requestId` that
//! `lambda_runtime`'s span records.
//!
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging
//! controls) or `RUST_LOG`, default `info`. Message bodies and secrets are
//! never logged at `info`.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the JSON subscriber; a second call does nothing.
pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .or_else(|| {
            let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok()?;
            level.parse::<LevelFilter>().ok().map(|l| Targets::new().with_default(l))
        })
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_writer(std::io::stdout);
    let _ = tracing_subscriber::registry().with(filter).with(json).try_init();
}
