//! The example Task API on its AWS components: `task-api-lambda`, the app's
//! router inside bindery's functions, runs the nightly cleanup, which writes its
//! report to S3 and emails it through SES, both on the emulator. The same app
//! code writes to a folder locally (tests/tests/e2e/cron.rs): only the YAML differs.

use crate::common::{ComponentsDir, Running, cron_component, sqs_component, sqs_record};
use bindery_e2e::aws::Emulator;
use bindery_e2e::{InvokeOptions, unused_port};
use serde_json::{Value, json};

#[tokio::test]
async fn the_nightly_cleanup_reports_to_s3_and_emails_through_ses() {
    let emulator = Emulator::from_env();
    let bucket = emulator.bucket("reports").await;
    let sender = format!("{}@example.com", emulator.unique("task-api"));
    emulator.email_identity(&sender).await;

    let components = ComponentsDir::with("cron-binding.yaml", &cron_component("cron-binding", "@daily", &[]));
    components.write(
        "reports.yaml",
        &emulator.component("reports", "bindings.aws.s3", &[("bucket", &bucket), ("forcePathStyle", "true")]),
    );
    components.write(
        "notifications.yaml",
        &emulator.component(
            "notifications",
            "bindings.aws.ses",
            &[("emailFrom", &sender), ("emailTo", "ops@example.com")],
        ),
    );
    let url = format!("http://127.0.0.1:{}", unused_port());
    let vars = [("BINDERY_BINDING", "cron-binding"), ("BINDERY_APP_URL", url.as_str())];
    let f = Running::start("task-api-lambda", components, &vars).await;

    let outcome = f.invoke(&serde_json::json!({}), InvokeOptions::default()).await;
    assert_eq!(outcome.response(), Value::Null, "{}", f.function.logs());

    let listed = emulator.s3().await.list_objects_v2().bucket(&bucket).send().await.unwrap();
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("cleanup/") && keys[0].ends_with(".json"), "{keys:?}");
    let report = emulator.s3().await.get_object().bucket(&bucket).key(keys[0]).send().await.unwrap();
    let report: Value = serde_json::from_slice(&report.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(report["removed"], serde_json::json!([]));

    let sent: Vec<Value> =
        emulator.sent_emails().await.into_iter().filter(|m| m["source"] == sender.as_str()).collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["subject"], "Nightly cleanup: 0 tasks removed");
    assert!(sent[0]["body"].as_str().unwrap().contains(keys[0]), "the email names the report");
}

/// The same binary serves the queue: `BINDERY_BINDING` names an SQS
/// component, so it runs as bindery-sqs, with the router in-process.
#[tokio::test]
async fn the_same_binary_serves_the_task_queue() {
    let components = ComponentsDir::with("task-events.yaml", &sqs_component("task-events"));
    let url = format!("http://127.0.0.1:{}", unused_port());
    let vars = [("BINDERY_BINDING", "task-events"), ("BINDERY_APP_URL", url.as_str())];
    let f = Running::start("task-api-lambda", components, &vars).await;

    let batch = json!({"Records": [
        sqs_record("m-1", r#"{"title":"from the queue"}"#),
        sqs_record("m-2", "not a task"),
    ]});
    let outcome = f.invoke(&batch, InvokeOptions::default()).await;

    // The Task API answers 400 to what is not a task: that record alone is retried.
    assert_eq!(outcome.response(), json!({"batchItemFailures": [{"itemIdentifier": "m-2"}]}), "{}", f.function.logs());
}
