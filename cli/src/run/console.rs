//! What `bindery run` shows: one line per event (time, binding, source,
//! outcome, latency), in colour when stdout is a terminal, and its own
//! status lines.

use std::io::IsTerminal;
use std::time::Duration;

use anstyle::{AnsiColor, Style};

/// How one event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The app acknowledged it (any 2xx).
    Acked,
    /// The app answered a webhook with this 2xx status.
    Answered(u16),
    /// The app answered non-2xx, or bindery refused the request (webhook
    /// 401/413), with the reason when the answer gave one.
    Rejected(u16, Option<String>),
    /// No answer: the reason.
    Failed(String),
    /// Not delivered: the reason (a FIFO group stopped, the deadline passed).
    NotDelivered(String),
}

/// Prints event and status lines. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Console {
    color: bool,
}

const GREEN: Style = AnsiColor::Green.on_default();
const RED: Style = AnsiColor::Red.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

impl Console {
    pub(crate) fn new() -> Self {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Self { color }
    }

    /// `12:00:01.234  cron-binding  cron     ✓ 200   3.1 ms`
    pub(crate) fn event(&self, binding: &str, source: &str, outcome: &Outcome, latency: Duration) {
        let (style, mark, what) = match outcome {
            Outcome::Acked => (GREEN, "✓", "acked".to_owned()),
            Outcome::Answered(status) => (GREEN, "✓", status.to_string()),
            Outcome::Rejected(status, None) => (RED, "✗", status.to_string()),
            Outcome::Rejected(status, Some(reason)) => (RED, "✗", format!("{status} {reason}")),
            Outcome::Failed(reason) => (RED, "✗", reason.clone()),
            Outcome::NotDelivered(reason) => (YELLOW, "-", reason.clone()),
        };
        let time = chrono::Local::now().format("%H:%M:%S%.3f");
        let latency = format!("{:.1} ms", latency.as_secs_f64() * 1000.0);
        println!(
            "{}  {}  {:<8} {} {:<6} {}",
            self.paint(DIM, &time.to_string()),
            self.paint(BOLD, &format!("{binding:<20}")),
            source,
            self.paint(style, mark),
            self.paint(style, &what),
            self.paint(DIM, &latency),
        );
    }

    /// A line about bindery itself.
    pub(crate) fn status(&self, line: &str) {
        println!("{} {line}", self.paint(DIM, "[bindery]"));
    }

    /// A line about something that needs the user's attention.
    pub(crate) fn warn(&self, line: &str) {
        println!("{} {}", self.paint(YELLOW, "[bindery]"), self.paint(YELLOW, line));
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.color { format!("{style}{text}{style:#}") } else { text.to_owned() }
    }
}
