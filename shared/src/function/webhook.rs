//! `bindery-webhook`: an API Gateway (v1, v2) or Function URL request is
//! verified, then becomes the webhook binding's `POST /<binding>`; the app's
//! answer goes back to the caller unchanged.

use std::time::{Instant as StdInstant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use http_body_util::BodyExt;
use lambda_http::{Body, Request, RequestExt, Response, service_fn};
use tracing::{info, warn};

use super::{FunctionSetup, StartupError, colocated, setup, startup, telemetry};
use crate::component::kinds::HTTP_TYPE;
use crate::deliver::{App, AppBody, DeliveryErrorKind};
use crate::input::webhook::{WebhookAuth, webhook_event};

const FUNCTION: &str = "bindery-webhook";
/// Lambda's limit on a buffered response.
const MAX_RESPONSE: usize = 6 * 1024 * 1024;

/// The webhook function, configured.
#[derive(Debug)]
pub struct WebhookFunction {
    setup: FunctionSetup,
    auth: WebhookAuth,
}

impl WebhookFunction {
    /// Reads the environment; `app` replaces `BINDERY_APP_URL`.
    pub fn from_env(app: Option<App>) -> Result<Self, StartupError> {
        let env = |name: &str| std::env::var(name).ok();
        let setup = setup(FUNCTION, HTTP_TYPE, &env, app)?;
        let auth = WebhookAuth::from_metadata(&setup.component.metadata).map_err(|errors| {
            StartupError(errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))
        })?;
        Ok(Self { setup, auth })
    }

    /// Handles one request; never an invocation error, always an HTTP answer.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, lambda_runtime::Diagnostic> {
        let started = StdInstant::now();
        let binding = &self.setup.component.name;
        let context = request.lambda_context_ref().cloned().unwrap_or_default();
        let (parts, body) = request.into_parts();
        let body = match body {
            Body::Text(text) => Bytes::from(text),
            Body::Binary(bytes) => Bytes::from(bytes),
            _ => Bytes::new(),
        };
        if body.len() as u64 > self.auth.max_body_size() {
            warn!(binding = %binding, size = body.len(), "webhook rejected: body too large");
            return Ok(json_error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"));
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        if let Err(rejection) = self.auth.verify(&parts.headers, &body, now) {
            warn!(binding = %binding, scheme = self.auth.scheme(), reason = %rejection, "webhook rejected");
            return Ok(json_error(StatusCode::UNAUTHORIZED, &rejection.to_string()));
        }
        let event = webhook_event(&parts, body, &self.auth.credential_headers(), context.xray_trace_id.as_deref());
        let deadline = super::deadline(&context, self.setup.margin);
        let response = match self.setup.deliverer.send(event, deadline).await {
            Ok(response) => response,
            Err(e) => {
                warn!(binding = %binding, error = %e, "webhook delivery failed");
                let status = match e.kind {
                    DeliveryErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
                    _ => StatusCode::BAD_GATEWAY,
                };
                return Ok(json_error(status, "the app could not be reached"));
            }
        };
        let (mut head, body) = response.into_parts();
        let body = match tokio::time::timeout_at(deadline, read_body(body)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => {
                warn!(binding = %binding, error = %e, "the app's response could not be read");
                return Ok(json_error(StatusCode::BAD_GATEWAY, "the app's response could not be read"));
            }
            Err(_) => {
                return Ok(json_error(StatusCode::GATEWAY_TIMEOUT, "the app did not finish its response in time"));
            }
        };
        strip_hop_by_hop(&mut head.headers);
        info!(binding = %binding, status = head.status.as_u16(), latency_ms = started.elapsed().as_millis() as u64, "delivered");
        let body = match String::from_utf8(body.to_vec()) {
            Ok(text) if !text.is_empty() => Body::Text(text),
            Ok(_) => Body::Empty,
            Err(e) => Body::Binary(e.into_bytes()),
        };
        Ok(Response::from_parts(head, body))
    }
}

/// The app's whole response body, up to Lambda's response limit.
///
/// A plain frame loop: `http_body_util::Limited` here trips a rustc
/// higher-ranked lifetime bug (rust-lang/rust#102211) under `lambda_http::run`'s
/// `Send` bound.
async fn read_body(mut body: AppBody) -> Result<Bytes, String> {
    let mut buffer = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Some(data) = frame.data_ref() {
            if buffer.len() + data.len() > MAX_RESPONSE {
                return Err(format!("larger than Lambda's {MAX_RESPONSE}-byte response limit"));
            }
            buffer.extend_from_slice(data);
        }
    }
    Ok(buffer.freeze())
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"] {
        headers.remove(name);
    }
}

fn json_error(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = Response::new(Body::Text(serde_json::json!({ "error": message }).to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    response
}

/// `main` of `bindery-webhook`.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    run_with(None).await
}

/// Runs the function with the given app instead of `BINDERY_APP_URL`.
pub async fn run_with(app: Option<App>) -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let mut function = match WebhookFunction::from_env(app) {
        Ok(f) => f,
        Err(e) => return Err(startup::fail(FUNCTION, e).await),
    };
    let app = colocated::start(FUNCTION, &mut function.setup).await?;
    // lambda_http needs a handler future that borrows nothing.
    let function = std::sync::Arc::new(function);
    let runtime = lambda_http::run(service_fn(move |request| {
        let function = function.clone();
        async move { function.handle(request).await }
    }));
    colocated::serve(FUNCTION, app, runtime).await
}
