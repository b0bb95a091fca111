//! `bindery-webhook`: an API Gateway (v1, v2) or Function URL request is
//! verified, then becomes the webhook binding's `POST /<binding>`; the app's
//! answer goes back to the caller unchanged.

use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};

use super::setup::{FunctionSetup, setup};
use super::startup::{self, StartupError};
use super::stopping::Stopping;
use super::{lifecycle, telemetry};
use crate::component::kinds::HTTP_TYPE;
use crate::deliver::App;
use crate::deliver::webhook::{WebhookRelay, json_error};
use crate::input::apigw::{ApiGatewayResponse, read_request};
use crate::input::webhook::WebhookAuth;

const FUNCTION: &str = "bindery-webhook";
/// Lambda's limit on a buffered response.
const MAX_RESPONSE: usize = 6 * 1024 * 1024;

/// The webhook function, configured.
#[derive(Debug)]
pub struct WebhookFunction {
    relay: WebhookRelay,
    deadline: super::deadline::DeadlineRule,
    stopping: Stopping,
}

/// The answer to a request cut off because the function is stopping: the
/// sender may retry it (GitHub, Stripe and most senders retry a 5xx).
fn stopping_response() -> http::Response<Bytes> {
    json_error(http::StatusCode::SERVICE_UNAVAILABLE, "the function is stopping; retry the delivery")
}

impl WebhookFunction {
    /// Reads the environment; `app` replaces `BINDERY_APP_URL`.
    pub fn from_env(app: Option<App>) -> Result<Self, StartupError> {
        let (setup, auth) = configure(app)?;
        Ok(Self::new(setup, auth))
    }

    fn new(setup: FunctionSetup, auth: WebhookAuth) -> Self {
        let relay = WebhookRelay::new(setup.component.name, auth, setup.deliverer, MAX_RESPONSE);
        Self { relay, deadline: setup.deadline, stopping: setup.stopping }
    }

    /// Handles one event, as Lambda sent it: always an HTTP answer, but for
    /// an event that is no API Gateway or Function URL request
    /// (`Bindery.InvalidEvent`).
    pub async fn handle(&self, event: &Bytes, context: &Context) -> Result<ApiGatewayResponse, Diagnostic> {
        let request = read_request(event)
            .map_err(|e| Diagnostic { error_type: "Bindery.InvalidEvent".into(), error_message: e.message })?;
        let deadline = self.deadline.until(context.deadline);
        let relayed = self.relay.relay(&request.head, request.body, context.xray_trace_id.as_deref(), deadline);
        let response = tokio::select! {
            biased;
            response = relayed => response,
            () = self.stopping.cutoff(deadline) => stopping_response(),
        };
        Ok(request.gateway.response(response))
    }
}

/// The function's setup and its binding's verification, from the environment.
fn configure(app: Option<App>) -> Result<(FunctionSetup, WebhookAuth), StartupError> {
    let env = |name: &str| std::env::var(name).ok();
    let setup = setup(FUNCTION, HTTP_TYPE, &env, app)?;
    let auth = WebhookAuth::from_metadata(&setup.component.metadata).map_err(|errors| {
        StartupError(errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))
    })?;
    Ok((setup, auth))
}

/// `main` of `bindery-webhook`.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    run_with(None).await
}

/// Runs the function with the given app instead of `BINDERY_APP_URL`.
pub async fn run_with(app: Option<App>) -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let (mut setup, auth) = match configure(app) {
        Ok(configured) => configured,
        Err(e) => return Err(startup::fail(FUNCTION, e).await),
    };
    // The co-located app (BINDERY_APP_CMD) starts before the relay takes the delivery.
    let colocated = setup.start_app(FUNCTION).await?;
    let (app, stopping) = (setup.deliverer.app().clone(), setup.stopping.clone());
    let function = WebhookFunction::new(setup, auth);
    let handler = |event: Bytes, context: Context| {
        let function = &function;
        async move { function.handle(&event, &context).await }
    };
    lifecycle::run_event_loop(FUNCTION, handler, &app, &stopping, colocated).await
}
