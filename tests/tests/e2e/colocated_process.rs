//! What the co-located app's process gets from the function that starts it
//! (`BINDERY_APP_CMD`): the function's environment less the variables only
//! Lambda's runtime client may use.

use std::collections::HashMap;

use crate::common::colocated_app::{PythonApp, as_strs};
use crate::common::{ComponentsDir, Running, XRAY_TRACE, sqs_component, sqs_record};
use bindery_e2e::InvokeOptions;
use serde_json::json;

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
