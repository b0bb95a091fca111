//! `bindery run` end to end, driving the FastAPI example (`examples/fastapi`,
//! the Dapr Python SDK unchanged): cron fires and the app's cleanup writes
//! through the output API; SQS messages (on moto) are consumed and deleted
//! only when the app acknowledges them; the webhook is verified and
//! forwarded; completing a task notifies a monitoring webhook through the
//! http-binding output; Dapr's OPTIONS probe decides which bindings start;
//! Ctrl-C stops everything, the app included. And `run`'s own failures: an
//! app that exits before it listens. Cron schedules without a zone fire in
//! the local one.

use std::path::PathBuf;
use std::time::Duration;

use crate::common::webhook::{SECRET, github_signature};
use crate::common::{ComponentsDir, SECOND, bindery_run, component, cron_component, metadata_value, secret, value};
use crate::common::{http_get as get, http_post as post};
use aws_sdk_sqs::types::QueueAttributeName;
use bindery_e2e::aws::Emulator;
use bindery_e2e::{FunctionProcess, RecordingApp, debug_bin, python, unused_port};

fn example(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/fastapi").join(path)
}

struct Ports {
    app: u16,
    http: u16,
    grpc: u16,
    webhook: u16,
}

fn run(dir: &ComponentsDir, ports: &Ports, command: &[&str]) -> FunctionProcess {
    let (app, http, grpc, webhook) =
        (ports.app.to_string(), ports.http.to_string(), ports.grpc.to_string(), ports.webhook.to_string());
    let components = dir.path_str();
    let mut args = vec![
        "run",
        "--components",
        &components,
        "--app-port",
        &app,
        "--http-port",
        &http,
        "--grpc-port",
        &grpc,
        "--webhook-port",
        &webhook,
        "--app-ready-timeout",
        "30",
        "--",
    ];
    args.extend_from_slice(command);
    let env = [("GITHUB_WEBHOOK_SECRET", SECRET), ("DAPR_HEALTH_TIMEOUT", "20")];
    FunctionProcess::command(&debug_bin("bindery"), &args, &env)
}

fn ports() -> Ports {
    Ports { app: unused_port(), http: unused_port(), grpc: unused_port(), webhook: unused_port() }
}

#[tokio::test(flavor = "multi_thread")]
async fn bindery_run_drives_the_fastapi_example_with_every_binding_live() {
    let emulator = Emulator::from_env();
    let sqs = emulator.sqs().await;
    let queue = emulator.unique("run-tasks");
    let queue_url = sqs
        .create_queue()
        .queue_name(&queue)
        .attributes(QueueAttributeName::VisibilityTimeout, "60")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();

    let dir = ComponentsDir::new();
    let data = dir.path().join("data");
    // No `direction`: started because the app answers the OPTIONS probe.
    dir.write("cron.yaml", &component("cron-binding", "bindings.cron", &[value("schedule", "@every 1s")]));
    // A binding the app has no route for: the probe says 404, so it never fires.
    dir.write("unsubscribed.yaml", &component("nightly-export", "bindings.cron", &[value("schedule", "@every 1s")]));
    dir.write("sqs.yaml", &emulator.component("task-events", "bindings.aws.sqs", &[("queueName", &queue)]));
    dir.write(
        "webhook.yaml",
        &component(
            "github-webhook",
            "bindings.http",
            &[
                value("direction", "input"),
                value("signatureScheme", "github"),
                secret("signatureSecret", "GITHUB_WEBHOOK_SECRET"),
            ],
        ),
    );
    // The monitoring webhook the tutorial's http-binding notifies, here a
    // recording server on loopback instead of the example's 127.0.0.1:8089.
    let monitoring = RecordingApp::start().await;
    let monitoring_url = format!("{}/webhooks", monitoring.url());
    let http_binding = [value("url", &monitoring_url), value("direction", "output")];
    dir.write("http-binding.yaml", &component("http-binding", "bindings.http", &http_binding));
    let reports = data.join("reports").display().to_string();
    let mail = data.join("mail").display().to_string();
    dir.write("reports.yaml", &component("reports", "bindings.localstorage", &[value("rootPath", &reports)]));
    dir.write(
        "mail.yaml",
        &component(
            "notifications",
            "bindings.local.mailbox",
            &[value("rootPath", &mail), value("emailFrom", "app@example.com"), value("emailTo", "ops@example.com")],
        ),
    );

    let ports = ports();
    let python = python::python();
    let app_py = example("app.py");
    let mut bindery = run(&dir, &ports, &[python.to_str().unwrap(), app_py.to_str().unwrap()]);
    assert!(
        bindery.wait_for_output("the app listens on", Duration::from_secs(40)).await,
        "the app did not start:\n{}",
        bindery.logs()
    );

    // Cron fires, and the app's cleanup reaches the output API through the SDK.
    assert!(bindery.wait_for_output("cron-binding", Duration::from_secs(20)).await, "{}", bindery.logs());
    let report_written = async {
        for _ in 0..200 {
            let written = std::fs::read_dir(data.join("reports/cleanup")).map(|d| d.count()).unwrap_or(0);
            let mailed = std::fs::read_dir(data.join("mail")).map(|d| d.count()).unwrap_or(0);
            if written > 0 && mailed > 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    assert!(report_written.await, "no report or mail written:\n{}", bindery.logs());
    assert!(bindery.logs().contains("nightly-export: the app has not subscribed"), "{}", bindery.logs());

    // SQS: two tasks and one message that is not a task.
    for body in [r#"{"title":"from sqs 1"}"#, "not a task", r#"{"title":"from sqs 2"}"#] {
        sqs.send_message().queue_url(&queue_url).message_body(body).send().await.unwrap();
    }
    let app = format!("http://127.0.0.1:{}", ports.app);
    let mut titles = Vec::new();
    for _ in 0..100 {
        let (_, body) = get(&format!("{app}/tasks")).await;
        let tasks: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        titles =
            tasks.as_array().into_iter().flatten().filter_map(|t| t["title"].as_str().map(str::to_owned)).collect();
        if titles.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    titles.sort();
    assert_eq!(titles, ["from sqs 1", "from sqs 2"], "{}", bindery.logs());
    // The acked two are deleted; the rejected one waits out its visibility timeout.
    let mut counts = (0, 0);
    for _ in 0..50 {
        counts = emulator.queue_counts(&queue_url).await;
        if counts == (0, 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(counts, (0, 1), "(visible, in flight) on the queue\n{}", bindery.logs());

    // The webhook: verified, forwarded, the app's answer relayed.
    let body = r#"{"ref":"refs/heads/main"}"#;
    let signature = github_signature(body.as_bytes());
    let hook = format!("http://127.0.0.1:{}/github-webhook", ports.webhook);
    let headers = [("X-Hub-Signature-256", signature.as_str()), ("X-GitHub-Event", "push")];
    let (status, answer) = post(&hook, &headers, body).await;
    assert_eq!((status, answer.as_str()), (200, r#"{"received":"push","bytes":25}"#));
    let (forged, _) = post(&hook, &[("X-Hub-Signature-256", "sha256=00"), ("X-GitHub-Event", "push")], body).await;
    assert_eq!(forged, 401);
    let (_, received) = get(&format!("{app}/webhooks")).await;
    assert_eq!(received, r#"[{"event":"push","bytes":25}]"#);

    // A task completed: the app saves it and notifies the monitoring webhook
    // through the http-binding output (DaprClient().invoke_binding).
    let json = [("Content-Type", "application/json")];
    let (status, created) = post(&format!("{app}/tasks"), &json, r#"{"title":"write the report"}"#).await;
    assert_eq!(status, 201, "{created}");
    let id = serde_json::from_str::<serde_json::Value>(&created).unwrap()["id"].clone();
    let (status, completed) = post(&format!("{app}/tasks/{id}/complete"), &[], "").await;
    assert_eq!(status, 200, "{completed}\n{}", bindery.logs());
    let task = serde_json::json!({"id": id, "title": "write the report", "done": true});
    assert_eq!(serde_json::from_str::<serde_json::Value>(&completed).unwrap(), task);
    let notified = monitoring.wait_for_requests(1, 10 * SECOND).await;
    assert_eq!(notified.len(), 1, "the monitoring webhook got {notified:?}\n{}", bindery.logs());
    assert_eq!((notified[0].method.as_str(), notified[0].path.as_str()), ("POST", "/webhooks"));
    assert_eq!(notified[0].json(), serde_json::json!({"event": "task.completed", "task": task}));

    // Ctrl-C: bindery stops, and the app with it.
    bindery.interrupt();
    let status = bindery.wait_exit(Duration::from_secs(20)).await.expect("bindery stops on Ctrl-C");
    assert!(status.success(), "{status:?}\n{}", bindery.logs());
    assert!(std::net::TcpStream::connect(("127.0.0.1", ports.app)).is_err(), "the app still listens");
    assert!(!bindery.logs().contains("nightly-export  "), "the unsubscribed binding fired:\n{}", bindery.logs());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_that_exits_before_it_listens_is_one_clear_line() {
    let dir = ComponentsDir::with("cron.yaml", &cron_component("cron-binding", "@every 1s", &[]));
    let mut bindery = run(&dir, &ports(), &["sh", "-c", "echo starting; exit 3"]);
    let status = bindery.wait_exit(Duration::from_secs(20)).await.expect("bindery exits");
    assert_eq!(status.code(), Some(1), "{}", bindery.logs());
    let logs = bindery.logs();
    let failure: Vec<&str> = logs.lines().filter(|l| l.starts_with("bindery: ")).collect();
    assert_eq!(failure.len(), 1, "{logs}");
    let expected = "the app (sh -c 'echo starting; exit 3') exited with status 3 before it was ready";
    assert!(failure[0].contains(expected), "{logs}");
}

/// daprd reads a schedule without `CRON_TZ=` in its machine's zone (Go's
/// `time.Local`, from `TZ`), and every cron event's `timeZone` names that
/// zone, whatever the schedule's own. Kathmandu is UTC+05:45, so local noon
/// is no whole hour of UTC: the start-up line shows the first fire.
#[tokio::test(flavor = "multi_thread")]
async fn bindery_run_fires_schedules_without_a_zone_in_the_local_time_zone() {
    let app = RecordingApp::start().await;
    let dir = ComponentsDir::new();
    dir.write("noon.yaml", &cron_component("noon", "0 0 12 * * *", &[]));
    dir.write("tick.yaml", &cron_component("tick", "* * * * * *", &[]));
    dir.write("tokyo-tick.yaml", &cron_component("tokyo-tick", "CRON_TZ=Asia/Tokyo * * * * * *", &[]));
    let (bindery, _) = bindery_run(&dir, &app.url(), &[("TZ", "Asia/Kathmandu")], "tokyo-tick: cron").await;

    let logs = bindery.logs();
    let noon = logs.lines().find(|l| l.contains("noon: cron")).unwrap_or_default();
    assert!(noon.ends_with(" 12:00:00 +05:45 (Asia/Kathmandu)"), "{logs}");
    let tokyo = logs.lines().find(|l| l.contains("tokyo-tick: cron")).unwrap_or_default();
    assert!(tokyo.ends_with(" +09:00 (Asia/Tokyo)"), "{logs}");

    let paths = ["/tick", "/tokyo-tick"];
    let mut requests = Vec::new();
    for _ in 0..100 {
        requests = app.wait_for_requests(requests.len() + 1, SECOND).await;
        if paths.iter().all(|path| requests.iter().any(|r| r.path == *path)) {
            break;
        }
    }
    for path in paths {
        let request = requests.iter().find(|r| r.path == path);
        let request = request.unwrap_or_else(|| panic!("{path} did not fire: {}", bindery.logs()));
        assert_eq!(request.header("timezone"), Some("Asia/Kathmandu"), "{path}: {request:?}");
    }

    // One line per event, binding, source, outcome and latency, without
    // colour: the output is a pipe, not a terminal.
    assert!(bindery.wait_for_output("cron     ✓ acked", 10 * SECOND).await, "{}", bindery.logs());
    let logs = bindery.logs();
    let event = logs.lines().find(|l| l.contains("  tick  ") && l.contains("✓ acked")).unwrap_or_default();
    assert!(event.ends_with(" ms"), "{logs}");
    assert!(!logs.contains('\u{1b}'), "colour codes in piped output: {logs:?}");
}

/// An SQS component with `direction: output` is an output binding only:
/// `bindery run` never reads its queue, while it polls the input one.
#[tokio::test(flavor = "multi_thread")]
async fn bindery_run_does_not_poll_an_sqs_binding_whose_direction_is_output() {
    let emulator = Emulator::from_env();
    let sqs = emulator.sqs().await;
    let mut urls = Vec::new();
    let (inbox, outbox) = (emulator.unique("run-inbox"), emulator.unique("run-outbox"));
    for queue in [&inbox, &outbox] {
        urls.push(sqs.create_queue().queue_name(queue).send().await.unwrap().queue_url.unwrap());
    }
    let (inbox_url, outbox_url) = (&urls[0], &urls[1]);
    sqs.send_message().queue_url(outbox_url).message_body("for another consumer").send().await.unwrap();
    let app = RecordingApp::start().await;
    let dir = ComponentsDir::new();
    let input = [("queueName", inbox.as_str()), ("direction", "input")];
    dir.write("inbox.yaml", &emulator.component("inbox", "bindings.aws.sqs", &input));
    let output = [("queueName", outbox.as_str()), ("direction", "output")];
    dir.write("outbox.yaml", &emulator.component("outbox", "bindings.aws.sqs", &output));
    let (bindery, _) = bindery_run(&dir, &app.url(), &[], "inbox: polling SQS").await;

    // The input queue is polled: its message reaches the app.
    sqs.send_message().queue_url(inbox_url).message_body("for the app").send().await.unwrap();
    let delivered = app.wait_for_requests(1, 20 * SECOND).await;
    assert_eq!(delivered.len(), 1, "{}", bindery.logs());
    assert_eq!((delivered[0].path.as_str(), &delivered[0].body[..]), ("/inbox", &b"for the app"[..]));

    // The output one is served by the output API, and its message was never received.
    let logs = bindery.logs();
    assert!(logs.contains("(1 output binding(s))") && !logs.contains("outbox: polling"), "{logs}");
    assert_eq!(emulator.queue_counts(outbox_url).await, (1, 0), "(visible, in flight) on the output queue\n{logs}");
    assert!(app.requests().iter().all(|r| r.path != "/outbox"), "{:?}", app.requests());
}

/// A FIFO message whose attribute holds CR/LF (SQS allows it) is delivered,
/// and so is the next message of its group: no value blocks a group.
#[tokio::test(flavor = "multi_thread")]
async fn bindery_run_delivers_a_fifo_message_with_control_characters_in_an_attribute_and_the_next_in_its_group() {
    use aws_sdk_sqs::types::MessageAttributeValue;
    let emulator = Emulator::from_env();
    let sqs = emulator.sqs().await;
    let queue = format!("{}.fifo", emulator.unique("run-odd"));
    let created = sqs
        .create_queue()
        .queue_name(&queue)
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
        .send()
        .await
        .unwrap();
    let queue_url = created.queue_url.unwrap();
    let odd = "line 1\r\nline 2\t";
    let note = MessageAttributeValue::builder().data_type("String").string_value(odd).build().unwrap();
    let first = sqs.send_message().queue_url(&queue_url).message_group_id("G").message_body("first");
    first.message_attributes("note", note).send().await.unwrap();
    sqs.send_message().queue_url(&queue_url).message_group_id("G").message_body("second").send().await.unwrap();

    let app = RecordingApp::start().await;
    let dir = ComponentsDir::new();
    dir.write(
        "orders.yaml",
        &emulator.component("orders", "bindings.aws.sqs", &[("queueName", &queue), ("direction", "input")]),
    );
    let (bindery, _) = bindery_run(&dir, &app.url(), &[], "orders: polling SQS").await;

    let delivered = app.wait_for_requests(2, 20 * SECOND).await;
    let bodies: Vec<&[u8]> = delivered.iter().map(|r| &r.body[..]).collect();
    assert_eq!(bodies, [&b"first"[..], &b"second"[..]], "{}", bindery.logs());
    assert_eq!(metadata_value(&delivered[0], "attr-note").as_deref(), Some(odd), "{:?}", delivered[0].headers);
    let mut counts = (1, 1);
    for _ in 0..50 {
        counts = emulator.queue_counts(&queue_url).await;
        if counts == (0, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(counts, (0, 0), "(visible, in flight): both acknowledged and deleted\n{}", bindery.logs());
}

/// The app gets Dapr's variables and bindery's environment, less what only a
/// Lambda runtime client may use (should `bindery run` itself run where one
/// is set, under `sam local` or `cargo lambda watch`, say).
#[tokio::test(flavor = "multi_thread")]
async fn the_app_gets_dapr_s_variables_and_not_the_lambda_runtime_api() {
    let dir = ComponentsDir::new();
    let recorded = dir.path().join("app.env");
    let (components, ports) = (dir.path_str(), ports());
    let (http, grpc) = (ports.http.to_string(), ports.grpc.to_string());
    let line = format!("env > {}", recorded.display());
    let args =
        ["run", "--components", &components, "--http-port", &http, "--grpc-port", &grpc, "--", "sh", "-c", &line];
    let env = [("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"), ("_HANDLER", "bootstrap"), ("AWS_REGION", "eu-west-1")];
    let mut bindery = FunctionProcess::command(&debug_bin("bindery"), &args, &env);

    let status = bindery.wait_exit(20 * SECOND).await.expect("bindery exits with its app");

    assert!(status.success(), "{}", bindery.logs());
    let text = std::fs::read_to_string(&recorded).unwrap();
    let vars: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let get = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    assert_eq!(get("AWS_LAMBDA_RUNTIME_API"), None, "{text}");
    assert_eq!(get("_HANDLER"), None, "{text}");
    assert_eq!((get("AWS_REGION"), get("DAPR_HTTP_PORT")), (Some("eu-west-1"), Some(http.as_str())), "{text}");
    assert_eq!(get("DAPR_GRPC_PORT"), Some(grpc.as_str()), "{text}");
}

/// A schedule that names no existing day (`0 0 30 2 *`, February 30th) is
/// valid Dapr grammar and never fires, as in daprd. Its cron task used to
/// end at once, and `bindery run` took any ended task for a failure: it
/// stopped everything, its other bindings included ("a bindery task
/// stopped unexpectedly").
#[tokio::test(flavor = "multi_thread")]
async fn a_schedule_that_never_fires_leaves_the_other_bindings_running() {
    let app = RecordingApp::start().await;
    let dir = ComponentsDir::new();
    dir.write("never.yaml", &cron_component("never", "0 0 30 2 *", &[]));
    dir.write("tick.yaml", &cron_component("tick", "* * * * * *", &[]));
    let (mut bindery, _) = bindery_run(&dir, &app.url(), &[], "tick: cron").await;

    let requests = app.wait_for_requests(2, 10 * SECOND).await;
    assert!(requests.len() >= 2 && requests.iter().all(|r| r.path == "/tick"), "{}", bindery.logs());
    assert!(bindery.wait_exit(Duration::ZERO).await.is_none(), "bindery stopped: {}", bindery.logs());
    assert!(bindery.logs().contains("never: cron \"0 0 30 2 *\" -> POST /never, next never"), "{}", bindery.logs());
}
