//! A recording HTTP app on loopback: the "user's app" that bindery functions deliver to.
//! Accepts any method and path, records every request before replying, and replies
//! as a per-request rule decides (status, headers, body, delay).

use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use http_body_util::BodyExt;
use tokio::sync::watch;

use crate::server::Server;

/// One request as the app received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    /// When the whole request (body included) had arrived.
    pub at: Instant,
}

impl Recorded {
    /// A header's value as text, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON; panics with the body text if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// How the app answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// That status, empty body.
    Status(u16),
    /// That status, headers and body.
    StatusBody(u16, Vec<(String, String)>, Bytes),
    /// Sleep, then reply.
    Delay(Duration, Box<Reply>),
}

type Rule = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

struct Shared {
    requests: Mutex<Vec<Recorded>>,
    count: watch::Sender<usize>,
    rule: RwLock<Rule>,
}

impl Shared {
    fn requests(&self) -> MutexGuard<'_, Vec<Recorded>> {
        self.requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The app; stops serving when dropped.
pub struct RecordingApp {
    shared: Arc<Shared>,
    server: Server,
}

impl RecordingApp {
    /// Starts the app on 127.0.0.1 with an ephemeral port; it replies 200 with an empty body.
    pub async fn start() -> RecordingApp {
        let shared = Arc::new(Shared {
            requests: Mutex::new(Vec::new()),
            count: watch::Sender::new(0),
            rule: RwLock::new(Arc::new(|_: &Recorded| Reply::Status(200))),
        });
        let router = Router::new().fallback(handle).layer(DefaultBodyLimit::disable()).with_state(shared.clone());
        let app = RecordingApp { shared, server: Server::start(router).await };
        crate::loopback_only(&app.url());
        app
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Replaces the reply rule; it is called for each request after it is recorded.
    pub fn set_reply(&self, f: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) {
        *self.shared.rule.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(f);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests().clone()
    }

    /// Waits until at least `n` requests were recorded or `timeout` passes, then
    /// returns all recorded so far (fewer than `n` on timeout — assert on the length).
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let mut rx = self.shared.count.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|count| *count >= n)).await;
        self.requests()
    }

    /// Closes the listener and all open connections: connecting afterwards is refused.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return status_response(400, Vec::new(), Bytes::from(format!("unreadable body: {e}"))),
    };
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        at: Instant::now(),
    };
    shared.requests().push(recorded.clone());
    shared.count.send_modify(|count| *count += 1);
    let rule = shared.rule.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
    let mut reply = rule(&recorded);
    loop {
        match reply {
            Reply::Status(status) => return status_response(status, Vec::new(), Bytes::new()),
            Reply::StatusBody(status, headers, body) => return status_response(status, headers, body),
            Reply::Delay(delay, then) => {
                tokio::time::sleep(delay).await;
                reply = *then;
            }
        }
    }
}

fn status_response(status: u16, headers: Vec<(String, String)>, body: Bytes) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or_else(|_| panic!("invalid reply status {status}"));
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(name, value);
    }
    response.body(Body::from(body)).expect("valid reply headers")
}

/// A loopback port with nothing listening on it (bound, read, released) — for
/// "app down" tests.
pub fn unused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr of a bound listener").port()
}
