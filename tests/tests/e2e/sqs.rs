//! `bindery-sqs` end to end: each record of an SQS batch becomes one
//! `POST /<binding>` with the message body verbatim, and the app's answers become
//! the partial-batch response (`batchItemFailures`).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::common::{
    FIRST_REQUEST_ID, SECOND, TRACEPARENT, XRAY_TRACE, assert_error, assert_json_logs, assert_no_requests, deadline_ms,
    metadata_value, start_sqs, unexpected_headers,
};
use bindery_e2e::{InvokeOptions, Recorded, RecordingApp, Reply, unused_port};
use serde_json::{Value, json};

const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:task-events";
const FIFO_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:task-events.fifo";

fn receipt_handle(id: &str) -> String {
    format!("AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a-{id}")
}

/// A standard-queue record as Lambda delivers it.
fn record(id: &str, body: &str) -> Value {
    json!({
        "messageId": id,
        "receiptHandle": receipt_handle(id),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1545082649183",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1545082649185"
        },
        "messageAttributes": {
            "tenant": {"stringValue": "acme", "dataType": "String"}
        },
        "md5OfBody": "098f6bcd4621d373cade4e832627b4f6",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1"
    })
}

/// A FIFO-queue record of message group `group`.
fn fifo_record(id: &str, group: &str, sequence: u32) -> Value {
    let mut record = record(id, id);
    record["eventSourceARN"] = json!(FIFO_ARN);
    let attributes = record["attributes"].as_object_mut().unwrap();
    attributes.insert("MessageGroupId".into(), json!(group));
    attributes.insert("SequenceNumber".into(), json!(format!("1884949646046769612{sequence}")));
    attributes.insert("MessageDeduplicationId".into(), json!(format!("dedup-{id}")));
    record
}

fn batch(records: Vec<Value>) -> Value {
    json!({ "Records": records })
}

/// The response's failed ids, sorted; panics unless it is a partial-batch response.
fn failures(response: &Value) -> Vec<String> {
    let list = response.get("batchItemFailures").and_then(Value::as_array);
    let list = list.unwrap_or_else(|| panic!("not a partial-batch response: {response}"));
    let mut ids: Vec<String> =
        list.iter().map(|f| f["itemIdentifier"].as_str().unwrap_or_else(|| panic!("{f}")).to_owned()).collect();
    ids.sort();
    ids
}

fn ids(list: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    ids.sort();
    ids
}

fn body_text(request: &Recorded) -> String {
    String::from_utf8(request.body.to_vec()).unwrap()
}

fn bodies(requests: &[Recorded]) -> BTreeSet<String> {
    requests.iter().map(body_text).collect()
}

#[tokio::test]
async fn standard_batch_is_one_post_per_record_with_its_metadata() {
    let app = RecordingApp::start().await;
    let f = start_sqs(&app.url(), &[("APP_API_TOKEN", "app-token-s3cr3t")]).await;
    let texts = [r#"{"title":"buy milk"}"#, "plain text, not JSON\nsecond line", "Zürich ☃ payload-xyzzy"];
    let mut traced = record("m-3", texts[2]);
    traced["attributes"]["AWSTraceHeader"] = json!(XRAY_TRACE);
    let event = batch(vec![record("m-1", texts[0]), record("m-2", texts[1]), traced]);

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(response, json!({"batchItemFailures": []}));
    let requests = app.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    let allowed = [
        "host",
        "content-type",
        "content-length",
        "messageid",
        "approximatereceivecount",
        "senttimestamp",
        "attr-tenant",
        "dapr-api-token",
        "traceparent",
    ];
    for (id, text) in [("m-1", texts[0]), ("m-2", texts[1]), ("m-3", texts[2])] {
        let request = requests.iter().find(|r| r.header("messageid") == Some(id)).unwrap_or_else(|| panic!("{id}"));
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/task-events");
        assert_eq!(&request.body[..], text.as_bytes(), "the body is delivered verbatim");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("approximatereceivecount"), Some("1"));
        assert_eq!(request.header("senttimestamp"), Some("1545082649183"));
        assert_eq!(request.header("attr-tenant"), Some("acme"));
        assert_eq!(request.header("dapr-api-token"), Some("app-token-s3cr3t"));
        assert_eq!(request.header("traceparent"), if id == "m-3" { Some(TRACEPARENT) } else { None });
        assert_eq!(unexpected_headers(&request.headers, &allowed), Vec::<String>::new(), "{id}");
        let handle = receipt_handle(id);
        assert!(
            request.headers.values().all(|v| !String::from_utf8_lossy(v.as_bytes()).contains(&handle)),
            "the receipt handle leaked: {:?}",
            request.headers
        );
    }
    let secrets = ["buy milk", "not JSON", "payload-xyzzy", "app-token-s3cr3t", "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a"];
    assert_json_logs(&f.function, FIRST_REQUEST_ID, &secrets).await;
}

#[tokio::test]
async fn records_the_app_refuses_are_exactly_the_batch_item_failures() {
    let app = RecordingApp::start().await;
    app.set_reply(|r| if r.body.starts_with(b"bad") { Reply::Status(500) } else { Reply::Status(204) });
    let f = start_sqs(&app.url(), &[]).await;
    let event = batch(vec![
        record("ok-1", "good 1"),
        record("bad-1", "bad 1"),
        record("ok-2", "good 2"),
        record("bad-2", "bad 2"),
        record("ok-3", "good 3"),
    ]);

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(failures(&response), ids(&["bad-1", "bad-2"]));
    assert_eq!(app.requests().len(), 5, "every record is delivered once");
}

#[tokio::test]
async fn fifo_groups_stop_at_their_first_failure_and_keep_their_order() {
    let app = RecordingApp::start().await;
    let delay = Duration::from_millis(100);
    app.set_reply(move |r| {
        let status = if &r.body[..] == b"a2" { 500 } else { 200 };
        Reply::Delay(delay, Box::new(Reply::Status(status)))
    });
    let f = start_sqs(&app.url(), &[]).await;
    let event = batch(vec![
        fifo_record("a1", "A", 1),
        fifo_record("b1", "B", 2),
        fifo_record("a2", "A", 3),
        fifo_record("b2", "B", 4),
        fifo_record("a3", "A", 5),
    ]);

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(failures(&response), ids(&["a2", "a3"]));
    let requests = app.requests();
    let order: Vec<String> = requests.iter().map(body_text).collect();
    assert_eq!(bodies(&requests), ["a1", "a2", "b1", "b2"].map(String::from).into(), "arrival order {order:?}");
    assert_eq!(requests.len(), 4, "each delivered once: {order:?}");
    for (group, first, second) in [("A", "a1", "a2"), ("B", "b1", "b2")] {
        let at = |id: &str| requests.iter().find(|r| r.body == id.as_bytes()).unwrap().at;
        assert!(at(second) >= at(first) + delay, "{second} was sent before {first} was answered: {order:?}");
        for id in [first, second] {
            let request = requests.iter().find(|r| r.body == id.as_bytes()).unwrap();
            assert_eq!(request.header("messagegroupid"), Some(group));
            assert_eq!(request.header("messagededuplicationid"), Some(format!("dedup-{id}").as_str()));
            assert!(request.header("sequencenumber").is_some_and(|s| s.starts_with("1884949646046769612")));
        }
    }
}

#[tokio::test]
async fn a_malformed_record_fails_alone() {
    let app = RecordingApp::start().await;
    let f = start_sqs(&app.url(), &[]).await;
    let mut malformed = record("broken", "never delivered");
    malformed["attributes"] = json!("not an object");
    malformed["messageAttributes"]["tenant"] = json!("a secret of the sender's");
    let event = batch(vec![record("ok-1", "good 1"), malformed, record("ok-2", "good 2")]);

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(failures(&response), ids(&["broken"]));
    let requests = app.wait_for_requests(2, SECOND).await;
    assert_eq!(bodies(&requests), ["good 1", "good 2"].map(String::from).into());
    assert_eq!(requests.len(), 2);
    // The reason is logged, but not the record's content (serde's messages quote it).
    let reason = "malformed SQS record: attributes: expected struct SystemAttributes";
    assert!(f.function.wait_for_output(reason, 5 * SECOND).await, "{}", f.function.logs());
    let logs = f.function.logs();
    assert!(!logs.contains("not an object") && !logs.contains("a secret of the sender's"), "{logs}");
}

#[tokio::test]
async fn a_record_without_message_id_fails_the_whole_invocation() {
    let app = RecordingApp::start().await;
    let f = start_sqs(&app.url(), &[]).await;
    let mut anonymous = record("x", "no id");
    anonymous.as_object_mut().unwrap().remove("messageId");
    let event = batch(vec![record("ok-1", "good 1"), anonymous, record("ok-2", "good 2")]);

    let error = f.invoke(&event, InvokeOptions::default()).await.error();

    assert_error(&error, "Bindery.MalformedBatch");
    // Nothing is delivered, so nothing is delivered twice when SQS retries the batch.
    assert_no_requests(&app).await;
}

#[tokio::test]
async fn empty_batch_is_an_empty_partial_batch_response() {
    let app = RecordingApp::start().await;
    let f = start_sqs(&app.url(), &[]).await;

    let response = f.invoke(&batch(vec![]), InvokeOptions::default()).await.response();

    assert_eq!(response, json!({"batchItemFailures": []}));
    assert_no_requests(&app).await;
}

#[tokio::test]
async fn app_down_fails_every_record() {
    let url = format!("http://127.0.0.1:{}", unused_port());
    let f = start_sqs(&url, &[]).await;
    let event = batch(vec![record("m-1", "one"), record("m-2", "two"), record("m-3", "three")]);

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(failures(&response), ids(&["m-1", "m-2", "m-3"]));
}

#[tokio::test]
async fn slow_records_fail_at_the_deadline_and_fast_ones_are_acked() {
    let app = RecordingApp::start().await;
    app.set_reply(|r| {
        if r.body.starts_with(b"slow") {
            Reply::Delay(10 * SECOND, Box::new(Reply::Status(200)))
        } else {
            Reply::Status(200)
        }
    });
    let f = start_sqs(&app.url(), &[]).await;
    let deadline = Duration::from_millis(2000);
    let event = batch(vec![
        record("fast-1", "fast 1"),
        record("slow-1", "slow 1"),
        record("fast-2", "fast 2"),
        record("slow-2", "slow 2"),
    ]);

    let started = Instant::now();
    let response = f.invoke(&event, deadline_ms(2000)).await.response();
    let elapsed = started.elapsed();

    assert_eq!(failures(&response), ids(&["slow-1", "slow-2"]));
    assert!(elapsed < deadline, "the response came after the deadline: {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(1500), "gave up on the slow records too early: {elapsed:?}");
    assert_eq!(app.requests().len(), 4);
}

#[tokio::test]
async fn concurrency_limit_bounds_deliveries_in_flight() {
    let app = RecordingApp::start().await;
    let delay = Duration::from_millis(200);
    app.set_reply(move |_| Reply::Delay(delay, Box::new(Reply::Status(200))));
    let f = start_sqs(&app.url(), &[("BINDERY_SQS_CONCURRENCY", "2")]).await;
    let event = batch((1..=6).map(|n| record(&format!("m-{n}"), &format!("body {n}"))).collect());

    let started = Instant::now();
    let response = f.invoke(&event, InvokeOptions::default()).await.response();
    let elapsed = started.elapsed();

    assert_eq!(failures(&response), Vec::<String>::new());
    let requests = app.requests();
    assert_eq!(requests.len(), 6);
    // Every request is answered no sooner than `delay` after it arrived, so all the
    // requests arriving within `delay` of one another were in flight together.
    let in_flight = |r: &Recorded| requests.iter().filter(|o| o.at >= r.at && o.at < r.at + delay).count();
    let most = requests.iter().map(in_flight).max().unwrap();
    assert!(most <= 2, "{most} requests in flight with BINDERY_SQS_CONCURRENCY=2");
    assert_eq!(most, 2, "the two allowed deliveries should run together");
    assert!(elapsed >= 3 * delay, "6 records, 2 at a time, {delay:?} each, took only {elapsed:?}");
}

#[tokio::test]
async fn a_malformed_fifo_record_still_stops_its_group() {
    let app = RecordingApp::start().await;
    let f = start_sqs(&app.url(), &[]).await;
    // a2 cannot be parsed as an SQS message (its body is not a string), but its
    // group is plain to read: a3 must not overtake it.
    let mut a2 = fifo_record("a2", "A", 2);
    a2["body"] = json!({"not": "a string"});
    let event = batch(vec![fifo_record("a1", "A", 1), a2, fifo_record("a3", "A", 3), fifo_record("b1", "B", 4)]);

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    let requests = app.requests();
    assert_eq!(failures(&response), ids(&["a2", "a3"]), "delivered: {:?}", bodies(&requests));
    assert_eq!(bodies(&requests), ["a1", "b1"].map(String::from).into());
}

/// SQS allows tab, LF, CR and DEL in String and Number attribute values (and
/// spaces at either end, which HTTP strips). No such value may make a record
/// undeliverable: it would fail on every receive until the DLQ, and block its
/// FIFO group.
#[tokio::test]
async fn attribute_values_http_cannot_carry_are_delivered_and_recoverable() {
    let app = RecordingApp::start().await;
    let f = start_sqs(&app.url(), &[]).await;
    let values = [
        ("note", "String", "line 1\r\nInjected: yes"),
        ("tabbed", "String", "a\tb\t"),
        ("deleted", "String", "x\u{7f}y"),
        ("padded", "String", "  centred  "),
        ("amount", "Number", "12\n"),
    ];
    let mut odd = fifo_record("odd", "G", 1);
    for (name, data_type, value) in values {
        odd["messageAttributes"][name] = json!({"stringValue": value, "dataType": data_type});
    }
    let event = batch(vec![odd, fifo_record("next-in-group", "G", 2)]);

    let response = f.invoke(&event, InvokeOptions::default()).await.response();

    assert_eq!(response, json!({"batchItemFailures": []}), "{}", f.function.logs());
    let requests = app.requests();
    assert_eq!(bodies(&requests), ["odd", "next-in-group"].map(String::from).into());
    let request = requests.iter().find(|r| r.body == b"odd".as_slice()).unwrap();
    for (name, _, value) in values {
        let key = format!("attr-{name}");
        assert_eq!(metadata_value(request, &key).as_deref(), Some(value), "{key}: {:?}", request.headers);
    }
    assert_eq!(request.header("attr-note"), None, "an encoded value never arrives mangled under its own name");
    assert_eq!(request.header("attr-tenant"), Some("acme"), "plain values stay plain");
}
