//! What the co-located app's process gets from the function that starts it
//! (`BINDERY_APP_CMD`): the function's environment less the variables only
//! Lambda's runtime client may use, and, when the function is process 1 of
//! its PID namespace (a container image's entrypoint), a parent that reaps
//! the orphans the app leaves, without taking the app's own exit from the
//! function.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::common::colocated_app::{PythonApp, as_strs};
use crate::common::{ComponentsDir, Running, SECOND, XRAY_TRACE, sqs_component, sqs_record};
use bindery_e2e::InvokeOptions;
use serde_json::json;

/// Leaves `$2` orphans: each is started from a subshell that exits at once,
/// waits until it has been handed to process 1, writes that parent's pid to
/// `$1/orphan-<n>` and exits, to be reaped by process 1 or stay a zombie.
const LEAVE_ORPHANS: &str = r#"i=0
while [ "$i" -lt "$2" ]; do
  i=$((i + 1))
  ( sh -c 'while read -r _ _ _ parent _ < /proc/$$/stat && [ "$parent" != 1 ]; do sleep 0.05; done
           echo "$parent" > "$1.tmp" && mv "$1.tmp" "$1"' orphan "$1/orphan-$i" & )
done
"#;
const ORPHANS: usize = 3;

/// Runs the function as process 1 of a new PID namespace (and a mount
/// namespace with that namespace's `/proc`), as a container runtime does;
/// killed with `unshare` if that dies. Needs root, as the tests run.
const AS_PROCESS_1: &[&str] = &["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"];

/// The components and environment of `bindery-sqs` serving `task-events`.
fn sqs_env(mut env: Vec<(String, String)>) -> (ComponentsDir, Vec<(String, String)>) {
    env.push(("BINDERY_BINDING".into(), "task-events".into()));
    (ComponentsDir::with("task-events.yaml", &sqs_component("task-events")), env)
}

/// `NAME=value` lines as `env` prints them (no value here holds a newline).
fn read_env(text: &str) -> HashMap<String, String> {
    text.lines().filter_map(|line| line.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

#[tokio::test]
async fn the_app_gets_the_function_environment_less_what_only_the_runtime_may_use() {
    let app = PythonApp::new();
    let recorded = app.file("app.env");
    let task_root = app.dir().display().to_string();
    let lambda = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret-example"),
        ("AWS_SESSION_TOKEN", "token-example"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test"),
        ("LAMBDA_TASK_ROOT", task_root.as_str()),
        ("_X_AMZN_TRACE_ID", XRAY_TRACE),
        ("_HANDLER", "bootstrap"),
        ("_LAMBDA_TELEMETRY_LOG_FD", "62"),
    ];
    let env = app.env_after(&format!("env > {}", recorded.display()), &lambda);
    let (components, env) = sqs_env(env);
    let f = Running::start("bindery-sqs", components, &as_strs(&env)).await;

    let event = json!({"Records": [sqs_record("m-1", "one")]});
    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(response, json!({"batchItemFailures": []}), "the app serves, started this way");
    let vars = read_env(&std::fs::read_to_string(&recorded).unwrap());
    // The Runtime API is the function's: an app that found it could take invocations.
    for name in ["AWS_LAMBDA_RUNTIME_API", "_HANDLER", "_LAMBDA_TELEMETRY_LOG_FD"] {
        assert_eq!(vars.get(name), None, "{name} reached the app: {vars:?}");
    }
    let kept = lambda.iter().filter(|(name, _)| !["_HANDLER", "_LAMBDA_TELEMETRY_LOG_FD"].contains(name));
    for (name, value) in kept.chain(&[("AWS_LAMBDA_FUNCTION_NAME", "test"), ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")])
    {
        assert_eq!(vars.get(*name).map(String::as_str), Some(*value), "{name}: {vars:?}");
    }
    assert_eq!(vars.get("PORT"), Some(&app.port.to_string()));
    assert_eq!(vars.get("BINDERY_BINDING").map(String::as_str), Some("task-events"));
}

/// `(pid, state, parent pid)` of every process, from `/proc`.
fn processes() -> Vec<(u32, char, u32)> {
    let entries = std::fs::read_dir("/proc").unwrap().flatten();
    let stats = entries.filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok());
    stats
        .filter_map(|stat| {
            // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
            let (pid, rest) = stat.split_once(" (")?;
            let mut fields = rest.rsplit_once(") ")?.1.split_whitespace();
            let state = fields.next()?.chars().next()?;
            Some((pid.parse().ok()?, state, fields.next()?.parse().ok()?))
        })
        .collect()
}

fn children(parent: u32) -> Vec<(u32, char)> {
    processes().into_iter().filter(|p| p.2 == parent).map(|(pid, state, _)| (pid, state)).collect()
}

#[tokio::test]
async fn as_process_1_the_function_reaps_the_orphans_of_its_app_but_not_the_app() {
    let app = PythonApp::new();
    std::fs::write(app.file("leave_orphans.sh"), LEAVE_ORPHANS).unwrap();
    let first = format!("sh {} {} {ORPHANS}", app.file("leave_orphans.sh").display(), app.dir().display());
    let (components, env) = sqs_env(app.env_after(&first, &[("APP_MODE", "die-on-post")]));
    let mut f = Running::start_by(AS_PROCESS_1, "bindery-sqs", components, &as_strs(&env)).await;
    let launcher = children(f.function.pid());
    let [(init, _)] = launcher[..] else { panic!("unshare has {launcher:?} as children, not the function") };

    // Each orphan saw process 1 (the function) become its parent.
    let reports: Vec<_> = (1..=ORPHANS).map(|n| app.file(&format!("orphan-{n}"))).collect();
    let give_up = Instant::now() + 10 * SECOND;
    while !reports.iter().all(|r| r.exists()) && Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for report in &reports {
        let parent = std::fs::read_to_string(report).unwrap_or_default();
        assert_eq!(parent.trim(), "1", "{}: the app's orphans never reached process 1", report.display());
    }

    // They exit then: none may stay behind as a zombie, only the app is left.
    let give_up = Instant::now() + 5 * SECOND;
    let left = loop {
        let left = children(init);
        if matches!(left[..], [(_, state)] if state != 'Z') || Instant::now() >= give_up {
            break left;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let zombies: Vec<u32> = left.iter().filter(|c| c.1 == 'Z').map(|c| c.0).collect();
    assert!(zombies.is_empty(), "zombies left under the function (pid {init} outside its namespace): {zombies:?}");
    assert_eq!(left.len(), 1, "the function should have the app as its one child: {left:?}");

    // The app's own exit is still the function's to observe and report.
    let event = json!({"Records": [sqs_record("m-1", "one")]});
    let wait = InvokeOptions { wait: 3 * SECOND, ..Default::default() };
    let (outcome, status) = tokio::join!(f.api.try_invoke(event.to_string(), wait), f.function.wait_exit(10 * SECOND));
    assert_eq!(status.expect("the function went on after its app died").code(), Some(1));
    assert!(outcome.is_err(), "the event was answered although the app died handling it");
    let logs = f.function.logs();
    let command = format!("{first}; exec {}", app.command());
    assert!(logs.contains(&format!("the app ({command}) exited with status 7 after it was ready")), "{logs}");
}
