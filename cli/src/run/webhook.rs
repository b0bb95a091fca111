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
use bindery::api::LocalOnly;
use bindery::deliver::webhook::WebhookRelay;
use bindery::input::webhook::WebhookRequest;
use http::StatusCode;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::console::{Console, Outcome};

/// How long the app may take to answer a webhook.
const RELAY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct Webhooks {
    relays: Arc<HashMap<String, WebhookRelay>>,
    /// The Host rule: loopback, or the hosts of `--webhook-allowed-hosts`.
    local_only: Arc<LocalOnly>,
    console: Console,
}

/// Serves `relays` on `listener` until `stop`.
pub(crate) async fn serve(
    listener: TcpListener,
    relays: Vec<WebhookRelay>,
    local_only: LocalOnly,
    console: Console,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let relays = relays.into_iter().map(|r| (r.binding().to_owned(), r)).collect();
    let state = Webhooks { relays: Arc::new(relays), local_only: Arc::new(local_only), console };
    let router = Router::new().route("/{binding}", any(relay)).with_state(state);
    axum::serve(listener, router).with_graceful_shutdown(async move { stop.cancelled().await }).await
}

async fn relay(State(webhooks): State<Webhooks>, Path(binding): Path<String>, request: Request) -> Response {
    let Some(relay) = webhooks.relays.get(&binding) else {
        return (StatusCode::NOT_FOUND, format!("no webhook binding named {binding:?}\n")).into_response();
    };
    let started = StdInstant::now();
    let refuse = |status: StatusCode, reason: String| {
        webhooks.console.event(
            &binding,
            "webhook",
            &Outcome::Rejected(status.as_u16(), Some(reason.clone())),
            started.elapsed(),
            None,
        );
        (status, axum::Json(serde_json::json!({ "error": reason }))).into_response()
    };
    if let Err(refused) = webhooks.local_only.check(request.uri(), request.headers()) {
        return refuse(StatusCode::FORBIDDEN, refused.0);
    }
    // Nothing is buffered past `maxBodySize`, and nothing at all when the
    // declared length is over it: the signature is checked on the whole
    // body, so memory would otherwise go to unverified senders.
    let limit = relay.max_body_size();
    let (parts, body) = request.into_parts();
    let declared = parts.headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|size| size > limit) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "request body too large".into());
    }
    let body = match axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX)).await {
        Ok(body) => body,
        Err(_) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, "request body too large".into()),
    };
    let request = WebhookRequest::from_parts(&parts);
    let bytes = body.len();
    let response = relay.relay(&request, body, None, tokio::time::Instant::now() + RELAY_TIMEOUT).await;
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
    webhooks.console.event(&binding, "webhook", &outcome, started.elapsed(), Some(bytes));
    response.map(Body::from)
}
