//! A Kinesis stream read with ListShards, GetShardIterator and GetRecords;
//! each page becomes the `KinesisEvent` `bindery-kinesis` would get.

use aws_lambda_events::encodings::SecondTimestamp;
use aws_lambda_events::kinesis::{KinesisEncryptionType, KinesisEvent, KinesisEventRecord, KinesisRecord};
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::DisplayErrorContext;
use aws_sdk_kinesis::types::{EncryptionType, Record, ShardIteratorType};
use bindery::component::{BindingKind, Component};
use bindery::input::InputError;
use bindery::input::batch::BatchRecord;
use bindery::input::kinesis::{KinesisSourceConfig, parse_batch};
use bindery::input::stream::StreamSettings;
use chrono::{DateTime, Utc};

use super::{Page, Position, ReadError, Shard, ShardSource};
use crate::field_problems as problems;

pub(crate) struct KinesisStream {
    client: Client,
    name: String,
    arn: String,
    region: String,
}

impl KinesisStream {
    /// Finds the stream's ARN, once.
    pub(crate) async fn connect(component: &Component) -> Result<(Self, StreamSettings), String> {
        let config = KinesisSourceConfig::from_metadata(&component.metadata).map_err(problems)?;
        let sdk = bindery::output::aws::sdk_config(&component.metadata).await.map_err(problems)?;
        let client = Client::new(&sdk);
        let name = config.stream;
        let summary = client
            .describe_stream_summary()
            .stream_name(&name)
            .send()
            .await
            .map_err(|e| format!("stream {name:?} cannot be found: {}", DisplayErrorContext(&e)))?;
        let arn = summary.stream_description_summary.map(|s| s.stream_arn).unwrap_or_default();
        let region = sdk.region().map(ToString::to_string).unwrap_or_default();
        Ok((Self { client, name, arn, region }, config.settings))
    }
}

impl ShardSource for KinesisStream {
    const SOURCE: &'static str = "kinesis";
    const KIND: BindingKind = BindingKind::AwsKinesis;

    async fn shards(&self) -> Result<Vec<Shard>, String> {
        let mut shards = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            // ListShards takes the stream's name or a token, not both.
            let request = match &next_token {
                Some(token) => self.client.list_shards().next_token(token),
                None => self.client.list_shards().stream_name(&self.name),
            };
            let page = request.send().await.map_err(|e| DisplayErrorContext(&e).to_string())?;
            shards.extend(
                page.shards
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| Shard { id: s.shard_id, parent: s.parent_shard_id }),
            );
            next_token = page.next_token;
            if next_token.is_none() {
                return Ok(shards);
            }
        }
    }

    async fn iterator(&self, shard: &str, from: &Position) -> Result<String, String> {
        let (kind, sequence_number) = from.iterator_type();
        let answer = self
            .client
            .get_shard_iterator()
            .stream_name(&self.name)
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::from(kind))
            .set_starting_sequence_number(sequence_number)
            .send()
            .await
            .map_err(|e| DisplayErrorContext(&e).to_string())?;
        answer.shard_iterator.ok_or_else(|| "GetShardIterator gave no iterator".to_owned())
    }

    async fn read(&self, shard: &str, iterator: &str, limit: u32) -> Result<Page, ReadError> {
        let answer =
            self.client.get_records().shard_iterator(iterator).limit(limit as i32).send().await.map_err(|e| match e
                .as_service_error()
            {
                Some(service) if service.is_expired_iterator_exception() => ReadError::Expired,
                _ => ReadError::Failed(DisplayErrorContext(&e).to_string()),
            })?;
        let last = answer.records.last().map(|r| r.sequence_number.clone());
        let records = answer.records.len();
        let event = lambda_event(answer.records, shard, &self.arn, &self.region).map_err(ReadError::Failed)?;
        Ok(Page { event, records, last, next: answer.next_shard_iterator })
    }

    fn parse<'p>(&self, event: &'p [u8]) -> Result<Vec<impl BatchRecord<'p>>, InputError> {
        parse_batch(event)
    }
}

/// The Lambda event Kinesis would send for one shard's `records`, as JSON
/// (pure, for the tests). Lambda writes the arrival time as a number of
/// seconds; `aws_lambda_events` serializes it as a string, so it is turned
/// back into the number it holds.
pub(crate) fn lambda_event(
    records: Vec<Record>,
    shard: &str,
    stream_arn: &str,
    region: &str,
) -> Result<Vec<u8>, String> {
    let mut event = KinesisEvent::default();
    for record in records {
        let mut kinesis = KinesisRecord::default();
        kinesis.approximate_arrival_timestamp = SecondTimestamp(
            record
                .approximate_arrival_timestamp
                .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
                .unwrap_or_default(),
        );
        *kinesis.data = record.data.into_inner();
        kinesis.encryption_type = match record.encryption_type {
            Some(EncryptionType::Kms) => KinesisEncryptionType::Kms,
            _ => KinesisEncryptionType::None,
        };
        kinesis.partition_key = record.partition_key;
        kinesis.kinesis_schema_version = Some("1.0".into());
        let mut lambda_record = KinesisEventRecord::default();
        // The event id is `<shard id>:<sequence number>`: the function reads
        // the record's shard from it.
        lambda_record.event_id = Some(format!("{shard}:{}", record.sequence_number));
        kinesis.sequence_number = record.sequence_number;
        lambda_record.kinesis = kinesis;
        lambda_record.event_name = Some("aws:kinesis:record".into());
        lambda_record.event_source = Some("aws:kinesis".into());
        lambda_record.event_source_arn = Some(stream_arn.to_owned());
        lambda_record.event_version = Some("1.0".into());
        lambda_record.aws_region = Some(region.to_owned());
        event.records.push(lambda_record);
    }
    let mut json = serde_json::to_value(&event).map_err(|e| e.to_string())?;
    for record in json["Records"].as_array_mut().into_iter().flatten() {
        let arrival = &mut record["kinesis"]["approximateArrivalTimestamp"];
        if let Some(number) = arrival.as_str().and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()) {
            *arrival = number;
        }
    }
    serde_json::to_vec(&json).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use aws_sdk_kinesis::primitives::{Blob, DateTime as SdkTime};

    use super::*;

    #[test]
    fn records_read_become_the_event_the_function_reads() {
        let record = |sequence: &str, data: &[u8]| {
            Record::builder()
                .sequence_number(sequence)
                .partition_key("user-7")
                .data(Blob::new(data))
                .approximate_arrival_timestamp(SdkTime::from_secs(1_700_000_000))
                .build()
                .unwrap()
        };
        let records = vec![record("4960", b"{\"page\":\"/\"}"), record("4961", &[0, 0xff])];
        let json =
            lambda_event(records, "shardId-000000000001", "arn:aws:kinesis:eu-west-1:1:stream/s", "eu-west-1").unwrap();
        let parsed = parse_batch(&json).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].sequence_number, "4961");
        let first = parsed[0].event().unwrap();
        assert_eq!(first.data.as_ref(), b"{\"page\":\"/\"}");
        assert_eq!(first.metadata("partitionKey"), Some("user-7"));
        assert_eq!(first.metadata("shardId"), Some("shardId-000000000001"));
        assert_eq!(first.metadata("approximateArrivalTimestamp"), Some("1700000000"));
        assert_eq!(parsed[1].event().unwrap().data.as_ref(), [0, 0xff]);
    }
}
