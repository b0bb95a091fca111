//! A lean HTTP app on loopback for throughput figures: it reads every
//! request's headers and whole body, counts them, and answers 204, keeping
//! nothing. [`RecordingApp`](crate::RecordingApp) keeps every request, and
//! over a benchmark of hundreds of thousands of them that bookkeeping (a
//! clone of each header map, a growing list) would be most of what is timed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use http_body_util::BodyExt;

use crate::server::Server;

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    body_bytes: AtomicU64,
    header_bytes: AtomicU64,
}

/// The app; stops serving when dropped.
pub struct SinkApp {
    counts: Arc<Counts>,
    server: Server,
}

impl SinkApp {
    /// Starts the app on 127.0.0.1 with an ephemeral port.
    pub async fn start() -> SinkApp {
        let counts = Arc::new(Counts::default());
        let router = Router::new().fallback(handle).layer(DefaultBodyLimit::disable()).with_state(counts.clone());
        let app = SinkApp { counts, server: Server::start(router).await };
        crate::loopback_only(&app.url());
        app
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.counts.requests.load(Ordering::Relaxed)
    }

    /// Body bytes read so far, over all requests.
    pub fn body_bytes(&self) -> u64 {
        self.counts.body_bytes.load(Ordering::Relaxed)
    }

    /// Bytes of header names and values read so far, over all requests.
    pub fn header_bytes(&self) -> u64 {
        self.counts.header_bytes.load(Ordering::Relaxed)
    }
}

async fn handle(State(counts): State<Arc<Counts>>, request: Request) -> (StatusCode, Body) {
    let (parts, body) = request.into_parts();
    let header_bytes: usize = parts.headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    let Ok(body) = body.collect().await else { return (StatusCode::BAD_REQUEST, Body::empty()) };
    counts.requests.fetch_add(1, Ordering::Relaxed);
    counts.body_bytes.fetch_add(body.to_bytes().len() as u64, Ordering::Relaxed);
    counts.header_bytes.fetch_add(header_bytes as u64, Ordering::Relaxed);
    (StatusCode::NO_CONTENT, Body::empty())
}
