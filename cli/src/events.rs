//! `bindery events schedule|sqs|webhook|s3|sns|kinesis|dynamodb`: a realistic sample event on
//! stdout, to feed `cargo lambda invoke --data-file` or a function under test.
//! Each is checked against its `aws_lambda_events` type before it is printed.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::kinesis::KinesisEvent;
use aws_lambda_events::s3::S3Event;
use aws_lambda_events::sns::SnsEvent;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::Failure;
use crate::args::{EventSource, EventsArgs};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";

pub(crate) fn events(args: EventsArgs) -> Result<(), Failure> {
    let event = match args.source {
        EventSource::Schedule if args.legacy => checked::<EventBridgeEvent<Value>>(scheduled_rule(&args.binding))?,
        EventSource::Schedule => scheduler_input(&args.binding),
        EventSource::Sqs => sqs_event(&args)?,
        EventSource::Webhook => checked::<ApiGatewayV2httpRequest>(webhook_request(&args)?)?,
        EventSource::S3 => checked::<S3Event>(s3_event(&args))?,
        EventSource::Sns => checked::<SnsEvent>(sns_event(&args))?,
        EventSource::Kinesis => checked::<KinesisEvent>(kinesis_event(&args))?,
        EventSource::Dynamodb => checked::<DynamoDbEvent>(dynamodb_event(&args))?,
    };
    let text = serde_json::to_string_pretty(&event).map_err(|e| Failure::new(e.to_string()))?;
    println!("{text}");
    Ok(())
}

/// `value`, once it has round-tripped through the official type `T`.
fn checked<T: serde::de::DeserializeOwned + serde::Serialize>(value: Value) -> Result<Value, Failure> {
    serde_json::from_value::<T>(value.clone())
        .map_err(|e| Failure::new(format!("internal error: the sample does not parse as its AWS type: {e}")))?;
    Ok(value)
}

/// The input bindery's generated Scheduler targets send, with the
/// `<aws.scheduler.*>` context values as Scheduler substitutes them.
fn scheduler_input(binding: &str) -> Value {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    json!({
        "binding": binding,
        "scheduledTime": now,
        "attempt": "1",
        "scheduleArn": format!("arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{binding}"),
        "executionId": uuid(),
    })
}

/// A legacy EventBridge scheduled-rule event.
fn scheduled_rule(binding: &str) -> Value {
    json!({
        "version": "0",
        "id": uuid(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/{binding}")],
        "detail": {},
    })
}

fn sqs_event(args: &EventsArgs) -> Result<Value, Failure> {
    let fifo = args.queue.ends_with(".fifo");
    let mut event = SqsEvent::default();
    for n in 0..args.count.max(1) {
        let body = args
            .body
            .clone()
            .unwrap_or_else(|| json!({"id": format!("task-{}", n + 1), "title": "Write the report"}).to_string());
        let mut message = SqsMessage::default();
        message.message_id = Some(uuid());
        message.receipt_handle = Some(format!("AQEB{}", uuid().replace('-', "")));
        message.body = Some(body);
        let now = Utc::now().timestamp_millis().to_string();
        message.attributes = [
            ("ApproximateReceiveCount", "1".to_owned()),
            ("SentTimestamp", now.clone()),
            ("SenderId", "AIDAIENQZJOLO23YVJ4VO".to_owned()),
            ("ApproximateFirstReceiveTimestamp", now),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        if fifo {
            message.attributes.insert("MessageGroupId".into(), "group-1".into());
            message.attributes.insert("MessageDeduplicationId".into(), uuid());
            message
                .attributes
                .insert("SequenceNumber".into(), format!("{:020}", 18_000_000_000_000_000_000u128 + n as u128));
        }
        message.event_source = Some("aws:sqs".into());
        message.event_source_arn = Some(format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{}", args.queue));
        message.aws_region = Some(REGION.into());
        event.records.push(message);
    }
    serde_json::to_value(&event).map_err(|e| Failure::new(e.to_string()))
}

/// An API Gateway HTTP API (payload 2.0) request, as `bindery-webhook` receives it.
fn webhook_request(args: &EventsArgs) -> Result<Value, Failure> {
    let body = args.body.clone().unwrap_or_else(|| json!({"action": "opened", "number": 1}).to_string());
    let mut headers = serde_json::Map::new();
    headers.insert("content-type".into(), "application/json".into());
    headers.insert("user-agent".into(), "GitHub-Hookshot/1".into());
    for item in &args.headers {
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| Failure::new(format!("--header {item:?} is not NAME=VALUE")).with_code(2))?;
        headers.insert(name.to_ascii_lowercase(), value.into());
    }
    let path = if args.path.starts_with('/') { args.path.clone() } else { format!("/{}", args.path) };
    let now = Utc::now();
    Ok(json!({
        "version": "2.0",
        "routeKey": format!("POST {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abcdef1234",
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.10", "userAgent": "GitHub-Hookshot/1"},
            "requestId": uuid(),
            "routeKey": format!("POST {path}"),
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "body": body,
        "isBase64Encoded": false,
    }))
}

/// An S3 event notification of one object event, as S3 sends it: the key
/// form-encoded (a space as `+`), slashes kept.
fn s3_event(args: &EventsArgs) -> Value {
    let key = url::form_urlencoded::byte_serialize(args.key.as_bytes()).collect::<String>().replace("%2F", "/");
    let size = args.body.as_ref().map_or(1024, String::len);
    let mut object = json!({ "key": key, "sequencer": format!("{:018X}", Utc::now().timestamp_micros()) });
    if args.event_name.starts_with("ObjectCreated") {
        object["size"] = json!(size);
        object["eTag"] = json!(uuid().replace('-', ""));
    }
    json!({ "Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "eventName": args.event_name,
        "userIdentity": { "principalId": "AWS:AIDAEXAMPLEPRINCIPAL" },
        "requestParameters": { "sourceIPAddress": "192.0.2.10" },
        "responseElements": { "x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD" },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "bindery",
            "bucket": { "name": args.bucket, "ownerIdentity": { "principalId": "A3NL1KOZZKEXAMPLE" }, "arn": format!("arn:aws:s3:::{}", args.bucket) },
            "object": object,
        },
    }]})
}

/// An SNS notification as Lambda receives it. Its signature is a
/// placeholder: a binding with `verifySignature: true` refuses it.
fn sns_event(args: &EventsArgs) -> Value {
    let message = args.body.clone().unwrap_or_else(|| json!({"id": "task-1", "status": "done"}).to_string());
    let region = args.topic_arn.split(':').nth(3).filter(|r| !r.is_empty()).unwrap_or(REGION);
    let subscription = format!("{}:{}", args.topic_arn, uuid());
    json!({ "Records": [{
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription,
        "EventSource": "aws:sns",
        "Sns": {
            "Type": "Notification",
            "MessageId": uuid(),
            "TopicArn": args.topic_arn,
            "Subject": args.subject,
            "Message": message,
            "Timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": format!("https://sns.{region}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"),
            "UnsubscribeUrl": format!("https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription}"),
            "MessageAttributes": {},
        },
    }]})
}

/// The body of record `n` of a batch: `--body`, or a small JSON task.
fn record_body(args: &EventsArgs, n: usize) -> String {
    args.body
        .clone()
        .unwrap_or_else(|| json!({"id": format!("task-{}", n + 1), "title": "Write the report"}).to_string())
}

/// A Kinesis batch of `--count` records of one shard, as Lambda sends it.
fn kinesis_event(args: &EventsArgs) -> Value {
    use base64::Engine;
    let now = Utc::now();
    let records: Vec<Value> = (0..args.count.max(1))
        .map(|n| {
            let sequence = format!("4959033827149025660855969253836157109592157598913658{:04}", n % 10_000);
            let data = base64::engine::general_purpose::STANDARD.encode(record_body(args, n));
            json!({
                "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": format!("task-{}", n + 1),
                            "sequenceNumber": sequence, "data": data,
                            "approximateArrivalTimestamp": now.timestamp_millis() as f64 / 1000.0},
                "eventSource": "aws:kinesis", "eventVersion": "1.0",
                "eventID": format!("shardId-000000000000:{sequence}"), "eventName": "aws:kinesis:record",
                "invokeIdentityArn": format!("arn:aws:iam::{ACCOUNT}:role/bindery-kinesis"), "awsRegion": REGION,
                "eventSourceARN": format!("arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{}", args.stream),
            })
        })
        .collect();
    json!({ "Records": records })
}

/// A DynamoDB Streams batch of `--count` INSERTs, each item's `title` the record's body.
fn dynamodb_event(args: &EventsArgs) -> Value {
    let now = Utc::now().timestamp();
    let records: Vec<Value> = (0..args.count.max(1))
        .map(|n| {
            let key = format!("task-{}", n + 1);
            json!({
                "eventID": uuid().replace('-', ""), "eventName": "INSERT", "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": REGION,
                "eventSourceARN": format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{}/stream/2026-12-05T00:00:00.000", args.table),
                "dynamodb": {
                    "ApproximateCreationDateTime": now,
                    "Keys": {"key": {"S": key}},
                    "NewImage": {"key": {"S": key}, "title": {"S": record_body(args, n)}},
                    "SequenceNumber": format!("{}", 100_000_000_000_000_000_000u128 + n as u128),
                    "SizeBytes": 64,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            })
        })
        .collect();
    json!({ "Records": records })
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(line: &[&str]) -> EventsArgs {
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            events: EventsArgs,
        }
        Wrapper::parse_from(std::iter::once("events").chain(line.iter().copied())).events
    }

    #[test]
    fn sqs_samples_parse_as_the_function_reads_them() {
        let event = sqs_event(&args(&["sqs", "--queue", "orders.fifo", "--count", "3", "--body", "hi"])).unwrap();
        let text = serde_json::to_vec(&event).unwrap();
        let records = bindery::input::sqs::parse_batch(&text).unwrap();
        assert_eq!(records.len(), 3);
        assert!(records.iter().all(|r| r.fifo));
        let delivered = records[0].event().unwrap();
        assert_eq!(delivered.data.as_ref(), b"hi");
        assert_eq!(delivered.metadata("messageGroupId"), Some("group-1"));
    }

    #[test]
    fn schedule_samples_become_cron_events() {
        let input = scheduler_input("nightly");
        let event = bindery::input::schedule::schedule_event(&input, "nightly", "UTC", Utc::now()).unwrap();
        assert_eq!(event.metadata("attempt"), Some("1"));
        let legacy = checked::<EventBridgeEvent<Value>>(scheduled_rule("nightly")).unwrap();
        let event = bindery::input::schedule::schedule_event(&legacy, "nightly", "UTC", Utc::now()).unwrap();
        assert!(event.metadata("scheduleArn").unwrap().ends_with("rule/nightly"));
    }

    #[test]
    fn s3_samples_carry_the_key_as_s3_encodes_it() {
        let value = s3_event(&args(&["s3", "--bucket", "b", "--key", "in/a b+c é.txt", "--body", "hello"]));
        let text = serde_json::to_vec(&checked::<S3Event>(value).unwrap()).unwrap();
        let records = bindery::input::s3_events::parse_event(&text).unwrap();
        let event = bindery::input::s3_events::record_event(records[0]).unwrap();
        assert_eq!(event.metadata("key"), Some("in/a b+c é.txt"));
        assert_eq!(event.metadata("bucket"), Some("b"));
        assert_eq!(event.metadata("size"), Some("5"));
        let raw: Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(raw["Records"][0]["s3"]["object"]["key"], "in/a+b%2Bc+%C3%A9.txt");
    }

    #[test]
    fn sns_samples_are_what_bindery_sns_reads() {
        let value = sns_event(&args(&["sns", "--subject", "Done", "--body", "task 7 done"]));
        let text = serde_json::to_vec(&checked::<SnsEvent>(value).unwrap()).unwrap();
        let records = bindery::input::sns::parse_event(&text).unwrap();
        let event = bindery::input::sns::SnsNotification::from_record(records[0]).unwrap().event();
        assert_eq!(event.data.as_ref(), b"task 7 done");
        assert_eq!(event.metadata("subject"), Some("Done"));
        assert_eq!(event.metadata("topicArn"), Some("arn:aws:sns:us-east-1:123456789012:task-events"));
    }

    #[test]
    fn stream_samples_are_what_their_functions_read() {
        let value = kinesis_event(&args(&["kinesis", "--count", "3", "--body", "click"]));
        let text = serde_json::to_vec(&checked::<KinesisEvent>(value).unwrap()).unwrap();
        let records = bindery::input::kinesis::parse_batch(&text).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].event().unwrap().data.as_ref(), b"click");

        let value = dynamodb_event(&args(&["dynamodb", "--count", "2", "--body", "Plan"]));
        let text = serde_json::to_vec(&checked::<DynamoDbEvent>(value).unwrap()).unwrap();
        let format = bindery::input::dynamodb_streams::StreamFormat::Plain;
        let records = bindery::input::dynamodb_streams::parse_batch(&text, format).unwrap();
        assert_eq!(records.len(), 2);
        let event = records[0].event().unwrap();
        let body: Value = serde_json::from_slice(&event.data).unwrap();
        assert_eq!(body, json!({"key": "task-1", "title": "Plan"}));
    }

    #[test]
    fn webhook_samples_are_http_api_requests() {
        let value =
            webhook_request(&args(&["webhook", "--path", "hooks", "--header", "X-Hub-Signature-256=sha256=00"]))
                .unwrap();
        let request: ApiGatewayV2httpRequest = serde_json::from_value(value).unwrap();
        assert_eq!(request.raw_path.as_deref(), Some("/hooks"));
        assert_eq!(request.headers["x-hub-signature-256"], "sha256=00");
        assert!(webhook_request(&args(&["webhook", "--header", "nope"])).is_err());
    }
}
