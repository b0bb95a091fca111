//! A Lambda Runtime API emulator on loopback, enough to drive a real `lambda_runtime`
//! function binary: `/next` long-polls until [`RuntimeApi::invoke`] queues an event,
//! and `/response`, `/error` and `/init/error` record what the function reports.
//! An external extension in the function's process may register (Lambda Web
//! Adapter does, then runs the runtime loop itself); it is sent no events.
//! See <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};

use crate::server::Server;

/// The ARN every invocation is said to target.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:test";

/// How one invocation is delivered and waited for.
#[derive(Clone, Debug)]
pub struct InvokeOptions {
    /// Time the function gets, counted from when `/next` hands it the event (as Lambda
    /// counts it from the start of the invoke); sent as `Lambda-Runtime-Deadline-Ms`.
    pub deadline: Duration,
    /// Sent as `Lambda-Runtime-Trace-Id` when set.
    pub trace_id: Option<String>,
    /// How long [`RuntimeApi::invoke`] waits for `/response` or `/error` before panicking.
    pub wait: Duration,
}

impl Default for InvokeOptions {
    fn default() -> Self {
        InvokeOptions { deadline: Duration::from_secs(10), trace_id: None, wait: Duration::from_secs(30) }
    }
}

/// What the function reported for one invocation.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The `/response` body, parsed as JSON; a body that is not JSON is kept as `Value::String`.
    Response(serde_json::Value),
    /// The `/error` report.
    Error(InvocationError),
}

impl Outcome {
    /// The response body; panics (showing the error) if the function reported an error.
    pub fn response(self) -> serde_json::Value {
        match self {
            Outcome::Response(value) => value,
            Outcome::Error(error) => panic!("expected a response, the function reported an error: {error:?}"),
        }
    }

    /// The error report; panics (showing the response) if the function responded.
    pub fn error(self) -> InvocationError {
        match self {
            Outcome::Error(error) => error,
            Outcome::Response(value) => panic!("expected an error, the function responded: {value}"),
        }
    }
}

/// An [`Outcome`] and how long the function took for it: from `/next` handing
/// out the event to the whole `/response` or `/error` body having arrived.
#[derive(Debug, Clone)]
pub struct TimedOutcome {
    /// What the function reported.
    pub outcome: Outcome,
    /// Zero if the function answered without having taken the event from `/next`.
    pub took: Duration,
}

/// An invocation that got neither `/response` nor `/error` in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unanswered {
    /// Its request id.
    pub id: String,
    /// Whether the function took it from `/next`.
    pub taken: bool,
}

/// An `/error` or `/init/error` report.
#[derive(Debug, Clone)]
pub struct InvocationError {
    /// The `Lambda-Runtime-Function-Error-Type` header (`lambda_runtime` always sends
    /// `unhandled` for handler errors; the specific type is in the body's `errorType`).
    pub error_type: String,
    /// The body, usually `{"errorType": ..., "errorMessage": ...}`.
    pub body: serde_json::Value,
}

impl InvocationError {
    /// The body's `errorType`, if any.
    pub fn body_error_type(&self) -> Option<&str> {
        self.body.get("errorType").and_then(|v| v.as_str())
    }

    /// The body's `errorMessage`, if any.
    pub fn error_message(&self) -> Option<&str> {
        self.body.get("errorMessage").and_then(|v| v.as_str())
    }
}

struct Invocation {
    id: String,
    body: Bytes,
    deadline: Duration,
    trace_id: Option<String>,
}

#[derive(Default)]
struct Records {
    waiters: HashMap<String, oneshot::Sender<TimedOutcome>>,
    /// When `/next` handed out each invocation.
    delivered: HashMap<String, Instant>,
    init_errors: Vec<InvocationError>,
    violations: Vec<String>,
}

struct Shared {
    sender: mpsc::UnboundedSender<Invocation>,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    first_poll: watch::Sender<Option<Instant>>,
    /// How many times the function has called `/next`.
    polls: watch::Sender<u64>,
    /// Whether the function has called `/restore/next` (SnapStart).
    restore_polled: watch::Sender<bool>,
    /// Closed until [`RuntimeApi::restore`]: `/restore/next` waits on it.
    restored: watch::Sender<bool>,
    records: Mutex<Records>,
    next_id: AtomicU64,
}

impl Shared {
    fn records(&self) -> MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The emulator; stops serving when dropped.
pub struct RuntimeApi {
    shared: Arc<Shared>,
    server: Server,
}

impl RuntimeApi {
    /// Starts the emulator on 127.0.0.1 with an ephemeral port.
    pub async fn start() -> RuntimeApi {
        let (sender, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            sender,
            queue: tokio::sync::Mutex::new(receiver),
            first_poll: watch::Sender::new(None),
            polls: watch::Sender::new(0),
            restore_polled: watch::Sender::new(false),
            restored: watch::Sender::new(false),
            records: Mutex::new(Records::default()),
            next_id: AtomicU64::new(1),
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .route("/2018-06-01/runtime/restore/next", get(restore_next))
            .route("/2020-01-01/extension/register", post(register_extension))
            .route("/2020-01-01/extension/event/next", get(extension_next))
            .fallback(unknown)
            .layer(DefaultBodyLimit::disable())
            .with_state(shared.clone());
        let api = RuntimeApi { shared, server: Server::start(router).await };
        crate::loopback_only(&format!("http://{}", api.address()));
        api
    }

    /// `127.0.0.1:PORT`, the value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.server.addr().to_string()
    }

    /// Queues one invocation and waits for the function's `/response` or `/error`.
    /// Panics if neither arrives within `opts.wait`.
    pub async fn invoke(&self, event: impl Into<Bytes>, opts: InvokeOptions) -> Outcome {
        self.invoke_timed(event, opts).await.outcome
    }

    /// [`RuntimeApi::invoke`], with the time the function took as the emulator saw it.
    pub async fn invoke_timed(&self, event: impl Into<Bytes>, opts: InvokeOptions) -> TimedOutcome {
        let wait = opts.wait;
        match self.try_invoke_timed(event, opts).await {
            Ok(outcome) => outcome,
            Err(Unanswered { id, taken }) => {
                let state = if taken {
                    "the function took it from /next but posted neither /response nor /error \
                     (did it crash? release builds abort on panic)"
                } else {
                    "the function never took it from /next"
                };
                panic!("invocation {id}: no outcome within {wait:?}: {state}");
            }
        }
    }

    /// [`RuntimeApi::invoke`] for a test that expects no answer: `Err` when
    /// neither `/response` nor `/error` arrives within `opts.wait`.
    pub async fn try_invoke(&self, event: impl Into<Bytes>, opts: InvokeOptions) -> Result<Outcome, Unanswered> {
        self.try_invoke_timed(event, opts).await.map(|timed| timed.outcome)
    }

    async fn try_invoke_timed(&self, event: impl Into<Bytes>, opts: InvokeOptions) -> Result<TimedOutcome, Unanswered> {
        let n = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let id = format!("00000000-0000-4000-8000-{n:012x}");
        let (tx, rx) = oneshot::channel();
        self.shared.records().waiters.insert(id.clone(), tx);
        let invocation =
            Invocation { id: id.clone(), body: event.into(), deadline: opts.deadline, trace_id: opts.trace_id };
        self.shared.sender.send(invocation).expect("the emulator owns its own queue");
        // Forget the waiter however this ends (outcome, timeout, or the caller dropping us).
        let _forget = Forget { shared: &self.shared, id: &id };
        match tokio::time::timeout(opts.wait, rx).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) => unreachable!("the sender lives in the emulator state until it is used"),
            Err(_) => {
                let taken = self.shared.records().delivered.contains_key(&id);
                Err(Unanswered { id: id.clone(), taken })
            }
        }
    }

    /// When the function first called `/next`, waiting up to `timeout` for it.
    pub async fn wait_for_next_poll(&self, timeout: Duration) -> Option<Instant> {
        let mut rx = self.shared.first_poll.subscribe();
        match tokio::time::timeout(timeout, rx.wait_for(Option::is_some)).await {
            Ok(Ok(at)) => *at,
            _ => None,
        }
    }

    /// Waits up to `timeout` until the function has called `/next` `count`
    /// times in all: after its n-th invocation, the (n + 1)-th call means it
    /// is done with it and idle. True if it had.
    pub async fn wait_for_polls(&self, count: u64, timeout: Duration) -> bool {
        let mut rx = self.shared.polls.subscribe();
        matches!(tokio::time::timeout(timeout, rx.wait_for(|polls| *polls >= count)).await, Ok(Ok(_)))
    }

    /// Waits up to `timeout` for the function to call `/restore/next`, which a
    /// SnapStart function does at the end of its init (the snapshot is taken
    /// then); true if it did.
    pub async fn wait_for_restore_poll(&self, timeout: Duration) -> bool {
        let mut rx = self.shared.restore_polled.subscribe();
        matches!(tokio::time::timeout(timeout, rx.wait_for(|polled| *polled)).await, Ok(Ok(_)))
    }

    /// Answers `/restore/next`: the execution environment is "restored".
    pub fn restore(&self) {
        self.shared.restored.send_replace(true);
    }

    /// Every `/init/error` report so far.
    pub fn init_errors(&self) -> Vec<InvocationError> {
        self.shared.records().init_errors.clone()
    }

    /// Protocol misuse seen so far (unknown routes, outcomes for unknown or already
    /// answered request ids); each was answered with 400 or 404.
    pub fn violations(&self) -> Vec<String> {
        self.shared.records().violations.clone()
    }
}

/// Removes an invocation's waiter when [`RuntimeApi::invoke`] ends.
struct Forget<'a> {
    shared: &'a Shared,
    id: &'a str,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.shared.records().waiters.remove(self.id);
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.first_poll.send_if_modified(|first| {
        let unset = first.is_none();
        first.get_or_insert_with(Instant::now);
        unset
    });
    shared.polls.send_modify(|polls| *polls += 1);
    // Both awaits are cancel-safe: if the function goes away mid-poll, hyper drops this
    // future and a queued invocation stays queued. Past `recv` nothing awaits, so an
    // event taken from the queue is always handed to hyper for writing.
    // Invocations whose invoker already gave up are skipped.
    let invocation = {
        let mut queue = shared.queue.lock().await;
        loop {
            let invocation = queue.recv().await.expect("the emulator owns its own queue");
            let mut records = shared.records();
            if records.waiters.contains_key(&invocation.id) {
                records.delivered.insert(invocation.id.clone(), Instant::now());
                break invocation;
            }
        }
    };
    let deadline = SystemTime::now() + invocation.deadline;
    let deadline_ms = deadline.duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis();
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header("Lambda-Runtime-Aws-Request-Id", &invocation.id)
        .header("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string())
        .header("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN)
        .header("Content-Type", "application/json");
    if let Some(trace_id) = &invocation.trace_id {
        response = response.header("Lambda-Runtime-Trace-Id", trace_id);
    }
    response.body(axum::body::Body::from(invocation.body)).expect("valid response headers")
}

async fn restore_next(State(shared): State<Arc<Shared>>) -> Response {
    shared.restore_polled.send_replace(true);
    let _ = shared.restored.subscribe().wait_for(|restored| *restored).await;
    StatusCode::OK.into_response()
}

async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    // The body extractor has read the whole body by now; parsing it is the emulator's time.
    let arrived = Instant::now();
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into_owned()));
    complete(&shared, &id, Outcome::Response(value), arrived)
}

async fn error(State(shared): State<Arc<Shared>>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let arrived = Instant::now();
    complete(&shared, &id, Outcome::Error(error_report(&headers, &body)), arrived)
}

/// Lambda serves the Extensions API at the same address; an extension is
/// registered and then waits on `event/next` for good (no `SHUTDOWN` here).
async fn register_extension() -> Response {
    (StatusCode::OK, [("Lambda-Extension-Identifier", "00000000-0000-4000-8000-0000000e0001")], "{}").into_response()
}

async fn extension_next() {
    std::future::pending().await
}

async fn init_error(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    shared.records().init_errors.push(error_report(&headers, &body));
    accepted()
}

async fn unknown(State(shared): State<Arc<Shared>>, method: axum::http::Method, uri: axum::http::Uri) -> Response {
    shared.records().violations.push(format!("unknown route: {method} {uri}"));
    (StatusCode::NOT_FOUND, "unknown Runtime API route").into_response()
}

fn complete(shared: &Shared, id: &str, outcome: Outcome, arrived: Instant) -> Response {
    let mut records = shared.records();
    match records.waiters.remove(id) {
        Some(waiter) => {
            let took = records.delivered.get(id).map_or(Duration::ZERO, |handed_out| arrived - *handed_out);
            // The invoker may have given up (timed out); that is its own panic.
            let _ = waiter.send(TimedOutcome { outcome, took });
            accepted()
        }
        None => {
            records.violations.push(format!("outcome for unknown or already answered request id {id}: {outcome:?}"));
            let body = r#"{"errorType":"InvalidRequestID","errorMessage":"unknown or already answered request id"}"#;
            (StatusCode::BAD_REQUEST, body).into_response()
        }
    }
}

fn error_report(headers: &HeaderMap, body: &[u8]) -> InvocationError {
    let error_type = headers
        .get("Lambda-Runtime-Function-Error-Type")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let body = serde_json::from_slice(body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(body).into_owned()));
    InvocationError { error_type, body }
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, [("Content-Type", "application/json")], r#"{"status":"OK"}"#).into_response()
}
