//! Webhook bindings served locally at `http://127.0.0.1:<port>/<binding>`,
//! with the same verification and relay as `bindery-webhook`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bindery::deliver::webhook::WebhookRelay;
use http::StatusCode;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::console::{Console, Outcome};

/// How long the app may take to answer a webhook.
const RELAY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct Webhooks {
    relays: Arc<HashMap<String, WebhookRelay>>,
    console: Console,
}

/// Serves `relays` on `listener` until `stop`.
pub(crate) async fn serve(
    listener: TcpListener,
    relays: Vec<WebhookRelay>,
    console: Console,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let relays = relays.into_iter().map(|r| (r.binding().to_owned(), r)).collect();
    let state = Webhooks { relays: Arc::new(relays), console };
    let router = Router::new().route("/{binding}", any(relay)).with_state(state);
    axum::serve(listener, router).with_graceful_shutdown(async move { stop.cancelled().await }).await
}

async fn relay(State(webhooks): State<Webhooks>, Path(binding): Path<String>, request: Request) -> Response {
    let Some(relay) = webhooks.relays.get(&binding) else {
        return (StatusCode::NOT_FOUND, format!("no webhook binding named {binding:?}\n")).into_response();
    };
    let started = StdInstant::now();
    let (parts, body) = request.into_parts();
    // Read one byte past any sane limit; the relay answers 413 by its own.
    let body = match axum::body::to_bytes(body, 64 << 20).await {
        Ok(body) => body,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response(),
    };
    let response = relay.relay(&parts, body, None, tokio::time::Instant::now() + RELAY_TIMEOUT).await;
    let status = response.status().as_u16();
    let outcome = if response.status().is_success() {
        Outcome::Answered(status)
    } else {
        // bindery's own refusals say why in `{"error": ...}`; so may the app's.
        let reason = serde_json::from_slice::<serde_json::Value>(response.body())
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned));
        Outcome::Rejected(status, reason)
    };
    webhooks.console.event(&binding, "webhook", &outcome, started.elapsed());
    response.map(Body::from)
}
