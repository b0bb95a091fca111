//! Stopping and SnapStart, through the real function binaries: on SIGTERM,
//! what is in flight is answered (finished, or reported failed after the
//! stop grace) before the function exits 0; a SnapStart function opens no
//! connection to the app before the snapshot, calls `/restore/next`, and
//! delivers normally after the restore. `bindery run` on Ctrl-C finishes
//! the SQS batch and the webhook in flight before it exits.

use std::collections::BTreeSet;
use std::time::Duration;

use bindery_e2e::aws::Emulator;
use bindery_e2e::{Fault, FaultyApp, InvokeOptions, Recorded, RecordingApp, Reply};
use serde_json::{Value, json};

use crate::common::webhook::{BODY, SECRET, github_event, github_signature};
use crate::common::{
    ComponentsDir, Running, SECOND, bindery_run, component, cron_component, http_post, secret, spawn, sqs_component,
    sqs_record, start_sqs, value,
};

/// The function is never given this long: an answer can only come from the stop.
fn long_deadline() -> InvokeOptions {
    InvokeOptions { deadline: 120 * SECOND, wait: 30 * SECOND, ..InvokeOptions::default() }
}

/// An app that answers at once, except to requests whose body starts with
/// `slow` (or to everything, with `all`), which it keeps waiting for 10 minutes.
fn slow_app(app: &RecordingApp, all: bool) {
    app.set_reply(move |r| {
        if all || r.body.starts_with(b"slow") {
            Reply::Delay(Duration::from_secs(600), Box::new(Reply::Status(200)))
        } else {
            Reply::Status(200)
        }
    });
}

/// Waits until the app has received `n` requests, then sends SIGTERM.
async fn terminate_after(f: &Running, app: &RecordingApp, n: usize) {
    let received = app.wait_for_requests(n, 10 * SECOND).await;
    assert_eq!(received.len(), n, "the app got {} of {n} requests", received.len());
    f.function.terminate();
}

async fn assert_exits_0(f: &mut Running) {
    let status = f.function.wait_exit(10 * SECOND).await;
    assert!(status.is_some_and(|s| s.success()), "exit {status:?}: {}", f.function.logs());
    assert!(f.function.logs().contains("stopping"), "{}", f.function.logs());
}

#[tokio::test]
async fn sigterm_mid_batch_acks_what_finished_reports_the_rest_and_exits_0() {
    let app = RecordingApp::start().await;
    slow_app(&app, false);
    let mut f = start_sqs(&app.url(), &[]).await;
    let records = [("fast-1", "fast"), ("slow-1", "slow"), ("fast-2", "fast"), ("slow-2", "slow")];
    let event = json!({ "Records": records.iter().map(|(id, body)| sqs_record(id, body)).collect::<Vec<_>>() });

    let (outcome, ()) = tokio::join!(f.invoke(&event, long_deadline()), terminate_after(&f, &app, 4));

    let response = outcome.response();
    let failed: BTreeSet<&str> = response["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap())
        .collect();
    assert_eq!(failed, BTreeSet::from(["slow-1", "slow-2"]), "the fast records were acked before the stop");
    assert_exits_0(&mut f).await;
}

#[tokio::test]
async fn sigterm_during_a_schedule_delivery_reports_it_failed_so_the_scheduler_retries() {
    let app = RecordingApp::start().await;
    slow_app(&app, true);
    let components = ComponentsDir::with("cron-binding.yaml", &cron_component("cron-binding", "@every 1m", &[]));
    let mut f = Running::start(
        "bindery-cron",
        components,
        &[("BINDERY_BINDING", "cron-binding"), ("BINDERY_APP_URL", &app.url())],
    )
    .await;

    let event = json!({});
    let (outcome, ()) = tokio::join!(f.invoke(&event, long_deadline()), terminate_after(&f, &app, 1));

    let error = outcome.error();
    assert_eq!(error.body["errorType"], "Bindery.Timeout", "{error:?}");
    assert!(error.error_message().is_some_and(|m| m.contains("stopping")), "{error:?}");
    assert_exits_0(&mut f).await;
}

#[tokio::test]
async fn sigterm_during_a_webhook_answers_503_so_the_sender_retries() {
    let app = RecordingApp::start().await;
    slow_app(&app, true);
    let mut f = crate::common::webhook::start(&app.url(), "github", &[]).await;

    let event = github_event(BODY.as_bytes());
    let (outcome, ()) = tokio::join!(f.invoke(&event, long_deadline()), terminate_after(&f, &app, 1));

    let response = outcome.response();
    assert_eq!(response["statusCode"], 503, "{response}");
    assert_exits_0(&mut f).await;
}

#[tokio::test]
async fn sigterm_with_nothing_in_flight_exits_0() {
    let app = RecordingApp::start().await;
    let mut f = start_sqs(&app.url(), &[]).await;
    f.function.terminate();
    assert_exits_0(&mut f).await;
}

#[tokio::test]
async fn a_snapstart_function_connects_to_nothing_before_the_snapshot_and_delivers_after_the_restore() {
    let app = FaultyApp::start(|_| Fault::Answer(200)).await;
    let components = ComponentsDir::with("task-events.yaml", &sqs_component("task-events"));
    let env = [
        ("BINDERY_BINDING", "task-events"),
        ("BINDERY_APP_URL", &app.url()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start"),
    ];
    let (api, function, _components) = spawn("bindery-sqs", components, &env).await;

    assert!(api.wait_for_restore_poll(10 * SECOND).await, "no /restore/next: {}", function.logs());
    assert_eq!(api.wait_for_next_poll(Duration::from_millis(200)).await, None, "/next before the restore");
    assert_eq!(app.connections(), 0, "a connection opened before the snapshot would be stale after the restore");

    api.restore();
    assert!(api.wait_for_next_poll(10 * SECOND).await.is_some(), "{}", function.logs());
    let event = json!({ "Records": [sqs_record("after-restore", "hello")] });
    let response = api.invoke(event.to_string(), InvokeOptions::default()).await.response();
    assert_eq!(response["batchItemFailures"], Value::Array(Vec::new()), "{}", function.logs());
    assert_eq!(app.connections(), 1);
    assert!(
        api.init_errors().is_empty() && api.violations().is_empty(),
        "{:?} {:?}",
        api.init_errors(),
        api.violations()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_lets_bindery_run_finish_the_sqs_batch_and_the_webhook_in_flight() {
    let emulator = Emulator::from_env();
    let queue = emulator.unique("stopping");
    let sqs = emulator.sqs().await;
    let queue_url = sqs.create_queue().queue_name(&queue).send().await.unwrap().queue_url.unwrap();
    for n in 0..3 {
        sqs.send_message().queue_url(&queue_url).message_body(format!("task {n}")).send().await.unwrap();
    }
    let app = RecordingApp::start().await;
    app.set_reply(|_| Reply::Delay(SECOND, Box::new(Reply::Status(200))));
    let dir = ComponentsDir::new();
    dir.write("tasks.yaml", &emulator.component("tasks", "bindings.aws.sqs", &[("queueName", &queue)]));
    let hook = [value("direction", "input"), value("signatureScheme", "github"), secret("signatureSecret", "SECRET")];
    dir.write("github.yaml", &component("github", "bindings.http", &hook));
    let (mut bindery, webhook) = bindery_run(&dir, &app.url(), &[("SECRET", SECRET)], "github: webhook http").await;

    // A message is being delivered (the app takes a second to answer): send
    // a webhook, and Ctrl-C once both are in flight.
    // (Its OPTIONS probe of /tasks comes first: the component names no direction.)
    let is_delivery = |r: &Recorded| r.method == "POST" && r.path == "/tasks";
    for _ in 0..200 {
        if app.requests().iter().any(is_delivery) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(app.requests().iter().any(is_delivery), "no SQS delivery: {}", bindery.logs());
    let body = r#"{"ref":"refs/heads/main"}"#;
    let signature = github_signature(body.as_bytes());
    let url = format!("http://127.0.0.1:{webhook}/github");
    let headers = [("X-Hub-Signature-256", signature.as_str()), ("X-GitHub-Event", "push")];
    let interrupt = async {
        while !app.requests().iter().any(|r| r.path == "/github") {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        bindery.interrupt();
    };
    let ((status, _), ()) = tokio::join!(http_post(&url, &headers, body), interrupt);

    assert_eq!(status, 200, "the webhook in flight is answered: {}", bindery.logs());
    let exit = bindery.wait_exit(20 * SECOND).await;
    assert!(exit.is_some_and(|s| s.success()), "{exit:?}: {}", bindery.logs());
    let requests = app.requests();
    let delivered: Vec<String> =
        requests.iter().filter(|r| is_delivery(r)).map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect();
    let (visible, in_flight) = emulator.queue_counts(&queue_url).await;
    // Each message the app acknowledged was deleted; any other is visible
    // again at once (none left hidden until its visibility timeout).
    assert_eq!((visible + delivered.len() as u64, in_flight), (3, 0), "delivered {delivered:?}\n{}", bindery.logs());
}

/// Ctrl-C while `bindery run` long-polls an empty queue, and messages arrive
/// during that poll: they are made visible again at once, not hidden for
/// their visibility timeout (and not delivered to an app that is stopping).
#[tokio::test(flavor = "multi_thread")]
async fn messages_received_while_bindery_run_stops_are_released_at_once() {
    let emulator = Emulator::from_env();
    let queue = emulator.unique("releasing");
    let sqs = emulator.sqs().await;
    let queue_url = sqs.create_queue().queue_name(&queue).send().await.unwrap().queue_url.unwrap();
    let app = RecordingApp::start().await;
    let dir = ComponentsDir::new();
    let items = [("queueName", queue.as_str()), ("direction", "input")];
    dir.write("tasks.yaml", &emulator.component("tasks", "bindings.aws.sqs", &items));
    let (mut bindery, _) = bindery_run(&dir, &app.url(), &[], "tasks: polling SQS").await;
    // The first long poll (up to 2 s) is under way on the empty queue.
    tokio::time::sleep(Duration::from_millis(300)).await;

    bindery.interrupt();
    for n in 0..2 {
        sqs.send_message().queue_url(&queue_url).message_body(format!("late {n}")).send().await.unwrap();
    }

    let exit = bindery.wait_exit(20 * SECOND).await;
    assert!(exit.is_some_and(|s| s.success()), "{exit:?}: {}", bindery.logs());
    assert_eq!(emulator.queue_counts(&queue_url).await, (2, 0), "(visible, hidden)\n{}", bindery.logs());
    assert!(app.requests().is_empty(), "nothing is delivered once stopping: {:?}", app.requests());
}
