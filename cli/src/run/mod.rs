//! `bindery run`: the app with every binding live, like `dapr run`.
//!
//! Order of start-up, so every mistake is found before anything runs: load
//! and check the components, bind every port, start the app command and
//! wait until it listens, probe the app's subscriptions, then start the
//! output API, cron schedules, webhook server, and SQS and stream pollers. Ctrl-C (or
//! the app exiting) stops it all, the app included.

mod console;
mod cron;
mod dashboard;
mod inputs;
mod local_zone;
mod sqs;
pub(crate) mod streams;
mod webhook;

use std::time::Duration;

use bindery::api::OutputApi;
use bindery::component::Component;
use bindery::component::{BindingKind, InputKind};
use bindery::deliver::App;
use bindery::process::{AppCommand, AppProcess, Readiness, app_address, describe_exit};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::args::RunArgs;
use crate::load::{Loaded, load};
use crate::{Failure, ports};
use console::Console;
use dashboard::Dashboard;
use inputs::start_inputs;
/// The Lambda event SQS would send for received messages: `bindery dlq`
/// replays to the app through it too.
pub(crate) use sqs::lambda_event as sqs_lambda_event;

/// daprd's default `--app-binding-options-timeout`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest webhook answer relayed.
const MAX_WEBHOOK_RESPONSE: usize = 16 << 20;
/// How long input sources get to finish what they started, at shutdown.
const DRAIN_GRACE: Duration = Duration::from_secs(10);
/// How long the app gets between SIGTERM and SIGKILL.
const APP_GRACE: Duration = Duration::from_secs(5);

pub(crate) async fn run(args: RunArgs) -> Result<(), Failure> {
    let dashboard = match args.dashboard {
        // One a process, for as long as it runs.
        Some(port) => Some((
            ports::bind(port, "the dashboard", "--dashboard PORT").await?,
            &*Box::leak(Box::new(Dashboard::new())),
        )),
        None => None,
    };
    let console = Console::new(dashboard.as_ref().map(|(_, dashboard)| *dashboard));
    let loaded = load(&args.components.resources, Some(&args.app_id)).await?;
    for line in &loaded.warnings {
        console.warn(line);
    }
    let inputs: Vec<&Component> = loaded.components.iter().filter(|c| c.directions.input).collect();
    let app_url = args.app_url.clone().or_else(|| args.app_port.map(|port| format!("http://127.0.0.1:{port}")));

    let http = ports::bind(args.api.http_port, "the output API's HTTP port", "--dapr-http-port (-H)").await?;
    let grpc = ports::bind(args.api.grpc_port, "the output API's gRPC port", "--dapr-grpc-port (-G)").await?;
    let has_webhooks = inputs.iter().any(|c| c.kind.binding().and_then(BindingKind::input) == Some(InputKind::Webhook));
    let webhook_listener = match (has_webhooks, &app_url) {
        (true, Some(_)) => Some(ports::bind(args.webhook_port, "the webhook port", "--webhook-port").await?),
        _ => None,
    };

    let (api_stopping, api_stopped) = watch::channel(false);
    let mut api_tasks = JoinSet::new();
    let api = output_api(&args, &loaded);
    api_tasks.spawn(async move {
        api.serve(http, grpc, api_stopped).await.map_err(|e| Failure::new(format!("the output API stopped: {e}")))
    });
    console.status(&format!(
        "output API on http://127.0.0.1:{} and grpc://127.0.0.1:{} ({} output binding(s))",
        args.api.http_port,
        args.api.grpc_port,
        loaded.bindings.list().count()
    ));
    let dashboard_stop = CancellationToken::new();
    if let Some((listener, dashboard)) = dashboard {
        let address = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let stop = dashboard_stop.clone();
        api_tasks.spawn(async move {
            dashboard.serve(listener, stop).await.map_err(|e| Failure::new(format!("the dashboard stopped: {e}")))
        });
        console.status(&format!("dashboard on http://{address}/"));
    }

    let mut app = match args.command.is_empty() {
        true => None,
        false => Some(start_app(&args, app_url.as_deref(), console).await?),
    };

    let input_stop = CancellationToken::new();
    let mut input_tasks = JoinSet::new();
    let started = match &app_url {
        Some(url) => {
            let target = App::http(url).map_err(|e| Failure::new(format!("--app-url: {e}")))?;
            start_inputs(&args, &inputs, target, webhook_listener, console, &input_stop, &mut input_tasks).await
        }
        None if !inputs.is_empty() => {
            console.warn(&format!(
                "{} input binding(s) not started: give --app-port or --app-url so events have somewhere to go",
                inputs.len()
            ));
            Ok(())
        }
        None => Ok(()),
    };

    let outcome = match started {
        Err(failure) => Err(failure),
        Ok(()) => tokio::select! {
            () = ports::stop_signal() => {
                console.status("stopping");
                Ok(())
            }
            status = async { match app.as_mut() { Some(app) => app.exited().await, None => std::future::pending().await } } => {
                let command = app.as_ref().map(|a| a.command().to_string()).unwrap_or_default();
                if status.success() {
                    console.status(&format!("the app ({command}) exited"));
                    Ok(())
                } else {
                    Err(Failure::new(format!("the app ({command}) {}", describe_exit(status))))
                }
            }
            Some(joined) = api_tasks.join_next() => Err(task_failure(joined)),
            Some(joined) = input_tasks.join_next() => Err(task_failure(joined)),
        },
    };
    // Inputs first, so no new events reach an app that is stopping; the
    // output API last, as the app may call it while it stops.
    input_stop.cancel();
    drain(input_tasks).await;
    if let Some(app) = app {
        app.shutdown(APP_GRACE).await;
    }
    let _ = api_stopping.send(true);
    dashboard_stop.cancel();
    drain(api_tasks).await;
    outcome
}

/// Starts the app command with daprd's variables and waits until it listens.
async fn start_app(args: &RunArgs, app_url: Option<&str>, console: Console) -> Result<AppProcess, Failure> {
    let mut env = vec![
        ("APP_ID".to_owned(), args.app_id.clone()),
        ("DAPR_HTTP_PORT".to_owned(), args.api.http_port.to_string()),
        ("DAPR_GRPC_PORT".to_owned(), args.api.grpc_port.to_string()),
    ];
    if let Some(port) = args.app_port {
        env.push(("APP_PORT".to_owned(), port.to_string()));
    }
    let mut app =
        AppProcess::spawn(AppCommand::argv(args.command.iter().cloned()), &env).map_err(|e| Failure::new(e.message))?;
    console.status(&format!("started the app: {}", app.command()));
    if let Some(url) = app_url {
        let uri: http::Uri = url.parse().map_err(|_| Failure::new(format!("--app-url {url:?} is not a URL")))?;
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        let address =
            app_address(host, uri.port_u16().unwrap_or(80)).map_err(|e| Failure::new(format!("--app-url: {e}")))?;
        let timeout = Duration::from_secs(args.app_ready_timeout);
        app.wait_ready(&Readiness::Tcp(address), timeout).await.map_err(|e| Failure::new(e.message))?;
        console.status(&format!("the app listens on {address}"));
    }
    Ok(app)
}

fn task_failure(joined: Result<Result<(), Failure>, tokio::task::JoinError>) -> Failure {
    match joined {
        Ok(Err(failure)) => failure,
        Ok(Ok(())) => Failure::new("a bindery task stopped unexpectedly"),
        Err(e) => Failure::new(format!("a bindery task failed: {e}")),
    }
}

fn output_api(args: &RunArgs, loaded: &Loaded) -> OutputApi {
    OutputApi::new(loaded.bindings.clone(), args.api.settings(&args.app_id)).with_components(&loaded.components)
}

type Tasks = JoinSet<Result<(), Failure>>;

/// Waits for every task to finish what it started, for a while.
async fn drain(mut tasks: Tasks) {
    let drained = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(DRAIN_GRACE, drained).await.is_err() {
        tasks.abort_all();
    }
}
