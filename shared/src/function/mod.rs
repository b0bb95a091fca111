//! The Lambda functions: each reads its configuration from the environment
//! at init, fails there (never at the first event) when it is wrong, and then
//! serves its binding.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `BINDERY_COMPONENTS` | `./components`, then `$LAMBDA_TASK_ROOT/components` | component directory or file, or several, comma-separated (one set) |
//! | `BINDERY_BINDING` | required | the component this function serves |
//! | `BINDERY_APP_URL` | `http://127.0.0.1:8080` | the app |
//! | `APP_API_TOKEN` | none | sent as `dapr-api-token` |
//! | `BINDERY_DEADLINE_MARGIN_MS` | 250 | answer this long before the invocation deadline |
//! | `BINDERY_FALLBACK_DEADLINE_MS` | 60000 | the time an invocation gets when its deadline is no real one ([`DeadlineRule`]) |
//! | `BINDERY_SQS_CONCURRENCY` | 16 | SQS deliveries in flight at once |
//! | `BINDERY_APP_CMD` | none | a shell command (`sh -c`) that starts the app at init, given `PORT` = the port of `BINDERY_APP_URL` |
//! | `BINDERY_APP_READY_PATH` | none: a TCP connect | the app is ready when a `GET` of this path on its host and port answers below 500 |
//! | `BINDERY_APP_READY_TIMEOUT_MS` | 9000 | how long the app may take to be ready (Lambda's init phase is limited to 10 s) |
//!
//! With `BINDERY_APP_CMD`, an app that cannot start, exits, or is not ready
//! in time is an init error (`Bindery.AppStartError`) naming the command. An
//! app that exits later ends the function with status 1: the invocation in
//! flight, if any, gets no answer, so Lambda counts it failed and its events
//! are delivered again, and the next one starts a new execution environment.
//! The app runs in its own process group, stopped with the function.
//!
//! On SIGTERM or SIGINT the deliveries in flight get a short grace, what has
//! not finished is reported failed in the answer, and the function exits 0
//! once the answer is posted; after a SnapStart restore no pooled connection
//! from before the snapshot is reused ([`lifecycle`]).

mod colocated;
pub mod cron;
mod deadline;
pub mod dynamodb_streams;
mod env;
mod event_loop;
#[cfg(feature = "extension")]
pub mod extension;
pub mod kinesis;
mod lifecycle;
mod notification;
pub mod s3_events;
mod secret_ids;
mod setup;
pub mod sns;
pub mod sqs;
mod startup;
pub mod stopping;
mod stream;
pub mod webhook;

pub use deadline::DeadlineRule;
pub use setup::{FunctionSetup, setup};
pub use startup::StartupError;

use std::sync::Arc;

use crate::component::{BindingKind, InputKind};
use crate::deliver::App;
use crate::output::Bindings;
use crate::telemetry;
use secret_ids::FunctionEnvironment;

/// The answer to an event the function cannot read, of `error_type`
/// (`Bindery.InvalidEvent`, or `Bindery.MalformedBatch` for a batch source):
/// the invocation fails, so that Lambda retries it and then sends it to the
/// on-failure destination. Logged and counted in the metrics; the reason
/// (which may quote the event) only at debug.
pub(crate) fn unreadable_event(error_type: &str, message: String) -> lambda_runtime::Diagnostic {
    telemetry::metrics::delivery(Err(telemetry::metrics::Failure::InvalidEvent), None);
    tracing::error!(error_type, "the event is not one this function reads: the invocation fails");
    tracing::debug!(error = %message, "why the event could not be read");
    lambda_runtime::Diagnostic { error_type: error_type.to_owned(), error_message: message }
}

/// For a function whose app runs in-process and calls output bindings: the
/// bindings of its components (`BINDERY_COMPONENTS`), loaded at init. A
/// problem is reported to Lambda as an init error, like every config error.
pub async fn output_bindings(function: &str) -> Result<Arc<Bindings>, lambda_runtime::Error> {
    telemetry::init();
    let loaded = async {
        let environment = FunctionEnvironment::read().await?;
        let env = |name: &str| environment.var(name);
        let path = env::components_paths(&env)?;
        Bindings::load_outputs_with(&path, &env).await.map_err(|e| StartupError(e.to_string()))
    };
    let loaded = loaded.await;
    match loaded {
        Ok(bindings) => Ok(Arc::new(bindings)),
        Err(e) => Err(startup::fail(function, e).await),
    }
}

/// One binary for every input binding of a Rust app: serves `BINDERY_BINDING`
/// as its component's type says (cron, SQS, webhook, Kinesis, DynamoDB Streams, S3 events or SNS), delivering to `app`
/// in-process. `function` names the binary in init errors.
pub async fn run_in_process(function: &str, app: App) -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let environment = match FunctionEnvironment::read().await {
        Ok(environment) => environment,
        Err(e) => return Err(startup::fail(function, e).await),
    };
    let env = |name: &str| environment.var(name);
    let component = match setup::served_component(&env, "the input binding this function serves") {
        Ok(component) => component,
        Err(e) => return Err(startup::fail(function, e).await),
    };
    let Some(input) = component.kind.binding().and_then(BindingKind::input) else {
        let why = format!(
            "BINDERY_BINDING names {:?}, a {} component: not an input binding bindery serves",
            component.name, component.kind
        );
        return Err(startup::fail(function, StartupError(why)).await);
    };
    let (app, served) = (Some(app), Some(component));
    match input {
        InputKind::Cron => lifecycle::run::<cron::CronFunction>(app, served).await,
        InputKind::Sqs => lifecycle::run::<sqs::SqsFunction>(app, served).await,
        InputKind::Webhook => lifecycle::run::<webhook::WebhookFunction>(app, served).await,
        InputKind::S3Events => lifecycle::run::<s3_events::S3EventsFunction>(app, served).await,
        InputKind::Sns => lifecycle::run::<sns::SnsFunction>(app, served).await,
        InputKind::Kinesis => lifecycle::run::<kinesis::KinesisFunction>(app, served).await,
        InputKind::DynamoDbStreams => lifecycle::run::<dynamodb_streams::DynamoDbStreamsFunction>(app, served).await,
    }
}
