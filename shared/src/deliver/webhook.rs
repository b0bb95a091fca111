//! A webhook request, verified, becomes `POST /<binding>` on the app, and the
//! app's answer goes back to the caller unchanged. Shared by `bindery-webhook`
//! (behind API Gateway) and `bindery run` (a local server).
//!
//! With idempotency on, a request whose id (`X-GitHub-Delivery`, a Stripe
//! event's id, or the component's `idempotencyHeader`) the app already
//! answered 2xx gets that answer again (its status, content type and body,
//! up to 256 KiB), without reaching the app; one whose first delivery is still under way
//! gets 409, and a store that fails, 503: senders retry both.

use std::time::{Instant as StdInstant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::BodyExt;
use tokio::time::Instant;
use tracing::{error, info, warn};

use super::{AppBody, Deliverer, DeliveryErrorKind};
use crate::component::BindingKind;
use crate::idempotency::{Idempotency, NotOnce, Once, StoredAnswer};
use crate::input::BindingEvent;
use crate::input::webhook::{WebhookAuth, WebhookRequest, webhook_event};
use crate::telemetry::metrics::{self, Failure};

/// Verifies and forwards the requests of one webhook binding.
#[derive(Debug)]
pub struct WebhookRelay {
    binding: String,
    auth: WebhookAuth,
    deliverer: Deliverer,
    /// The largest app response relayed (Lambda's limit in the function).
    max_response: usize,
    idempotency: Option<Idempotency>,
}

impl WebhookRelay {
    pub fn new(binding: impl Into<String>, auth: WebhookAuth, deliverer: Deliverer, max_response: usize) -> Self {
        Self { binding: binding.into(), auth, deliverer, max_response, idempotency: None }
    }

    /// Answers each request id once ([module docs](self)).
    pub fn with_idempotency(mut self, idempotency: Option<Idempotency>) -> Self {
        self.idempotency = idempotency;
        self
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
    /// (less hop-by-hop headers). `invocation_trace` is the invocation's
    /// `traceparent`, used when the caller sent none.
    pub async fn relay(
        &self,
        request: &WebhookRequest,
        body: Bytes,
        invocation_trace: Option<&str>,
        deadline: Instant,
    ) -> Response<Bytes> {
        let started = StdInstant::now();
        let binding = &self.binding;
        if body.len() as u64 > self.auth.max_body_size() {
            metrics::delivery(Err(Failure::InvalidEvent), None);
            warn!(binding = %binding, size = body.len(), "webhook rejected: body too large");
            return json_error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        if let Err(rejection) = self.auth.verify(&request.headers, &body, now) {
            metrics::delivery(Err(Failure::Verification), None);
            warn!(binding = %binding, scheme = self.auth.scheme(), reason = %rejection, "webhook rejected");
            return json_error(StatusCode::UNAUTHORIZED, &rejection.to_string());
        }
        let event = webhook_event(request, body, &self.auth.credential_headers(), invocation_trace);
        let once = self.idempotency.as_ref();
        let Some((once, id)) = once.and_then(|once| Some((once, once.id_of(BindingKind::Http, &event)?.into_owned())))
        else {
            return self.forward(event, deadline, started).await;
        };
        let key = crate::idempotency::key(binding, &id);
        let forward = || async {
            let response = self.forward(event, deadline, started).await;
            if response.status().is_success() { Ok(response) } else { Err(response) }
        };
        match once.deliver_once(&key, deadline, forward, stored_answer).await {
            Ok(Once::Delivered(response)) | Err(NotOnce::Failed(response)) => response,
            Ok(Once::Duplicate(stored)) => {
                metrics::duplicate();
                info!(binding = %binding, id = %id, status = stored.status, "a duplicate webhook: the stored answer, without delivery");
                replayed(stored)
            }
            Err(NotOnce::InProgress(_)) => {
                metrics::delivery(Err(Failure::Idempotency), None);
                json_error(StatusCode::CONFLICT, "a delivery of this event is in progress; retry it later")
            }
            Err(NotOnce::Store { key, error }) => {
                metrics::delivery(Err(Failure::Idempotency), None);
                error!(binding = %binding, key = %key, error = %error, "webhook not delivered: the idempotency store failed");
                json_error(StatusCode::SERVICE_UNAVAILABLE, "the idempotency store failed; retry the delivery")
            }
        }
    }

    /// Delivers a verified request's event and relays the app's answer.
    async fn forward(&self, event: BindingEvent, deadline: Instant, started: StdInstant) -> Response<Bytes> {
        let binding = &self.binding;
        let response = match self.deliverer.send(event, deadline).await {
            Ok(response) => response,
            Err(e) => {
                metrics::delivery(Err(e.failure()), None);
                error!(binding = %binding, error = %e, "webhook delivery failed");
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
                metrics::delivery(Err(Failure::AppUnreachable), None);
                error!(binding = %binding, error = %e, "the app's response could not be read");
                return json_error(StatusCode::BAD_GATEWAY, "the app's response could not be read");
            }
            Err(_) => {
                metrics::delivery(Err(Failure::Timeout), None);
                return json_error(StatusCode::GATEWAY_TIMEOUT, "the app did not finish its response in time");
            }
        };
        strip_hop_by_hop(&mut head.headers);
        let (status, latency) = (head.status.as_u16(), started.elapsed());
        let latency_ms = latency.as_millis() as u64;
        metrics::delivery(Failure::of_app_status(status), Some(latency));
        if head.status.is_server_error() {
            // Relayed as it is, for the sender to retry: a failure all the same.
            error!(binding = %binding, status, latency_ms, "webhook failed: the app answered a server error");
        } else {
            info!(binding = %binding, status, latency_ms, "delivered");
        }
        Response::from_parts(head, body)
    }
}

/// The largest answer body kept for duplicates: a DynamoDB item holds at
/// most 400 KB, and the body is stored base64-encoded.
const MAX_STORED_BODY: usize = 256 * 1024;

/// What a duplicate gets of the app's first answer: its status, content
/// type and body (a body over [`MAX_STORED_BODY`] is left out, rather than
/// fail the write after the app did its work).
fn stored_answer(response: &Response<Bytes>) -> StoredAnswer {
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.body();
    let body = if body.len() <= MAX_STORED_BODY { body.clone() } else { Bytes::new() };
    StoredAnswer { status: response.status().as_u16(), content_type, body }
}

/// The stored answer as a response.
fn replayed(stored: StoredAnswer) -> Response<Bytes> {
    let mut response = Response::new(stored.body);
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    if let Some(value) = stored.content_type.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert("content-type", value);
    }
    response
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

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: Bytes) -> Response<Bytes> {
        let mut response = Response::new(body);
        *response.status_mut() = StatusCode::ACCEPTED;
        response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
        response.headers_mut().insert("x-app", HeaderValue::from_static("yes"));
        response
    }

    #[test]
    fn a_duplicate_gets_the_first_answer_s_status_type_and_body() {
        let again = replayed(stored_answer(&answer(Bytes::from_static(br#"{"ok":true}"#))));
        assert_eq!(again.status(), StatusCode::ACCEPTED);
        assert_eq!(again.headers()["content-type"], "application/json");
        assert_eq!(again.headers().get("x-app"), None, "only the content type is kept");
        assert_eq!(again.body(), &Bytes::from_static(br#"{"ok":true}"#));
    }

    #[test]
    fn a_body_too_large_for_the_table_is_left_out() {
        let large = stored_answer(&answer(Bytes::from(vec![b'x'; MAX_STORED_BODY + 1])));
        assert_eq!((large.status, large.body.len()), (202, 0));
        let largest = stored_answer(&answer(Bytes::from(vec![b'x'; MAX_STORED_BODY])));
        assert_eq!(largest.body.len(), MAX_STORED_BODY);
    }
}
