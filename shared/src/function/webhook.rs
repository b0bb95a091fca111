//! `bindery-webhook`: an API Gateway (v1, v2) or Function URL request is
//! verified, then becomes the webhook binding's `POST /<binding>`; the app's
//! answer goes back to the caller unchanged.

use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};

use super::deadline::DeadlineRule;
use super::lifecycle::{self, InputFunction};
use super::setup::FunctionSetup;
use super::startup::StartupError;
use super::stopping::Stopping;
use super::unreadable_event;
use crate::component::{BindingKind, EnvLookup};
use crate::deliver::App;
use crate::deliver::webhook::{WebhookRelay, json_error};
use crate::input::apigw::{ApiGatewayResponse, read_request};
use crate::input::webhook::WebhookAuth;
use crate::telemetry;

/// Lambda's limit on a buffered response.
const MAX_RESPONSE: usize = 6 * 1024 * 1024;

/// The webhook function, configured.
#[derive(Debug)]
pub struct WebhookFunction {
    relay: WebhookRelay,
    deadline: DeadlineRule,
    stopping: Stopping,
}

/// The answer to a request cut off because the function is stopping: the
/// sender may retry it (GitHub, Stripe and most senders retry a 5xx).
fn stopping_response() -> http::Response<Bytes> {
    json_error(http::StatusCode::SERVICE_UNAVAILABLE, "the function is stopping; retry the delivery")
}

impl InputFunction for WebhookFunction {
    const NAME: &'static str = "bindery-webhook";
    const KIND: BindingKind = BindingKind::Http;
    /// The binding's verification.
    type Config = WebhookAuth;
    type Answer = ApiGatewayResponse;

    fn config(setup: &FunctionSetup, _: EnvLookup<'_>) -> Result<WebhookAuth, StartupError> {
        WebhookAuth::from_metadata(&setup.component.metadata).map_err(|e| StartupError::from_fields(&e))
    }

    fn new(setup: FunctionSetup, auth: WebhookAuth) -> Self {
        let relay = WebhookRelay::new(setup.component.name, auth, setup.deliverer, MAX_RESPONSE)
            .with_idempotency(setup.idempotency);
        Self { relay, deadline: setup.deadline, stopping: setup.stopping }
    }

    /// Handles one event, as Lambda sent it: always an HTTP answer, but for
    /// an event that is no API Gateway or Function URL request
    /// (`Bindery.InvalidEvent`).
    async fn handle(&self, event: &Bytes, context: &Context) -> Result<ApiGatewayResponse, Diagnostic> {
        let request = read_request(event).map_err(|e| unreadable_event("Bindery.InvalidEvent", e.message))?;
        let deadline = self.deadline.until(context.deadline);
        let trace = telemetry::invocation_traceparent(context.xray_trace_id.as_deref());
        let relayed = self.relay.relay(&request.head, request.body, trace.as_deref(), deadline);
        // The relay answers 504 itself at the deadline.
        let response = tokio::select! {
            biased;
            response = relayed => response,
            () = self.stopping.grace_over() => stopping_response(),
        };
        Ok(request.gateway.response(response))
    }
}

/// `main` of `bindery-webhook`.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    run_with(None).await
}

/// Runs the function with the given app instead of `BINDERY_APP_URL`.
pub async fn run_with(app: Option<App>) -> Result<(), lambda_runtime::Error> {
    lifecycle::run::<WebhookFunction>(app, None).await
}
