//! How a function lives on the Runtime API, around its handler. The one
//! place, for every function, of:
//!
//! - **init** ([`run`]): the setup read from the environment, every config
//!   error reported to Lambda before the co-located app is started;
//! - **the event loop** ([`event_loop`]): each event read once into one
//!   buffer, handed to the function's handler, its answer posted;
//! - **stopping.** On SIGTERM or SIGINT the deliveries in flight get the
//!   [grace](super::stopping::STOP_GRACE). Whatever has not finished by then is reported
//!   failed in the invocation's answer (an SQS record in `batchItemFailures`,
//!   a schedule as an invocation error, a webhook as 503), never silently
//!   dropped. Once that answer is posted, the function stops its co-located
//!   app, if any, and exits 0;
//! - **SnapStart.** After a restore the app client starts over with an empty
//!   connection pool, so no connection opened before the snapshot (whose
//!   peer may be long gone) is ever reused.

use std::future::Future;

use bytes::Bytes;
use lambda_runtime::{Context, Diagnostic};
use serde::Serialize;
use tracing::info;

use super::colocated;
use super::event_loop::{self, RuntimeApi};
use super::secret_ids::FunctionEnvironment;
use super::setup::{FunctionSetup, setup, setup_for};
use super::startup::{self, StartupError};
use super::stopping::{InFlight, STOP_GRACE, Stopping};
use crate::component::{BindingKind, Component, EnvLookup};
use crate::deliver::App;
use crate::process::AppProcess;
use crate::telemetry;

type BoxError = lambda_runtime::Error;

/// An input function: what it serves, what it reads at init, and how it
/// answers one event. [`run`] does the rest.
pub(crate) trait InputFunction: Sized {
    /// The binary's name, in logs and init errors.
    const NAME: &'static str;
    /// The binding kind it serves.
    const KIND: BindingKind;
    /// What it reads beyond the common setup (its binding's own metadata,
    /// its own variables), checked at init.
    type Config;
    /// Its answer to an invocation, as JSON.
    type Answer: Serialize;

    fn config(setup: &FunctionSetup, env: EnvLookup<'_>) -> Result<Self::Config, StartupError>;

    fn new(setup: FunctionSetup, config: Self::Config) -> Self;

    /// Answers one event, `event` as Lambda sent it.
    async fn handle(&self, event: &Bytes, context: &Context) -> Result<Self::Answer, Diagnostic>;
}

/// Runs `F`: its setup from the environment (`app` replacing
/// `BINDERY_APP_URL`; `served`, the component, when it is already loaded),
/// its co-located app started, then its events answered until it is
/// stopped. A config error is an init error.
pub(crate) async fn run<F: InputFunction>(app: Option<App>, served: Option<Component>) -> Result<(), BoxError> {
    telemetry::init();
    let environment = match FunctionEnvironment::read().await {
        Ok(environment) => environment,
        Err(e) => return Err(startup::fail(F::NAME, e).await),
    };
    let env = |name: &str| environment.var(name);
    let setup = match served {
        Some(component) => setup_for(F::NAME, F::KIND, component, &env, app),
        None => setup(F::NAME, F::KIND, &env, app),
    };
    let configured = setup.and_then(|setup| {
        let config = F::config(&setup, &env)?;
        Ok((setup, config))
    });
    let (mut setup, config) = match configured {
        Ok(configured) => configured,
        Err(e) => return Err(startup::fail(F::NAME, e).await),
    };
    let colocated = setup.start_app(F::NAME).await?;
    let (app, stopping, binding) =
        (setup.deliverer.app().clone(), setup.stopping.clone(), setup.component.name.clone());
    let function = F::new(setup, config);
    let handler = |event: Bytes, context: Context| {
        let function = &function;
        async move { function.handle(&event, &context).await }
    };
    run_event_loop(F::NAME, &binding, handler, &app, &stopping, colocated).await
}

/// Answers the invocations of the function serving `binding` with `handler`
/// until the Runtime API fails, the co-located app exits, or a signal stops
/// the function once the invocation in flight has been answered.
async fn run_event_loop<H, Fut, R>(
    function: &'static str,
    binding: &str,
    handler: H,
    app: &App,
    stopping: &Stopping,
    colocated: Option<AppProcess>,
) -> Result<(), BoxError>
where
    H: Fn(Bytes, Context) -> Fut,
    Fut: Future<Output = Result<R, Diagnostic>>,
    R: Serialize,
{
    let api = RuntimeApi::from_env()?;
    let in_flight = InFlight::default();
    let run = async {
        api.restore_if_snapshotted(|| app.reset_connections()).await?;
        event_loop::run(&api, &in_flight, binding, handler).await
    };
    colocated::run_beside_app(function, colocated, run, stopped(function, stopping, &in_flight)).await
}

/// Completes on a stop signal once the invocation in flight, if any, has
/// been answered; its deliveries get the grace.
async fn stopped(function: &'static str, stopping: &Stopping, in_flight: &InFlight) {
    stop_signal().await;
    info!(function, grace_ms = STOP_GRACE.as_millis() as u64, "stopping: deliveries in flight get the grace");
    stopping.request();
    in_flight.idle().await;
}

/// Completes on SIGTERM or SIGINT.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut terminate), Ok(mut interrupt)) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        }
        // Without handlers the signals keep their default: the process dies
        // and the invocation in flight, unanswered, is redelivered.
        _ => std::future::pending().await,
    }
}
