//! `bindery-sns` end to end: each record of an SNS notification becomes one
//! `POST /<binding>` with the message as body; a record of another topic, or
//! one whose signature does not hold when the binding asks for it, fails
//! the invocation without reaching the app. One notification is AWS's
//! sample, one is signed here with a test key, one is what moto made of a
//! real publish. Over HTTP (a Function URL event whose body is SNS's
//! message) every message is verified, the answer is an HTTP status SNS
//! understands, and a subscription confirmation never reaches the app.

use std::process::Command;

use base64::Engine;
use bindery_e2e::aws::Emulator;
use bindery_e2e::{InvokeOptions, RecordingApp, Reply};
use serde_json::{Value, json};

use crate::common::webhook::v2_event;
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
    sns["Signature"] = json!(sign(sns, &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]));
    event
}

/// The base64 SHA256withRSA signature by the test key of `fields` of
/// `message`, each as `<name>\n<value>\n`, as SNS signs them.
fn sign(message: &Value, fields: &[&str]) -> String {
    let mut text = String::new();
    for name in fields {
        text.push_str(&format!("{name}\n{}\n", message[*name].as_str().unwrap()));
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
    base64::engine::general_purpose::STANDARD.encode(output.stdout)
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

/// Signs `message` (SNS's HTTP body, its fields by name) with the test key,
/// over the fields SNS signs for its `Type`.
fn sign_http_message(message: &mut Value) {
    let fields: &[&str] = if message["Type"] == "Notification" {
        &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    } else {
        &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    };
    message["SignatureVersion"] = json!("2");
    message["Signature"] = json!(sign(message, fields));
}

/// An SNS HTTP delivery of `message` to the function's Function URL.
fn over_http(message: &Value) -> Value {
    let headers = json!({
        "content-type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": message["Type"],
        "x-amz-sns-topic-arn": message["TopicArn"],
    });
    v2_event("$default", "/", "", headers, message.to_string().as_bytes(), false)
}

fn http_notification(text: &str) -> Value {
    let mut message = json!({
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": SAMPLE_TOPIC,
        "Subject": "Over HTTP",
        "Message": text,
        "Timestamp": "2026-12-05T08:00:00.000Z",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
        "MessageAttributes": {"kind": {"Type": "String", "Value": "http"}},
    });
    sign_http_message(&mut message);
    message
}

fn status_of(response: &Value) -> (u64, String) {
    (response["statusCode"].as_u64().unwrap(), response["body"].as_str().unwrap_or_default().to_owned())
}

/// Over HTTP anyone can post, so the signature is checked even though the
/// component does not ask (no `verifySignature`): the signed notification
/// reaches the app, a forged one is refused 403 without reaching it, and an
/// app that does not acknowledge makes the answer 502, which SNS retries.
#[tokio::test]
async fn over_http_every_message_is_verified_and_the_answer_is_http() {
    let app = RecordingApp::start().await;
    let pinned = [value("signingCertificate", &shared_file("sns-signing/test-cert.pem"))];
    let f = start(SAMPLE_TOPIC, &pinned, &app.url()).await;

    let response = f.invoke(&over_http(&http_notification("hello over HTTP")), InvokeOptions::default()).await;
    assert_eq!(status_of(&response.response()).0, 200, "{}", f.function.logs());
    let requests = app.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(&requests[0].body[..], b"hello over HTTP");
    assert_eq!(requests[0].header("subject"), Some("Over HTTP"));
    assert_eq!(requests[0].header("attr-kind"), Some("http"));
    assert_eq!(requests[0].header("messageid"), Some("22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"));

    let mut forged = http_notification("signed");
    forged["Message"] = json!("changed on the way");
    let (status, body) = status_of(&f.invoke(&over_http(&forged), InvokeOptions::default()).await.response());
    assert_eq!(status, 403);
    assert!(body.contains("SNS signature refused"), "{body}");
    let mut unsigned = http_notification("unsigned");
    unsigned.as_object_mut().unwrap().remove("Signature");
    assert_eq!(status_of(&f.invoke(&over_http(&unsigned), InvokeOptions::default()).await.response()).0, 403);
    let not_sns = v2_event("$default", "/", "", json!({}), b"{\"hello\":1}", false);
    assert_eq!(status_of(&f.invoke(&not_sns, InvokeOptions::default()).await.response()).0, 400);
    assert_eq!(app.requests().len(), 1, "nothing refused reached the app");

    app.set_reply(|_| Reply::Status(500));
    let response = f.invoke(&over_http(&http_notification("refused by the app")), InvokeOptions::default()).await;
    assert_eq!(status_of(&response.response()).0, 502);
}

/// A subscription confirmation is verified, then confirmed at its
/// `SubscribeURL` only when that is SNS's own (the fetch itself is tested
/// against a loopback SNS host in `function/sns/certificates/tests.rs`: the
/// real one is not reachable here); the app is never called.
#[tokio::test]
async fn over_http_a_confirmation_is_checked_and_never_reaches_the_app() {
    let app = RecordingApp::start().await;
    let pinned = [value("signingCertificate", &shared_file("sns-signing/test-cert.pem"))];
    let f = start(SAMPLE_TOPIC, &pinned, &app.url()).await;
    let confirmation = |subscribe_url: &str| {
        let mut message = json!({
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37f",
            "TopicArn": SAMPLE_TOPIC,
            "Message": "You have chosen to subscribe to the topic. To confirm, visit the SubscribeURL.",
            "SubscribeURL": subscribe_url,
            "Timestamp": "2026-12-05T08:00:00.000Z",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
        });
        sign_http_message(&mut message);
        message
    };
    let foreign = confirmation("https://attacker.example/?Action=ConfirmSubscription&Token=2336412f37f");
    let (status, body) = status_of(&f.invoke(&over_http(&foreign), InvokeOptions::default()).await.response());
    assert_eq!(status, 502);
    assert!(body.contains("is not on an SNS host"), "{body}");

    let mut forged = confirmation("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37f");
    forged["Token"] = json!("another");
    assert_eq!(status_of(&f.invoke(&over_http(&forged), InvokeOptions::default()).await.response()).0, 403);

    let mut unsubscribed = confirmation("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=x");
    unsubscribed["Type"] = json!("UnsubscribeConfirmation");
    sign_http_message(&mut unsubscribed);
    let response = f.invoke(&over_http(&unsubscribed), InvokeOptions::default()).await;
    assert_eq!(status_of(&response.response()).0, 200);
    assert!(app.requests().is_empty(), "{:?}", app.requests());
}
