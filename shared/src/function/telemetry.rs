//! Structured JSON logs. Each line carries the fields of the span it is in,
//! so events logged during an invocation carry the Lambda `requestId` that
//! `lambda_runtime`'s span records.
//!
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging
//! controls) or `RUST_LOG`, default `info`. Message bodies and secrets are
//! never logged at `info`.
//!
//! While a function answers events ([`hold_until_answered`]), the info and
//! debug lines of an invocation are held in memory and written once its
//! answer is posted ([`write_held`]): a write to stdout is a system call, and
//! it need not delay the caller's answer. A warning or an error is written at
//! once, after what was held, so the order of lines is kept.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use tracing::{Level, Metadata};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
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
        .with_writer(Stdout);
    let _ = tracing_subscriber::registry().with(filter).with(json).try_init();
}

/// Whether info and debug lines are held for [`write_held`].
static HOLDING: AtomicBool = AtomicBool::new(false);
/// The lines held since the last [`write_held`].
static HELD: Held = Held(Mutex::new(Vec::new()));

/// From now on, info and debug lines wait for [`write_held`].
pub(crate) fn hold_until_answered() {
    HOLDING.store(true, Ordering::Relaxed);
}

/// Writes the lines held so far.
pub(crate) fn write_held() {
    HELD.write_to(&mut std::io::stdout().lock());
}

/// Log lines waiting to be written.
struct Held(Mutex<Vec<u8>>);

impl Held {
    fn hold(&self, line: &[u8]) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(line);
    }

    fn write_to(&self, out: &mut impl Write) {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !held.is_empty() {
            // Nowhere to report a failed log write: the lines are dropped.
            let _ = out.write_all(&held);
            held.clear();
        }
    }
}

/// Stdout, holding lines below warning while [`HOLDING`].
struct Stdout;

impl<'a> MakeWriter<'a> for Stdout {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line { now: true }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line {
        Line { now: !HOLDING.load(Ordering::Relaxed) || *meta.level() <= Level::WARN }
    }
}

/// One line (the formatter writes each line whole, then drops its writer).
struct Line {
    now: bool,
}

impl Write for Line {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        HELD.hold(line);
        // Stdout is locked only when something is written.
        if self.now {
            write_held();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_lines_go_out_before_a_warning_and_on_write() {
        let held = Held(Mutex::new(Vec::new()));
        let mut out = Vec::new();
        held.hold(b"info 1\n");
        held.hold(b"info 2\n");
        assert!(out.is_empty(), "held until the answer is posted");
        // A warning: held last, then everything written.
        held.hold(b"warn\n");
        held.write_to(&mut out);
        assert_eq!(out, b"info 1\ninfo 2\nwarn\n", "in the order they were logged");
        held.hold(b"info 3\n");
        held.write_to(&mut out);
        assert_eq!(out, b"info 1\ninfo 2\nwarn\ninfo 3\n");
    }
}
