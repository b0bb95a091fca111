//! `bindery-cron` end to end: a schedule's invocation becomes the cron binding's
//! `POST /<binding>` on a real HTTP app (reference/dapr-bindings-contract.md §1.2),
//! and a failed delivery becomes an invocation error.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{
    ComponentsDir, FIRST_REQUEST_ID, Running, SECOND, TRACEPARENT, XRAY_TRACE, assert_error, assert_json_logs,
    assert_no_requests, component, cron_component, deadline_ms, unexpected_headers, value,
};
use bindery_e2e::{InvokeOptions, Recorded, RecordingApp, Reply, unused_port};
use serde_json::{Value, json};

const BIN: &str = "bindery-cron";
const SCHEDULE_ARN: &str = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/cron-binding";
const EXECUTION_ID: &str = "d1c4e3d8-8e1b-4c63-9a52-6f1f0c9b2f3e";

fn scheduler_input() -> Value {
    json!({
        "scheduledTime": "2026-03-22T18:59:00Z",
        "attempt": "1",
        "scheduleArn": SCHEDULE_ARN,
        "executionId": EXECUTION_ID,
    })
}

/// `bindery-cron` serving `cron-binding` (schedule `schedule`, `extra` items), delivering to `app`.
async fn start(app_url: &str, schedule: &str, extra: &[String], env: &[(&str, &str)]) -> Running {
    let components = ComponentsDir::with("cron-binding.yaml", &cron_component("cron-binding", schedule, extra));
    let mut vars = vec![("BINDERY_BINDING", "cron-binding"), ("BINDERY_APP_URL", app_url)];
    vars.extend_from_slice(env);
    Running::start(BIN, components, &vars).await
}

/// `readtimeutc` is Go's `time.Time.String()` of a UTC instant close to now.
fn assert_go_utc_now(value: &str) {
    let text = value.strip_suffix(" +0000 UTC").unwrap_or_else(|| panic!("not Go's UTC format: {value:?}"));
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    assert!(fraction.len() <= 9 && fraction.bytes().all(|b| b.is_ascii_digit()), "bad fraction: {value:?}");
    assert!(!fraction.ends_with('0'), "Go drops trailing zeros of the fraction: {value:?}");
    let read = chrono::NaiveDateTime::parse_from_str(whole, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|e| panic!("not Go's UTC format ({e}): {value:?}"))
        .and_utc();
    let skew = (chrono::Utc::now() - read).num_seconds().abs();
    assert!(skew < 60, "readtimeutc {value:?} is {skew} s away from now");
}

/// The one request a cron delivery makes: POST `path`, empty body, JSON content type.
fn assert_cron_request(request: &Recorded, path: &str) {
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, path);
    assert_eq!(request.query, None);
    assert!(request.body.is_empty(), "cron sends an empty body, got {:?}", request.body);
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_go_utc_now(request.header("readtimeutc").expect("readtimeutc header"));
}

#[tokio::test]
async fn scheduler_input_becomes_the_dapr_cron_event() {
    let app = RecordingApp::start().await;
    let f = start(&app.url(), "*/5 * * * *", &[], &[("APP_API_TOKEN", "app-token-s3cr3t")]).await;
    let opts = InvokeOptions { trace_id: Some(XRAY_TRACE.into()), ..Default::default() };

    let outcome = f.invoke(&scheduler_input(), opts).await;

    assert_eq!(outcome.response(), Value::Null);
    let requests = app.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    assert_cron_request(request, "/cron-binding");
    assert_eq!(request.header("timezone"), Some("UTC"));
    assert_eq!(request.header("scheduledtime"), Some("2026-03-22T18:59:00Z"));
    assert_eq!(request.header("attempt"), Some("1"));
    assert_eq!(request.header("schedulearn"), Some(SCHEDULE_ARN));
    assert_eq!(request.header("executionid"), Some(EXECUTION_ID));
    assert_eq!(request.header("dapr-api-token"), Some("app-token-s3cr3t"));
    assert_eq!(request.header("traceparent"), Some(TRACEPARENT));
    let allowed = [
        "host",
        "content-type",
        "content-length",
        "timezone",
        "readtimeutc",
        "scheduledtime",
        "attempt",
        "schedulearn",
        "executionid",
        "dapr-api-token",
        "traceparent",
    ];
    assert_eq!(unexpected_headers(&request.headers, &allowed), Vec::<String>::new());
    assert_json_logs(&f.function, FIRST_REQUEST_ID, &["app-token-s3cr3t"]).await;
    assert!(f.api.violations().is_empty(), "{:?}", f.api.violations());
}

#[tokio::test]
async fn cron_tz_zone_and_route_are_honoured_and_no_token_or_trace_is_invented() {
    let app = RecordingApp::start().await;
    let route = [value("route", "/jobs/cleanup")];
    let f = start(&app.url(), "CRON_TZ=America/New_York 0 30 4 * * *", &route, &[]).await;

    let outcome = f.invoke(&json!({"attempt": 2}), InvokeOptions::default()).await;

    assert_eq!(outcome.response(), Value::Null);
    let requests = app.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_cron_request(&requests[0], "/jobs/cleanup");
    assert_eq!(requests[0].header("timezone"), Some("America/New_York"));
    assert_eq!(requests[0].header("attempt"), Some("2"), "a numeric attempt is sent as text");
    for absent in ["dapr-api-token", "traceparent", "scheduledtime", "schedulearn", "executionid"] {
        assert_eq!(requests[0].header(absent), None, "{absent} should not be sent");
    }
}

#[tokio::test]
async fn legacy_scheduled_rule_event() {
    let app = RecordingApp::start().await;
    let f = start(&app.url(), "*/5 * * * *", &[], &[]).await;
    let event = json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2015-10-08T16:53:06Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"],
        "detail": {}
    });

    let outcome = f.invoke(&event, InvokeOptions::default()).await;

    assert_eq!(outcome.response(), Value::Null);
    let requests = app.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_cron_request(&requests[0], "/cron-binding");
    assert_eq!(requests[0].header("timezone"), Some("UTC"));
    assert_eq!(requests[0].header("scheduledtime"), Some("2015-10-08T16:53:06Z"));
    assert_eq!(requests[0].header("schedulearn"), Some("arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"));
    assert_eq!(requests[0].header("executionid"), Some("53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"));
    assert_eq!(requests[0].header("attempt"), None);
}

#[tokio::test]
async fn app_answering_500_is_an_app_rejected_error() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| Reply::Status(500));
    let f = start(&app.url(), "*/5 * * * *", &[], &[]).await;

    let error = f.invoke(&scheduler_input(), InvokeOptions::default()).await.error();

    assert_error(&error, "Bindery.AppRejected");
    assert!(error.error_message().unwrap().contains("500"), "{error:?}");
    assert_eq!(app.requests().len(), 1, "delivered once; retries are the scheduler's");
}

#[tokio::test]
async fn app_not_listening_is_an_app_unreachable_error() {
    let url = format!("http://127.0.0.1:{}", unused_port());
    let f = start(&url, "*/5 * * * *", &[], &[]).await;

    let error = f.invoke(&scheduler_input(), InvokeOptions::default()).await.error();

    assert_error(&error, "Bindery.AppUnreachable");
}

#[tokio::test]
async fn app_going_down_between_invocations_is_an_app_unreachable_error() {
    let app = RecordingApp::start().await;
    let f = start(&app.url(), "*/5 * * * *", &[], &[]).await;
    assert_eq!(f.invoke(&scheduler_input(), InvokeOptions::default()).await.response(), Value::Null);
    assert_eq!(app.requests().len(), 1);

    // The function now holds a pooled keep-alive connection to the app; the app dies.
    app.stop().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let error = f.invoke(&scheduler_input(), InvokeOptions::default()).await.error();

    assert_error(&error, "Bindery.AppUnreachable");
}

#[tokio::test]
async fn slow_app_is_a_timeout_reported_before_the_deadline() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| Reply::Delay(10 * SECOND, Box::new(Reply::Status(200))));
    let f = start(&app.url(), "*/5 * * * *", &[], &[]).await;
    let deadline = Duration::from_millis(1500);

    let started = Instant::now();
    let outcome = f.invoke(&scheduler_input(), deadline_ms(1500)).await;
    let elapsed = started.elapsed();

    assert_error(&outcome.error(), "Bindery.Timeout");
    assert!(elapsed < deadline, "the error came after the deadline: {elapsed:?}");
    // The default margin is 250 ms: the function waited for the app until then.
    assert!(elapsed >= Duration::from_millis(1000), "gave up too early: {elapsed:?}");
    assert_eq!(app.requests().len(), 1);
}

#[tokio::test]
async fn deadline_margin_is_configurable() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| Reply::Delay(10 * SECOND, Box::new(Reply::Status(200))));
    let f = start(&app.url(), "*/5 * * * *", &[], &[("BINDERY_DEADLINE_MARGIN_MS", "1500")]).await;

    let started = Instant::now();
    let outcome = f.invoke(&scheduler_input(), deadline_ms(3000)).await;
    let elapsed = started.elapsed();

    assert_error(&outcome.error(), "Bindery.Timeout");
    // Given up 1.5 s before the 3 s deadline (the default margin would be 2.75 s).
    assert!(elapsed >= Duration::from_millis(1200), "gave up too early: {elapsed:?}");
    assert!(elapsed < Duration::from_millis(2500), "the margin was not applied: {elapsed:?}");
}

#[tokio::test]
async fn input_naming_another_binding_is_an_invalid_event() {
    let app = RecordingApp::start().await;
    let f = start(&app.url(), "*/5 * * * *", &[], &[]).await;

    let error = f.invoke(&json!({"binding": "other"}), InvokeOptions::default()).await.error();

    assert_error(&error, "Bindery.InvalidEvent");
    let message = error.error_message().unwrap();
    assert!(message.contains("other") && message.contains("cron-binding"), "{message}");
    assert_no_requests(&app).await;
}

#[tokio::test]
async fn task_api_example_serves_the_cron_binding_in_process() {
    // No HTTP app at all: the router runs inside the function. An app URL that
    // leads nowhere proves it is not used.
    let url = format!("http://127.0.0.1:{}", unused_port());
    let components = ComponentsDir::with("cron-binding.yaml", &cron_component("cron-binding", "*/5 * * * *", &[]));
    // Its output bindings: the local stand-ins for S3 and SES.
    let reports = components.path().join("reports");
    let mail = components.path().join("mail");
    let folder = |name: &str, type_: &str, root: &Path, extra: &[String]| {
        let mut items = vec![value("rootPath", root.to_str().unwrap())];
        items.extend_from_slice(extra);
        component(name, type_, &items)
    };
    components.write("reports.yaml", &folder("reports", "bindings.localstorage", &reports, &[]));
    let addresses = [value("emailFrom", "task-api@example.com"), value("emailTo", "ops@example.com")];
    components.write("notifications.yaml", &folder("notifications", "bindings.local.mailbox", &mail, &addresses));
    let vars = [("BINDERY_BINDING", "cron-binding"), ("BINDERY_APP_URL", url.as_str())];
    let f = Running::start("task-api-lambda", components, &vars).await;

    let outcome = f.invoke(&scheduler_input(), InvokeOptions::default()).await;

    assert_eq!(outcome.response(), Value::Null);
    // The Task API logs its cleanup, with the `readtimeutc` it was given, before
    // bindery logs the delivery.
    assert_json_logs(&f.function, FIRST_REQUEST_ID, &[]).await;
    let logs = f.function.logs();
    let cleanup = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line.pointer("/message").and_then(Value::as_str) == Some("cleanup ran"))
        .unwrap_or_else(|| panic!("the Task API did not run its cleanup:\n{logs}"));
    assert_eq!(cleanup.pointer("/removed"), Some(&json!(0)), "{cleanup}");
    assert_go_utc_now(cleanup.pointer("/fired").and_then(Value::as_str).unwrap());
    // ... and wrote its report and its email through the output bindings.
    let report = std::fs::read_dir(reports.join("cleanup")).expect("the report folder").count();
    let emails = std::fs::read_dir(&mail).expect("the mail folder").count();
    assert_eq!((report, emails), (1, 1));
    // The output calls are in the invocation's metrics, a line per binding
    // and operation, beside the delivery's.
    let metrics: Vec<Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("_aws").is_some())
        .collect();
    let calls = |binding: &str| {
        let line = metrics.iter().find(|m| m["binding"] == binding && m["OutputCalls"].is_number());
        let line = line.unwrap_or_else(|| panic!("no output metrics of {binding}: {metrics:?}"));
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["binding", "function", "operation"]]));
        assert_eq!((&line["operation"], &line["OutputErrors"]), (&json!("create"), &json!(0)), "{line}");
        assert_eq!(line["OutputLatency"].as_array().map(Vec::len), Some(1), "{line}");
        line["OutputCalls"].as_u64()
    };
    assert_eq!((calls("reports"), calls("notifications")), (Some(1), Some(1)));
    let delivered = metrics.iter().find(|m| m["binding"] == "cron-binding").expect("the delivery's metrics");
    assert_eq!(delivered["Delivered"], 1, "{delivered}");
}
