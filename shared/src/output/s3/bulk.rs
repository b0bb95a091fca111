//! Dapr v1.18's bulk operations: `bulkCreate` and `bulkGet` run up to
//! `concurrency` (default 10) single-object calls at once and answer one
//! entry per item, in order, with its own `error`; `bulkDelete` uses
//! DeleteObjects, 1000 keys per call.

use std::path::Path;

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use base64::Engine;
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use serde::Deserialize;
use serde_json::{Value, json};

use super::object::{object_body, tagging};
use super::{S3Binding, bad, s3_error};
use crate::output::binding::{InvokeRequest, InvokeResponse, InvokeResult};
use crate::output::error::InvokeError;

const DEFAULT_CONCURRENCY: i64 = 10;
const DELETE_BATCH: usize = 1000;

#[derive(Debug, Deserialize)]
struct BulkRequest {
    #[serde(default)]
    items: Vec<BulkItem>,
    concurrency: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkItem {
    #[serde(default)]
    key: String,
    /// A string is stored as its text, any other JSON value as its JSON.
    data: Option<Value>,
    content_type: Option<String>,
    file_path: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BulkDelete {
    keys: Vec<String>,
}

fn parse<'a, T: Deserialize<'a>>(operation: &str, data: &'a [u8]) -> Result<T, InvokeError> {
    serde_json::from_slice(data).map_err(|e| bad(format!("{operation}: unreadable request data: {e}")))
}

fn concurrency(requested: Option<i64>) -> Result<usize, InvokeError> {
    match requested.unwrap_or(DEFAULT_CONCURRENCY) {
        n if n <= 0 => Err(bad(format!("concurrency must be positive, got {n}"))),
        n => Ok(usize::try_from(n).unwrap_or(usize::MAX).min(1000)),
    }
}

impl S3Binding {
    pub(super) async fn bulk_create(&self, request: &InvokeRequest) -> InvokeResult {
        let bulk: BulkRequest = parse("bulkCreate", &request.data)?;
        let options = self.options(request)?;
        let tags = request.meta("tags").map(tagging).transpose()?;
        let results: Vec<Value> = stream::iter(bulk.items)
            .map(|item| {
                let (options, tags) = (&options, tags.as_deref());
                async move {
                    let key = if item.key.is_empty() { uuid::Uuid::new_v4().to_string() } else { item.key };
                    let content_type = item.content_type.as_deref();
                    let stored = match (&item.file_path, &item.data) {
                        (Some(path), _) => self.upload_file(&key, path.as_ref(), content_type, tags, options).await,
                        (None, data) => {
                            let bytes = match data {
                                Some(Value::String(text)) => Bytes::from(text.clone()),
                                Some(other) => Bytes::from(other.to_string()),
                                None => Bytes::new(),
                            };
                            match object_body(&bytes, options.decode_base64) {
                                Ok(body) => self.put(&key, body, content_type, tags, options).await,
                                Err(e) => Err(e),
                            }
                        }
                    };
                    match stored {
                        Ok(_) => json!({ "key": key, "location": self.location(&key) }),
                        Err(e) => json!({ "key": key, "error": e.message }),
                    }
                }
            })
            .buffered(concurrency(bulk.concurrency)?)
            .collect()
            .await;
        Ok(Some(InvokeResponse::json(&Value::Array(results))))
    }

    pub(super) async fn bulk_get(&self, request: &InvokeRequest) -> InvokeResult {
        let bulk: BulkRequest = parse("bulkGet", &request.data)?;
        let encode = self.options(request)?.encode_base64;
        let results: Vec<Value> = stream::iter(bulk.items)
            .map(|item| async move {
                let key = item.key;
                let data = match self.fetch(&key).await {
                    Ok(data) => data,
                    Err(e) => return json!({ "key": key, "error": e.message }),
                };
                match item.file_path {
                    Some(path) => match tokio::fs::write(Path::new(&path), &data).await {
                        Ok(()) => json!({ "key": key, "location": path }),
                        Err(e) => json!({ "key": key, "error": format!("writing {path}: {e}") }),
                    },
                    None if encode => {
                        json!({ "key": key, "data": base64::engine::general_purpose::STANDARD.encode(&data) })
                    }
                    None => json!({ "key": key, "data": String::from_utf8_lossy(&data) }),
                }
            })
            .buffered(concurrency(bulk.concurrency)?)
            .collect()
            .await;
        Ok(Some(InvokeResponse::json(&Value::Array(results))))
    }

    pub(super) async fn bulk_delete(&self, request: &InvokeRequest) -> InvokeResult {
        let bulk: BulkDelete = parse("bulkDelete", &request.data)?;
        let mut results = Vec::with_capacity(bulk.keys.len());
        for batch in bulk.keys.chunks(DELETE_BATCH) {
            let objects = batch
                .iter()
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(format!("bulkDelete: {e}")))?;
            let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().map_err(bad)?;
            let output =
                self.client.delete_objects().bucket(&self.bucket).delete(delete).send().await.map_err(s3_error)?;
            for key in batch {
                let failed = output.errors().iter().find(|e| e.key() == Some(key.as_str()));
                results.push(match failed {
                    Some(e) => json!({ "key": key, "error": e.message().or(e.code()).unwrap_or("not deleted") }),
                    None => json!({ "key": key }),
                });
            }
        }
        Ok(Some(InvokeResponse::json(&Value::Array(results))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_defaults_to_ten_and_must_be_positive() {
        assert_eq!(concurrency(None).unwrap(), 10);
        assert_eq!(concurrency(Some(3)).unwrap(), 3);
        assert!(concurrency(Some(0)).is_err());
        assert!(concurrency(Some(-1)).is_err());
    }
}
