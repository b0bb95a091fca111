//! The main job, for now: the example Task API, driven through the three real
//! function binaries by sample AWS events, on this machine, no cloud at all.
//!
//! Run with `scripts/demo` (it builds the release binaries first).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bindery_e2e::{FunctionProcess, InvokeOptions, Outcome, RecordingApp, RuntimeApi, release_bin, unused_port};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};

const SECRET: &str = "demo-secret";

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = root.join("target/demo");
    let _ = std::fs::remove_dir_all(&out);
    let monitoring = RecordingApp::start().await;
    let components = demo_components(&root, &out, &monitoring.url());

    let port = unused_port();
    let app_url = format!("http://127.0.0.1:{port}");
    let _app = KillOnDrop(
        Command::new(release_bin("task-api"))
            .env("PORT", port.to_string())
            .env("BINDERY_COMPONENTS", &components)
            // The webhook component's secretKeyRef (unused by the demo's events).
            .env("GITHUB_WEBHOOK_SECRET", "demo-secret")
            .stdout(Stdio::null())
            .spawn()
            .expect("start the task-api example"),
    );
    wait_for(&app_url).await;
    println!("task-api (the example app) listens on {app_url}; components: {}\n", components.display());

    sqs(&components, &app_url).await;
    http(&app_url, "POST", "/tasks/1/complete").await;
    println!("  app: task 1 marked done over plain HTTP; its http-binding told the monitoring webhook:");
    for request in monitoring.requests() {
        println!("    {} {} {}", request.method, request.path, String::from_utf8_lossy(&request.body));
    }
    println!();
    cron(&components, &app_url).await;
    webhook(&components, &app_url).await;
    in_process(&components).await;
    println!("the app's tasks now: {}\n", http(&app_url, "GET", "/tasks").await);
    println!("what the output bindings wrote, with no cloud at all (under {}):", out.display());
    for file in files(&out.join("reports")).into_iter().chain(files(&out.join("mail"))) {
        let shown = file.strip_prefix(&out).unwrap_or(&file).display().to_string();
        println!("  {shown} ({} bytes)", std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0));
    }
}

/// The example's local components, with the demo's monitoring receiver as the
/// http-binding's URL, the output folders under `out`, and the SQS input
/// binding from its AWS set (bindery-sqs is fed sample events, not a queue).
fn demo_components(root: &Path, out: &Path, monitoring_url: &str) -> PathBuf {
    let dir = out.join("components");
    std::fs::create_dir_all(&dir).expect("create the demo's components folder");
    let example = root.join("examples/task-api/components");
    let mut sources: Vec<PathBuf> = files(&example.join("local"));
    sources.push(example.join("aws/task-events.yaml"));
    for source in sources {
        let text = std::fs::read_to_string(&source)
            .expect("read an example component")
            .replace("http://127.0.0.1:8089/webhooks", &format!("{monitoring_url}/webhooks"))
            .replace("./local-data", &out.display().to_string());
        std::fs::write(dir.join(source.file_name().expect("a file name")), text).expect("write a demo component");
    }
    dir
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { found.extend(files(&path)) } else { found.push(path) }
    }
    found.sort();
    found
}

async fn function(bin: &str, components: &Path, binding: &str, app_url: &str) -> (RuntimeApi, FunctionProcess) {
    let api = RuntimeApi::start().await;
    let dir = components.display().to_string();
    let env = [
        ("BINDERY_COMPONENTS", dir.as_str()),
        ("BINDERY_BINDING", binding),
        ("BINDERY_APP_URL", app_url),
        ("GITHUB_WEBHOOK_SECRET", SECRET),
        ("RUST_LOG", "warn"),
        // One record at a time, so the demo's task ids come out the same every run.
        ("BINDERY_SQS_CONCURRENCY", "1"),
    ];
    let process = FunctionProcess::spawn(&release_bin(bin), &api, &env);
    (api, process)
}

async fn sqs(components: &Path, app_url: &str) {
    let (api, _process) = function("bindery-sqs", components, "task-events", app_url).await;
    let record = |id: &str, body: &str| {
        json!({"messageId": id, "receiptHandle": "AQEB...", "body": body, "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
               "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:task-events", "awsRegion": "us-east-1"})
    };
    let batch = json!({"Records": [record("m-1", r#"{"title":"write the report"}"#), record("m-2", "not a task"), record("m-3", r#"{"title":"send the invoices"}"#)]});
    let outcome = api.invoke(batch.to_string(), InvokeOptions::default()).await;
    println!("bindery-sqs: a batch of 3 SQS messages -> 3 x POST /task-events");
    println!("  Lambda gets back: {}", show(outcome));
    println!("  (m-2 is not a task: the app said 400, so SQS will redeliver it, then dead-letter it)\n");
}

async fn cron(components: &Path, app_url: &str) {
    let (api, _process) = function("bindery-cron", components, "cron-binding", app_url).await;
    let input = json!({"binding": "cron-binding", "scheduledTime": "2026-11-28T12:00:00Z", "attempt": "1"});
    let outcome = api.invoke(input.to_string(), InvokeOptions::default()).await;
    println!("bindery-cron: an EventBridge Scheduler invocation -> POST /cron-binding (empty body)");
    println!(
        "  Lambda gets back: {} (the cleanup ran, wrote its report and emailed it; a failure would be an error, so Scheduler retries)\n",
        show(outcome)
    );
}

async fn webhook(components: &Path, app_url: &str) {
    let (api, _process) = function("bindery-webhook", components, "github-webhook", app_url).await;
    let body = r#"{"ref":"refs/heads/main","commits":[]}"#;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    println!("bindery-webhook: API Gateway HTTP API events -> POST /github-webhook");
    for (label, signature) in [("signed", signature.as_str()), ("forged", "sha256=00")] {
        let event = json!({
            "version": "2.0", "routeKey": "POST /github-webhook", "rawPath": "/github-webhook", "rawQueryString": "",
            "headers": {"content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": signature},
            "requestContext": {"http": {"method": "POST", "path": "/github-webhook", "protocol": "HTTP/1.1", "sourceIp": "192.30.252.44", "userAgent": "GitHub-Hookshot"},
                               "requestId": "demo", "routeKey": "POST /github-webhook", "stage": "$default", "accountId": "123456789012", "apiId": "demo"},
            "body": body, "isBase64Encoded": false
        });
        let outcome = api.invoke(event.to_string(), InvokeOptions::default()).await;
        println!("  {label}: the caller gets {}", show(outcome));
    }
    println!();
}

async fn in_process(components: &Path) {
    let (api, _process) = function("task-api-lambda", components, "cron-binding", "http://127.0.0.1:9").await;
    let outcome = api.invoke("{}", InvokeOptions::default()).await;
    println!(
        "task-api-lambda: the same schedule, the app's router inside the function (no socket): {}\n",
        show(outcome)
    );
}

fn show(outcome: Outcome) -> String {
    match outcome {
        Outcome::Response(Value::Object(r)) if r.contains_key("statusCode") => {
            format!("{} {}", r["statusCode"], r.get("body").and_then(Value::as_str).unwrap_or(""))
        }
        Outcome::Response(v) => format!("response {v}"),
        Outcome::Error(e) => {
            format!("error {} {}", e.body_error_type().unwrap_or("?"), e.error_message().unwrap_or(""))
        }
    }
}

async fn http(base: &str, method: &str, path: &str) -> String {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let request = http::Request::builder().method(method).uri(format!("{base}{path}")).body(Default::default());
    let response = client.request(request.expect("valid request")).await.expect("the app answers");
    let body = http_body_util::BodyExt::collect(response.into_body()).await.expect("a body").to_bytes();
    String::from_utf8_lossy(&body).into_owned()
}

async fn wait_for(url: &str) {
    let addr = url.trim_start_matches("http://").to_owned();
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(&addr).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the example app did not start on {url}");
}
