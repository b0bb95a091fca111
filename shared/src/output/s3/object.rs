//! One object at a time: `create`, `get`, `delete` and `presign`.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::StorageClass;
use base64::Engine;
use bytes::{Bytes, BytesMut};
use serde_json::{Value, json};

use super::{Options, PREFIX, S3Binding, bad, required_key, s3_error};
use crate::output::data::unquote_json;
use crate::output::error::{ErrorKind, InvokeError};
use crate::output::read_limit::{MAX_READ_SIZE, too_large};
use crate::output::{InvokeRequest, InvokeResponse, InvokeResult};

impl S3Binding {
    pub(super) async fn create(&self, request: &InvokeRequest) -> InvokeResult {
        let options = self.options(request)?;
        let key = request.meta("key").map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        let content_type = request.meta("Content-Type");
        let tagging = request.meta("tags").map(tagging).transpose()?;
        let stored = match &options.file_path {
            Some(path) => self.upload_file(&key, path.as_ref(), content_type, tagging.as_deref(), &options).await?,
            None => {
                let body = object_body(&request.data, options.decode_base64)?;
                self.put(&key, ByteStream::from(body), content_type, tagging.as_deref(), &options).await?
            }
        };
        let mut answer = json!({ "location": self.location(&key, stored.location), "versionID": stored.version });
        if let Some(ttl) = options.presign_ttl {
            answer["presignURL"] = Value::String(self.presign(&key, ttl).await?);
        }
        Ok(Some(InvokeResponse::json(&answer).with_metadata("key", key)))
    }

    /// One PutObject, of a body in memory or streamed from a file.
    pub(super) async fn put(
        &self,
        key: &str,
        body: ByteStream,
        content_type: Option<&str>,
        tagging: Option<&str>,
        options: &Options,
    ) -> Result<Stored, InvokeError> {
        let output = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(body)
            .set_content_type(content_type.map(str::to_owned))
            .set_tagging(tagging.map(str::to_owned))
            .set_storage_class(options.storage_class.as_deref().map(StorageClass::from))
            .send()
            .await
            .map_err(s3_error)?;
        Ok(Stored { version: output.version_id, location: None })
    }

    pub(super) async fn get(&self, request: &InvokeRequest) -> InvokeResult {
        let options = self.options(request)?;
        let data = self.fetch(required_key(request)?, &ReadBudget::new(self.max_read_size, false)).await?;
        let data = if options.encode_base64 {
            Bytes::from(base64::engine::general_purpose::STANDARD.encode(&data))
        } else {
            data
        };
        Ok(Some(InvokeResponse::new(data)))
    }

    /// The whole object, read once into one buffer sized from its
    /// Content-Length (collecting the chunks and then joining them would hold
    /// the object twice), and taken from `budget` before it is read: an object
    /// that does not fit is refused unread. Bytes beyond the Content-Length
    /// are taken from the budget as they arrive.
    pub(super) async fn fetch(&self, key: &str, budget: &ReadBudget) -> Result<Bytes, InvokeError> {
        let mut output = self.client.get_object().bucket(&self.bucket).key(key).send().await.map_err(s3_error)?;
        let announced = output.content_length.and_then(|n| u64::try_from(n).ok());
        let mut taken = announced.unwrap_or(0);
        budget.take(key, taken, taken)?;
        let mut received: u64 = 0;
        let mut receive = |chunk: &Bytes| {
            received += chunk.len() as u64;
            if received > taken {
                budget.take(key, received, received - taken)?;
                taken = received;
            }
            Ok::<_, InvokeError>(())
        };
        let first = match output.body.next().await {
            None => return Ok(Bytes::new()),
            Some(chunk) => chunk.map_err(|e| read_error(key, &e))?,
        };
        receive(&first)?;
        if announced.is_some_and(|size| first.len() as u64 >= size) {
            return Ok(first); // The whole object in one chunk: no copy at all.
        }
        let size = announced.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
        let mut buffer = BytesMut::with_capacity(size.min(MAX_PREALLOCATION));
        buffer.extend_from_slice(&first);
        drop(first);
        while let Some(chunk) = output.body.next().await {
            let chunk = chunk.map_err(|e| read_error(key, &e))?;
            receive(&chunk)?;
            buffer.extend_from_slice(&chunk);
        }
        Ok(buffer.freeze())
    }

    pub(super) async fn delete(&self, request: &InvokeRequest) -> InvokeResult {
        let key = required_key(request)?;
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(s3_error)?;
        Ok(None)
    }

    pub(super) async fn presign_operation(&self, request: &InvokeRequest) -> InvokeResult {
        let key = required_key(request)?;
        let ttl = self.options(request)?.presign_ttl.ok_or_else(|| bad("required metadata 'presignTTL' missing"))?;
        let url = self.presign(key, ttl).await?;
        Ok(Some(InvokeResponse::json(&json!({ "presignURL": url }))))
    }

    /// A presigned GET of `key`, valid for `ttl`.
    async fn presign(&self, key: &str, ttl: Duration) -> Result<String, InvokeError> {
        let config = PresigningConfig::expires_in(ttl).map_err(|e| bad(format!("presignTTL: {e}")))?;
        let request =
            self.client.get_object().bucket(&self.bucket).key(key).presigned(config).await.map_err(s3_error)?;
        Ok(request.uri().to_owned())
    }
}

/// The bytes one answer may still hold: `maxReadSize` for a `get`, shared by
/// all the objects of a `bulkGet`, whose one answer holds them all.
pub(super) struct ReadBudget {
    limit: u64,
    left: AtomicU64,
    shared: bool,
}

impl ReadBudget {
    /// `shared`: the budget of a whole `bulkGet` answer.
    pub(super) fn new(limit: u64, shared: bool) -> Self {
        Self { limit, left: AtomicU64::new(limit), shared }
    }

    /// Takes `more` bytes for `key`, whose size is now known to be `size`;
    /// refused, naming the object, its size and the limit, when they do not fit.
    fn take(&self, key: &str, size: u64, more: u64) -> Result<(), InvokeError> {
        let object = format!("object {key:?}");
        if size > self.limit {
            return Err(too_large(&object, size, self.limit).context(PREFIX));
        }
        match self.left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(more)) {
            Ok(_) => Ok(()),
            Err(left) if self.shared => Err(bad(format!(
                "{object} is {size} bytes, more than the {left} bytes left of {MAX_READ_SIZE} ({} bytes) for the \
                 whole bulkGet answer",
                self.limit
            ))),
            Err(_) => Err(too_large(&object, size, self.limit).context(PREFIX)),
        }
    }
}

/// A Content-Length is the server's word; past this, the buffer grows as
/// the body actually arrives.
const MAX_PREALLOCATION: usize = 64 << 20;

fn read_error(key: &str, error: &dyn std::fmt::Display) -> InvokeError {
    InvokeError::new(ErrorKind::Transient, format!("{PREFIX}: reading {key:?}: {error}"))
}

/// What an upload answers: the version id, if the bucket keeps versions, and
/// the location S3 reported, if any (only multipart uploads report one).
#[derive(Debug, Default)]
pub(super) struct Stored {
    pub(super) version: Option<String>,
    pub(super) location: Option<String>,
}

/// Dapr's body rules for `create`: a JSON string, number or boolean is stored
/// unquoted, anything else as it is; then base64-decoded if asked. The
/// request's own bytes are passed on when neither rule changes them.
pub(super) fn object_body(data: &Bytes, decode_base64: bool) -> Result<Bytes, InvokeError> {
    let unquoted = match unquote_json(data) {
        Cow::Borrowed(_) => data.clone(),
        Cow::Owned(text) => Bytes::from(text),
    };
    if decode_base64 { base64_body(&unquoted) } else { Ok(unquoted) }
}

/// `decodeBase64`: standard alphabet, line breaks and spaces ignored (as Go's
/// base64 decoder skips `\r` and `\n`).
pub(super) fn base64_body(data: &[u8]) -> Result<Bytes, InvokeError> {
    let compact: Vec<u8> = data.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map(Bytes::from)
        .map_err(|e| bad(format!("decodeBase64 is set but the data is not base64: {e}")))
}

/// `tags: "k1=v1,k2=v2"` as S3's URL-encoded tagging, `k1=v1&k2=v2`.
pub(super) fn tagging(tags: &str) -> Result<String, InvokeError> {
    let mut pairs = Vec::new();
    for tag in tags.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (key, value) = tag.split_once('=').ok_or_else(|| bad(format!("invalid tag format: {tag:?}")))?;
        if key.trim().is_empty() {
            return Err(bad(format!("invalid tag format: {tag:?}")));
        }
        pairs.push(format!("{}={}", encode(key.trim()), encode(value.trim())));
    }
    Ok(pairs.join("&"))
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_follow_dapr_without_copying_raw_data() {
        let raw = Bytes::from_static(b"raw bytes \xff");
        let body = object_body(&raw, false).unwrap();
        assert_eq!(body.as_ptr(), raw.as_ptr(), "the same buffer, not a copy");
        assert_eq!(object_body(&Bytes::from_static(br#""quoted""#), false).unwrap(), "quoted");
        assert_eq!(object_body(&Bytes::from_static(br#"{"a":1}"#), false).unwrap(), r#"{"a":1}"#);
        assert_eq!(object_body(&Bytes::from_static(br#""aGk=""#), true).unwrap(), "hi");
        assert!(object_body(&Bytes::from_static(b"not base64!"), true).is_err());
    }

    #[test]
    fn tags_become_s3_tagging() {
        assert_eq!(tagging("team=ops, env=prod").unwrap(), "team=ops&env=prod");
        assert_eq!(tagging("a b=c&d").unwrap(), "a%20b=c%26d");
        assert_eq!(tagging("empty=").unwrap(), "empty=");
        for bad in ["novalue", "=x", "a=b,oops"] {
            assert!(tagging(bad).unwrap_err().message.contains("invalid tag format"), "{bad}");
        }
    }
}
