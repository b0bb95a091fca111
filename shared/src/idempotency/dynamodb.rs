//! The DynamoDB idempotency store, Powertools' table layout: partition key
//! `id` (a string), `status` (`INPROGRESS` or `COMPLETED`), `expiration`
//! (epoch seconds, the table's TTL attribute), `in_progress_expiration`
//! (epoch milliseconds: the delivery's deadline) and `data` (the answer).
//!
//! Three calls, signed here with SigV4 ([`super::sigv4`]) over the
//! functions' own hyper client rather than through the DynamoDB SDK, which
//! would double an input function's size: `PutItem` with a condition (the
//! compare-and-set that starts a delivery: of two at once, exactly one
//! passes), `PutItem` (the answer) and `DeleteItem` (a release).
//! Credentials and region come from the component (`accessKey`,
//! `secretKey`, `region`, `endpoint`) or from the environment Lambda sets
//! (`AWS_ACCESS_KEY_ID`, …, `AWS_REGION`; `AWS_ENDPOINT_URL_DYNAMODB` or
//! `AWS_ENDPOINT_URL` for an emulator).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use super::sigv4::{Scope, sign_post};
use super::{Begun, Record, StoreError, StoredAnswer};
use crate::output::config::{AwsConfig, StaticKeys};

/// The largest answer read from DynamoDB (an item is at most 400 KB).
const MAX_ANSWER: usize = 1 << 20;
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A table, and how to reach and sign for it.
pub struct DynamoDbStore {
    table: String,
    endpoint: http::Uri,
    /// The `Host` header, as signed.
    host: String,
    region: String,
    credentials: StaticKeys,
    client: crate::tls::HttpsClient,
}

impl std::fmt::Debug for DynamoDbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoDbStore")
            .field("table", &self.table)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl DynamoDbStore {
    /// The store of `table`, reached as the component (`aws`) or the
    /// environment (`env`) says.
    pub fn new(table: &str, aws: &AwsConfig, env: impl Fn(&str) -> Option<String>) -> Result<Self, StoreError> {
        let missing = |what: &str| StoreError(format!("the idempotency store needs {what}"));
        let region = aws.region.clone().or_else(|| env("AWS_REGION")).or_else(|| env("AWS_DEFAULT_REGION"));
        let region = region.ok_or_else(|| missing("a region (the component's region, or AWS_REGION)"))?;
        let endpoint = aws
            .endpoint
            .clone()
            .or_else(|| env("AWS_ENDPOINT_URL_DYNAMODB"))
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .unwrap_or_else(|| format!("https://dynamodb.{region}.amazonaws.com"));
        let invalid = |why: String| StoreError(format!("the DynamoDB endpoint {endpoint:?}: {why}"));
        let endpoint: http::Uri = endpoint.parse().map_err(|e: http::uri::InvalidUri| invalid(e.to_string()))?;
        let host = host_header(&endpoint).ok_or_else(|| invalid("it names no host".into()))?;
        if !matches!(endpoint.path(), "" | "/") || endpoint.query().is_some() {
            return Err(invalid("DynamoDB is called at its root: give the endpoint without a path".into()));
        }
        let credentials = match &aws.keys {
            Some(keys) => keys.clone(),
            None => StaticKeys {
                access_key: env("AWS_ACCESS_KEY_ID").ok_or_else(|| missing("credentials (AWS_ACCESS_KEY_ID)"))?,
                secret_key: env("AWS_SECRET_ACCESS_KEY")
                    .ok_or_else(|| missing("credentials (AWS_SECRET_ACCESS_KEY)"))?,
                session_token: env("AWS_SESSION_TOKEN"),
            },
        };
        let client = crate::tls::https_client(crate::tls::web_roots(), HttpConnector::new(), true);
        Ok(Self { table: table.to_owned(), endpoint, host, region, credentials, client })
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

    /// One signed call: `Ok(Ok(answer))` for a 2xx, `Ok(Err(error))` for
    /// DynamoDB's error document, `Err` when it could not be made.
    async fn call(&self, action: &str, body: &Value) -> Result<Result<Value, Value>, StoreError> {
        let failed = |why: String| StoreError(format!("DynamoDB {action} on {}: {why}", self.table));
        let body = Bytes::from(serde_json::to_vec(body).map_err(|e| failed(e.to_string()))?);
        let target = format!("DynamoDB_20120810.{action}");
        let headers = [("content-type", "application/x-amz-json-1.0"), ("x-amz-target", target.as_str())];
        let scope = Scope { service: "dynamodb", region: &self.region };
        let signature = sign_post(&self.host, &headers, &body, &self.credentials, &scope, SystemTime::now());
        let mut request = http::Request::post(self.endpoint.clone()).header(http::header::HOST, &self.host);
        for (name, value) in headers.into_iter().chain(signature.iter().map(|(name, value)| (*name, value.as_str()))) {
            request = request.header(name, value);
        }
        let request = request.body(Full::new(body)).map_err(|e| failed(e.to_string()))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| crate::error_chain::error_chain(&e))?;
            let status = response.status();
            let bytes = Limited::new(response.into_body(), MAX_ANSWER).collect().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((status, bytes.to_bytes()))
        };
        let (status, bytes) = tokio::time::timeout(CALL_TIMEOUT, exchange)
            .await
            .map_err(|_| failed("no answer in 5 s".into()))?
            .map_err(failed)?;
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            Ok(Ok(answer))
        } else if status.is_client_error() && answer["__type"].is_string() {
            Ok(Err(answer))
        } else {
            Err(failed(format!("answered {status}")))
        }
    }
}

/// The `Host` of a call to `endpoint`: its host, and its port unless the
/// scheme's own (as signers and HTTP clients write it).
fn host_header(endpoint: &http::Uri) -> Option<String> {
    let authority = endpoint.authority()?;
    let default = if endpoint.scheme_str() == Some("https") { 443 } else { 80 };
    Some(match authority.port_u16() {
        Some(port) if port != default => format!("{}:{port}", authority.host()),
        _ => authority.host().to_owned(),
    })
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
    let kind = error["__type"].as_str().unwrap_or("an error");
    let message = error["message"].as_str().or_else(|| error["Message"].as_str()).unwrap_or_default();
    StoreError(format!("DynamoDB {action} refused: {kind}: {message}"))
}

fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

fn millis(time: SystemTime) -> u128 {
    time.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()
}
