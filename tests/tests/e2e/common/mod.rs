//! Shared pieces of the end-to-end tests: a temporary components directory,
//! Component YAML builders, starting a real function binary against the Runtime
//! API emulator, and log checks. Each test module uses only part of it.

pub(crate) mod colocated_app;
pub(crate) mod raw_post;
pub(crate) mod webhook;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bindery_e2e::{
    FunctionProcess, InvocationError, InvokeOptions, RecordingApp, RuntimeApi, example_bin, release_bin,
};

pub(crate) const SECOND: Duration = Duration::from_secs(1);

/// The id the emulator gives its first invocation (each test has its own emulator).
pub(crate) const FIRST_REQUEST_ID: &str = "00000000-0000-4000-8000-000000000001";

/// An X-Ray trace header as Lambda sends it, and the `traceparent` it becomes.
pub(crate) const XRAY_TRACE: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
pub(crate) const TRACEPARENT: &str = "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01";

/// A components directory of its own, removed on drop.
pub(crate) struct ComponentsDir(PathBuf);

impl ComponentsDir {
    pub(crate) fn new() -> ComponentsDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("bindery-e2e-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the components directory");
        ComponentsDir(dir)
    }

    /// A directory holding one file, `file`, with `yaml` in it.
    pub(crate) fn with(file: &str, yaml: &str) -> ComponentsDir {
        let dir = ComponentsDir::new();
        dir.write(file, yaml);
        dir
    }

    pub(crate) fn write(&self, file: &str, yaml: &str) -> PathBuf {
        let path = self.0.join(file);
        std::fs::write(&path, yaml).expect("write a component file");
        path
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    pub(crate) fn path_str(&self) -> String {
        self.0.to_str().expect("temp paths are UTF-8").to_owned()
    }
}

impl Drop for ComponentsDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `metadata` item with a plain value (YAML double-quoted, JSON escapes).
pub(crate) fn value(name: &str, value: &str) -> String {
    format!("  - name: {name}\n    value: {}\n", serde_json::Value::from(value))
}

/// A `metadata` item read from the environment secret store.
pub(crate) fn secret(name: &str, env_var: &str) -> String {
    format!("  - name: {name}\n    secretKeyRef:\n      name: {env_var}\n      key: {env_var}\n")
}

/// One Component document.
pub(crate) fn component(name: &str, type_: &str, items: &[String]) -> String {
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {type_}\n  \
         version: v1\n  metadata:\n{}",
        items.concat()
    )
}

/// A cron input binding.
pub(crate) fn cron_component(name: &str, schedule: &str, extra: &[String]) -> String {
    let mut items = vec![value("schedule", schedule), value("direction", "input")];
    items.extend_from_slice(extra);
    component(name, "bindings.cron", &items)
}

/// An SQS input binding.
pub(crate) fn sqs_component(name: &str) -> String {
    component(name, "bindings.aws.sqs", &[value("queueName", name), value("direction", "input")])
}

/// A record of the queue `task-events`, as Lambda delivers it.
pub(crate) fn sqs_record(id: &str, body: &str) -> serde_json::Value {
    serde_json::json!({
        "messageId": id,
        "receiptHandle": format!("AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a-{id}"),
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:task-events",
        "awsRegion": "us-east-1"
    })
}

/// `bindery-sqs` serving the queue `task-events` to the app at `app_url`, plus `env`.
pub(crate) async fn start_sqs(app_url: &str, env: &[(&str, &str)]) -> Running {
    let components = ComponentsDir::with("task-events.yaml", &sqs_component("task-events"));
    let mut vars = vec![("BINDERY_BINDING", "task-events"), ("BINDERY_APP_URL", app_url)];
    vars.extend_from_slice(env);
    Running::start("bindery-sqs", components, &vars).await
}

/// A function binary running against its own Runtime API emulator, already polling `/next`.
pub(crate) struct Running {
    pub(crate) api: RuntimeApi,
    pub(crate) function: FunctionProcess,
    /// Held, not read: the directory must outlive the process that loads it.
    _components: ComponentsDir,
}

impl Running {
    /// Starts `bin` with `BINDERY_COMPONENTS` = `components` and `env`; panics (with
    /// its output) if it does not poll `/next` within 10 s.
    pub(crate) async fn start(bin: &str, components: ComponentsDir, env: &[(&str, &str)]) -> Running {
        Self::start_by(&[], bin, components, env).await
    }

    /// [`Self::start`], with `bin` started by `launcher` (see [`FunctionProcess::spawn_by`]).
    pub(crate) async fn start_by(
        launcher: &[&str],
        bin: &str,
        components: ComponentsDir,
        env: &[(&str, &str)],
    ) -> Running {
        let (api, function, components) = spawn_by(launcher, bin, components, env).await;
        if api.wait_for_next_poll(10 * SECOND).await.is_none() {
            panic!("{bin} did not poll /next within 10 s; init errors: {:?}\n{}", api.init_errors(), function.logs());
        }
        Running { api, function, _components: components }
    }

    pub(crate) async fn invoke(&self, event: &serde_json::Value, opts: InvokeOptions) -> bindery_e2e::Outcome {
        self.api.invoke(event.to_string(), opts).await
    }
}

/// Spawns `bin` against a fresh emulator without waiting for anything.
pub(crate) async fn spawn(
    bin: &str,
    components: ComponentsDir,
    env: &[(&str, &str)],
) -> (RuntimeApi, FunctionProcess, ComponentsDir) {
    spawn_by(&[], bin, components, env).await
}

/// [`spawn`], with `bin` started by `launcher` (see [`FunctionProcess::spawn_by`]).
pub(crate) async fn spawn_by(
    launcher: &[&str],
    bin: &str,
    components: ComponentsDir,
    env: &[(&str, &str)],
) -> (RuntimeApi, FunctionProcess, ComponentsDir) {
    let api = RuntimeApi::start().await;
    let dir = components.path_str();
    let mut vars: Vec<(&str, &str)> = vec![("BINDERY_COMPONENTS", dir.as_str())];
    vars.extend_from_slice(env);
    // The functions are tested as released; the examples are built in debug.
    let path = if bin.starts_with("bindery-") { release_bin(bin) } else { example_bin(bin) };
    let function = FunctionProcess::spawn_by(launcher, &path, &api, &vars);
    (api, function, components)
}

/// Invoke options with the given deadline (ms) and the default wait.
pub(crate) fn deadline_ms(ms: u64) -> InvokeOptions {
    InvokeOptions { deadline: Duration::from_millis(ms), ..Default::default() }
}

/// Checks a function error report: `errorType` in the body, and a message.
pub(crate) fn assert_error(error: &InvocationError, error_type: &str) {
    assert_eq!(error.body_error_type(), Some(error_type), "error report: {error:?}");
    assert!(error.error_message().is_some_and(|m| !m.is_empty()), "no errorMessage: {error:?}");
}

/// The app got nothing, even after a short grace period for late requests.
pub(crate) async fn assert_no_requests(app: &RecordingApp) {
    let late = app.wait_for_requests(1, Duration::from_millis(300)).await;
    assert!(late.is_empty(), "the app should have received nothing, got {late:?}");
}

/// Every stdout/stderr line is a JSON object: a log line with Powertools'
/// keys, or EMF metrics; some line carries `request_id` as its
/// `function_request_id`; none contains any of `forbidden`. Waits up to 5 s
/// for that line: the output is captured by a reader thread, a little after
/// it is written.
pub(crate) async fn assert_json_logs(function: &FunctionProcess, request_id: &str, forbidden: &[&str]) {
    let in_span = |line: &serde_json::Value| line["function_request_id"] == request_id;
    let give_up = Instant::now() + 5 * SECOND;
    let (logs, lines) = loop {
        let logs = function.logs();
        let lines: Vec<serde_json::Value> = logs
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .filter(serde_json::Value::is_object)
                    .unwrap_or_else(|| panic!("log line is not a JSON object: {line:?}\nall logs:\n{logs}"))
            })
            .collect();
        if lines.iter().any(in_span) || Instant::now() >= give_up {
            break (logs, lines);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(lines.iter().any(in_span), "no log line has request id {request_id}:\n{logs}");
    // The rest are EMF metrics.
    for line in lines.iter().filter(|line| line.get("_aws").is_none()) {
        let keys = ["timestamp", "level", "message", "service"];
        assert!(keys.iter().all(|key| line[key].is_string()), "a line without Powertools' keys: {line}");
    }
    for needle in forbidden {
        assert!(!logs.contains(needle), "the logs contain {needle:?}:\n{logs}");
    }
}

/// The headers of a request whose names are not in `allowed`.
pub(crate) fn unexpected_headers(headers: &http::HeaderMap, allowed: &[&str]) -> Vec<String> {
    headers.keys().map(|k| k.as_str().to_owned()).filter(|k| !allowed.contains(&k.as_str())).collect()
}

/// `GET url` with curl: the status and the body.
pub(crate) async fn http_get(url: &str) -> (u16, String) {
    curl(vec![url.to_owned()]).await
}

/// `POST url` with curl: the status and the body.
pub(crate) async fn http_post(url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut args = vec!["-X".to_owned(), "POST".to_owned(), "--data-binary".to_owned(), body.to_owned()];
    for (k, v) in headers {
        args.extend(["-H".to_owned(), format!("{k}: {v}")]);
    }
    args.push(url.to_owned());
    curl(args).await
}

/// `curl` (off the async runtime): the status and the body.
pub(crate) async fn curl(mut args: Vec<String>) -> (u16, String) {
    args.extend(["-s".to_owned(), "-w".to_owned(), "\n%{http_code}".to_owned()]);
    let output = tokio::task::spawn_blocking(move || std::process::Command::new("curl").args(args).output().unwrap())
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        eprintln!("curl failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr));
    }
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap_or(0), body.to_owned())
}

/// A running `bindery sidecar` and its ports.
pub(crate) struct Sidecar {
    pub(crate) process: FunctionProcess,
    pub(crate) http_port: u16,
    pub(crate) grpc_port: u16,
}

/// `bindery invoke --components DIR args...`, with the test's environment.
pub(crate) async fn bindery_invoke(dir: &ComponentsDir, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(bindery_e2e::debug_bin("bindery"));
    command.args(["invoke", "--components", &dir.path_str()]).args(args);
    tokio::task::spawn_blocking(move || command.output().expect("run bindery invoke")).await.unwrap()
}

/// `bindery sidecar --components DIR` on ports of its own, with `env`, once it serves.
pub(crate) async fn bindery_sidecar(dir: &ComponentsDir, env: &[(&str, &str)]) -> Sidecar {
    let (http_port, grpc_port) = (bindery_e2e::unused_port(), bindery_e2e::unused_port());
    let (http, grpc) = (http_port.to_string(), grpc_port.to_string());
    let args = ["sidecar", "--components", &dir.path_str(), "--http-port", &http, "--grpc-port", &grpc];
    let process = FunctionProcess::command(&bindery_e2e::debug_bin("bindery"), &args, env);
    assert!(process.wait_for_output("bindery sidecar: output API on", 20 * SECOND).await, "{}", process.logs());
    Sidecar { process, http_port, grpc_port }
}

/// `bindery run --components DIR --app-url APP` on ports of its own, once its
/// output contains `ready`: the process and its webhook port. A port picked
/// free can be taken by a parallel test before `bindery run` binds it; that
/// start is made again on other ports.
pub(crate) async fn bindery_run(
    dir: &ComponentsDir,
    app_url: &str,
    env: &[(&str, &str)],
    ready: &str,
) -> (FunctionProcess, u16) {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (args, webhook) = bindery_e2e::bindery_run_args(&dir.path_str(), app_url);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let bindery = FunctionProcess::command(&bindery_e2e::debug_bin("bindery"), &args, env);
        if bindery.wait_for_output(ready, 20 * SECOND).await {
            return (bindery, webhook);
        }
        let taken = bindery.logs().contains("is already in use");
        assert!(taken && attempts < 3, "no {ready:?}: {}", bindery.logs());
    }
}

/// The value of a metadata item the app got: as it is, or, for an item HTTP
/// cannot carry, from its starred header (`<key>*: UTF-8''<percent-encoded>`).
pub(crate) fn metadata_value(request: &bindery_e2e::Recorded, key: &str) -> Option<String> {
    if let Some(value) = request.header(key) {
        return Some(value.to_owned());
    }
    let encoded = request.header(&format!("{key}*"))?.strip_prefix("UTF-8''")?;
    percent_encoding::percent_decode_str(encoded).decode_utf8().ok().map(|v| v.into_owned())
}
