//! `bindery-cron`: an EventBridge Scheduler invocation (or a legacy
//! scheduled-rule event) becomes the cron binding's `POST /<binding>`.
//!
//! A failed delivery is an invocation error, so the Scheduler's retry policy
//! and dead-letter queue take over (Dapr drops a failed cron event).

use std::time::Instant as StdInstant;

use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};
use serde_json::Value;
use tracing::{error, info};

use super::lifecycle::{self, InputFunction};
use super::setup::FunctionSetup;
use super::startup::StartupError;
use super::unreadable_event;
use crate::component::{BindingKind, EnvLookup};
use crate::deliver::{App, DeliveryError};
use crate::input::schedule::{CronConfig, schedule_event};
use crate::telemetry;

/// The cron function, configured.
#[derive(Debug)]
pub struct CronFunction {
    setup: FunctionSetup,
    /// The schedule's time zone, for the event's metadata.
    time_zone: String,
}

impl InputFunction for CronFunction {
    const NAME: &'static str = "bindery-cron";
    const KIND: BindingKind = BindingKind::Cron;
    /// The schedule's time zone, for the event's metadata.
    type Config = String;
    type Answer = ();

    fn config(setup: &FunctionSetup, _: EnvLookup<'_>) -> Result<String, StartupError> {
        let config = CronConfig::from_metadata(&setup.component.metadata).map_err(|e| StartupError::from_fields(&e))?;
        Ok(config.time_zone_name())
    }

    fn new(setup: FunctionSetup, time_zone: String) -> Self {
        Self { setup, time_zone }
    }

    /// Handles one invocation, `event` being its payload as Lambda sent it.
    async fn handle(&self, event: &Bytes, context: &Context) -> Result<(), Diagnostic> {
        let started = StdInstant::now();
        let binding = &self.setup.component.name;
        let invalid = |message: String| unreadable_event("Bindery.InvalidEvent", message);
        let payload: Value =
            serde_json::from_slice(event).map_err(|e| invalid(format!("the scheduled event is not JSON: {e}")))?;
        let mut binding_event =
            schedule_event(&payload, binding, &self.time_zone, chrono::Utc::now()).map_err(|e| invalid(e.message))?;
        binding_event.traceparent = telemetry::invocation_traceparent(context.xray_trace_id.as_deref());
        let deadline = self.setup.deadline.until(context.deadline);
        // Scheduler's retries of one invocation share its scheduled time: with
        // idempotency on, one the app acknowledged is not delivered again.
        let delivery = self.setup.deliver_record_by(binding_event, deadline);
        match self.setup.stopping.bound(deadline, delivery).await {
            Ok(duplicate) => {
                let outcome = if duplicate { "duplicate" } else { "acked" };
                info!(binding = %binding, outcome, latency_ms = started.elapsed().as_millis() as u64, "delivered");
                Ok(())
            }
            Err(e) => {
                error!(binding = %binding, outcome = "failed", error = %e, "delivery failed; the scheduler will retry");
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
    lifecycle::run::<CronFunction>(app, None).await
}

fn diagnostic(error: &DeliveryError) -> Diagnostic {
    Diagnostic { error_type: error.error_type().to_owned(), error_message: error.message.clone() }
}
