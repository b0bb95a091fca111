//! `bindery run --dashboard`: a page on loopback that shows each binding's
//! counts, last error and last payload size, and the latest events with
//! their outcome and latency, updated live over server-sent events.
//!
//! Every event the console prints is recorded here too ([`Dashboard::record`]);
//! each change is sent to every open page as the whole state, which is
//! small (a row a binding, the last [`RECENT`] events), so the page only
//! ever renders what it is given.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use futures_util::Stream;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// How many of the latest events the page lists.
const RECENT: usize = 50;

const PAGE: &str = include_str!("dashboard.html");

/// What the page shows, kept for every page that opens.
pub(crate) struct Dashboard {
    state: Mutex<Shown>,
    /// The state as JSON, after each change.
    changes: broadcast::Sender<String>,
}

#[derive(Default, Serialize)]
struct Shown {
    bindings: BTreeMap<String, BindingRow>,
    /// Newest first.
    recent: VecDeque<EventRow>,
}

#[derive(Default, Serialize)]
struct BindingRow {
    source: String,
    delivered: u64,
    failed: u64,
    last_error: Option<String>,
    last_bytes: Option<usize>,
}

#[derive(Serialize)]
struct EventRow {
    time: String,
    binding: String,
    source: String,
    ok: bool,
    outcome: String,
    latency_ms: f64,
    bytes: Option<usize>,
}

impl Dashboard {
    pub(crate) fn new() -> Self {
        Self { state: Mutex::new(Shown::default()), changes: broadcast::channel(64).0 }
    }

    /// One event, at `time` (as the console printed it): whether it was
    /// acknowledged and its outcome in a few words, as the console shows
    /// it; `bytes` is its payload's size.
    pub(crate) fn record(
        &self,
        time: String,
        binding: &str,
        source: &str,
        (ok, what): (bool, String),
        latency: Duration,
        bytes: Option<usize>,
    ) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let row = state.bindings.entry(binding.to_owned()).or_default();
        row.source = source.to_owned();
        if ok {
            row.delivered += 1;
        } else {
            row.failed += 1;
            row.last_error = Some(what.clone());
        }
        if bytes.is_some() {
            row.last_bytes = bytes;
        }
        state.recent.push_front(EventRow {
            time,
            binding: binding.to_owned(),
            source: source.to_owned(),
            ok,
            outcome: what,
            latency_ms: (latency.as_secs_f64() * 10_000.0).round() / 10.0,
            bytes,
        });
        state.recent.truncate(RECENT);
        // With no page open there is no one to send the state to: it is
        // not made for every event, only for the pages that will read it.
        if self.changes.receiver_count() > 0 {
            let json = serde_json::to_string(&*state).unwrap_or_default();
            drop(state);
            let _ = self.changes.send(json);
        }
    }

    fn snapshot(&self) -> String {
        serde_json::to_string(&*self.state.lock().unwrap_or_else(PoisonError::into_inner)).unwrap_or_default()
    }

    /// Serves the page (`/`) and its stream (`/events`) on `listener` until `stop`.
    pub(crate) async fn serve(&'static self, listener: TcpListener, stop: CancellationToken) -> std::io::Result<()> {
        let router = Router::new().route("/", get(page)).route("/events", get(events)).with_state(self);
        axum::serve(listener, router).with_graceful_shutdown(async move { stop.cancelled().await }).await
    }
}

async fn page() -> impl IntoResponse {
    Html(PAGE)
}

/// The state now, then after every change. A page that falls behind by more
/// than the channel holds gets the next change, which is the whole state.
async fn events(State(dashboard): State<&'static Dashboard>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribed first: a change made while the state is read is sent too.
    let changes = dashboard.changes.subscribe();
    let first = dashboard.snapshot();
    let stream = futures_util::stream::unfold((Some(first), changes), |(first, mut changes)| async move {
        if let Some(first) = first {
            return Some((Ok(Event::default().data(first)), (None, changes)));
        }
        loop {
            match changes.recv().await {
                Ok(json) => return Some((Ok(Event::default().data(json)), (None, changes))),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "12:00:01.234";

    #[test]
    fn each_binding_counts_its_events_and_keeps_its_last_error_and_size() {
        let dashboard = Dashboard::new();
        let ms = Duration::from_millis;
        dashboard.record(T.into(), "orders", "sqs", (true, "acked".into()), ms(3), Some(120));
        dashboard.record(T.into(), "orders", "sqs", (false, "500".into()), ms(7), Some(80));
        dashboard.record(T.into(), "hook", "webhook", (true, "202".into()), ms(1), Some(64));
        let shown: serde_json::Value = serde_json::from_str(&dashboard.snapshot()).unwrap();
        let orders = &shown["bindings"]["orders"];
        assert_eq!((orders["delivered"].as_u64(), orders["failed"].as_u64()), (Some(1), Some(1)));
        assert_eq!(orders["last_error"], "500");
        assert_eq!(orders["last_bytes"], 80);
        assert_eq!(shown["bindings"]["hook"]["last_error"], serde_json::Value::Null);
        let recent = shown["recent"].as_array().unwrap();
        assert_eq!(recent.len(), 3);
        assert_eq!((&recent[0]["binding"], &recent[0]["outcome"]), (&"hook".into(), &"202".into()), "newest first");
        assert_eq!(recent[1]["ok"], false);
        assert_eq!(recent[1]["latency_ms"], 7.0);
    }

    #[test]
    fn only_the_latest_events_are_kept() {
        let dashboard = Dashboard::new();
        for _ in 0..RECENT + 10 {
            dashboard.record(T.into(), "tick", "cron", (true, "acked".into()), Duration::ZERO, None);
        }
        let shown: serde_json::Value = serde_json::from_str(&dashboard.snapshot()).unwrap();
        assert_eq!(shown["recent"].as_array().unwrap().len(), RECENT);
        assert_eq!(shown["bindings"]["tick"]["delivered"], (RECENT + 10) as u64);
    }
}
