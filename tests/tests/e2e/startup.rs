//! Start-up with a bad configuration, for each binary: the process reports an init
//! error naming what to fix (file, component, field), exits non-zero, and never asks
//! for an invocation.

use std::time::Duration;

use crate::common::{ComponentsDir, SECOND, component, cron_component, secret, spawn, sqs_component, value};

/// Runs `bin` and expects it to fail at init; returns the init error's message.
pub(crate) async fn init_error(bin: &str, components: ComponentsDir, env: &[(&str, &str)]) -> String {
    let (api, mut function, _components) = spawn(bin, components, env).await;
    let status = function.wait_exit(10 * SECOND).await;
    let status = status.unwrap_or_else(|| panic!("{bin} is still running with a bad configuration"));
    assert!(!status.success(), "{bin} exited with {status}");
    assert_eq!(api.wait_for_next_poll(Duration::ZERO).await, None, "{bin} asked for an invocation");
    let errors = api.init_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].error_type, "Bindery.ConfigError", "{errors:?}");
    assert_eq!(errors[0].body_error_type(), Some("Bindery.ConfigError"), "{errors:?}");
    assert!(api.violations().is_empty(), "{:?}", api.violations());
    let message = errors[0].error_message().unwrap_or_else(|| panic!("no errorMessage: {errors:?}")).to_owned();
    // The reason is in the logs too, for whoever reads CloudWatch rather than the invoke result.
    let logs = function.logs();
    assert!(logs.contains("cannot start"), "{logs}");
    assert!(!logs.contains("hunter2"), "a secret is in the logs: {logs}");
    message
}

fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "the message does not mention {part:?}: {message}");
    }
}

#[tokio::test]
async fn cron_with_an_invalid_schedule() {
    let components = ComponentsDir::new();
    let file = components.write("nightly.yaml", &cron_component("nightly", "0 0 * * 7", &[]));
    let file = file.to_str().unwrap().to_owned();

    let message = init_error("bindery-cron", components, &[("BINDERY_BINDING", "nightly")]).await;

    assert_mentions(&message, &[&file, "\"nightly\"", "schedule", "0 0 * * 7"]);
}

#[tokio::test]
async fn webhook_without_a_signature_scheme() {
    let items = [value("direction", "input"), value("maxBodySize", "1Mi")];
    let components = ComponentsDir::new();
    let file = components.write("hook.yaml", &component("hook", "bindings.http", &items));
    let file = file.to_str().unwrap().to_owned();

    let message = init_error("bindery-webhook", components, &[("BINDERY_BINDING", "hook")]).await;

    assert_mentions(&message, &[&file, "\"hook\"", "signatureScheme"]);
}

/// The function's own binding's problems are reported, no secret in them;
/// another binding's (here an unset secret) are not the function's: it
/// neither reads nor requires them (`bindery validate` reports them).
#[tokio::test]
async fn its_binding_s_problems_are_reported_and_no_secret_is_leaked() {
    let hook = [
        value("direction", "input"),
        value("signatureScheme", "github"),
        secret("signatureSecret", "HOOK_SECRET"),
        value("maxBodySize", "lots"),
    ];
    let other = [value("direction", "input"), value("signatureScheme", "token"), secret("signatureSecret", "NOT_SET")];
    let yaml = [component("hook", "bindings.http", &hook), component("other-hook", "bindings.http", &other)];
    let components = ComponentsDir::new();
    let file = components.write("hooks.yaml", &yaml.join("---\n"));
    let file = file.to_str().unwrap().to_owned();
    let env = [("BINDERY_BINDING", "hook"), ("HOOK_SECRET", "hunter2-do-not-print")];

    let message = init_error("bindery-webhook", components, &env).await;

    assert_mentions(&message, &[&file, "\"hook\"", "maxBodySize", "lots"]);
    assert!(!message.contains("other-hook") && !message.contains("NOT_SET"), "another binding's: {message}");
    assert!(!message.contains("hunter2"), "the secret is in the message: {message}");
}

#[tokio::test]
async fn binding_that_does_not_exist() {
    let components = ComponentsDir::new();
    components.write("task-events.yaml", &sqs_component("task-events"));
    components.write("cron.yaml", &cron_component("cron-binding", "*/5 * * * *", &[]));
    let dir = components.path_str();

    let message = init_error("bindery-sqs", components, &[("BINDERY_BINDING", "orders")]).await;

    assert_mentions(&message, &["BINDERY_BINDING", "\"orders\"", &dir, "task-events", "cron-binding"]);
}

#[tokio::test]
async fn binding_of_the_wrong_type() {
    let components = ComponentsDir::new();
    let file = components.write("cron.yaml", &cron_component("cron-binding", "*/5 * * * *", &[]));
    let file = file.to_str().unwrap().to_owned();

    let message = init_error("bindery-sqs", components, &[("BINDERY_BINDING", "cron-binding")]).await;

    assert_mentions(&message, &[&file, "\"cron-binding\"", "bindings.cron", "bindings.aws.sqs"]);
}

#[tokio::test]
async fn output_only_binding_served_as_a_webhook() {
    let items = [value("url", "https://monitoring.example.com/webhooks"), value("direction", "output")];
    let components = ComponentsDir::new();
    let file = components.write("http.yaml", &component("http-binding", "bindings.http", &items));
    let file = file.to_str().unwrap().to_owned();

    let message = init_error("bindery-webhook", components, &[("BINDERY_BINDING", "http-binding")]).await;

    assert_mentions(&message, &[&file, "\"http-binding\"", "input"]);
}

#[tokio::test]
async fn binding_not_named() {
    let components = ComponentsDir::with("cron.yaml", &cron_component("cron-binding", "*/5 * * * *", &[]));

    let message = init_error("bindery-cron", components, &[]).await;

    assert_mentions(&message, &["BINDERY_BINDING"]);
}

#[tokio::test]
async fn bad_numbers_in_the_environment() {
    let sqs = || ComponentsDir::with("task-events.yaml", &sqs_component("task-events"));
    let env = [("BINDERY_BINDING", "task-events"), ("BINDERY_SQS_CONCURRENCY", "0")];
    let message = init_error("bindery-sqs", sqs(), &env).await;
    assert_mentions(&message, &["BINDERY_SQS_CONCURRENCY", "\"0\""]);

    let env = [("BINDERY_BINDING", "task-events"), ("BINDERY_DEADLINE_MARGIN_MS", "soon")];
    let message = init_error("bindery-sqs", sqs(), &env).await;
    assert_mentions(&message, &["BINDERY_DEADLINE_MARGIN_MS", "\"soon\""]);
}

#[tokio::test]
async fn app_url_that_is_not_plain_http() {
    let components = ComponentsDir::with("cron.yaml", &cron_component("cron-binding", "*/5 * * * *", &[]));
    let env = [("BINDERY_BINDING", "cron-binding"), ("BINDERY_APP_URL", "https://127.0.0.1:8080")];

    let message = init_error("bindery-cron", components, &env).await;

    assert_mentions(&message, &["BINDERY_APP_URL", "https://127.0.0.1:8080"]);
}

#[tokio::test]
async fn app_api_token_that_cannot_be_a_header() {
    let components = ComponentsDir::with("cron.yaml", &cron_component("cron-binding", "*/5 * * * *", &[]));
    let env = [("BINDERY_BINDING", "cron-binding"), ("APP_API_TOKEN", "hunter2\nInjected: yes")];

    let message = init_error("bindery-cron", components, &env).await;

    assert_mentions(&message, &["APP_API_TOKEN"]);
    assert!(!message.contains("hunter2"), "the token is in the message: {message}");
}

#[tokio::test]
async fn an_in_process_app_with_a_broken_output_component() {
    // The Task API's own output bindings are loaded at init too: an S3
    // component without a bucket stops it there, not at the nightly run.
    let components = ComponentsDir::with("cron-binding.yaml", &cron_component("cron-binding", "@daily", &[]));
    components.write("reports.yaml", &component("reports", "bindings.aws.s3", &[value("region", "us-east-1")]));
    let message = init_error("task-api-lambda", components, &[("BINDERY_BINDING", "cron-binding")]).await;
    assert!(
        message.contains("reports.yaml") && message.contains("\"reports\"") && message.contains("bucket"),
        "{message}"
    );
}

#[tokio::test]
async fn an_in_process_app_serving_an_output_binding() {
    // task-api-lambda serves whatever input binding BINDERY_BINDING names;
    // an output-only component is refused at init.
    let components = ComponentsDir::with("cron-binding.yaml", &cron_component("cron-binding", "@daily", &[]));
    components.write("reports.yaml", &component("reports", "bindings.localstorage", &[value("rootPath", "/tmp")]));
    let message = init_error("task-api-lambda", components, &[("BINDERY_BINDING", "reports")]).await;
    assert!(message.contains("bindings.localstorage") && message.contains("not an input binding"), "{message}");
}
