//! The functions' logs and metrics as an operator reads them: Powertools'
//! keys on every line, a Logs Insights query over a whole run that finds
//! each binding's failures, no secret or message body anywhere in that
//! run's output, and its EMF lines valid by the specification and adding up
//! to what happened.

use serde_json::{Value, json};

use crate::common::webhook::{self, SECRET, github_event, github_signature};
use crate::common::{FIRST_REQUEST_ID, XRAY_TRACE, sqs_record, start_sqs};
use bindery_e2e::{FUNCTION_ARN, InvokeOptions, RecordingApp, Reply, aws, python};

const APP_TOKEN: &str = "app-token-s3cr3t";
const FAILING_BODY: &str = "body-that-fails-4b1d";
const GOOD_BODY: &str = "body-that-is-fine-77e2";

/// Runs a Logs Insights query over `logs` with the tests' query script.
async fn query(logs: &str, query: &str) -> Value {
    let env = vec![("QUERY".to_owned(), query.to_owned())];
    let output = python::run(python::script("logs_insights.py"), env, logs.as_bytes().to_vec()).await;
    assert!(output.status.success(), "the query failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The EMF lines of `output` checked against the specification, and their
/// metrics added up (tests/python/emf_check.py).
async fn emf_check(output: &str) -> Value {
    let script = python::script("emf_check.py");
    let checked = python::run_with(aws::moto_python(), script, Vec::new(), output.as_bytes().to_vec()).await;
    assert!(checked.status.success(), "the EMF check failed: {}", String::from_utf8_lossy(&checked.stderr));
    serde_json::from_slice(&checked.stdout).unwrap()
}

/// A run with failures of every kind the functions log: an SQS batch
/// whose app fails two records, then a webhook whose app fails, one whose
/// signature is forged, and one delivered. Its whole output.
async fn a_failing_run() -> String {
    let app = RecordingApp::start().await;
    app.set_reply(|request| {
        let body = String::from_utf8_lossy(&request.body);
        if body.contains(FAILING_BODY) || body.contains("\"fail\":true") {
            Reply::Status(500)
        } else {
            Reply::Status(200)
        }
    });
    let sqs = start_sqs(&app.url(), &[("APP_API_TOKEN", APP_TOKEN)]).await;
    let records = vec![
        sqs_record("m-1", GOOD_BODY),
        sqs_record("m-2", FAILING_BODY),
        sqs_record("m-3", FAILING_BODY),
        sqs_record("m-4", GOOD_BODY),
    ];
    let traced = InvokeOptions { trace_id: Some(XRAY_TRACE.to_owned()), ..InvokeOptions::default() };
    let answer = sqs.invoke(&json!({ "Records": records }), traced).await.response();
    assert_eq!(answer["batchItemFailures"].as_array().map(Vec::len), Some(2), "{answer}");
    sqs.invoke(&json!({ "Records": [sqs_record("m-5", GOOD_BODY)] }), InvokeOptions::default()).await.response();

    let hook = webhook::start(&app.url(), "github", &[]).await;
    let failing = br#"{"action":"opened","fail":true}"#;
    assert_eq!(hook.invoke(&github_event(failing), InvokeOptions::default()).await.response()["statusCode"], 500);
    let mut forged = github_event(GOOD_BODY.as_bytes());
    forged["headers"]["x-hub-signature-256"] = json!(github_signature(b"another body"));
    assert_eq!(hook.invoke(&forged, InvokeOptions::default()).await.response()["statusCode"], 401);
    let good = github_event(GOOD_BODY.as_bytes());
    assert_eq!(hook.invoke(&good, InvokeOptions::default()).await.response()["statusCode"], 200);

    // Each function writes what it held once its answer is posted: the
    // logs are whole once both have answered and their readers caught up.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    format!("{}{}", sqs.function.logs(), hook.function.logs())
}

#[tokio::test]
async fn a_logs_insights_query_finds_each_binding_s_failures_and_no_secret_is_logged() {
    let logs = a_failing_run().await;

    let errors = query(&logs, r#"filter level="ERROR" | stats count(*) by binding"#).await;
    let expected = json!([{"binding": "github-webhook", "count(*)": 1}, {"binding": "task-events", "count(*)": 2}]);
    assert_eq!(errors, expected, "two failed records and one failed webhook:\n{logs}");
    let refused = query(&logs, r#"filter level="WARN" and binding="github-webhook" | stats count(*) by level"#).await;
    assert_eq!(refused, json!([{"level": "WARN", "count(*)": 1}]), "the forged webhook is a warning:\n{logs}");

    // The first invocation's lines carry Lambda's context, as Powertools'.
    let failed = query(&logs, r#"filter message="record failed" and function_request_id="00000000-0000-4000-8000-000000000001" | stats count(*) by cold_start"#).await;
    assert_eq!(failed, json!([{"cold_start": "true", "count(*)": 2}]), "{logs}");
    let line: Value = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["message"] == "record failed")
        .unwrap();
    assert_eq!(line["function_request_id"], FIRST_REQUEST_ID);
    assert_eq!(line["function_arn"], FUNCTION_ARN);
    assert_eq!(line["function_name"], "test");
    assert_eq!(line["function_memory_size"], 128);
    assert_eq!(line["service"], "task-events", "the binding, without POWERTOOLS_SERVICE_NAME");
    assert_eq!(line["xray_trace_id"], XRAY_TRACE);
    let batch_done =
        query(&logs, r#"filter message="batch done" and binding="task-events" | stats count(*) by cold_start"#).await;
    assert_eq!(batch_done, json!([{"cold_start": "false", "count(*)": 1}, {"cold_start": "true", "count(*)": 1}]));

    for secret in [SECRET, APP_TOKEN, FAILING_BODY, GOOD_BODY, "\"fail\":true"] {
        assert!(!logs.contains(secret), "the run's output holds {secret:?}:\n{logs}");
    }
}

#[tokio::test]
async fn the_metrics_are_valid_emf_and_add_up_to_the_run() {
    let output = a_failing_run().await;
    let checked = emf_check(&output).await;
    assert_eq!(checked["errors"], json!([]), "{output}");
    assert_eq!(checked["lines"], 5, "one line a binding per invocation:\n{output}");
    assert_eq!(checked["namespaces"], json!(["bindery"]));
    assert_eq!(checked["dimensions"], json!(["binding,function"]));

    let sums = &checked["sums"];
    let sqs = json!({"Delivered": 3, "Failed": 2, "FailedApp5xx": 2, "BatchSize": 5, "RecordsReportedFailed": 2});
    for (metric, expected) in sqs.as_object().unwrap() {
        assert_eq!(&sums["task-events"][metric], expected, "task-events {metric}: {sums}");
    }
    assert_eq!(checked["values"]["task-events"]["BatchSize"], json!([4, 1]), "one value per invocation");
    let latencies = checked["values"]["task-events"]["DeliveryLatency"].as_array().unwrap();
    assert_eq!(latencies.len(), 5, "one per delivery the app answered: {latencies:?}");
    let webhook = json!({"Delivered": 1, "Failed": 2, "FailedApp5xx": 1, "FailedVerification": 1});
    for (metric, expected) in webhook.as_object().unwrap() {
        assert_eq!(&sums["github-webhook"][metric], expected, "github-webhook {metric}: {sums}");
    }

    // The check itself refuses what the specification does.
    let bad = concat!(
        r#"{"_aws":{"CloudWatchMetrics":[{"Namespace":"bindery","Dimensions":[["binding"]],"Metrics":[{"Name":"Delivered"}]}]},"binding":"a","Delivered":1}"#,
        "\n",
        r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"bindery","Dimensions":[["binding"]],"Metrics":[{"Name":"Delivered","Unit":"Things"}]}]},"binding":"a","Delivered":1}"#,
        "\n",
        r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"bindery","Dimensions":[["binding"]],"Metrics":[{"Name":"Delivered"}]}]},"Delivered":"1"}"#,
        "\n",
    );
    let refused = emf_check(bad).await;
    assert_eq!(refused["errors"].as_array().map(Vec::len), Some(4), "{refused}");
}
