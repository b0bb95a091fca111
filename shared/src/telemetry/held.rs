//! Stdout, where lines below warning, and metrics, wait while an
//! invocation is answered.
//!
//! While a function answers events ([`hold_until_answered`]), the info and
//! debug lines of an invocation are held in memory and written once its
//! answer is posted ([`write_held`]): a write to stdout is a system call, and
//! it need not delay the caller's answer. A warning or an error is written at
//! once, after what was held, so the order of lines is kept.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use tracing::Level;

use super::line::LineSink;
use super::metrics::{self, MetricsSink};

/// Whether info and debug lines are held for [`write_held`].
static HOLDING: AtomicBool = AtomicBool::new(false);
/// The lines held since the last [`write_held`].
static HELD: Held = Held(Mutex::new(Vec::new()));

/// From now on, info and debug lines wait for [`write_held`].
pub(crate) fn hold_until_answered() {
    HOLDING.store(true, Ordering::Relaxed);
}

/// Writes the metrics recorded and the lines held so far.
pub(crate) fn write_held() {
    metrics::flush();
    write_now();
}

fn write_now() {
    HELD.write_to(&mut std::io::stdout().lock());
}

/// Stdout, holding lines below warning while [`HOLDING`].
pub(super) struct Stdout;

impl LineSink for Stdout {
    fn write_line(&self, level: Level, line: &[u8]) {
        HELD.hold(line);
        // Stdout is locked only when something is written.
        if !HOLDING.load(Ordering::Relaxed) || level <= Level::WARN {
            write_now();
        }
    }
}

/// Metrics are flushed after an invocation's answer, or at once outside
/// one: never held, they go out after the lines held before them.
impl MetricsSink for Stdout {
    fn write(&self, lines: &[u8]) {
        write_now();
        // Nowhere to report a failed write.
        let _ = std::io::stdout().lock().write_all(lines);
    }

    fn waits(&self) -> bool {
        HOLDING.load(Ordering::Relaxed)
    }
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
