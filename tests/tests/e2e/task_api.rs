//! The example Task API on its AWS components: `task-api-lambda`, the app's
//! router inside bindery's functions, runs the nightly cleanup, which writes its
//! report to S3 and emails it through SES, both on the emulator. The same app
//! code writes to a folder locally (tests/tests/e2e/cron.rs): only the YAML differs.
//! And the `task-api` server under `bindery run`: a task written to its
//! DynamoDB table joins its list through the table's stream, and completing
//! it is announced on an SNS topic, read back from a queue subscribed to it.

use std::time::Duration;

use crate::common::{
    ComponentsDir, Running, SECOND, bindery_run, cron_component, http_get, http_post, sqs_component, sqs_record,
};
use bindery_e2e::aws::Emulator;
use bindery_e2e::{FunctionProcess, InvokeOptions, RecordingApp, example_bin, unused_port};
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

#[tokio::test]
async fn a_task_written_to_the_table_joins_the_list_and_its_completion_is_published_on_sns() {
    let emulator = Emulator::from_env();
    let table = emulator.unique("tasks");
    emulator.boto3(json!({"op": "dynamodb_table", "name": table, "stream": true})).await;
    let topic = emulator.boto3(json!({"op": "sns_topic_with_queue", "name": emulator.unique("task-done")})).await;
    let (topic_arn, queue_url) = (topic["topic_arn"].as_str().unwrap(), topic["queue_url"].as_str().unwrap());
    let monitoring = RecordingApp::start().await;

    let components = ComponentsDir::new();
    let changes = [("table", table.as_str()), ("direction", "input"), ("streamFormat", "plain")];
    components.write("task-changes.yaml", &emulator.component("task-changes", "bindings.aws.dynamodb", &changes));
    components
        .write("task-done.yaml", &emulator.component("task-done", "bindings.aws.sns", &[("topicArn", topic_arn)]));
    let url = format!("{}/webhooks", monitoring.url());
    let http = format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: http-binding\nspec:\n  type: bindings.http\n  \
         version: v1\n  metadata:\n  - name: url\n    value: {url}\n  - name: direction\n    value: output\n"
    );
    components.write("http-binding.yaml", &http);

    // The app, with its output bindings from the same components; bindery run feeds it.
    let port = unused_port().to_string();
    let app_env = [("PORT", port.as_str()), ("BINDERY_COMPONENTS", &components.path_str())];
    let app = FunctionProcess::command(&example_bin("task-api"), &[], &app_env);
    assert!(app.wait_for_output("task-api listening", 20 * SECOND).await, "{}", app.logs());
    let app_url = format!("http://127.0.0.1:{port}");
    let (bindery, _) = bindery_run(&components, &app_url, &[], "task-changes: reading").await;

    let item = json!({"id": {"S": "t-1"}, "title": {"S": "from the table"}, "done": {"BOOL": false}});
    emulator.boto3(json!({"op": "dynamodb_put", "table": table, "item": item})).await;
    let mut tasks = String::new();
    for _ in 0..100 {
        tasks = http_get(&format!("{app_url}/tasks")).await.1;
        if tasks != "[]" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(tasks, r#"[{"id":1,"title":"from the table","done":false}]"#, "{}", bindery.logs());

    let (status, body) = http_post(&format!("{app_url}/tasks/1/complete"), &[], "").await;
    assert_eq!(status, 200, "{body}\n{}", app.logs());
    let event = json!({"event": "task.completed", "task": {"id": 1, "title": "from the table", "done": true}});
    assert_eq!(monitoring.requests()[0].json(), event);
    let delivered = emulator.boto3(json!({"op": "sqs_messages", "queue_url": queue_url})).await;
    let envelope = &delivered[0]["envelope"];
    assert_eq!(envelope["TopicArn"], topic_arn);
    assert_eq!(envelope["Subject"], "Task 1 done");
    assert_eq!(serde_json::from_str::<Value>(envelope["Message"].as_str().unwrap()).unwrap(), event);
    assert_eq!(envelope["MessageAttributes"]["event"]["Value"], "task.completed", "{envelope}");
}
