//! The functions under cargo-lambda's own Runtime API emulator, as a new
//! user runs them: `cargo lambda watch --only-lambda-apis`, the release
//! binary started with the variables it prints, a recording app, and
//! `cargo lambda invoke --data-file` with an event `bindery events` wrote.
//!
//! The emulator differs from Lambda in two ways bindery must bear: it sets
//! `AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:PORT/.rt` (a scheme and a path
//! prefix), and it sends `lambda-runtime-deadline-ms: 600000`, its timeout,
//! where Lambda sends an epoch time.

use std::path::PathBuf;

use bindery_e2e::cargo_lambda::{Invoked, LambdaWatch};
use bindery_e2e::{FunctionProcess, RecordingApp, Reply, debug_bin, example_bin, release_bin, unused_port};
use serde_json::{Value, json};

use crate::common::webhook::{BODY, SECRET, github_signature};
use crate::common::{ComponentsDir, component, cron_component, secret, sqs_component, value};

/// An event written by `bindery events ARGS...`, in a file of `dir`.
fn bindery_events(dir: &ComponentsDir, name: &str, args: &[&str]) -> (PathBuf, Value) {
    let output = std::process::Command::new(debug_bin("bindery"))
        .arg("events")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run bindery events: {e}"));
    assert!(output.status.success(), "bindery events {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    let event: Value = serde_json::from_slice(&output.stdout).expect("bindery events prints JSON");
    let path = dir.path().join(name);
    std::fs::write(&path, &output.stdout).expect("write the event file");
    (path, event)
}

/// The emulator, and `bin` started under it serving `binding` from `components`.
async fn under_cargo_lambda(
    bin: PathBuf,
    components: &ComponentsDir,
    env: &[(&str, &str)],
) -> (LambdaWatch, FunctionProcess) {
    let watch = LambdaWatch::start().await;
    let dir = components.path_str();
    let mut vars = vec![("BINDERY_COMPONENTS", dir.as_str())];
    vars.extend_from_slice(env);
    let function = watch.spawn(&bin, &vars);
    (watch, function)
}

/// Panics with both tools' output unless `invoked` is the function's answer.
fn answer(invoked: &Invoked, function: &FunctionProcess, watch: &LambdaWatch) -> Value {
    if !invoked.0.status.success() {
        panic!(
            "cargo lambda invoke failed:\n{}\n{}\n--- function:\n{}\n--- emulator:\n{}",
            invoked.stdout(),
            invoked.stderr(),
            function.logs(),
            watch.logs()
        );
    }
    invoked.response()
}

#[tokio::test]
async fn cron_delivers_and_a_failed_delivery_is_an_invocation_error() {
    let app = RecordingApp::start().await;
    let components = ComponentsDir::with("cron-binding.yaml", &cron_component("cron-binding", "@daily", &[]));
    let url = app.url();
    let env = [("BINDERY_BINDING", "cron-binding"), ("BINDERY_APP_URL", url.as_str())];
    let (watch, function) = under_cargo_lambda(release_bin("bindery-cron"), &components, &env).await;
    let (event, input) = bindery_events(&components, "schedule.json", &["schedule", "--binding", "cron-binding"]);

    let invoked = watch.invoke(&event).await;
    assert_eq!(answer(&invoked, &function, &watch), Value::Null);
    let requests = app.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!((requests[0].method.as_str(), requests[0].path.as_str()), ("POST", "/cron-binding"));
    assert_eq!(requests[0].header("executionid"), input["executionId"].as_str());

    app.set_reply(|_| Reply::Status(500));
    let invoked = watch.invoke(&event).await;
    assert!(!invoked.0.status.success(), "a failed delivery must fail the invoke: {}", invoked.stdout());
    let said = format!("{}{}", invoked.stdout(), invoked.stderr());
    assert!(
        said.contains("Bindery.AppRejected") && said.contains("the app answered 500"),
        "the error names the failure:\n{said}"
    );
    assert_eq!(app.requests().len(), 2, "the second run was delivered, and failed");
    assert!(!function.logs().contains("Bindery.Timeout"), "{}", function.logs());
}

#[tokio::test]
async fn sqs_answers_with_the_records_the_app_failed() {
    let app = RecordingApp::start().await;
    let components = ComponentsDir::with("task-events.yaml", &sqs_component("task-events"));
    let url = app.url();
    let env = [("BINDERY_BINDING", "task-events"), ("BINDERY_APP_URL", url.as_str())];
    let (watch, function) = under_cargo_lambda(release_bin("bindery-sqs"), &components, &env).await;
    let (event, batch) = bindery_events(&components, "sqs.json", &["sqs", "--count", "3"]);
    let ids: Vec<String> =
        batch["Records"].as_array().unwrap().iter().map(|r| r["messageId"].as_str().unwrap().to_owned()).collect();
    let failing = ids[1].clone();
    app.set_reply(
        move |r| if r.header("messageid") == Some(&failing) { Reply::Status(500) } else { Reply::Status(200) },
    );

    let invoked = watch.invoke(&event).await;

    let response = answer(&invoked, &function, &watch);
    assert_eq!(response, json!({"batchItemFailures": [{"itemIdentifier": ids[1]}]}));
    let mut delivered: Vec<String> =
        app.requests().iter().map(|r| r.header("messageid").unwrap_or_default().to_owned()).collect();
    delivered.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(delivered, expected, "each record delivered once");
    assert!(app.requests().iter().all(|r| r.path == "/task-events" && r.method == "POST"));
}

#[tokio::test]
async fn webhook_relays_a_signed_delivery_and_refuses_a_forged_one() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| Reply::StatusBody(202, vec![], "queued".into()));
    let items =
        [value("direction", "input"), value("signatureScheme", "github"), secret("signatureSecret", "GITHUB_SECRET")];
    let components = ComponentsDir::with("github-webhook.yaml", &component("github-webhook", "bindings.http", &items));
    let url = app.url();
    let env = [("BINDERY_BINDING", "github-webhook"), ("BINDERY_APP_URL", url.as_str()), ("GITHUB_SECRET", SECRET)];
    let (watch, function) = under_cargo_lambda(release_bin("bindery-webhook"), &components, &env).await;
    let signed = format!("x-hub-signature-256={}", github_signature(BODY.as_bytes()));
    let (event, _) = bindery_events(&components, "signed.json", &["webhook", "--body", BODY, "--header", &signed]);
    let forged = format!("x-hub-signature-256=sha256={}", "0".repeat(64));
    let (forged, _) = bindery_events(&components, "forged.json", &["webhook", "--body", BODY, "--header", &forged]);

    let response = answer(&watch.invoke(&event).await, &function, &watch);
    assert_eq!(response["statusCode"], json!(202), "{response}");
    assert_eq!(response["body"], json!("queued"), "{response}");
    let requests = app.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/github-webhook");
    assert_eq!(requests[0].body, BODY.as_bytes());

    let response = answer(&watch.invoke(&forged).await, &function, &watch);
    assert_eq!(response["statusCode"], json!(401), "{response}");
    assert_eq!(app.requests().len(), 1, "a forged delivery never reaches the app");
}

/// The example's one binary, its router in-process, serving the queue.
#[tokio::test]
async fn task_api_lambda_answers_the_emulator() {
    let components = ComponentsDir::with("task-events.yaml", &sqs_component("task-events"));
    let url = format!("http://127.0.0.1:{}", unused_port());
    let env = [("BINDERY_BINDING", "task-events"), ("BINDERY_APP_URL", url.as_str())];
    let (watch, function) = under_cargo_lambda(example_bin("task-api-lambda"), &components, &env).await;
    let (tasks, _) = bindery_events(&components, "tasks.json", &["sqs", "--count", "2"]);
    let (junk, batch) = bindery_events(&components, "junk.json", &["sqs", "--body", "not a task"]);

    let response = answer(&watch.invoke(&tasks).await, &function, &watch);
    assert_eq!(response, json!({"batchItemFailures": []}));

    // The Task API answers 400 to what is not a task: that record alone is retried.
    let response = answer(&watch.invoke(&junk).await, &function, &watch);
    let id = batch["Records"][0]["messageId"].clone();
    assert_eq!(response, json!({"batchItemFailures": [{"itemIdentifier": id}]}));
}
