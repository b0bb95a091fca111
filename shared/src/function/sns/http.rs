//! SNS over HTTP: an HTTPS subscription to an API Gateway route or a
//! Function URL. The request's body is the message itself, and anyone can
//! send one, so its signature is always checked, whatever
//! `verifySignature` says. Then:
//!
//! - a `Notification` is delivered as `POST /<binding>`, as a record of a
//!   direct invocation is; the answer is 200 once the app acknowledged it,
//!   else 502, which SNS retries (it retries nothing below 500);
//! - a `SubscriptionConfirmation` is confirmed by fetching its
//!   `SubscribeURL` (SNS's own `ConfirmSubscription` on an SNS host, nothing
//!   else); the app is not called;
//! - an `UnsubscribeConfirmation` is logged and answered, and not acted on.
//!
//! A message that is not SNS's, of another topic, or whose signature does
//! not hold is refused with 400 or 403, which SNS does not retry.

use bytes::Bytes;
use http::{Response, StatusCode};
use lambda_runtime::Context;
use tracing::{error, info, warn};

use super::SnsFunction;
use crate::function::notification::Refusal;
use crate::input::apigw::{ApiGatewayRequest, ApiGatewayResponse};
use crate::input::sns::SnsNotification;
use crate::telemetry;
use crate::telemetry::metrics::{self, Failure};

impl SnsFunction {
    /// Answers one HTTP delivery.
    pub(super) async fn handle_http(&self, request: ApiGatewayRequest, context: &Context) -> ApiGatewayResponse {
        let (status, text) = self.answer(&request, context).await;
        let response = Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Bytes::from(text))
            .unwrap_or_default();
        request.gateway.response(response)
    }

    async fn answer(&self, request: &ApiGatewayRequest, context: &Context) -> (StatusCode, String) {
        let binding = &self.setup.component.name;
        if request.head.method != http::Method::POST {
            return (StatusCode::METHOD_NOT_ALLOWED, "SNS delivers with POST".into());
        }
        let refuse = |status: StatusCode, (failure, why): Refusal| {
            metrics::delivery(Err(failure), None);
            warn!(binding = %binding, error = %why, "SNS message over HTTP refused");
            (status, why)
        };
        let message = match SnsNotification::from_http_body(&request.body) {
            Ok(message) => message,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, (Failure::InvalidEvent, e.message)),
        };
        let deadline = self.setup.deadline.until(context.deadline);
        if let Err(refusal) = self.check(&message, true, deadline).await {
            return refuse(StatusCode::FORBIDDEN, refusal);
        }
        match message.type_.as_ref() {
            "SubscriptionConfirmation" => {
                let url = message.subscribe_url.as_deref().unwrap_or_default();
                match self.certificates.confirm(url, deadline).await {
                    Ok(()) => {
                        info!(binding = %binding, topic = %message.topic_arn, "SNS subscription confirmed");
                        (StatusCode::OK, "subscription confirmed".into())
                    }
                    Err(e) => {
                        warn!(binding = %binding, error = %e, "SNS subscription not confirmed");
                        (StatusCode::BAD_GATEWAY, e.message)
                    }
                }
            }
            "UnsubscribeConfirmation" => {
                warn!(binding = %binding, topic = %message.topic_arn, "SNS says this endpoint was unsubscribed");
                (StatusCode::OK, "unsubscription noted".into())
            }
            _ => {
                let mut event = message.event();
                event.traceparent = telemetry::invocation_traceparent(context.xray_trace_id.as_deref());
                let delivery = self.setup.deliver_record_by(event, deadline);
                match self.setup.stopping.bound(deadline, delivery).await {
                    Ok(_duplicate) => (StatusCode::OK, String::new()),
                    Err(e) => {
                        error!(binding = %binding, error = %e.message, "SNS notification not acknowledged: SNS will retry");
                        (StatusCode::BAD_GATEWAY, "not acknowledged by the app".into())
                    }
                }
            }
        }
    }
}
