//! `bindery run`'s DynamoDB Streams poller, on moto (LocalStack serves
//! DynamoDB through a download it cannot make here). Writes another SDK
//! (boto3) makes to a table reach the app in order, one per change, with the
//! change's name and keys as metadata and the image as plain JSON
//! (`streamFormat: plain`); the stream is found from the table's name.

use std::time::Duration;

use bindery_e2e::RecordingApp;
use bindery_e2e::aws::Emulator;
use serde_json::json;

use crate::common::{ComponentsDir, SECOND, bindery_run, metadata_value};

#[tokio::test]
async fn each_change_to_the_table_reaches_the_app_in_order_as_plain_json() {
    let emulator = Emulator::from_env();
    let table = emulator.unique("run-tasks");
    let created = emulator.boto3(json!({"op": "dynamodb_table", "name": table, "stream": true})).await;
    assert!(created["stream_arn"].is_string(), "{created}");
    let app = RecordingApp::start().await;
    let components = ComponentsDir::new();
    let items = [("table", table.as_str()), ("direction", "input"), ("streamFormat", "plain")];
    components.write("changes.yaml", &emulator.component("task-changes", "bindings.aws.dynamodb", &items));
    let (bindery, _) = bindery_run(&components, &app.url(), &[], "task-changes: reading").await;

    let item = |title: &str| json!({"id": {"S": "t-1"}, "title": {"S": title}, "points": {"N": "3"}});
    emulator.boto3(json!({"op": "dynamodb_put", "table": table, "item": item("write")})).await;
    emulator.boto3(json!({"op": "dynamodb_put", "table": table, "item": item("ship")})).await;
    emulator.boto3(json!({"op": "dynamodb_delete", "table": table, "id": "t-1"})).await;

    let received = app.wait_for_requests(3, 20 * SECOND).await;
    assert_eq!(received.len(), 3, "{}", bindery.logs());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received = app.requests();
    let names: Vec<_> = received.iter().map(|r| metadata_value(r, "eventName").unwrap_or_default()).collect();
    assert_eq!(names, ["INSERT", "MODIFY", "REMOVE"], "{}", bindery.logs());
    let bodies: Vec<_> = received.iter().map(|r| r.json()).collect();
    assert_eq!(bodies[0], json!({"id": "t-1", "title": "write", "points": 3}));
    assert_eq!(bodies[1], json!({"id": "t-1", "title": "ship", "points": 3}));
    // A REMOVE carries the item as it was.
    assert_eq!(bodies[2], json!({"id": "t-1", "title": "ship", "points": 3}));
    for request in &received {
        assert_eq!(request.path, "/task-changes");
        assert_eq!(metadata_value(request, "key-id").as_deref(), Some("t-1"));
        assert!(metadata_value(request, "sequenceNumber").is_some());
    }
}

#[tokio::test]
async fn a_table_without_a_stream_is_refused_at_start_up_by_name() {
    let emulator = Emulator::from_env();
    let table = emulator.unique("run-nostream");
    emulator.boto3(json!({"op": "dynamodb_table", "name": table})).await;
    let app = RecordingApp::start().await;
    let components = ComponentsDir::new();
    let items = [("table", table.as_str()), ("direction", "input")];
    components.write("changes.yaml", &emulator.component("task-changes", "bindings.aws.dynamodb", &items));
    let (bindery, _) = bindery_run(&components, &app.url(), &[], "has no stream").await;
    let logs = bindery.logs();
    assert!(logs.contains(&format!("task-changes: table {table:?} has no stream")), "{logs}");
}
