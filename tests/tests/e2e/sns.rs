//! `bindery-sns` end to end: each record of an SNS notification becomes one
//! `POST /<binding>` with the message as body; a record of another topic, or
//! one whose signature does not hold when the binding asks for it, fails
//! the invocation without reaching the app. One notification is AWS's
//! sample, one is signed here with a test key, one is what moto made of a
//! real publish.

use std::process::Command;

use base64::Engine;
use bindery_e2e::aws::Emulator;
use bindery_e2e::{InvokeOptions, RecordingApp, Reply};
use serde_json::{Value, json};

use crate::common::{
    ComponentsDir, FIRST_REQUEST_ID, Running, SECOND, assert_error, assert_json_logs, component, unexpected_headers,
    value,
};

const SAMPLE_TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:sns-lambda";

fn shared_file(path: &str) -> String {
    format!("{}/../shared/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(shared_file(&format!("events/{name}"))).unwrap()).unwrap()
}

async fn start(topic: &str, extra: &[String], app_url: &str) -> Running {
    let mut items = vec![value("direction", "input"), value("topicArn", topic)];
    items.extend_from_slice(extra);
    let components = ComponentsDir::with("notices.yaml", &component("notices", "bindings.aws.sns", &items));
    Running::start("bindery-sns", components, &[("BINDERY_BINDING", "notices"), ("BINDERY_APP_URL", app_url)]).await
}

/// The AWS sample's record signed with the test key (SignatureVersion 2),
/// with `message` as its message.
fn signed_sample(message: &str) -> Value {
    let mut event = fixture("sns-notification.json");
    let sns = &mut event["Records"][0]["Sns"];
    sns["Message"] = json!(message);
    sns["SignatureVersion"] = json!("2");
    let mut text = String::new();
    for name in ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] {
        text.push_str(&format!("{name}\n{}\n", sns[name].as_str().unwrap()));
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("to-sign");
    std::fs::write(&input, text).unwrap();
    let output = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign", &shared_file("sns-signing/test-key.pem")])
        .arg(&input)
        .output()
        .expect("openssl runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    sns["Signature"] = json!(base64::engine::general_purpose::STANDARD.encode(output.stdout));
    event
}

#[tokio::test]
async fn aws_s_sample_is_one_post_with_the_message_and_its_metadata() {
    let app = RecordingApp::start().await;
    let f = start(SAMPLE_TOPIC, &[], &app.url()).await;

    let response = f.invoke(&fixture("sns-notification.json"), InvokeOptions::default()).await.response();

    assert_eq!(response, Value::Null);
    let requests = app.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/notices"));
    assert_eq!(&request.body[..], b"Hello from SNS!");
    for (key, expected) in [
        ("messageid", "95df01b4-ee98-5cb9-9903-4c221d41eb5e"),
        ("topicarn", SAMPLE_TOPIC),
        ("subject", "TestInvoke"),
        ("timestamp", "2019-01-02T12:45:07.000Z"),
        ("attr-test", "TestString"),
        ("attr-testbinary", "TestBinary"),
    ] {
        assert_eq!(request.header(key), Some(expected), "{key}");
    }
    let allowed = [
        "host",
        "content-type",
        "content-length",
        "messageid",
        "topicarn",
        "subject",
        "timestamp",
        "attr-test",
        "attr-testbinary",
    ];
    assert_eq!(unexpected_headers(&request.headers, &allowed), Vec::<String>::new());
    assert_json_logs(&f.function, FIRST_REQUEST_ID, &["Hello from SNS!"]).await;
}

#[tokio::test]
async fn with_verify_signature_only_what_the_key_signed_reaches_the_app() {
    let app = RecordingApp::start().await;
    let pinned =
        [value("verifySignature", "true"), value("signingCertificate", &shared_file("sns-signing/test-cert.pem"))];
    let f = start(SAMPLE_TOPIC, &pinned, &app.url()).await;

    let response = f.invoke(&signed_sample("signed by the test key"), InvokeOptions::default()).await.response();
    assert_eq!(response, Value::Null);

    // Changed after signing, or signed by nobody: refused, the app never asked.
    let mut forged = signed_sample("signed by the test key");
    forged["Records"][0]["Sns"]["Message"] = json!("changed on the way");
    let error = f.invoke(&forged, InvokeOptions::default()).await.error();
    assert_error(&error, "Bindery.DeliveryFailed");
    let error = f.invoke(&fixture("sns-notification.json"), InvokeOptions::default()).await.error();
    assert_error(&error, "Bindery.DeliveryFailed");

    let requests = app.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(&requests[0].body[..], b"signed by the test key");
    assert!(f.function.wait_for_output("SNS signature refused", 5 * SECOND).await, "{}", f.function.logs());
}

#[tokio::test]
async fn another_topic_a_refusing_app_or_no_event_fail_the_invocation() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| Reply::Status(500));
    let f = start("arn:aws:sns:us-east-1:123456789012:other", &[], &app.url()).await;
    let error = f.invoke(&fixture("sns-notification.json"), InvokeOptions::default()).await.error();
    assert_error(&error, "Bindery.DeliveryFailed");
    assert!(app.requests().is_empty(), "a record of another topic reached the app");

    let f = start(SAMPLE_TOPIC, &[], &app.url()).await;
    let error = f.invoke(&fixture("sns-notification.json"), InvokeOptions::default()).await.error();
    assert_error(&error, "Bindery.DeliveryFailed");
    assert_eq!(app.requests().len(), 1);
    let error = f.invoke(&json!({"Records": {}}), InvokeOptions::default()).await.error();
    assert_error(&error, "Bindery.InvalidEvent");
}

/// moto delivers a real publish, subject and attributes included, to a
/// subscribed queue; that message, in a Lambda record, is what the function
/// reads (moto's own Lambda event is canned, and its signatures cannot be
/// checked: the reference note, §4.2).
#[tokio::test]
async fn what_moto_made_of_a_real_publish_is_delivered() {
    let aws = Emulator::from_env();
    let sdk = aws.sdk_config().await;
    let (sns, sqs) = (aws_sdk_sns::Client::new(&sdk), aws.sqs().await);
    let topic = sns.create_topic().name(aws.unique("notices")).send().await.unwrap().topic_arn.unwrap();
    let queue_url = sqs.create_queue().queue_name(aws.unique("notices")).send().await.unwrap().queue_url.unwrap();
    let queue_arn = format!("arn:aws:sqs:us-east-1:123456789012:{}", queue_url.rsplit('/').next().unwrap());
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(queue_arn).send().await.unwrap();
    let tenant =
        aws_sdk_sns::types::MessageAttributeValue::builder().data_type("String").string_value("acme").build().unwrap();
    let message = "{\"task\":\"t-9\",\"note\":\"Zürich\"}";
    sns.publish()
        .topic_arn(&topic)
        .message(message)
        .subject("Task done")
        .message_attributes("tenant", tenant)
        .send()
        .await
        .unwrap();
    let received = sqs.receive_message().queue_url(&queue_url).wait_time_seconds(5).send().await.unwrap();
    let envelope: Value = serde_json::from_str(received.messages.unwrap()[0].body.as_deref().unwrap()).unwrap();
    let event = json!({"Records": [{
        "EventVersion": "1.0",
        "EventSubscriptionArn": format!("{topic}:0b5a3f7e"),
        "EventSource": "aws:sns",
        "Sns": envelope,
    }]});

    let app = RecordingApp::start().await;
    let f = start(&topic, &[], &app.url()).await;
    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(response, Value::Null, "{event}");
    let requests = app.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(&requests[0].body[..], message.as_bytes());
    assert_eq!(requests[0].header("subject"), Some("Task done"));
    assert_eq!(requests[0].header("attr-tenant"), Some("acme"));
    assert_eq!(requests[0].header("topicarn"), Some(topic.as_str()));
}
