//! `bindings.aws.dynamodb` output (reference §1.3).
//!
//! - `create` puts `data`, a JSON object, as an item in `table`
//!   (`PutItem`), each value typed as Dapr types it ([`item`]). Dapr sends
//!   any other `data` as an empty item for DynamoDB to refuse; bindery refuses
//!   it itself, as a bad request.
//! - `get` (bindery's): `data` is the item's key as a JSON object (e.g.
//!   `{"id":"t-1"}`, typed as `create` types it); the answer is the item as
//!   plain JSON, or a not-found error when there is none.
//! - `delete` (bindery's): `data` is the key; deleting an absent item succeeds.
//!
//! Dapr reads no request metadata; bindery's keys, matched case-insensitively,
//! empty values counting as absent:
//! - `conditionExpression` (`create` and `delete`): DynamoDB's condition, e.g.
//!   `attribute_not_exists(id)` to put only a new item; when it fails, the
//!   error is a bad request naming `ConditionalCheckFailedException`, never
//!   retried;
//! - `expressionAttributeNames`: a JSON object of `#name` placeholders;
//! - `expressionAttributeValues`: a JSON object of `:value` placeholders,
//!   typed as `create` types values;
//! - `consistentRead` (`get`): `true` for a strongly consistent read.
//!
//! `create` and `delete` answer no response (the HTTP API's 204), as Dapr.

mod item;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use bytes::Bytes;
use serde_json::Value;

use super::aws::{ErrorCodes, sdk_error_by_code};
use super::config::DynamoDbConfig;
use super::error::InvokeError;
use super::{BoxFuture, InvokeRequest, InvokeResponse, InvokeResult, OutputBinding, operation};
use crate::component::{FieldError, Metadata};
use item::{Item, attribute, item_from_json, item_to_json};

const PREFIX: &str = "dynamodb binding error";
const CONDITION: &str = "conditionExpression";
const NAMES: &str = "expressionAttributeNames";
const VALUES: &str = "expressionAttributeValues";
const CONSISTENT_READ: &str = "consistentRead";

/// DynamoDB's codes for a request it will not take: never worth retrying.
const BAD_REQUEST_CODES: &[&str] =
    &["ValidationException", "ConditionalCheckFailedException", "ItemCollectionSizeLimitExceededException"];
/// Conflicts with a concurrent transaction or replica write: they may pass.
const TRANSIENT_CODES: &[&str] = &["TransactionConflictException", "ReplicatedWriteConflictException"];

pub struct DynamoDbBinding {
    client: Client,
    table: String,
}

impl DynamoDbBinding {
    /// Checks `table` without calling DynamoDB.
    pub fn from_metadata(metadata: &Metadata, config: &SdkConfig) -> Result<Self, Vec<FieldError>> {
        let DynamoDbConfig { table, .. } = DynamoDbConfig::from_metadata(metadata)?;
        Ok(Self { client: Client::new(config), table })
    }

    async fn create(&self, request: &InvokeRequest) -> InvokeResult {
        let item = object(&request.data, "the item").and_then(|o| item_from_json(&o).map_err(InvokeError::bad_request));
        let item = item.map_err(|e| e.context(PREFIX))?;
        let condition = Condition::read(request).map_err(|e| e.context(PREFIX))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.expression)
            .set_expression_attribute_names(condition.names)
            .set_expression_attribute_values(condition.values)
            .send()
            .await
            .map_err(|e| classify(PREFIX, e))?;
        Ok(None)
    }

    async fn get(&self, request: &InvokeRequest) -> InvokeResult {
        let key = read_key(request).map_err(|e| e.context(PREFIX))?;
        let consistent = match request.meta_ignore_case(CONSISTENT_READ).map(str::trim) {
            None => None,
            Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
            Some(v) => {
                return Err(InvokeError::bad_request(format!(
                    "{PREFIX}: {CONSISTENT_READ} must be true or false, got {v:?}"
                )));
            }
        };
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .set_consistent_read(consistent)
            .send()
            .await
            .map_err(|e| classify(PREFIX, e))?;
        // The key's values are the app's data: the error does not repeat them.
        let item = output
            .item
            .ok_or_else(|| InvokeError::not_found(format!("{PREFIX}: no item in table {} has that key", self.table)))?;
        let mut response = InvokeResponse::new(Bytes::from(item_to_json(&item)));
        response.content_type = Some("application/json".into());
        Ok(Some(response))
    }

    async fn delete(&self, request: &InvokeRequest) -> InvokeResult {
        let key = read_key(request).map_err(|e| e.context(PREFIX))?;
        let condition = Condition::read(request).map_err(|e| e.context(PREFIX))?;
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .set_condition_expression(condition.expression)
            .set_expression_attribute_names(condition.names)
            .set_expression_attribute_values(condition.values)
            .send()
            .await
            .map_err(|e| classify(PREFIX, e))?;
        Ok(None)
    }
}

/// `data` as a JSON object; `what` names it in the error.
fn object(data: &[u8], what: &str) -> Result<serde_json::Map<String, Value>, InvokeError> {
    match serde_json::from_slice::<Value>(data) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) | Err(_) => Err(InvokeError::bad_request(format!("data must be {what} as a JSON object"))),
    }
}

fn read_key(request: &InvokeRequest) -> Result<Item, InvokeError> {
    let key = object(&request.data, "the item's key")?;
    if key.is_empty() {
        return Err(InvokeError::bad_request(
            "the key is empty: give the item's key attributes, e.g. {\"id\":\"t-1\"}",
        ));
    }
    item_from_json(&key).map_err(InvokeError::bad_request)
}

/// The condition of a `create` or `delete`, from the request metadata.
#[derive(Debug, Default)]
struct Condition {
    expression: Option<String>,
    names: Option<std::collections::HashMap<String, String>>,
    values: Option<Item>,
}

impl Condition {
    fn read(request: &InvokeRequest) -> Result<Self, InvokeError> {
        let expression = request.meta_ignore_case(CONDITION).map(str::to_owned);
        let names = request
            .meta_ignore_case(NAMES)
            .map(|text| {
                let parsed: Result<std::collections::HashMap<String, String>, _> = serde_json::from_str(text);
                parsed.map_err(|_| {
                    InvokeError::bad_request(format!(
                        r##"{NAMES} must be a JSON object of strings, e.g. {{"#s":"status"}}"##
                    ))
                })
            })
            .transpose()?;
        let values = request
            .meta_ignore_case(VALUES)
            .map(|text| {
                let fields = object(text.as_bytes(), VALUES).map_err(|_| {
                    InvokeError::bad_request(format!(r#"{VALUES} must be a JSON object, e.g. {{":s":"done"}}"#))
                })?;
                fields
                    .iter()
                    .map(|(name, value)| Ok((name.clone(), attribute(value).map_err(InvokeError::bad_request)?)))
                    .collect::<Result<Item, InvokeError>>()
            })
            .transpose()?;
        if expression.is_none() && (names.is_some() || values.is_some()) {
            return Err(InvokeError::bad_request(format!("{NAMES} and {VALUES} need a {CONDITION}")));
        }
        Ok(Self { expression, names, values })
    }
}

/// [`sdk_error`], with DynamoDB's "no such table", "bad request" and
/// "conflict" answers given their kinds (it calls every 4xx "other").
fn classify<E>(prefix: &str, error: SdkError<E, HttpResponse>) -> InvokeError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    sdk_error_by_code(
        prefix,
        error,
        &ErrorCodes {
            not_found: &["ResourceNotFoundException"],
            bad_request: BAD_REQUEST_CODES,
            throttled: &[],
            transient: TRANSIENT_CODES,
        },
    )
}

impl OutputBinding for DynamoDbBinding {
    fn operations(&self) -> &'static [&'static str] {
        &[operation::CREATE, operation::GET, operation::DELETE]
    }

    /// A put of the same item, a read and a delete can each be repeated with
    /// the same effect; a conditional one cannot (its first attempt may have
    /// changed what the condition sees).
    fn is_idempotent(&self, request: &InvokeRequest) -> bool {
        request.operation == operation::GET || request.meta_ignore_case(CONDITION).is_none()
    }

    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(async move {
            match request.operation.as_str() {
                operation::GET => self.get(&request).await,
                operation::DELETE => self.delete(&request).await,
                operation::CREATE => self.create(&request).await,
                other => Err(InvokeError::unsupported("dynamodb", other, self.operations())),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;
    use crate::output::ErrorKind;

    fn refused(result: Result<impl std::fmt::Debug, InvokeError>) -> String {
        let error = result.unwrap_err();
        assert_eq!(error.kind, ErrorKind::BadRequest, "{error}");
        error.message
    }

    #[test]
    fn data_must_be_an_object() {
        for data in [r#""text""#, "[1]", "null", "3", "not json", ""] {
            assert_eq!(refused(object(data.as_bytes(), "the item")), "data must be the item as a JSON object");
        }
        let request = InvokeRequest::new("get", "{}");
        assert!(refused(read_key(&request)).starts_with("the key is empty"));
        let request = InvokeRequest::new("get", r#"{"":1}"#);
        assert_eq!(refused(read_key(&request)), "marshal failed, map key cannot be empty");
    }

    #[test]
    fn conditions_come_from_metadata() {
        let request = InvokeRequest::new("create", "{}")
            .with_metadata("ConditionExpression", "attribute_not_exists(id) OR #s = :s")
            .with_metadata("expressionattributenames", r##"{"#s":"status"}"##)
            .with_metadata("expressionAttributeValues", r#"{":s":"open",":n":2}"#);
        let condition = Condition::read(&request).unwrap();
        assert_eq!(condition.expression.as_deref(), Some("attribute_not_exists(id) OR #s = :s"));
        assert_eq!(condition.names.unwrap()["#s"], "status");
        let values = condition.values.unwrap();
        assert_eq!((&values[":s"], &values[":n"]), (&AttributeValue::S("open".into()), &AttributeValue::N("2".into())));

        let none =
            Condition::read(&InvokeRequest::new("create", "{}").with_metadata("conditionExpression", "")).unwrap();
        assert!(none.expression.is_none() && none.names.is_none() && none.values.is_none());

        let bad_names =
            InvokeRequest::new("create", "{}").with_metadata(CONDITION, "x").with_metadata(NAMES, r##"{"#s":1}"##);
        assert!(refused(Condition::read(&bad_names)).starts_with("expressionAttributeNames must be"));
        let bad_values = InvokeRequest::new("create", "{}").with_metadata(CONDITION, "x").with_metadata(VALUES, "[1]");
        assert!(refused(Condition::read(&bad_values)).starts_with("expressionAttributeValues must be"));
        let orphan = InvokeRequest::new("create", "{}").with_metadata(VALUES, r#"{":s":1}"#);
        assert!(refused(Condition::read(&orphan)).ends_with("need a conditionExpression"));
    }

    #[test]
    fn only_unconditioned_writes_and_reads_are_idempotent() {
        use aws_config::{BehaviorVersion, Region};
        let config =
            SdkConfig::builder().behavior_version(BehaviorVersion::latest()).region(Region::new("us-east-1")).build();
        let binding = DynamoDbBinding::from_metadata(&Metadata::from_pairs([("table", "tasks")]), &config).unwrap();
        let conditioned = |op: &str| InvokeRequest::new(op, "{}").with_metadata(CONDITION, "attribute_exists(id)");
        assert!(binding.is_idempotent(&InvokeRequest::new("create", "{}")));
        assert!(binding.is_idempotent(&InvokeRequest::new("delete", "{}")));
        assert!(binding.is_idempotent(&conditioned("get")));
        assert!(!binding.is_idempotent(&conditioned("create")));
        assert!(!binding.is_idempotent(&conditioned("delete")));
    }
}
