//! `bindery-cron`: an EventBridge Scheduler invocation (or a legacy
//! scheduled-rule event) becomes the cron binding's `POST /<binding>`.
//!
//! A failed delivery is an invocation error, so the Scheduler's retry policy
//! and dead-letter queue take over (Dapr drops a failed cron event).

use std::time::Instant as StdInstant;

use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};
use serde_json::Value;
use tracing::{info, warn};

use super::setup::{FunctionSetup, setup};
use super::startup::{self, StartupError};
use super::{lifecycle, telemetry};
use crate::component::kinds::CRON_TYPE;
use crate::deliver::{App, DeliveryError};
use crate::input::schedule::schedule_event;
use crate::input::trace::traceparent_from_xray;
use crate::schedule::Schedule;

const FUNCTION: &str = "bindery-cron";

/// The cron function, configured.
#[derive(Debug)]
pub struct CronFunction {
    setup: FunctionSetup,
    time_zone: String,
}

impl CronFunction {
    /// Reads the environment; `app` replaces `BINDERY_APP_URL` (e.g. an in-process router).
    pub fn from_env(app: Option<App>) -> Result<Self, StartupError> {
        let env = |name: &str| std::env::var(name).ok();
        let setup = setup(FUNCTION, CRON_TYPE, &env, app)?;
        // The loader has already validated the schedule; only its zone is needed.
        let time_zone = setup
            .component
            .metadata
            .get("schedule")
            .and_then(|s| s.parse::<Schedule>().ok())
            .and_then(|s| s.time_zone())
            .map_or_else(|| "UTC".to_owned(), |tz| tz.name().to_owned());
        Ok(Self { setup, time_zone })
    }

    /// Handles one invocation, `event` being its payload as Lambda sent it.
    pub async fn handle(&self, event: &Bytes, context: &Context) -> Result<(), Diagnostic> {
        let started = StdInstant::now();
        let binding = &self.setup.component.name;
        let invalid =
            |message: String| Diagnostic { error_type: "Bindery.InvalidEvent".into(), error_message: message };
        let payload: Value =
            serde_json::from_slice(event).map_err(|e| invalid(format!("the scheduled event is not JSON: {e}")))?;
        let mut binding_event =
            schedule_event(&payload, binding, &self.time_zone, chrono::Utc::now()).map_err(|e| invalid(e.message))?;
        binding_event.traceparent = context.xray_trace_id.as_deref().and_then(traceparent_from_xray);
        let deadline = self.setup.deadline.until(context.deadline);
        let delivery = self.setup.deliverer.deliver(binding_event, deadline);
        match self.setup.stopping.bound(deadline, delivery).await {
            Ok(()) => {
                info!(binding = %binding, outcome = "acked", latency_ms = started.elapsed().as_millis() as u64, "delivered");
                Ok(())
            }
            Err(e) => {
                warn!(binding = %binding, outcome = "failed", error = %e, "delivery failed; the scheduler will retry");
                Err(diagnostic(&e))
            }
        }
    }
}

/// `main` of `bindery-cron`.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    run_with(None).await
}

/// Runs the function with the given app instead of `BINDERY_APP_URL`.
pub async fn run_with(app: Option<App>) -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let mut function = match CronFunction::from_env(app) {
        Ok(f) => f,
        Err(e) => return Err(startup::fail(FUNCTION, e).await),
    };
    let colocated = function.setup.start_app(FUNCTION).await?;
    let (app, stopping) = (function.setup.deliverer.app().clone(), function.setup.stopping.clone());
    let handler = |event: Bytes, context: Context| {
        let function = &function;
        async move { function.handle(&event, &context).await }
    };
    lifecycle::run_event_loop(FUNCTION, handler, &app, &stopping, colocated).await
}

fn diagnostic(error: &DeliveryError) -> Diagnostic {
    Diagnostic { error_type: error.error_type().to_owned(), error_message: error.message.clone() }
}
