//! The DynamoDB idempotency store, Powertools' table layout: partition key
//! `id` (a string), `status` (`INPROGRESS` or `COMPLETED`), `expiration`
//! (epoch seconds, the table's TTL attribute), `in_progress_expiration`
//! (epoch milliseconds: the delivery's deadline) and `data` (the answer).
//!
//! Three calls, through [`crate::aws_json`] (no DynamoDB SDK): `PutItem`
//! with a condition (the compare-and-set that starts a delivery: of two at
//! once, exactly one passes), `PutItem` (the answer) and `DeleteItem` (a
//! release). Credentials and region come from the component or from the
//! environment Lambda sets (`AWS_ENDPOINT_URL_DYNAMODB` or
//! `AWS_ENDPOINT_URL` for an emulator).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::{Value, json};

use super::{Begun, Record, StoreError, StoredAnswer};
use crate::aws_json::{AwsJsonClient, Protocol, error_text};
use crate::output::config::AwsConfig;

const DYNAMODB: Protocol = Protocol {
    name: "DynamoDB",
    service: "dynamodb",
    endpoint_variable: "AWS_ENDPOINT_URL_DYNAMODB",
    target_prefix: "DynamoDB_20120810",
    content_type: "application/x-amz-json-1.0",
};

/// A table, and the client that reaches it.
#[derive(Debug)]
pub struct DynamoDbStore {
    table: String,
    client: AwsJsonClient,
}

impl DynamoDbStore {
    /// The store of `table`, reached as the component (`aws`) or the
    /// environment (`env`) says.
    pub fn new(table: &str, aws: &AwsConfig, env: impl Fn(&str) -> Option<String>) -> Result<Self, StoreError> {
        let client =
            AwsJsonClient::new(&DYNAMODB, aws, env).map_err(|e| StoreError(format!("the idempotency store {e}")))?;
        Ok(Self { table: table.to_owned(), client })
    }

    /// Marks `key` in progress until `until`, unless a live record holds it.
    pub async fn begin(
        &self,
        key: &str,
        now: SystemTime,
        until: SystemTime,
        ttl: Duration,
    ) -> Result<Begun, StoreError> {
        let request = json!({
            "TableName": self.table,
            "Item": {
                "id": {"S": key},
                "status": {"S": "INPROGRESS"},
                "expiration": {"N": seconds(now + ttl).to_string()},
                "in_progress_expiration": {"N": millis(until).to_string()},
            },
            "ConditionExpression": "attribute_not_exists(#id) OR #expiration < :now \
                                    OR (#status = :in_progress AND #in_progress_expiration < :now_ms)",
            "ExpressionAttributeNames": {
                "#id": "id", "#expiration": "expiration", "#status": "status",
                "#in_progress_expiration": "in_progress_expiration",
            },
            "ExpressionAttributeValues": {
                ":now": {"N": seconds(now).to_string()},
                ":now_ms": {"N": millis(now).to_string()},
                ":in_progress": {"S": "INPROGRESS"},
            },
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        });
        match self.call("PutItem", &request).await? {
            Ok(_) => Ok(Begun::Started),
            Err(error) if error["__type"].as_str().is_some_and(|t| t.ends_with("ConditionalCheckFailedException")) => {
                // The live record, as the failed condition returned it, or read.
                let item = match error.get("Item") {
                    Some(item) => item.clone(),
                    None => self.get(key).await?,
                };
                record(&item).map(Begun::Found)
            }
            Err(error) => Err(refused("PutItem", &error)),
        }
    }

    /// Records an acknowledged delivery's answer, kept until `expires`.
    pub async fn complete(&self, key: &str, answer: &StoredAnswer, expires: SystemTime) -> Result<(), StoreError> {
        let data = json!({
            "status": answer.status,
            "contentType": answer.content_type,
            "body": STANDARD.encode(&answer.body),
        });
        let request = json!({
            "TableName": self.table,
            "Item": {
                "id": {"S": key},
                "status": {"S": "COMPLETED"},
                "expiration": {"N": seconds(expires).to_string()},
                "data": {"S": data.to_string()},
            },
        });
        self.call("PutItem", &request).await?.map(drop).map_err(|error| refused("PutItem", &error))
    }

    /// Forgets a delivery that failed.
    pub async fn release(&self, key: &str) -> Result<(), StoreError> {
        let request = json!({"TableName": self.table, "Key": {"id": {"S": key}}});
        self.call("DeleteItem", &request).await?.map(drop).map_err(|error| refused("DeleteItem", &error))
    }

    async fn get(&self, key: &str) -> Result<Value, StoreError> {
        let request = json!({"TableName": self.table, "Key": {"id": {"S": key}}, "ConsistentRead": true});
        let found = self.call("GetItem", &request).await?.map_err(|error| refused("GetItem", &error))?;
        Ok(found.get("Item").cloned().unwrap_or(Value::Null))
    }

    /// One call; an error names the table.
    async fn call(&self, action: &str, body: &Value) -> Result<Result<Value, Value>, StoreError> {
        self.client.call(action, body).await.map_err(|e| StoreError(format!("{e} (table {})", self.table)))
    }
}

/// A record as DynamoDB returned it.
fn record(item: &Value) -> Result<Record, StoreError> {
    let text = |name: &str| item[name]["S"].as_str();
    let number = |name: &str| item[name]["N"].as_str().and_then(|n| n.parse::<u64>().ok());
    let malformed = || StoreError(format!("the idempotency record is not one bindery wrote: {}", item["id"]));
    match text("status") {
        Some("INPROGRESS") => {
            let until = number("in_progress_expiration").ok_or_else(malformed)?;
            Ok(Record::InProgress { expires: UNIX_EPOCH + Duration::from_millis(until) })
        }
        Some("COMPLETED") => {
            let expires = UNIX_EPOCH + Duration::from_secs(number("expiration").ok_or_else(malformed)?);
            let data: Value = text("data").and_then(|d| serde_json::from_str(d).ok()).unwrap_or(Value::Null);
            let answer = StoredAnswer {
                status: data["status"].as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
                content_type: data["contentType"].as_str().map(str::to_owned),
                body: data["body"].as_str().and_then(|b| STANDARD.decode(b).ok()).map(Bytes::from).unwrap_or_default(),
            };
            Ok(Record::Completed { answer, expires })
        }
        _ => Err(malformed()),
    }
}

fn refused(action: &str, error: &Value) -> StoreError {
    StoreError(format!("DynamoDB {action} refused: {}", error_text(error)))
}

fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

fn millis(time: SystemTime) -> u128 {
    time.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()
}
