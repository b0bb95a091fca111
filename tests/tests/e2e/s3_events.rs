//! `bindery-s3-events` end to end: each record of an S3 event notification
//! becomes one `POST /<binding>` with the record as body and the object's
//! facts as metadata; a record the app does not acknowledge fails the
//! invocation, for Lambda's asynchronous retries. One event comes from AWS's
//! sample, one from moto, for an object really uploaded to it.

use std::time::Duration;

use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
use bindery_e2e::aws::Emulator;
use bindery_e2e::{InvokeOptions, RecordingApp, Reply};
use serde_json::{Value, json};

use crate::common::{
    ComponentsDir, FIRST_REQUEST_ID, Running, SECOND, assert_error, assert_json_logs, component, unexpected_headers,
    value,
};

fn fixture(name: &str) -> Value {
    let path = format!("{}/../shared/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

async fn start(bucket: &str, app_url: &str) -> Running {
    let items = [value("direction", "input"), value("bucket", bucket)];
    let components = ComponentsDir::with("uploads.yaml", &component("uploads", "bindings.aws.s3", &items));
    Running::start("bindery-s3-events", components, &[("BINDERY_BINDING", "uploads"), ("BINDERY_APP_URL", app_url)])
        .await
}

#[tokio::test]
async fn aws_s_sample_is_one_post_with_the_record_and_the_object_s_metadata() {
    let app = RecordingApp::start().await;
    let f = start("example-bucket", &app.url()).await;
    let event = fixture("s3-put.json");

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(response, Value::Null);
    let requests = app.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/uploads"));
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body, event["Records"][0], "the body is the record");
    for (key, expected) in [
        ("bucket", "example-bucket"),
        ("key", "test/key"),
        ("eventname", "ObjectCreated:Put"),
        ("eventtime", "1970-01-01T00:00:00.000Z"),
        ("size", "1024"),
        ("etag", "0123456789abcdef0123456789abcdef"),
        ("sequencer", "0A1B2C3D4E5F678901"),
    ] {
        assert_eq!(request.header(key), Some(expected), "{key}");
    }
    let allowed = [
        "host",
        "content-type",
        "content-length",
        "bucket",
        "key",
        "eventname",
        "eventtime",
        "size",
        "etag",
        "sequencer",
    ];
    assert_eq!(unexpected_headers(&request.headers, &allowed), Vec::<String>::new());
    assert_json_logs(&f.function, FIRST_REQUEST_ID, &["0123456789abcdef0123456789abcdef"]).await;
}

#[tokio::test]
async fn a_record_the_app_refuses_fails_the_invocation_for_lambda_to_retry() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| Reply::Status(503));
    let f = start("example-bucket", &app.url()).await;

    let error = f.invoke(&fixture("s3-put.json"), InvokeOptions::default()).await.error();

    assert_error(&error, "Bindery.DeliveryFailed");
    assert_eq!(app.requests().len(), 1);
}

#[tokio::test]
async fn records_of_another_bucket_or_unreadable_ones_fail_without_reaching_the_app() {
    let app = RecordingApp::start().await;
    let f = start("uploads", &app.url()).await;

    // The sample is of example-bucket, not of this binding's bucket.
    let error = f.invoke(&fixture("s3-put.json"), InvokeOptions::default()).await.error();
    assert_error(&error, "Bindery.DeliveryFailed");
    let no_key =
        json!({"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "uploads"}, "object": {}}}]});
    let error = f.invoke(&no_key, InvokeOptions::default()).await.error();
    assert_error(&error, "Bindery.DeliveryFailed");
    let error = f.invoke(&json!({"detail": "not an S3 event"}), InvokeOptions::default()).await.error();
    assert_error(&error, "Bindery.InvalidEvent");
    assert!(app.requests().is_empty(), "{:?}", app.requests());
    // The output is read on its own threads: wait for the line.
    assert!(f.function.wait_for_output("this binding is for", 5 * SECOND).await, "{}", f.function.logs());
}

/// moto writes the notification of a real upload to a queue; its body is
/// the event bindery-s3-events reads (moto's Lambda path needs Docker).
#[tokio::test]
async fn the_event_moto_sends_for_an_upload_is_delivered_with_its_key_decoded() {
    let aws = Emulator::from_env();
    let (s3, sqs) = (aws.s3().await, aws.sqs().await);
    let bucket = aws.bucket("s3-events").await;
    let queue_url = sqs.create_queue().queue_name(aws.unique("s3-events")).send().await.unwrap().queue_url.unwrap();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    let to_queue = QueueConfiguration::builder().queue_arn(queue_arn).events(Event::S3ObjectCreated).build().unwrap();
    let notifications = NotificationConfiguration::builder().queue_configurations(to_queue).build();
    s3.put_bucket_notification_configuration()
        .bucket(&bucket)
        .notification_configuration(notifications)
        .send()
        .await
        .unwrap();
    let key = "red flower/été+1.txt";
    s3.put_object().bucket(&bucket).key(key).body(b"hello".to_vec().into()).send().await.unwrap();
    let event = notification_from(&sqs, &queue_url).await;

    let app = RecordingApp::start().await;
    let f = start(&bucket, &app.url()).await;
    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(response, Value::Null);
    let requests = app.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    // A key is UTF-8, sent as it is (HTTP carries it as opaque bytes).
    let delivered_key = requests[0].headers.get("key").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    assert_eq!(delivered_key.as_deref(), Some(key), "{:?} {event}", requests[0].headers);
    assert_eq!(requests[0].header("bucket"), Some(bucket.as_str()));
    assert_eq!(requests[0].header("size"), Some("5"));
    assert!(requests[0].header("eventname").is_some_and(|n| n.starts_with("ObjectCreated:")), "{requests:?}");
}

/// The first notification with records on `queue_url` (S3 may send a test
/// event first).
async fn notification_from(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Value {
    let give_up = tokio::time::Instant::now() + 10 * SECOND;
    while tokio::time::Instant::now() < give_up {
        let received = sqs.receive_message().queue_url(queue_url).wait_time_seconds(1).send().await.unwrap();
        for message in received.messages.unwrap_or_default() {
            let body: Value = serde_json::from_str(message.body.as_deref().unwrap_or("null")).unwrap();
            if body.get("Records").is_some() {
                return body;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no S3 notification reached {queue_url}");
}
