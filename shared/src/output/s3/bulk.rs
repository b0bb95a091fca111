//! Dapr v1.18's bulk operations: `bulkCreate` and `bulkGet` run up to
//! `concurrency` (default 10) single-object calls at once and answer one
//! entry per item, in order, with its own `error`; `bulkDelete` uses
//! DeleteObjects, 1000 keys per call.
//!
//! An item's `data` is already decoded JSON, so Dapr's unquote rule (which
//! undoes the HTTP API's re-encoding of the whole `data`) is not applied to
//! it again: a string is stored as its text, any other value as its JSON.
//! `bulkGet` items with a `filePath` are streamed to that file, never held;
//! the others share one `maxReadSize` budget, since one answer holds them all.

use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use base64::Engine;
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use serde::Deserialize;
use serde_json::{Value, json};

use super::object::{ReadBudget, base64_body, tagging};
use super::{PREFIX, S3Binding, bad, s3_error};
use crate::output::error::{ErrorKind, InvokeError};
use crate::output::{InvokeRequest, InvokeResponse, InvokeResult};

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

/// Whether every `bulkCreate` item names its key (see `idempotent`). Data
/// that does not parse is refused before anything is stored, so it counts
/// as repeatable.
pub(super) fn all_items_keyed(data: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Keys {
        #[serde(default)]
        items: Vec<Key>,
    }
    #[derive(Deserialize)]
    struct Key {
        #[serde(default)]
        key: String,
    }
    serde_json::from_slice::<Keys>(data).map_or(true, |k| k.items.iter().all(|i| !i.key.is_empty()))
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
                    let stored = match (&item.file_path, item.data) {
                        (Some(path), _) => self.upload_file(&key, path.as_ref(), content_type, tags, options).await,
                        (None, data) => {
                            let bytes = match data {
                                Some(Value::String(text)) => Bytes::from(text),
                                Some(other) => Bytes::from(other.to_string()),
                                None => Bytes::new(),
                            };
                            let body = if options.decode_base64 { base64_body(&bytes) } else { Ok(bytes) };
                            match body {
                                Ok(body) => self.put(&key, ByteStream::from(body), content_type, tags, options).await,
                                Err(e) => Err(e),
                            }
                        }
                    };
                    match stored {
                        Ok(stored) => json!({ "key": key, "location": self.location(&key, stored.location) }),
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
        let budget = ReadBudget::new(self.max_read_size, true);
        let budget = &budget;
        let results: Vec<Value> = stream::iter(bulk.items)
            .map(|item| async move {
                let key = item.key;
                if let Some(path) = item.file_path {
                    return match self.download(&key, Path::new(&path)).await {
                        Ok(()) => json!({ "key": key, "location": path }),
                        Err(e) => json!({ "key": key, "error": e.message }),
                    };
                }
                let data = match self.fetch(&key, budget).await {
                    Ok(data) => data,
                    Err(e) => return json!({ "key": key, "error": e.message }),
                };
                // Text, as Dapr's string field: invalid UTF-8 becomes U+FFFD, as in Go.
                let text = if encode {
                    base64::engine::general_purpose::STANDARD.encode(&data)
                } else {
                    String::from_utf8_lossy(&data).into_owned()
                };
                json!({ "key": key, "data": text })
            })
            .buffered(concurrency(bulk.concurrency)?)
            .collect()
            .await;
        Ok(Some(InvokeResponse::json(&Value::Array(results))))
    }

    /// Streams `key` into the file at `path`, one chunk at a time. The file is
    /// created only once S3 has answered, so a missing key leaves no file.
    async fn download(&self, key: &str, path: &Path) -> Result<(), InvokeError> {
        let output = self.client.get_object().bucket(&self.bucket).key(key).send().await.map_err(s3_error)?;
        let file_error = |e: std::io::Error| InvokeError::other(format!("{PREFIX}: writing {}: {e}", path.display()));
        let file = tokio::fs::File::create(path).await.map_err(file_error)?;
        write_body(output.body, file, key).await.map_err(|e| match e {
            WriteError::Read(e) => e,
            WriteError::Write(e) => file_error(e),
        })
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

enum WriteError {
    Read(InvokeError),
    Write(std::io::Error),
}

async fn write_body(mut body: ByteStream, file: tokio::fs::File, key: &str) -> Result<(), WriteError> {
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::io::BufWriter::new(file);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            WriteError::Read(InvokeError::new(ErrorKind::Transient, format!("{PREFIX}: reading {key:?}: {e}")))
        })?;
        file.write_all(&chunk).await.map_err(WriteError::Write)?;
    }
    file.flush().await.map_err(WriteError::Write)?;
    file.into_inner().sync_all().await.map_err(WriteError::Write)
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

    #[test]
    fn bulk_create_is_repeatable_only_with_named_keys() {
        assert!(all_items_keyed(br#"{"items":[{"key":"a","data":{"x":1}},{"key":"b"}]}"#));
        assert!(!all_items_keyed(br#"{"items":[{"key":"a"},{"key":""}]}"#));
        assert!(!all_items_keyed(br#"{"items":[{"data":"x"}]}"#));
        assert!(all_items_keyed(b"not json"), "refused before anything is stored");
    }
}
