//! A table's DynamoDB stream read with DescribeStream, GetShardIterator and
//! GetRecords; each page becomes the event `bindery-dynamodb-streams` would
//! get. The stream is the component's `streamArn`, or the table's latest
//! one (DescribeTable).

use std::collections::HashMap;

use aws_lambda_events::dynamodb::{Event, EventRecord, StreamRecord};
use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::error::DisplayErrorContext;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use bindery::component::{BindingKind, Component};
use bindery::input::InputError;
use bindery::input::batch::BatchRecord;
use bindery::input::dynamodb_streams::{DynamoDbStreamConfig, StreamFormat, parse_batch};
use bindery::input::stream::StreamSettings;
use chrono::{DateTime, Utc};

use super::{Page, Position, ReadError, Shard, ShardSource};
use crate::field_problems as problems;

/// GetRecords' largest page on DynamoDB Streams (Lambda gathers up to
/// `batchSize` over several; locally a page is a batch).
const MAX_PAGE: u32 = 1000;

pub(crate) struct DynamoDbStream {
    client: Client,
    arn: String,
    region: String,
    format: StreamFormat,
}

impl DynamoDbStream {
    /// Finds the stream, once: `streamArn`, or the table's latest stream.
    pub(crate) async fn connect(component: &Component) -> Result<(Self, StreamSettings), String> {
        let config = DynamoDbStreamConfig::from_metadata(&component.metadata).map_err(problems)?;
        let sdk = bindery::output::aws::sdk_config(&component.metadata).await.map_err(problems)?;
        let arn = match config.stream_arn {
            Some(arn) => arn,
            None => {
                let table = &config.table;
                let described = aws_sdk_dynamodb::Client::new(&sdk)
                    .describe_table()
                    .table_name(table)
                    .send()
                    .await
                    .map_err(|e| {
                        format!("table {table:?} cannot be found: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e))
                    })?;
                described.table.and_then(|t| t.latest_stream_arn).ok_or_else(|| {
                    format!(
                        "table {table:?} has no stream: turn one on (StreamSpecification, NEW_AND_OLD_IMAGES), \
                         or name one with streamArn"
                    )
                })?
            }
        };
        let region = sdk.region().map(ToString::to_string).unwrap_or_default();
        let stream = Self { client: Client::new(&sdk), arn, region, format: config.format };
        Ok((stream, config.settings))
    }
}

impl ShardSource for DynamoDbStream {
    const SOURCE: &'static str = "dynamodb";
    const KIND: BindingKind = BindingKind::AwsDynamoDb;

    async fn shards(&self) -> Result<Vec<Shard>, String> {
        let mut shards = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let described = self
                .client
                .describe_stream()
                .stream_arn(&self.arn)
                .set_exclusive_start_shard_id(after)
                .send()
                .await
                .map_err(|e| DisplayErrorContext(&e).to_string())?;
            let Some(description) = described.stream_description else { return Ok(shards) };
            shards.extend(
                description
                    .shards
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|s| Some(Shard { id: s.shard_id?, parent: s.parent_shard_id })),
            );
            after = description.last_evaluated_shard_id;
            if after.is_none() {
                return Ok(shards);
            }
        }
    }

    async fn iterator(&self, shard: &str, from: &Position) -> Result<String, String> {
        let (kind, sequence_number) = from.iterator_type();
        let answer = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.arn)
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::from(kind))
            .set_sequence_number(sequence_number)
            .send()
            .await
            .map_err(|e| DisplayErrorContext(&e).to_string())?;
        answer.shard_iterator.ok_or_else(|| "GetShardIterator gave no iterator".to_owned())
    }

    async fn read(&self, _shard: &str, iterator: &str, limit: u32) -> Result<Page, ReadError> {
        let answer =
            self.client.get_records().shard_iterator(iterator).limit(limit.min(MAX_PAGE) as i32).send().await.map_err(
                |e| match e.as_service_error() {
                    Some(service) if service.is_expired_iterator_exception() => ReadError::Expired,
                    _ => ReadError::Failed(DisplayErrorContext(&e).to_string()),
                },
            )?;
        let records = answer.records.unwrap_or_default();
        let last = records.iter().rev().find_map(|r| r.dynamodb.as_ref()?.sequence_number.clone());
        let count = records.len();
        let event = lambda_event(records, &self.arn, &self.region).map_err(ReadError::Failed)?;
        Ok(Page { event, records: count, last, next: answer.next_shard_iterator })
    }

    fn parse<'p>(&self, event: &'p [u8]) -> Result<Vec<impl BatchRecord<'p>>, InputError> {
        parse_batch(event, self.format)
    }
}

/// The Lambda event DynamoDB Streams would send for `records`, as JSON
/// (pure, for the tests). An image the stream record does not have is left
/// out, as Lambda leaves it out, rather than written empty.
pub(crate) fn lambda_event(records: Vec<Record>, stream_arn: &str, region: &str) -> Result<Vec<u8>, String> {
    let mut event = Event::default();
    let mut without_images = Vec::new();
    for record in records {
        let mut lambda_record = EventRecord::default();
        let change = record.dynamodb.unwrap_or_else(|| aws_sdk_dynamodbstreams::types::StreamRecord::builder().build());
        without_images.push((change.new_image.is_none(), change.old_image.is_none()));
        let mut stream_record = StreamRecord::default();
        stream_record.approximate_creation_date_time = change
            .approximate_creation_date_time
            .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
            .unwrap_or_default();
        stream_record.keys = item(change.keys);
        stream_record.new_image = item(change.new_image);
        stream_record.old_image = item(change.old_image);
        stream_record.sequence_number = change.sequence_number;
        stream_record.size_bytes = change.size_bytes.unwrap_or_default();
        stream_record.stream_view_type =
            change.stream_view_type.and_then(|v| serde_json::from_value(v.as_str().into()).ok());
        lambda_record.change = stream_record;
        lambda_record.event_id = record.event_id.unwrap_or_default();
        lambda_record.event_name = record.event_name.map(|n| n.as_str().to_owned()).unwrap_or_default();
        lambda_record.event_source = Some(record.event_source.unwrap_or_else(|| "aws:dynamodb".into()));
        lambda_record.event_version = record.event_version;
        lambda_record.event_source_arn = Some(stream_arn.to_owned());
        lambda_record.aws_region = record.aws_region.unwrap_or_else(|| region.to_owned());
        event.records.push(lambda_record);
    }
    let mut json = serde_json::to_value(&event).map_err(|e| e.to_string())?;
    let written = json["Records"].as_array_mut().into_iter().flatten();
    for (record, (no_new, no_old)) in written.zip(without_images) {
        if let Some(change) = record.get_mut("dynamodb").and_then(|c| c.as_object_mut()) {
            if no_new {
                change.remove("NewImage");
            }
            if no_old {
                change.remove("OldImage");
            }
        }
    }
    serde_json::to_vec(&json).map_err(|e| e.to_string())
}

fn item(attributes: Option<HashMap<String, AttributeValue>>) -> serde_dynamo::Item {
    attributes.unwrap_or_default().into()
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodbstreams::types::{OperationType, StreamRecord as SdkStreamRecord};

    use super::*;

    fn record(name: OperationType, sequence: &str, new: Option<&str>, old: Option<&str>) -> Record {
        let image = |title: &str| {
            HashMap::from([
                ("id".to_owned(), AttributeValue::S("t-1".into())),
                ("title".to_owned(), AttributeValue::S(title.into())),
                ("done".to_owned(), AttributeValue::Bool(true)),
                ("points".to_owned(), AttributeValue::N("3.50".into())),
            ])
        };
        let change = SdkStreamRecord::builder()
            .sequence_number(sequence)
            .keys("id", AttributeValue::S("t-1".into()))
            .set_new_image(new.map(image))
            .set_old_image(old.map(image))
            .build();
        Record::builder().event_id(format!("e-{sequence}")).event_name(name).dynamodb(change).build()
    }

    #[test]
    fn records_read_become_the_event_the_function_reads() {
        let records = vec![
            record(OperationType::Insert, "100", Some("write"), None),
            record(OperationType::Remove, "200", None, Some("gone")),
        ];
        let json = lambda_event(records, "arn:aws:dynamodb:eu-west-1:1:table/tasks/stream/x", "eu-west-1").unwrap();
        let parsed = parse_batch(&json, StreamFormat::Plain).unwrap();
        assert_eq!(parsed.len(), 2);
        let inserted = parsed[0].event().unwrap();
        let body: serde_json::Value = serde_json::from_slice(&inserted.data).unwrap();
        assert_eq!(body, serde_json::json!({"id": "t-1", "title": "write", "done": true, "points": 3.50}));
        assert_eq!(inserted.metadata("eventName"), Some("INSERT"));
        assert_eq!(inserted.metadata("key-id"), Some("t-1"));
        assert_eq!(inserted.metadata("sequenceNumber"), Some("100"));
        let removed = parsed[1].event().unwrap();
        assert_eq!(removed.metadata("eventName"), Some("REMOVE"));
        assert!(String::from_utf8_lossy(&removed.data).contains("gone"));

        // A record without images (a KEYS_ONLY stream) has no body, as on Lambda.
        let keys_only = lambda_event(vec![record(OperationType::Modify, "300", None, None)], "arn", "r").unwrap();
        let parsed = parse_batch(&keys_only, StreamFormat::DynamoDb).unwrap();
        assert!(parsed[0].event().unwrap().data.is_empty());
    }
}
