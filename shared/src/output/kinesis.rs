//! `bindings.aws.kinesis` output: operation `create` puts `data` as one
//! record into `streamName` (`PutRecord`), as Dapr does (reference §1.4): the
//! bytes as they are, so over the HTTP API a string arrives quoted and an
//! object as its JSON; over gRPC the raw bytes.
//!
//! The request metadata `partitionKey` is the record's partition key; when it
//! is absent or empty, a random UUID (v4), as in Dapr. Dapr reads the exact
//! key; bindery also takes it in another case, as its other AWS outputs read
//! theirs.
//!
//! The response carries `shardId`, `sequenceNumber` and the `partitionKey`
//! used in its metadata, with no data (the HTTP API's 200, as for SQS); Dapr
//! answers 204 and drops them.

use aws_config::SdkConfig;
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::config::http::HttpResponse;
use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::primitives::Blob;

use super::aws::{ErrorCodes, sdk_error_by_code};
use super::config::KinesisConfig;
use super::error::InvokeError;
use super::{BoxFuture, InvokeRequest, InvokeResponse, InvokeResult, OutputBinding, operation};
use crate::component::{FieldError, Metadata};

const PREFIX: &str = "kinesis binding error";
const PARTITION_KEY: &str = "partitionKey";
/// Kinesis's limit on a partition key, in Unicode characters.
const MAX_PARTITION_KEY_CHARS: usize = 256;

pub struct KinesisBinding {
    client: Client,
    stream: String,
}

impl KinesisBinding {
    /// Checks `streamName` without calling Kinesis.
    pub fn from_metadata(metadata: &Metadata, config: &SdkConfig) -> Result<Self, Vec<FieldError>> {
        let KinesisConfig { stream, .. } = KinesisConfig::from_metadata(metadata)?;
        Ok(Self { client: Client::new(config), stream })
    }

    async fn create(&self, request: InvokeRequest) -> InvokeResult {
        let partition_key = partition_key(&request).map_err(|e| e.context(PREFIX))?;
        let output = self
            .client
            .put_record()
            .stream_name(&self.stream)
            .partition_key(&partition_key)
            .data(Blob::new(request.data))
            .send()
            .await
            .map_err(|e| classify(PREFIX, e))?;
        Ok(Some(
            InvokeResponse::default()
                .with_metadata("shardId", output.shard_id)
                .with_metadata("sequenceNumber", output.sequence_number)
                .with_metadata(PARTITION_KEY, partition_key),
        ))
    }
}

/// The request's partition key, else a random UUID, as Dapr's.
fn partition_key(request: &InvokeRequest) -> Result<String, InvokeError> {
    match request.meta_ignore_case(PARTITION_KEY) {
        None => Ok(uuid::Uuid::new_v4().to_string()),
        Some(key) if key.chars().count() > MAX_PARTITION_KEY_CHARS => Err(InvokeError::bad_request(format!(
            "{PARTITION_KEY} is longer than Kinesis's {MAX_PARTITION_KEY_CHARS} characters"
        ))),
        Some(key) => Ok(key.to_owned()),
    }
}

/// [`sdk_error`], with Kinesis's "no such stream" and "bad record" answers
/// given their kinds (it calls every 4xx "other").
fn classify<E>(prefix: &str, error: SdkError<E, HttpResponse>) -> InvokeError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    sdk_error_by_code(
        prefix,
        error,
        &ErrorCodes {
            not_found: &["ResourceNotFoundException"],
            bad_request: &["InvalidArgumentException", "ValidationException"],
            throttled: &["KMSThrottlingException"],
            transient: &[],
        },
    )
}

impl OutputBinding for KinesisBinding {
    fn operations(&self) -> &'static [&'static str] {
        &[operation::CREATE]
    }

    /// A repeated `PutRecord` adds a second record: never repeated after a
    /// failure that may have happened midway.
    fn is_idempotent(&self, _request: &InvokeRequest) -> bool {
        false
    }

    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(self.create(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::ErrorKind;

    #[test]
    fn the_partition_key_is_the_requests_or_a_random_uuid() {
        let given = InvokeRequest::new("create", "x").with_metadata("PartitionKey", "customer-7");
        assert_eq!(partition_key(&given).unwrap(), "customer-7");
        for request in
            [InvokeRequest::new("create", "x"), InvokeRequest::new("create", "x").with_metadata(PARTITION_KEY, "")]
        {
            let key = partition_key(&request).unwrap();
            let uuid = uuid::Uuid::parse_str(&key).unwrap();
            assert_eq!(uuid.get_version_num(), 4, "{key}");
        }
        let longest = InvokeRequest::new("create", "x").with_metadata(PARTITION_KEY, "é".repeat(256));
        assert_eq!(partition_key(&longest).unwrap().chars().count(), 256, "counted in characters, not bytes");
        let too_long = InvokeRequest::new("create", "x").with_metadata(PARTITION_KEY, "k".repeat(257));
        let error = partition_key(&too_long).unwrap_err();
        assert_eq!(error.kind, ErrorKind::BadRequest);
        assert_eq!(error.message, "partitionKey is longer than Kinesis's 256 characters");
    }
}
