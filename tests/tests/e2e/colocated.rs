//! The functions with a co-located app (`BINDERY_APP_CMD`) behind
//! `bindery-sqs`, `bindery-cron` and `bindery-webhook`: a real Python app
//! (`common/recording_app.py`) that the function starts at init with `PORT`,
//! waits for, watches, and stops. An app that cannot start is an init error;
//! an app that dies later ends the function without answering the invocation
//! in flight, so its events are delivered again.

use std::time::{Duration, Instant};

use crate::common::colocated_app::{PythonApp, as_strs, signal, start_sqs};
use crate::common::webhook::{BODY, SECRET, github_event};
use crate::common::{
    ComponentsDir, Running, SECOND, component, cron_component, secret, spawn, sqs_component, sqs_record, value,
};
use bindery_e2e::{InvokeOptions, RuntimeApi};
use serde_json::{Value, json};

/// Runs `bin`, expects an init error; returns its message and how long the function ran.
async fn app_start_error(bin: &str, components: ComponentsDir, env: &[(String, String)]) -> (String, Duration) {
    let started = Instant::now();
    let (api, mut function, _components) = spawn(bin, components, &as_strs(env)).await;
    let status = function.wait_exit(20 * SECOND).await.expect("the function is still running");
    let ran = started.elapsed();
    assert_eq!(status.code(), Some(1), "{}", function.logs());
    assert_eq!(api.wait_for_next_poll(Duration::ZERO).await, None, "it asked for an invocation");
    let errors = api.init_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].body_error_type(), Some("Bindery.AppStartError"), "{errors:?}");
    let message = errors[0].error_message().unwrap().to_owned();
    assert!(function.logs().contains("cannot start"), "{}", function.logs());
    (message, ran)
}

#[tokio::test]
async fn an_sqs_batch_reaches_the_app_the_function_started() {
    let app = PythonApp::new();
    // Listening only after 0.5 s: a function asking for events before that
    // would find nothing to deliver to.
    let f = start_sqs(&app, &[("APP_LISTEN_AFTER", "0.5"), ("APP_API_TOKEN", "app-token")]).await;
    assert!(app.alive(), "the app runs from init on");
    let bodies = [r#"{"id":"t-1","title":"buy milk"}"#, r#"{"id":"t-2","title":"walk the dog"}"#];
    let event = json!({"Records": [sqs_record("m-1", bodies[0]), sqs_record("m-2", bodies[1])]});

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(response, json!({"batchItemFailures": []}));
    let mut posts = app.posts();
    posts.sort_by_key(|p| p["headers"]["messageid"].as_str().unwrap().to_owned());
    assert_eq!(posts.len(), 2, "{posts:?}");
    for (post, (id, body)) in posts.iter().zip([("m-1", bodies[0]), ("m-2", bodies[1])]) {
        assert_eq!(post["path"], "/task-events");
        assert_eq!(post["headers"]["messageid"], id);
        assert_eq!(post["headers"]["dapr-api-token"], "app-token", "the app shares the function's environment");
        assert_eq!(post["body"], body);
    }
}

#[tokio::test]
async fn a_cron_event_reaches_the_app_once_its_readiness_path_answers() {
    let app = PythonApp::new();
    let mut env = app.env(&[("BINDERY_APP_READY_PATH", "/healthz"), ("APP_HEALTHY_AFTER", "0.5")]);
    env.push(("BINDERY_BINDING".into(), "cron-binding".into()));
    let components = ComponentsDir::with("cron-binding.yaml", &cron_component("cron-binding", "*/5 * * * *", &[]));
    let f = Running::start("bindery-cron", components, &as_strs(&env)).await;

    let outcome = f.invoke(&json!({"attempt": "1"}), InvokeOptions::default()).await;

    assert_eq!(outcome.response(), Value::Null);
    let requests = app.requests();
    let checks: Vec<&Value> = requests.iter().filter(|r| r["method"] == "GET").collect();
    assert!(checks.iter().all(|r| r["path"] == "/healthz"), "{requests:?}");
    assert_eq!(checks.first().map(|r| r["status"].clone()), Some(json!(503)), "{requests:?}");
    assert_eq!(checks.last().map(|r| r["status"].clone()), Some(json!(200)), "it waited for a 200: {requests:?}");
    let post = requests.last().unwrap();
    assert_eq!((&post["method"], &post["path"], &post["body"]), (&json!("POST"), &json!("/cron-binding"), &json!("")));
    assert_eq!(app.posts().len(), 1);
}

#[tokio::test]
async fn a_verified_webhook_reaches_the_app_and_its_answer_goes_back() {
    let app = PythonApp::new();
    let mut env = app.env(&[("APP_POST_REPLY", r#"{"received":true}"#), ("GITHUB_SECRET", SECRET)]);
    env.push(("BINDERY_BINDING".into(), "github-webhook".into()));
    let items =
        [value("direction", "input"), value("signatureScheme", "github"), secret("signatureSecret", "GITHUB_SECRET")];
    let components = ComponentsDir::with("github-webhook.yaml", &component("github-webhook", "bindings.http", &items));
    let f = Running::start("bindery-webhook", components, &as_strs(&env)).await;
    assert!(app.alive(), "the app runs from init on");

    let response = f.invoke(&github_event(BODY.as_bytes()), InvokeOptions::default()).await.response();

    assert_eq!(response["statusCode"], json!(200), "{response}");
    assert_eq!(response["body"].as_str(), Some(r#"{"received":true}"#), "{response}");
    let posts = app.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!((&posts[0]["path"], &posts[0]["body"]), (&json!("/github-webhook"), &json!(BODY)));
    assert_eq!(posts[0]["headers"]["x-github-event"], "push");

    // A forged signature is refused by the function: the app never sees it.
    let mut forged = github_event(BODY.as_bytes());
    forged["headers"]["x-hub-signature-256"] = json!("sha256=00");
    let refused = f.invoke(&forged, InvokeOptions::default()).await.response();
    assert_eq!(refused["statusCode"], json!(401), "{refused}");
    assert_eq!(app.posts().len(), 1, "{:?}", app.posts());
}

#[tokio::test]
async fn an_app_that_exits_before_it_is_ready_is_an_init_error_naming_it() {
    let app = PythonApp::new();
    let mut env = app.env(&[("APP_MODE", "exit-early")]);
    env.push(("BINDERY_BINDING".into(), "task-events".into()));
    let components = ComponentsDir::with("task-events.yaml", &sqs_component("task-events"));

    let (message, ran) = app_start_error("bindery-sqs", components, &env).await;

    assert_eq!(message, format!("the app ({}) exited with status 3 before it was ready", app.command()));
    assert!(ran < 5 * SECOND, "it should fail at once, not at the 9 s timeout: {ran:?}");
}

#[tokio::test]
async fn an_app_that_never_listens_is_an_init_error_after_the_timeout() {
    let app = PythonApp::new();
    let mut env = app.env(&[("APP_MODE", "never-listen"), ("BINDERY_APP_READY_TIMEOUT_MS", "700")]);
    env.push(("BINDERY_BINDING".into(), "cron-binding".into()));
    let components = ComponentsDir::with("cron-binding.yaml", &cron_component("cron-binding", "*/5 * * * *", &[]));

    let (message, ran) = app_start_error("bindery-cron", components, &env).await;

    let port = app.port;
    let start = format!(
        "the app ({}) was not ready within 700 ms: nothing accepted a TCP connection on 127.0.0.1:{port} (",
        app.command()
    );
    assert!(message.starts_with(&start), "{message}");
    assert!(message.ends_with(&format!("(the app was given PORT={port})")), "{message}");
    assert!(ran >= Duration::from_millis(700), "gave up too early: {ran:?}");
    assert!(app.pid().is_some(), "the app never started");
    assert!(app.gone_within(2 * SECOND).await, "the app outlived its function");
}

#[tokio::test]
async fn an_app_dying_mid_batch_ends_the_function_and_the_batch_gets_no_answer() {
    let app = PythonApp::new();
    let mut f = start_sqs(&app, &[("APP_MODE", "die-on-post")]).await;
    let event = json!({"Records": [sqs_record("m-1", "one"), sqs_record("m-2", "two"), sqs_record("m-3", "three")]});
    let wait = InvokeOptions { wait: 3 * SECOND, ..Default::default() };

    let (outcome, status) = tokio::join!(f.api.try_invoke(event.to_string(), wait), f.function.wait_exit(10 * SECOND));

    let status = status.expect("the function went on after its app died");
    assert_eq!(status.code(), Some(1));
    let unanswered = outcome.expect_err("the batch was answered although the app died during it");
    assert!(unanswered.taken, "{unanswered:?}");
    assert!(f.api.violations().is_empty(), "{:?}", f.api.violations());
    assert!(!app.posts().is_empty(), "the app died before the batch reached it");
    let logs = f.function.logs();
    assert!(logs.contains(&format!("the app ({}) exited with status 7 after it was ready", app.command())), "{logs}");
}

#[tokio::test]
async fn an_app_dying_between_invocations_ends_the_function_at_once() {
    let app = PythonApp::new();
    let mut f = start_sqs(&app, &[]).await;

    signal(app.pid().unwrap(), "KILL");
    let status = f.function.wait_exit(3 * SECOND).await.expect("the function went on without its app");

    assert_eq!(status.code(), Some(1));
    // Killed by the signal itself, or by the shell reporting it (status 128 + 9)
    // if the shell did not hand its process over to the app.
    let logs = f.function.logs();
    assert!(
        logs.contains("was killed by signal 9 (SIGKILL) after it was ready")
            || logs.contains("exited with status 137 after it was ready"),
        "{logs}"
    );
}

#[tokio::test]
async fn sigterm_to_the_function_stops_its_app() {
    let app = PythonApp::new();
    let mut f = start_sqs(&app, &[]).await;
    assert!(app.alive());

    signal(f.function.pid(), "TERM");
    let status = f.function.wait_exit(3 * SECOND).await.expect("the function did not stop on SIGTERM");

    assert!(status.success(), "{status}");
    assert!(app.gone_within(2 * SECOND).await, "the app outlived its function");
}

#[tokio::test]
async fn the_function_configuration_is_checked_before_the_app_is_started() {
    let app = PythonApp::new();
    let mut env = app.env(&[("PORT", "1")]);
    env.push(("BINDERY_BINDING".into(), "task-events".into()));
    let components = ComponentsDir::with("task-events.yaml", &sqs_component("task-events"));
    let (api, mut function, _components): (RuntimeApi, _, _) = spawn("bindery-sqs", components, &as_strs(&env)).await;

    assert!(function.wait_exit(10 * SECOND).await.is_some_and(|s| !s.success()));
    let errors = api.init_errors();
    assert_eq!(errors[0].body_error_type(), Some("Bindery.ConfigError"), "{errors:?}");
    assert!(errors[0].error_message().unwrap().starts_with("PORT is \"1\", but BINDERY_APP_URL"));
    assert_eq!(app.pid(), None, "the app was started");
}
