//! A Lambda Extensions API emulator on loopback, enough to drive a real
//! external extension: `register` records the name and events, `event/next`
//! long-polls until [`ExtensionsApi::shutdown`], and `init/error` /
//! `exit/error` record what the extension reports.
//! See <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html>.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use tokio::sync::watch;

use crate::server::Server;

const PREFIX: &str = "/2020-01-01/extension";
const EXTENSION_ID: &str = "6f7f0000-0000-4000-8000-00000000ext1";

/// What an extension told the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionCall {
    /// `register`: the `Lambda-Extension-Name` header and the events asked for.
    Register { name: String, events: Vec<String> },
    /// `event/next`.
    Next,
    /// `init/error` or `exit/error` (`kind`), with the error-type header and body.
    Error { kind: String, error_type: String, body: String },
}

struct Shared {
    calls: Mutex<Vec<ExtensionCall>>,
    shutdown: watch::Sender<bool>,
}

/// The running emulator.
pub struct ExtensionsApi {
    shared: Arc<Shared>,
    server: Server,
}

impl ExtensionsApi {
    pub async fn start() -> ExtensionsApi {
        let shared = Arc::new(Shared { calls: Mutex::new(Vec::new()), shutdown: watch::channel(false).0 });
        let router = Router::new()
            .route(&format!("{PREFIX}/register"), post(register))
            .route(&format!("{PREFIX}/event/next"), get(next))
            .route(&format!("{PREFIX}/{{kind}}/error"), post(error))
            .with_state(shared.clone());
        ExtensionsApi { shared, server: Server::start(router).await }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.server.addr().to_string()
    }

    pub fn calls(&self) -> Vec<ExtensionCall> {
        self.shared.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until the extension has polled `event/next` (its init is done).
    pub async fn wait_for_next(&self, timeout: Duration) -> bool {
        self.wait_for(timeout, |call| *call == ExtensionCall::Next).await
    }

    /// Waits until the extension has reported an error.
    pub async fn wait_for_error(&self, timeout: Duration) -> Option<ExtensionCall> {
        let found = |call: &ExtensionCall| matches!(call, ExtensionCall::Error { .. });
        if self.wait_for(timeout, found).await { self.calls().into_iter().find(found) } else { None }
    }

    async fn wait_for(&self, timeout: Duration, found: impl Fn(&ExtensionCall) -> bool) -> bool {
        let give_up = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < give_up {
            if self.calls().iter().any(&found) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    /// Answers every pending and future `event/next` with a SHUTDOWN event.
    pub fn shutdown(&self) {
        let _ = self.shared.shutdown.send(true);
    }
}

async fn register(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let name = headers.get("lambda-extension-name").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let events = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["events"].as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect();
    shared.calls.lock().unwrap_or_else(|p| p.into_inner()).push(ExtensionCall::Register { name, events });
    let body = serde_json::json!({"functionName": "test", "functionVersion": "$LATEST", "handler": "app.handler"});
    ([("lambda-extension-identifier", EXTENSION_ID)], axum::Json(body)).into_response()
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.calls.lock().unwrap_or_else(|p| p.into_inner()).push(ExtensionCall::Next);
    let mut shutdown = shared.shutdown.subscribe();
    let _ = shutdown.wait_for(|down| *down).await;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    axum::Json(serde_json::json!({"eventType": "SHUTDOWN", "shutdownReason": "spindown", "deadlineMs": now + 2000}))
        .into_response()
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let error_type = headers
        .get("lambda-extension-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = String::from_utf8_lossy(&body).into_owned();
    shared.calls.lock().unwrap_or_else(|p| p.into_inner()).push(ExtensionCall::Error { kind, error_type, body });
    (StatusCode::ACCEPTED, axum::Json(serde_json::json!({"status": "OK"}))).into_response()
}
