//! The input bindings of `bindery run`: each is probed (unless its
//! `direction` names input), then started as a cron schedule, an SQS or
//! stream poller or a route of the webhook server; push-only sources (S3,
//! SNS) are named.

use bindery::api::LocalOnly;
use bindery::component::{BindingKind, Component, InputKind, within_init_timeout};
use bindery::deliver::webhook::WebhookRelay;
use bindery::deliver::{App, Deliverer};
use bindery::idempotency::{Idempotency, IdempotencyConfig};
use bindery::input::stream::StreamSettings;
use bindery::input::webhook::WebhookAuth;
use tokio_util::sync::CancellationToken;

use super::console::Console;
use super::cron::Cron;
use super::local_zone::LocalZone;
use super::streams::{DynamoDbStream, KinesisStream, ShardSource, StreamPoller};
use super::{MAX_WEBHOOK_RESPONSE, PROBE_TIMEOUT, Tasks, sqs, webhook};
use crate::Failure;
use crate::args::{IdempotencyStore, RunArgs};

/// Probes and starts every input binding the app subscribes to.
pub(super) async fn start_inputs(
    args: &RunArgs,
    inputs: &[&Component],
    app: App,
    webhook_listener: Option<tokio::net::TcpListener>,
    console: Console,
    stop: &CancellationToken,
    tasks: &mut Tasks,
) -> Result<(), Failure> {
    let token = std::env::var("APP_API_TOKEN").ok();
    let mut relays = Vec::new();
    // Read once, and only when a schedule needs it.
    let mut local: Option<LocalZone> = None;
    for component in inputs {
        let deliverer = Deliverer::new(app.clone(), component.route.clone(), token.as_deref())
            .map_err(|e| Failure::new(format!("{}: {}", component.name, e.message)))?
            .with_metadata_limit(args.max_metadata_bytes);
        if !subscribed(component, &deliverer, console).await? {
            continue;
        }
        let stop = stop.clone();
        let idempotency = idempotency(component, args.idempotency_store).map_err(Failure::new)?;
        let Some(input) = component.kind.binding().and_then(BindingKind::input) else {
            console.warn(&format!("{}: {} has no input side; it is not started", component.name, component.kind));
            continue;
        };
        match input {
            InputKind::Cron => {
                let local = local.get_or_insert_with(|| {
                    let (local, warning) = LocalZone::from_env();
                    if let Some(warning) = warning {
                        console.warn(&warning);
                    }
                    local
                });
                let cron = Cron::new(component, local)?;
                let schedule = component.metadata.get("schedule").unwrap_or_default();
                console.status(&format!(
                    "{}: cron {schedule:?} -> POST {}, next {}",
                    component.name,
                    component.route,
                    cron.describe_next(chrono::Utc::now())
                ));
                tasks.spawn(async move {
                    cron.fire(deliverer, console, stop).await;
                    Ok(())
                });
            }
            InputKind::Sqs => {
                let connect = sqs::Poller::connect(component, deliverer, idempotency, args.sqs_concurrency, console);
                let Some(poller) =
                    connect_within_init_timeout(component, "finding the queue", connect, console).await?
                else {
                    continue;
                };
                console.status(&format!("{}: polling SQS -> POST {}", component.name, component.route));
                tasks.spawn_local(async move {
                    poller.poll(stop).await;
                    Ok(())
                });
            }
            InputKind::Kinesis => {
                let connect = KinesisStream::connect(component);
                let Some((stream, settings)) =
                    connect_within_init_timeout(component, "finding the stream", connect, console).await?
                else {
                    continue;
                };
                start_stream(component, stream, settings, (deliverer, idempotency), console, stop, tasks);
            }
            InputKind::DynamoDbStreams => {
                let connect = DynamoDbStream::connect(component);
                let Some((stream, settings)) =
                    connect_within_init_timeout(component, "finding the table's stream", connect, console).await?
                else {
                    continue;
                };
                start_stream(component, stream, settings, (deliverer, idempotency), console, stop, tasks);
            }
            InputKind::Webhook => {
                let auth = WebhookAuth::from_metadata(&component.metadata)
                    .map_err(|errors| Failure::new(format!("{}: {}", component.name, crate::field_problems(errors))))?;
                console.status(&format!(
                    "{}: webhook http://127.0.0.1:{}/{} -> POST {}",
                    component.name, args.webhook_port, component.name, component.route
                ));
                let relay = WebhookRelay::new(component.name.clone(), auth, deliverer, MAX_WEBHOOK_RESPONSE);
                relays.push(relay.with_idempotency(idempotency));
            }
            // S3 and SNS push their notifications; there is nothing to poll.
            InputKind::S3Events | InputKind::Sns => {
                let (source, function) =
                    if input == InputKind::Sns { ("sns", "bindery-sns") } else { ("s3", "bindery-s3-events") };
                console.status(&format!(
                    "{}: {} notifications are pushed, not polled: run {function} with `bindery events {source}` \
                     (or cargo lambda) to deliver one as POST {}",
                    component.name,
                    source.to_uppercase(),
                    component.route
                ))
            }
        }
    }
    if let (Some(listener), false) = (webhook_listener, relays.is_empty()) {
        let stop = stop.clone();
        let rules = LocalOnly::webhook(&args.webhook_allowed_hosts);
        tasks.spawn(async move {
            webhook::serve(listener, relays, rules, console, stop)
                .await
                .map_err(|e| Failure::new(format!("the webhook server stopped: {e}")))
        });
    }
    Ok(())
}

/// Runs a polled source's start-up (finding its queue or stream) within
/// its `initTimeout`; `None` when it failed and `spec.ignoreErrors` skips it.
async fn connect_within_init_timeout<T>(
    component: &Component,
    what: &str,
    connect: impl Future<Output = Result<T, String>>,
    console: Console,
) -> Result<Option<T>, Failure> {
    let connected = within_init_timeout(component.init_timeout, connect, |limit| {
        format!("{what} took longer than spec.initTimeout ({limit:?})")
    })
    .await;
    match connected {
        Ok(source) => Ok(Some(source)),
        Err(e) if component.ignore_errors => {
            console.warn(&format!("{}: not started, skipped because of spec.ignoreErrors: {e}", component.name));
            Ok(None)
        }
        Err(e) => Err(Failure::new(format!("{}: {e}", component.name))),
    }
}

/// Starts reading a stream's shards for `component`.
fn start_stream<S: ShardSource + 'static>(
    component: &Component,
    source: S,
    settings: StreamSettings,
    (deliverer, idempotency): (Deliverer, Option<Idempotency>),
    console: Console,
    stop: CancellationToken,
    tasks: &mut Tasks,
) {
    console.status(&format!(
        "{}: reading {} ({}) -> POST {}",
        component.name,
        component.kind,
        settings.starting_position.as_str(),
        component.route
    ));
    let poller = StreamPoller::new(component.name.clone(), source, settings, deliverer, idempotency, console);
    tasks.spawn_local(async move {
        poller.poll(stop).await;
        Ok(())
    });
}

/// The idempotency a component asks for, its records where
/// `--idempotency-store` says: this process's memory, or the component's
/// own store (a DynamoDB table on an emulator, say).
fn idempotency(component: &Component, store: IdempotencyStore) -> Result<Option<Idempotency>, String> {
    let named = |why: String| format!("{}: {why}", component.name);
    match store {
        IdempotencyStore::Embedded => {
            let config =
                IdempotencyConfig::from_metadata(&component.metadata).map_err(|e| named(crate::field_problems(e)))?;
            Ok(config.map(Idempotency::in_memory))
        }
        IdempotencyStore::Components => {
            let env = |name: &str| std::env::var(name).ok();
            Idempotency::from_component(&component.metadata, &env).map_err(named)
        }
    }
}

/// Dapr's rule: a binding whose `direction` names input is read without
/// asking; otherwise the app is asked with `OPTIONS /<route>`.
async fn subscribed(component: &Component, deliverer: &Deliverer, console: Console) -> Result<bool, Failure> {
    if component.directions.explicit {
        return Ok(true);
    }
    match deliverer.probe(PROBE_TIMEOUT).await {
        Ok(true) => Ok(true),
        Ok(false) => {
            console.warn(&format!(
                "{}: the app has not subscribed (OPTIONS {} answered neither 2xx nor 405); it is not started",
                component.name, component.route
            ));
            Ok(false)
        }
        Err(e) => Err(Failure::new(format!(
            "{}: could not probe the app's subscription (OPTIONS {}): {e}",
            component.name, component.route
        ))),
    }
}
