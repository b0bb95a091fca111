//! The DynamoDB idempotency store, Powertools' table layout: partition key
//! `id` (a string), `status` (`INPROGRESS` or `COMPLETED`), `expiration`
//! (epoch seconds, the table's TTL attribute), `in_progress_expiration`
//! (epoch milliseconds: the delivery's deadline) and `data` (the answer).
//!
//! Three calls, signed here with SigV4 over the functions' own hyper client
//! rather than through the DynamoDB SDK, which would double an input
//! function's size: `PutItem` with a condition (the compare-and-set that
//! starts a delivery: of two at once, exactly one passes), `PutItem` (the
//! answer) and `DeleteItem` (a release). Credentials and region come from
//! the component (`accessKey`, `secretKey`, `region`, `endpoint`) or from
//! the environment Lambda sets (`AWS_ACCESS_KEY_ID`, …, `AWS_REGION`;
//! `AWS_ENDPOINT_URL_DYNAMODB` or `AWS_ENDPOINT_URL` for an emulator).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use super::{Begun, Record, StoreError, StoredAnswer};
use crate::output::config::AwsConfig;

/// The largest answer read from DynamoDB (an item is at most 400 KB).
const MAX_ANSWER: usize = 1 << 20;
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A table, and how to reach and sign for it.
pub struct DynamoDbStore {
    table: String,
    endpoint: http::Uri,
    region: String,
    credentials: aws_credential_types::Credentials,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
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
        let endpoint: http::Uri =
            endpoint.parse().map_err(|e| StoreError(format!("the DynamoDB endpoint {endpoint:?}: {e}")))?;
        let credentials = match &aws.keys {
            Some(keys) => aws_credential_types::Credentials::new(
                &keys.access_key,
                &keys.secret_key,
                keys.session_token.clone(),
                None,
                "component",
            ),
            None => aws_credential_types::Credentials::new(
                env("AWS_ACCESS_KEY_ID").ok_or_else(|| missing("credentials (AWS_ACCESS_KEY_ID)"))?,
                env("AWS_SECRET_ACCESS_KEY").ok_or_else(|| missing("credentials (AWS_SECRET_ACCESS_KEY)"))?,
                env("AWS_SESSION_TOKEN"),
                None,
                "environment",
            ),
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(crate::tls::client_config())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self { table: table.to_owned(), endpoint, region, credentials, client })
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
        let mut request = http::Request::post(self.endpoint.clone())
            .header(http::header::CONTENT_TYPE, "application/x-amz-json-1.0")
            .header("x-amz-target", &target)
            .body(Full::new(body.clone()))
            .map_err(|e| failed(e.to_string()))?;
        self.sign(&mut request, &body).map_err(failed)?;
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

    fn sign(&self, request: &mut http::Request<Full<Bytes>>, body: &[u8]) -> Result<(), String> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let identity = self.credentials.clone().into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("dynamodb")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let headers = request.headers().iter().filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
        let uri = request.uri().to_string();
        let signable =
            SignableRequest::new("POST", &uri, headers, SignableBody::Bytes(body)).map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
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
