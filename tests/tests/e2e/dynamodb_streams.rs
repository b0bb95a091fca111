//! `bindery-dynamodb-streams` end to end: each change becomes one
//! `POST /<binding>` in order, the new image (the old one for REMOVE) as
//! the body, `eventName` and the keys as headers; the app's answers become
//! Lambda's checkpoint, as for Kinesis.

use crate::common::{ComponentsDir, Running, component, value};
use bindery_e2e::{InvokeOptions, RecordingApp, Reply, workspace};
use serde_json::{Value, json};

async fn start(app_url: &str, format: Option<&str>) -> Running {
    let mut items = vec![value("table", "TestTable"), value("direction", "input")];
    if let Some(format) = format {
        items.push(value("streamFormat", format));
    }
    let components = ComponentsDir::with("changes.yaml", &component("changes", "bindings.aws.dynamodb", &items));
    Running::start(
        "bindery-dynamodb-streams",
        components,
        &[("BINDERY_BINDING", "changes"), ("BINDERY_APP_URL", app_url)],
    )
    .await
}

fn sample() -> Value {
    let text = std::fs::read_to_string(workspace().join("shared/fixtures/events/dynamodb.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn body(r: &bindery_e2e::Recorded) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

#[tokio::test]
async fn plain_format_delivers_new_images_the_old_one_for_remove_and_the_keys() {
    let app = RecordingApp::start().await;
    let f = start(&app.url(), Some("plain")).await;

    let response = f.invoke(&sample(), InvokeOptions::default()).await.response();

    assert_eq!(response, json!({"batchItemFailures": []}));
    let requests = app.requests();
    let seen: Vec<(Option<&str>, Value)> = requests.iter().map(|r| (r.header("eventname"), body(r))).collect();
    assert_eq!(
        seen,
        [
            (Some("INSERT"), json!({"Id": 101, "Message": "New item!"})),
            (Some("MODIFY"), json!({"Id": 101, "Message": "This item has changed"})),
            (Some("REMOVE"), json!({"Id": 101, "Message": "This item has changed"})),
        ]
    );
    for request in &requests {
        assert_eq!(request.path, "/changes");
        assert_eq!(request.header("key-id"), Some("101"));
    }
    assert_eq!(requests[2].header("sequencenumber"), Some("333"));
}

#[tokio::test]
async fn dynamodb_json_is_the_default_format() {
    let app = RecordingApp::start().await;
    let f = start(&app.url(), None).await;

    f.invoke(&sample(), InvokeOptions::default()).await.response();

    let first = &app.requests()[0];
    assert_eq!(body(first), json!({"Message": {"S": "New item!"}, "Id": {"N": "101"}}));
}

#[tokio::test]
async fn a_refused_change_is_the_checkpoint_and_later_ones_wait() {
    let app = RecordingApp::start().await;
    app.set_reply(|r| if r.header("eventname") == Some("MODIFY") { Reply::Status(500) } else { Reply::Status(200) });
    let f = start(&app.url(), Some("plain")).await;

    let response = f.invoke(&sample(), InvokeOptions::default()).await.response();

    assert_eq!(response, json!({"batchItemFailures": [{"itemIdentifier": "222"}]}));
    let names: Vec<Option<String>> = app.requests().iter().map(|r| r.header("eventname").map(str::to_owned)).collect();
    assert_eq!(names, [Some("INSERT".to_owned()), Some("MODIFY".to_owned())], "REMOVE waits for MODIFY");
}
