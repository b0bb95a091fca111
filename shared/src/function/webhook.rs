//! `bindery-webhook`: an API Gateway (v1, v2) or Function URL request is
//! verified, then becomes the webhook binding's `POST /<binding>`; the app's
//! answer goes back to the caller unchanged.

use bytes::Bytes;
use lambda_http::{Body, Request, RequestExt, Response, service_fn};
use lambda_runtime::Runtime;
use lambda_runtime::layers::TracingLayer;

use super::event_guard::EventGuard;
use super::lifecycle::{self, Stopping};
use super::{FunctionSetup, StartupError, colocated, setup, startup, telemetry};
use crate::component::kinds::HTTP_TYPE;
use crate::deliver::App;
use crate::deliver::webhook::{WebhookRelay, json_error};
use crate::input::webhook::WebhookAuth;

const FUNCTION: &str = "bindery-webhook";
/// Lambda's limit on a buffered response.
const MAX_RESPONSE: usize = 6 * 1024 * 1024;

/// The webhook function, configured.
#[derive(Debug)]
pub struct WebhookFunction {
    relay: WebhookRelay,
    deadline: super::DeadlineRule,
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

    /// Handles one request; never an invocation error, always an HTTP answer.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, lambda_runtime::Diagnostic> {
        let context = request.lambda_context_ref().cloned().unwrap_or_default();
        let (parts, body) = request.into_parts();
        let body = match body {
            Body::Text(text) => Bytes::from(text),
            Body::Binary(bytes) => Bytes::from(bytes),
            _ => Bytes::new(),
        };
        let deadline = super::deadline(&context, self.deadline);
        let relayed = self.relay.relay(&parts, body, context.xray_trace_id.as_deref(), deadline);
        let (head, body) = tokio::select! {
            biased;
            response = relayed => response,
            () = self.stopping.cutoff(deadline) => stopping_response(),
        }
        .into_parts();
        let body = match String::from_utf8(body.to_vec()) {
            Ok(text) if !text.is_empty() => Body::Text(text),
            Ok(_) => Body::Empty,
            Err(e) => Body::Binary(e.into_bytes()),
        };
        Ok(Response::from_parts(head, body))
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
    let colocated = colocated::start(FUNCTION, &mut setup).await?;
    let (app, stopping) = (setup.deliverer.app().clone(), setup.stopping.clone());
    // lambda_http needs a handler future that borrows nothing.
    let function = std::sync::Arc::new(WebhookFunction::new(setup, auth));
    let handler = service_fn(move |request| {
        let function = function.clone();
        async move { function.handle(request).await }
    });
    // lambda_http::run, with the event guard before its request conversion.
    let runtime = Runtime::new(EventGuard(lambda_http::Adapter::from(handler))).layer(TracingLayer::new());
    lifecycle::run_lambda_runtime(FUNCTION, runtime, &app, &stopping, colocated).await
}
