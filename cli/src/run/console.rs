//! What `bindery run` shows: one line per event (time, binding, source,
//! outcome, latency), in colour when stdout is a terminal, and its own
//! status lines.

use std::io::IsTerminal;
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use bindery::deliver::{DeliveryError, DeliveryErrorKind};

use super::dashboard::Dashboard;

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
    /// A duplicate of an event delivered and acknowledged before
    /// (idempotency): acknowledged without calling the app.
    Duplicate,
}

impl Outcome {
    /// A delivery's result as the console shows it (`Ok(true)`: a duplicate).
    pub(crate) fn of_delivery(result: &Result<bool, DeliveryError>) -> Self {
        match result {
            Ok(false) => Outcome::Acked,
            Ok(true) => Outcome::Duplicate,
            Err(e) => match e.kind {
                DeliveryErrorKind::AppRejected(status) => Outcome::Rejected(status.as_u16(), None),
                _ => Outcome::Failed(e.message.clone()),
            },
        }
    }

    /// Whether it is an acknowledgement, and what it was, in a few words.
    pub(crate) fn describe(&self) -> (bool, String) {
        match self {
            Outcome::Acked => (true, "acked".to_owned()),
            Outcome::Answered(status) => (true, status.to_string()),
            Outcome::Rejected(status, None) => (false, status.to_string()),
            Outcome::Rejected(status, Some(reason)) => (false, format!("{status} {reason}")),
            Outcome::Failed(reason) | Outcome::NotDelivered(reason) => (false, reason.clone()),
            Outcome::Duplicate => (true, "duplicate, acked without delivery".to_owned()),
        }
    }
}

/// Prints event and status lines, and gives the events to the dashboard
/// when there is one. Cheap to copy.
#[derive(Clone, Copy)]
pub(crate) struct Console {
    color: bool,
    dashboard: Option<&'static Dashboard>,
}

const GREEN: Style = AnsiColor::Green.on_default();
const RED: Style = AnsiColor::Red.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

impl Console {
    /// Colour only on a terminal, and never with `NO_COLOR` set.
    pub(crate) fn new(dashboard: Option<&'static Dashboard>) -> Self {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Self { color, dashboard }
    }

    /// `12:00:01.234  cron-binding          cron     ✓ acked  3.1 ms`; `bytes`
    /// is the payload's size, for the dashboard.
    pub(crate) fn event(
        &self,
        binding: &str,
        source: &str,
        outcome: &Outcome,
        latency: Duration,
        bytes: Option<usize>,
    ) {
        let time = chrono::Local::now().format("%H:%M:%S%.3f").to_string();
        println!("{}", self.event_line(&time, binding, source, outcome, latency));
        if let Some(dashboard) = self.dashboard {
            dashboard.record(time, binding, source, outcome.describe(), latency, bytes);
        }
    }

    fn event_line(&self, time: &str, binding: &str, source: &str, outcome: &Outcome, latency: Duration) -> String {
        let (_, what) = outcome.describe();
        let (style, mark) = match outcome {
            Outcome::Acked | Outcome::Answered(_) => (GREEN, "✓"),
            Outcome::Rejected(..) | Outcome::Failed(_) => (RED, "✗"),
            Outcome::NotDelivered(_) => (YELLOW, "-"),
            Outcome::Duplicate => (GREEN, "="),
        };
        let latency = format!("{:.1} ms", latency.as_secs_f64() * 1000.0);
        format!(
            "{}  {}  {:<8} {} {:<6} {}",
            self.paint(DIM, time),
            self.paint(BOLD, &format!("{binding:<20}")),
            source,
            self.paint(style, mark),
            self.paint(style, &what),
            self.paint(DIM, &latency),
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Console = Console { color: false, dashboard: None };

    #[test]
    fn an_event_line_names_the_binding_the_outcome_and_the_latency_without_colour() {
        let ms = Duration::from_micros;
        let refused = Outcome::Rejected(401, Some("bad signature".into()));
        let stopped = Outcome::NotDelivered("group stopped".into());
        let lines = [
            PLAIN.event_line("12:00:01.234", "cron-binding", "cron", &Outcome::Acked, ms(3_140)),
            PLAIN.event_line("12:00:02.000", "github-webhook", "webhook", &Outcome::Answered(202), ms(12_000)),
            PLAIN.event_line("12:00:03.000", "task-events", "sqs", &Outcome::Rejected(400, None), ms(900)),
            PLAIN.event_line("12:00:04.000", "github-webhook", "webhook", &refused, ms(50)),
            PLAIN.event_line("12:00:05.000", "task-events", "sqs", &stopped, ms(0)),
        ];
        assert_eq!(
            lines,
            [
                "12:00:01.234  cron-binding          cron     ✓ acked  3.1 ms",
                "12:00:02.000  github-webhook        webhook  ✓ 202    12.0 ms",
                "12:00:03.000  task-events           sqs      ✗ 400    0.9 ms",
                "12:00:04.000  github-webhook        webhook  ✗ 401 bad signature 0.1 ms",
                "12:00:05.000  task-events           sqs      - group stopped 0.0 ms",
            ]
        );
    }

    #[test]
    fn on_a_terminal_the_same_line_is_painted() {
        let painted = Console { color: true, dashboard: None }.event_line(
            "12:00:01.234",
            "cron-binding",
            "cron",
            &Outcome::Acked,
            Duration::ZERO,
        );
        assert!(painted.contains('\u{1b}'), "{painted:?}");
        assert!(painted.contains("acked") && painted.contains("cron-binding"), "{painted:?}");
    }
}
