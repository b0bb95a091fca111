//! `bindings.aws.kinesis` and `bindings.aws.dynamodb` inputs → the stream
//! (or the table with its stream), an on-failure queue, and an event source
//! mapping with Lambda's checkpoint semantics (reference §3.1):
//! `FunctionResponseTypes: [ReportBatchItemFailures]`, so a batch is
//! retried from its first failure, and `BisectBatchOnFunctionError`, so a
//! failing batch is split to find the record at fault. When its retries are
//! spent, Lambda sends the batch's description (not its records) to the
//! on-failure queue.
//!
//! The mapping is a plain `AWS::Lambda::EventSourceMapping` rather than a
//! SAM event, whose generated policy grants the read actions on every
//! stream: here the function's role may read this stream only (§3.5).

use bindery::component::Component;
use bindery::input::dynamodb_streams::DynamoDbStreamConfig;
use bindery::input::kinesis::KinesisSourceConfig;
use bindery::input::stream::StreamSettings;
use serde_json::{Value, json};

use crate::Stack;
use crate::dead_letters::{self, dead_letter_queue};
use crate::template::{Resource, arn_of, ref_};
use crate::trigger::Trigger;

/// What the function's role needs of the stream to read it (LDG
/// `with-kinesis.md`, without enhanced fan-out's `SubscribeToShard`).
const KINESIS_READ: [&str; 5] = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
];

/// LDG `with-ddb.md`; `ListStreams` has no resource type, so it is on `*`.
const DYNAMODB_STREAM_READ: [&str; 3] = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"];

pub(crate) fn kinesis_trigger(stack: &mut Stack, component: &Component, id: &str) -> Option<Trigger> {
    let KinesisSourceConfig { stream: name, settings, .. } =
        stack.config(component, KinesisSourceConfig::from_metadata)?;
    let stream = format!("{id}Stream");
    stack.resources.insert(
        stream.clone(),
        Resource::new(
            "AWS::Kinesis::Stream",
            json!({ "Name": name, "ShardCount": 1, "StreamEncryption": { "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis" } }),
        ),
    );
    stack.outputs.insert(
        stream.clone(),
        json!({ "Description": format!("The stream of binding {:?}", component.name), "Value": ref_(&stream) }),
    );
    let read = json!({ "Effect": "Allow", "Action": KINESIS_READ, "Resource": arn_of(&stream) });
    Some(mapping(stack, component, id, arn_of(&stream), settings, "bindery-kinesis", vec![read]))
}

pub(crate) fn dynamodb_trigger(stack: &mut Stack, component: &Component, id: &str) -> Option<Trigger> {
    let config = stack.config(component, DynamoDbStreamConfig::from_metadata)?;
    let stream_arn = match &config.stream_arn {
        Some(arn) => json!(arn),
        None => {
            let table = format!("{id}Table");
            stack.resources.insert(
                table.clone(),
                Resource::new(
                    "AWS::DynamoDB::Table",
                    json!({
                        "TableName": config.table,
                        "BillingMode": "PAY_PER_REQUEST",
                        "AttributeDefinitions": [{ "AttributeName": config.partition_key, "AttributeType": "S" }],
                        "KeySchema": [{ "AttributeName": config.partition_key, "KeyType": "HASH" }],
                        // REMOVE's body is the old image, the others' the new one.
                        "StreamSpecification": { "StreamViewType": "NEW_AND_OLD_IMAGES" },
                        "PointInTimeRecoverySpecification": { "PointInTimeRecoveryEnabled": true },
                    }),
                ),
            );
            stack.outputs.insert(
                table.clone(),
                json!({ "Description": format!("The table of binding {:?}", component.name), "Value": ref_(&table) }),
            );
            json!({ "Fn::GetAtt": [table, "StreamArn"] })
        }
    };
    if config.stream_arn.is_some() {
        stack.notes.push(format!(
            "{}: the table's stream must show old and new images (StreamViewType NEW_AND_OLD_IMAGES) for REMOVE to carry the old item",
            component.name
        ));
    }
    let read = json!({ "Effect": "Allow", "Action": DYNAMODB_STREAM_READ, "Resource": stream_arn });
    let list = json!({ "Effect": "Allow", "Action": ["dynamodb:ListStreams"], "Resource": "*" });
    Some(mapping(stack, component, id, stream_arn, config.settings, "bindery-dynamodb-streams", vec![read, list]))
}

/// The on-failure queue and the event source mapping of `source`.
fn mapping(
    stack: &mut Stack,
    component: &Component,
    id: &str,
    source: Value,
    settings: StreamSettings,
    binary: &'static str,
    mut statements: Vec<Value>,
) -> Trigger {
    let (failures, mapping, function) =
        (format!("{id}FailureQueue"), format!("{id}EventSourceMapping"), format!("{id}Function"));
    dead_letters::insert_queue(stack, &failures, dead_letter_queue());
    stack.outputs.insert(
        failures.clone(),
        json!({
            "Description": format!("Batches of {:?} whose retries ran out (their shard, sequence numbers and times; not the records)", component.name),
            "Value": ref_(&failures),
        }),
    );
    statements.push(json!({ "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": arn_of(&failures) }));
    let mut resource = Resource::new(
        "AWS::Lambda::EventSourceMapping",
        json!({
            "FunctionName": ref_(&function),
            "EventSourceArn": source,
            "StartingPosition": settings.starting_position.as_str(),
            "BatchSize": settings.batch_size,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BisectBatchOnFunctionError": true,
            "DestinationConfig": { "OnFailure": { "Destination": arn_of(&failures) } },
        }),
    );
    // Lambda checks at creation that the role may read the source.
    resource.depends_on = vec![format!("{function}Role")];
    stack.resources.insert(mapping, resource);
    Trigger { binary, events: json!({}), properties: Vec::new(), statements }
}
