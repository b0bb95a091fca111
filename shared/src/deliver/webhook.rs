//! A webhook request, verified, becomes `POST /<binding>` on the app, and the
//! app's answer goes back to the caller unchanged. Shared by `bindery-webhook`
//! (behind API Gateway) and `bindery run` (a local server).

use std::time::{Instant as StdInstant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::BodyExt;
use tokio::time::Instant;
use tracing::{info, warn};

use super::{AppBody, Deliverer, DeliveryErrorKind};
use crate::input::webhook::{WebhookAuth, WebhookRequest, webhook_event};

/// Verifies and forwards the requests of one webhook binding.
#[derive(Debug)]
pub struct WebhookRelay {
    binding: String,
    auth: WebhookAuth,
    deliverer: Deliverer,
    /// The largest app response relayed (Lambda's limit in the function).
    max_response: usize,
}

impl WebhookRelay {
    pub fn new(binding: impl Into<String>, auth: WebhookAuth, deliverer: Deliverer, max_response: usize) -> Self {
        Self { binding: binding.into(), auth, deliverer, max_response }
    }

    pub fn binding(&self) -> &str {
        &self.binding
    }

    /// The largest request body accepted (`maxBodySize`): a server reads no
    /// more than this, plus one byte to know it is over.
    pub fn max_body_size(&self) -> u64 {
        self.auth.max_body_size()
    }

    /// Answers one request: 413 over the body limit, 401 without valid
    /// proof, 502/504 when the app cannot answer, else the app's response
    /// (less hop-by-hop headers). `lambda_trace` is the invocation's X-Ray
    /// id, used when the caller sent no `traceparent`.
    pub async fn relay(
        &self,
        request: &WebhookRequest,
        body: Bytes,
        lambda_trace: Option<&str>,
        deadline: Instant,
    ) -> Response<Bytes> {
        let started = StdInstant::now();
        let binding = &self.binding;
        if body.len() as u64 > self.auth.max_body_size() {
            warn!(binding = %binding, size = body.len(), "webhook rejected: body too large");
            return json_error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        if let Err(rejection) = self.auth.verify(&request.headers, &body, now) {
            warn!(binding = %binding, scheme = self.auth.scheme(), reason = %rejection, "webhook rejected");
            return json_error(StatusCode::UNAUTHORIZED, &rejection.to_string());
        }
        let event = webhook_event(request, body, &self.auth.credential_headers(), lambda_trace);
        let response = match self.deliverer.send(event, deadline).await {
            Ok(response) => response,
            Err(e) => {
                warn!(binding = %binding, error = %e, "webhook delivery failed");
                let status = match e.kind {
                    DeliveryErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
                    _ => StatusCode::BAD_GATEWAY,
                };
                return json_error(status, "the app could not be reached");
            }
        };
        let (mut head, body) = response.into_parts();
        let body = match tokio::time::timeout_at(deadline, read_body(body, self.max_response)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => {
                warn!(binding = %binding, error = %e, "the app's response could not be read");
                return json_error(StatusCode::BAD_GATEWAY, "the app's response could not be read");
            }
            Err(_) => return json_error(StatusCode::GATEWAY_TIMEOUT, "the app did not finish its response in time"),
        };
        strip_hop_by_hop(&mut head.headers);
        info!(binding = %binding, status = head.status.as_u16(), latency_ms = started.elapsed().as_millis() as u64, "delivered");
        Response::from_parts(head, body)
    }
}

/// The app's whole response body, up to `limit` bytes.
///
/// A plain frame loop: `http_body_util::Limited` here trips a rustc
/// higher-ranked lifetime bug (rust-lang/rust#102211) under `lambda_http::run`'s
/// `Send` bound.
async fn read_body(mut body: AppBody, limit: usize) -> Result<Bytes, String> {
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Some(data) = frame.data_ref() {
            if buffer.len() + data.len() > limit {
                return Err(format!("larger than the {limit}-byte response limit"));
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

/// A JSON `{"error": message}` answer with `status`.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(serde_json::json!({ "error": message }).to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    response
}
