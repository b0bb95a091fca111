//! daprd's HTTP API for output bindings, health and metadata.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::error::{ERR_FORBIDDEN, ERR_INVOKE_OUTPUT_BINDING, ERR_MALFORMED_REQUEST, ErrorBody, response_body};
use super::{OutputApi, go_json, invoke_error_message};
use crate::output::{InvokeRequest, MetadataMap};

/// The request header carrying the API token.
pub(crate) const API_TOKEN_HEADER: &str = "dapr-api-token";
/// Trace context passed on to the binding as request metadata, as daprd does.
pub(crate) const TRACE_KEYS: &[&str] = &["traceparent", "tracestate", "baggage"];

/// daprd's `OutputBindingRequest`. Unknown fields are ignored, as by Go.
#[derive(Debug, Deserialize)]
struct OutputBindingRequest {
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    data: serde_json::Value,
    #[serde(default)]
    operation: String,
}

impl OutputApi {
    /// The HTTP API as an axum router.
    pub fn http_router(&self) -> Router {
        // Health checks stay open to any host, as probes of a sidecar come
        // from outside its network namespace; they reveal and do nothing.
        let guarded = Router::new()
            .route("/v1.0/bindings/{name}", post(invoke_binding).put(invoke_binding))
            .route("/v1.0/metadata", get(metadata))
            .route_layer(middleware::from_fn_with_state(self.clone(), require_token))
            .route_layer(middleware::from_fn_with_state(self.clone(), local_only));
        Router::new()
            .route("/v1.0/healthz", get(healthy))
            .route("/v1.0/healthz/outbound", get(healthy))
            .merge(guarded)
            .layer(DefaultBodyLimit::max(self.inner.settings.max_body_size))
            .layer(middleware::from_fn_with_state(self.clone(), declared_size))
            .with_state(self.clone())
    }
}

async fn invoke_binding(
    State(api): State<OutputApi>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut invoke = match invoke_request(&body) {
        Ok(invoke) => invoke,
        Err(message) => return malformed(&message),
    };
    for key in TRACE_KEYS {
        if let Some(value) = headers.get(*key).and_then(|v| v.to_str().ok()) {
            invoke.metadata.entry((*key).to_owned()).or_insert_with(|| value.to_owned());
        }
    }
    match api.invoke(&name, invoke).await {
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Ok(Some(response)) => {
            let mut answer =
                (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], response.data).into_response();
            add_metadata_headers(answer.headers_mut(), &response.metadata);
            answer
        }
        Err(error) => {
            let message = invoke_error_message(&name, &error);
            let body = ErrorBody {
                error_code: ERR_INVOKE_OUTPUT_BINDING,
                message: &message,
                response_body: response_body(&error),
            };
            let mut answer = (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response();
            if let Some(response) = &error.response {
                add_metadata_headers(answer.headers_mut(), &response.metadata);
            }
            answer
        }
    }
}

/// daprd's request body as the binding's request: `data` re-encoded as Go's
/// `json.Marshal` does. `Err` is the 400's message.
pub(crate) fn invoke_request(body: &[u8]) -> Result<InvokeRequest, String> {
    let request: OutputBindingRequest =
        serde_json::from_slice(body).map_err(|e| format!("failed deserializing HTTP body: {e}"))?;
    let data = go_json::marshal(&request.data);
    Ok(InvokeRequest {
        operation: request.operation,
        data: data.into(),
        metadata: request.metadata.unwrap_or_default(),
    })
}

/// `metadata.<key>` for each response-metadata entry; keys or values that
/// cannot be HTTP headers are left out rather than failing the answer.
fn add_metadata_headers(headers: &mut HeaderMap, metadata: &MetadataMap) {
    for (key, value) in metadata {
        let name = HeaderName::from_bytes(format!("metadata.{key}").as_bytes());
        if let (Ok(name), Ok(value)) = (name, HeaderValue::from_bytes(value.as_bytes())) {
            headers.append(name, value);
        }
    }
}

fn malformed(message: &str) -> Response {
    let body = ErrorBody { error_code: ERR_MALFORMED_REQUEST, message, response_body: None };
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

async fn healthy() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// daprd's metadata answer, with the parts that concern bindings.
async fn metadata(State(api): State<OutputApi>) -> Response {
    let components: Vec<_> = api
        .inner
        .components
        .iter()
        .map(|c| json!({"name": c.name, "type": c.type_, "version": c.version, "capabilities": []}))
        .collect();
    axum::Json(json!({
        "id": api.inner.settings.app_id,
        "runtimeVersion": concat!("bindery-", env!("CARGO_PKG_VERSION")),
        "enabledFeatures": [],
        "components": components,
    }))
    .into_response()
}

/// A request whose `Content-Length` is over the limit is answered 413 at
/// once, before any of its body is read; a body without one is cut off by
/// `DefaultBodyLimit` after at most the limit.
async fn declared_size(State(api): State<OutputApi>, request: Request, next: Next) -> Response {
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|size| size > api.inner.settings.max_body_size as u64) {
        // The same answer axum gives a body that outgrows the limit.
        return (StatusCode::PAYLOAD_TOO_LARGE, "Failed to buffer the request body").into_response();
    }
    next.run(request).await
}

/// The Host and browser rules ([`super::LocalOnly`]): 403 with daprd's error
/// shape, saying how to allow the request.
async fn local_only(State(api): State<OutputApi>, request: Request, next: Next) -> Response {
    if let Err(refused) = api.inner.settings.local_only.check(request.uri(), request.headers()) {
        let body = ErrorBody { error_code: ERR_FORBIDDEN, message: &refused.0, response_body: None };
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    }
    next.run(request).await
}

/// daprd's token rule: with `DAPR_API_TOKEN` set, a missing or wrong
/// `dapr-api-token` is answered 401 `invalid api token`, compared in
/// constant time whatever its length ([`SecretToken`](crate::token::SecretToken)).
async fn require_token(State(api): State<OutputApi>, request: Request, next: Next) -> Response {
    if let Some(expected) = &api.inner.api_token {
        let given = request.headers().get(API_TOKEN_HEADER).map(HeaderValue::as_bytes).unwrap_or_default();
        if !expected.matches(given) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "invalid api token\n",
            )
                .into_response();
        }
    }
    next.run(request).await
}
