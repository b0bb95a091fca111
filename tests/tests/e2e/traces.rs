//! Traces over OTLP, end to end: the Task API's Lambda binary (built with
//! the `otlp` feature) serving its cron binding in-process, exporting to a
//! loopback collector that decodes with the OTel project's own types. The
//! invocation's span continues Lambda's X-Ray trace, the app is handed that
//! span, and its output calls are spans under it; on its SQS binding the
//! invocation links to each message's trace. And `bindery-extension`
//! (built with `otlp` too): an app's call through the Dapr API continues
//! the app's `traceparent`, and the HTTP target is handed the call's span.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{
    ComponentsDir, FIRST_REQUEST_ID, Running, TRACEPARENT, XRAY_TRACE, component, cron_component, http_post,
    sqs_component, sqs_record, value,
};
use crate::extension::start_with;
use bindery_e2e::{CollectedSpan, ExtensionsApi, InvokeOptions, OtlpCollector, Outcome, RecordingApp, unused_port};

const TRACE_ID: &str = "5759e988bd862e3fe1be46a994272793";
const XRAY_PARENT: &str = "53995c3f42cd8ad8";
const UNSAMPLED: &str = "Root=1-5759e988-00000000000000000000abcd;Parent=53995c3f42cd8ad8;Sampled=0";
const SERVER: i32 = 2;
const CLIENT: i32 = 3;
const ERROR: i32 = 2;

fn scheduler_input() -> Value {
    json!({
        "scheduledTime": "2026-03-22T18:59:00Z",
        "attempt": "1",
        "scheduleArn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/cron-binding",
        "executionId": "d1c4e3d8-8e1b-4c63-9a52-6f1f0c9b2f3e",
    })
}

/// The Task API's Lambda binary on its cron binding, its `reports` a local
/// folder at `reports` and its `notifications` a local mailbox, with `env`
/// (the OTel variables).
async fn task_api(reports: &str, env: &[(&str, &str)]) -> Running {
    let components = ComponentsDir::with("cron-binding.yaml", &cron_component("cron-binding", "*/5 * * * *", &[]));
    components.write("reports.yaml", &component("reports", "bindings.localstorage", &[value("rootPath", reports)]));
    let mail = components.path().join("mail");
    let mailbox = [
        value("rootPath", mail.to_str().unwrap()),
        value("emailFrom", "a@example.com"),
        value("emailTo", "b@example.com"),
    ];
    components.write("notifications.yaml", &component("notifications", "bindings.local.mailbox", &mailbox));
    // No HTTP app: the router runs inside the function.
    let nowhere = format!("http://127.0.0.1:{}", unused_port());
    let mut vars = vec![("BINDERY_BINDING", "cron-binding"), ("BINDERY_APP_URL", nowhere.as_str())];
    vars.extend_from_slice(env);
    Running::start("task-api-lambda", components, &vars).await
}

fn traced(trace_id: &str) -> InvokeOptions {
    InvokeOptions { trace_id: Some(trace_id.to_owned()), ..InvokeOptions::default() }
}

fn named<'a>(spans: &'a [CollectedSpan], name: &str, binding: &str) -> &'a CollectedSpan {
    spans
        .iter()
        .find(|s| s.name == name && s.attribute("binding") == Some(binding))
        .unwrap_or_else(|| panic!("no {name} span of {binding} among {spans:#?}"))
}

/// The value of `key` on the log line whose message is `message`, waited
/// for: lines are written once the invocation is answered.
async fn logged(f: &Running, message: &str, key: &str) -> Option<String> {
    let needle = format!("\"message\":{}", Value::from(message));
    f.function.wait_for_output(&needle, Duration::from_secs(10)).await;
    let logs = f.function.logs();
    let line = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["message"] == message)
        .unwrap_or_else(|| panic!("no {message:?} line in:\n{logs}"));
    line[key].as_str().map(str::to_owned)
}

#[tokio::test]
async fn an_invocation_continues_the_xray_trace_and_its_app_s_calls_are_under_it() {
    let collector = OtlpCollector::start().await;
    let reports = tempfile::tempdir().unwrap();
    let f = task_api(reports.path().to_str().unwrap(), &[("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint())]).await;

    let outcome = f.invoke(&scheduler_input(), traced(XRAY_TRACE)).await;

    assert!(matches!(outcome, Outcome::Response(_)), "{}", f.function.logs());
    let spans = collector.wait_for_spans(3, Duration::from_secs(10)).await;
    assert_eq!(spans.len(), 3, "the invocation and its two output calls: {spans:#?}");
    // The invocation's span is the X-Ray segment's child, in its trace.
    let invocation = named(&spans, "invocation", "cron-binding");
    assert_eq!((invocation.trace_id.as_str(), invocation.parent_span_id.as_str()), (TRACE_ID, XRAY_PARENT));
    assert_eq!((invocation.kind, invocation.status), (SERVER, 0));
    assert_eq!(invocation.attribute("function_request_id"), Some(FIRST_REQUEST_ID));
    assert_eq!(invocation.resource_attribute("service.name"), Some("cron-binding"), "the binding, by default");
    assert_eq!(invocation.resource_attribute("cloud.platform"), Some("aws_lambda"));
    // The app was handed the invocation's span, not X-Ray's parent.
    let handed = logged(&f, "cleanup ran", "traceparent").await;
    assert_eq!(handed, Some(format!("00-{TRACE_ID}-{}-01", invocation.span_id)));
    // Its output calls are the invocation's children.
    for binding in ["reports", "notifications"] {
        let call = named(&spans, "output_binding", binding);
        assert_eq!((call.trace_id.as_str(), call.parent_span_id.as_str()), (TRACE_ID, invocation.span_id.as_str()));
        assert_eq!((call.kind, call.status, call.attribute("operation")), (CLIENT, 0, Some("create")));
    }
    // The trace's own keys stay out of the log lines.
    assert!(!f.function.logs().contains("otel."), "{}", f.function.logs());
}

#[tokio::test]
async fn an_unsampled_trace_exports_nothing_and_a_failure_is_the_span_s_status() {
    let collector = OtlpCollector::start().await;
    // The report's folder is a file: the report fails, so the cleanup does.
    let reports = tempfile::tempdir().unwrap();
    std::fs::write(reports.path().join("cleanup"), "").unwrap();
    let endpoint = format!("{}/v1/traces", collector.endpoint());
    let f = task_api(reports.path().to_str().unwrap(), &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &endpoint)]).await;

    let unsampled = f.invoke(&scheduler_input(), traced(UNSAMPLED)).await;
    let sampled = f.invoke(&scheduler_input(), traced(XRAY_TRACE)).await;

    assert!(matches!((&unsampled, &sampled), (Outcome::Error(_), Outcome::Error(_))), "the app's 502 fails both");
    let spans = collector.wait_for_spans(2, Duration::from_secs(10)).await;
    assert_eq!(spans.len(), 2, "{spans:#?}");
    assert!(spans.iter().all(|s| s.trace_id == TRACE_ID), "Sampled=0 is not exported: {spans:#?}");
    assert_eq!(named(&spans, "invocation", "cron-binding").status, ERROR);
    assert_eq!(named(&spans, "output_binding", "reports").status, ERROR);
}

#[tokio::test]
async fn a_collector_that_is_down_costs_a_warning_never_the_invocation() {
    let down = format!("http://127.0.0.1:{}", unused_port());
    let reports = tempfile::tempdir().unwrap();
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", down.as_str()), ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000")];
    let f = task_api(reports.path().to_str().unwrap(), &env).await;

    let first = f.invoke(&scheduler_input(), traced(XRAY_TRACE)).await;
    let second = f.invoke(&scheduler_input(), traced(XRAY_TRACE)).await;

    assert!(matches!((&first, &second), (Outcome::Response(_), Outcome::Response(_))), "{}", f.function.logs());
    assert_eq!(logged(&f, "spans not exported", "level").await.as_deref(), Some("WARN"));
}

#[tokio::test]
async fn without_the_otel_environment_the_app_gets_xray_s_parent() {
    let reports = tempfile::tempdir().unwrap();
    let f = task_api(reports.path().to_str().unwrap(), &[("OTEL_SERVICE_NAME", "shop")]).await;

    let outcome = f.invoke(&scheduler_input(), traced(XRAY_TRACE)).await;

    assert!(matches!(outcome, Outcome::Response(_)), "{}", f.function.logs());
    assert_eq!(logged(&f, "cleanup ran", "traceparent").await.as_deref(), Some(TRACEPARENT));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_s_call_through_the_extension_carries_its_trace_on_to_the_http_target() {
    let collector = OtlpCollector::start().await;
    let target = RecordingApp::start().await;
    let dir = ComponentsDir::new();
    let hook = [value("url", &target.url()), value("direction", "output")];
    dir.write("hook.yaml", &component("hook", "bindings.http", &hook));
    let api = ExtensionsApi::start().await;
    let (http_port, grpc_port) = (unused_port(), unused_port());
    let endpoint = collector.endpoint();
    let otel = [("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_SERVICE_NAME", "shop")];
    let mut extension = start_with(&api, &dir, http_port, grpc_port, &otel);
    assert!(api.wait_for_next(Duration::from_secs(20)).await, "{}", extension.logs());

    // The app's SDK sends its own span as `traceparent`, as daprd's callers do.
    let url = format!("http://127.0.0.1:{http_port}/v1.0/bindings/hook");
    let body = r#"{"operation":"create","data":{"order":1}}"#;
    let (status, answer) = http_post(&url, &[("traceparent", TRACEPARENT)], body).await;

    assert_eq!(status, 200, "{answer}\n{}", extension.logs());
    let spans = collector.wait_for_spans(1, Duration::from_secs(10)).await;
    assert!(!spans.is_empty(), "no span: is bindery-extension built with otlp, as scripts/test builds it?");
    let call = named(&spans, "output_binding", "hook");
    assert_eq!((call.trace_id.as_str(), call.parent_span_id.as_str()), (TRACE_ID, XRAY_PARENT), "the app's span");
    assert_eq!((call.kind, call.resource_attribute("service.name")), (CLIENT, Some("shop")));
    let posted = target.wait_for_requests(1, Duration::from_secs(5)).await;
    assert_eq!(posted[0].header("traceparent"), Some(format!("00-{TRACE_ID}-{}-01", call.span_id).as_str()));

    // A call in no trace starts one, and its target is handed that.
    let (status, answer) = http_post(&url, &[], body).await;
    assert_eq!(status, 200, "{answer}");
    let spans = collector.wait_for_spans(2, Duration::from_secs(10)).await;
    let root = spans.iter().find(|s| s.trace_id != TRACE_ID).unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(root.parent_span_id, "", "a root span");
    let posted = target.wait_for_requests(2, Duration::from_secs(5)).await;
    assert_eq!(posted[1].header("traceparent"), Some(format!("00-{}-{}-01", root.trace_id, root.span_id).as_str()));

    api.shutdown();
    let status = extension.wait_exit(Duration::from_secs(10)).await.expect("the extension exits on SHUTDOWN");
    assert!(status.success(), "{status:?}\n{}", extension.logs());
}

#[tokio::test]
async fn a_protocol_it_cannot_speak_is_an_error_line_at_init_and_the_function_goes_on() {
    let collector = OtlpCollector::start().await;
    let reports = tempfile::tempdir().unwrap();
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let f = task_api(reports.path().to_str().unwrap(), &env).await;

    let outcome = f.invoke(&scheduler_input(), traced(XRAY_TRACE)).await;

    assert!(matches!(outcome, Outcome::Response(_)), "{}", f.function.logs());
    let error = logged(&f, "traces are not exported", "error").await.unwrap();
    assert!(error.contains("OTEL_EXPORTER_OTLP_PROTOCOL") && error.contains("grpc"), "{error}");
    assert!(collector.spans().is_empty(), "{:?}", collector.spans());
}

#[tokio::test]
async fn an_sqs_invocation_links_each_message_s_trace() {
    let collector = OtlpCollector::start().await;
    let components = ComponentsDir::with("task-events.yaml", &sqs_component("task-events"));
    let nowhere = format!("http://127.0.0.1:{}", unused_port());
    let endpoint = collector.endpoint();
    let vars = [
        ("BINDERY_BINDING", "task-events"),
        ("BINDERY_APP_URL", nowhere.as_str()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
    ];
    let f = Running::start("task-api-lambda", components, &vars).await;
    // Two messages sent in traces of their own (SQS's AWSTraceHeader), one in none.
    let producers = [
        ("1-5759e988-bd862e3fe1be46a994270001", "00000000000000a1"),
        ("1-5759e988-bd862e3fe1be46a994270002", "00000000000000a2"),
    ];
    let mut records: Vec<Value> = producers
        .iter()
        .enumerate()
        .map(|(i, (root, parent))| {
            let mut record = sqs_record(&format!("m-{i}"), r#"{"title":"traced"}"#);
            record["attributes"]["AWSTraceHeader"] = json!(format!("Root={root};Parent={parent};Sampled=1"));
            record
        })
        .collect();
    records.push(sqs_record("m-untraced", r#"{"title":"untraced"}"#));

    let outcome = f.invoke(&json!({ "Records": records }), traced(XRAY_TRACE)).await;

    let Outcome::Response(response) = outcome else { panic!("{outcome:?}\n{}", f.function.logs()) };
    assert_eq!(response["batchItemFailures"], json!([]));
    let spans = collector.wait_for_spans(1, Duration::from_secs(10)).await;
    let invocation = named(&spans, "invocation", "task-events");
    assert_eq!(invocation.trace_id, TRACE_ID, "the invocation is in Lambda's trace");
    let mut links = invocation.links.clone();
    links.sort();
    let expected: Vec<(String, String)> =
        producers.iter().map(|(root, parent)| (root[2..].replace('-', ""), (*parent).to_owned())).collect();
    assert_eq!(links, expected, "a link to each message's trace");
}
