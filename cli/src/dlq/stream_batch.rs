//! A stream binding's failure queue, replayed to the app. Each message is
//! Lambda's record of a batch that ran out of retries: its shard and the
//! range of its sequence numbers (`KinesisBatchInfo`, `DDBStreamBatchInfo`),
//! not its records (`docs/reference/aws-bindings-and-event-sources.md`
//! §3.4.1). The records are read again from the stream, while it still
//! keeps them (24 hours unless its retention was raised), and delivered in
//! order, as the function would, stopping at the first the app refuses.

use std::cmp::Ordering;

use bindery::component::{BindingKind, Component, InputKind};
use bindery::deliver::Deliverer;
use bindery::input::batch::BatchRecord;
use serde::Deserialize;
use tokio::time::Instant;

use crate::run::streams::{DynamoDbStream, KinesisStream, Position, ReadError, ShardSource};

/// GetRecords pages read before giving up on reaching the batch's end
/// (a page may be empty while the shard is not).
const MAX_PAGES: usize = 1_000;
const PAGE: u32 = 100;

/// A failed batch, as the on-failure record names it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BatchInfo {
    pub(super) shard_id: String,
    pub(super) start_sequence_number: String,
    pub(super) end_sequence_number: String,
}

#[derive(Deserialize)]
struct FailureRecord {
    #[serde(rename = "KinesisBatchInfo", alias = "DDBStreamBatchInfo")]
    batch: BatchInfo,
}

/// The batch a failure-queue message names.
pub(super) fn batch_info(body: &str) -> Result<BatchInfo, String> {
    serde_json::from_str::<FailureRecord>(body)
        .map(|record| record.batch)
        .map_err(|e| format!("not Lambda's record of a failed stream batch: {e}"))
}

/// The stream a binding reads.
pub(super) enum Stream {
    Kinesis(KinesisStream),
    DynamoDb(DynamoDbStream),
}

impl Stream {
    pub(super) async fn connect(binding: &Component) -> Result<Self, String> {
        match binding.kind.binding().and_then(BindingKind::input) {
            Some(InputKind::Kinesis) => Ok(Self::Kinesis(KinesisStream::connect(binding).await?.0)),
            Some(InputKind::DynamoDbStreams) => Ok(Self::DynamoDb(DynamoDbStream::connect(binding).await?.0)),
            _ => Err(format!("{} is not a stream binding", binding.name)),
        }
    }

    /// Delivers the batch a failure-queue message names: how many records.
    pub(super) async fn replay(
        &self,
        body: &str,
        deliverer: &Deliverer,
        time: std::time::Duration,
    ) -> Result<usize, String> {
        let batch = batch_info(body)?;
        match self {
            Self::Kinesis(source) => replay_batch(source, &batch, deliverer, time).await,
            Self::DynamoDb(source) => replay_batch(source, &batch, deliverer, time).await,
        }
    }
}

async fn replay_batch<S: ShardSource>(
    source: &S,
    batch: &BatchInfo,
    deliverer: &Deliverer,
    time: std::time::Duration,
) -> Result<usize, String> {
    let shard = &batch.shard_id;
    let start = Position::At(batch.start_sequence_number.clone());
    let mut iterator = source.iterator(shard, &start).await?;
    let mut delivered = 0;
    for _ in 0..MAX_PAGES {
        let page = match source.read(shard, &iterator, PAGE).await {
            Ok(page) => page,
            Err(ReadError::Expired) => return Err(format!("{shard}: the shard iterator expired mid-replay")),
            Err(ReadError::Failed(why)) => return Err(format!("{shard}: {why}")),
        };
        let records = source.parse(&page.event).map_err(|e| e.message)?;
        for record in records {
            if sequence_order(record.id(), &batch.end_sequence_number) == Ordering::Greater {
                return Ok(delivered);
            }
            let event = record.event().map_err(|e| format!("record {}: {}", record.id(), e.message))?;
            deliverer
                .deliver(event, Instant::now() + time)
                .await
                .map_err(|e| format!("record {} of {shard}: {}", record.id(), e.message))?;
            delivered += 1;
            if sequence_order(record.id(), &batch.end_sequence_number) == Ordering::Equal {
                return Ok(delivered);
            }
        }
        // Neither an empty page nor a closed shard's end finishes the range:
        // its last record is a real one, so it is done only once that is
        // delivered; until then the message stays in the queue.
        match page.next {
            Some(next) => iterator = next,
            None => break,
        }
    }
    Err(format!("{shard}: the batch's last record {} was not reached", batch.end_sequence_number))
}

/// Sequence numbers are decimal strings of up to 128 bits and more digits
/// than any integer type holds: compared by length, then digit by digit.
fn sequence_order(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_is_read_off_either_stream_s_failure_record() {
        let kinesis = r#"{"requestContext":{"requestId":"c9b8fa9f","functionArn":"arn:aws:lambda:us-east-2:123456789012:function:myfunction","condition":"RetryAttemptsExhausted","approximateInvokeCount":1},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"2019-11-14T00:38:06.021Z","KinesisBatchInfo":{"shardId":"shardId-000000000001","startSequenceNumber":"49601189658422359378836298521827638475320189012309704722","endSequenceNumber":"49601189658422359378836298522902373528957594348623495186","approximateArrivalOfFirstRecord":"2019-11-14T00:38:04.835Z","approximateArrivalOfLastRecord":"2019-11-14T00:38:05.580Z","batchSize":500,"streamArn":"arn:aws:kinesis:us-east-2:123456789012:stream/mystream"}}"#;
        let batch = batch_info(kinesis).unwrap();
        assert_eq!(batch.shard_id, "shardId-000000000001");
        assert_eq!(batch.end_sequence_number, "49601189658422359378836298522902373528957594348623495186");
        let dynamodb = r#"{"version":"1.0","DDBStreamBatchInfo":{"shardId":"shardId-00000001","startSequenceNumber":"100","endSequenceNumber":"300","batchSize":2,"streamArn":"arn:aws:dynamodb:us-east-1:1:table/t/stream/x"}}"#;
        assert_eq!(batch_info(dynamodb).unwrap().start_sequence_number, "100");
        assert!(batch_info(r#"{"scheduledTime":"x"}"#).unwrap_err().starts_with("not Lambda's record"));
    }

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert_eq!(sequence_order("99", "100"), Ordering::Less);
        assert_eq!(sequence_order("0100", "100"), Ordering::Equal);
        assert_eq!(sequence_order("123", "122"), Ordering::Greater);
        assert_eq!(
            sequence_order(
                "49601189658422359378836298522902373528957594348623495187",
                "49601189658422359378836298522902373528957594348623495186"
            ),
            Ordering::Greater
        );
    }
}
