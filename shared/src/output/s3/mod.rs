//! `bindings.aws.s3` on `aws-sdk-s3`, with Dapr's operations and metadata
//! (reference §3.3): `create`, `get`, `delete`, `list`, `presign`, and the
//! v1.18 `bulkCreate`, `bulkGet` and `bulkDelete`.
//!
//! Bodies are handed to the SDK as the request's own `Bytes` (no copy unless
//! Dapr's unquote or base64 rules change them), and `filePath` uploads stream
//! the file in parts, so a 100 MiB upload holds one part in memory at a time.
//!
//! `delete` of a missing key succeeds: S3's DeleteObject answers 204 whether
//! or not the key exists, and bindery, like Dapr, reports "object not found"
//! only when S3 says `NoSuchKey` (which DeleteObject never does). No HeadObject
//! is made first: it would cost a call, race with other writers, and make a
//! retried delete fail because the first attempt worked.
//!
//! Where bindery differs from Dapr: only S3's "no such key" (and HeadObject's
//! bare 404) is "object not found"; a missing bucket keeps its own error. And
//! what `get` and `bulkGet` read into memory is bounded by `maxReadSize`
//! (default 100 MiB, see [`super::read_limit`]): an object larger than that,
//! or a `bulkGet` answer that would hold more, is an error naming the object,
//! its size and the limit, where Dapr reads any object whole.

mod bulk;
mod list;
mod object;
mod upload;

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::aws::sdk_error;
use super::config::S3Config;
use super::error::InvokeError;
use super::{BoxFuture, InvokeRequest, InvokeResult, OutputBinding};
use crate::component::metadata::{parse_bool, parse_duration};
use crate::component::{FieldError, Metadata};

const PREFIX: &str = "s3 binding error";
const OPERATIONS: &[&str] = &["create", "get", "delete", "list", "presign", "bulkCreate", "bulkGet", "bulkDelete"];

pub struct S3Binding {
    client: Client,
    bucket: String,
    /// For the `location` Dapr returns when S3 gives none.
    endpoint: Option<String>,
    path_style: bool,
    defaults: Options,
    /// The most bytes one answer reads into memory (`maxReadSize`).
    max_read_size: u64,
}

/// The settings a request may override (Dapr's `mergeWithRequestMetadata`).
#[derive(Debug, Clone, Default)]
struct Options {
    decode_base64: bool,
    encode_base64: bool,
    file_path: Option<String>,
    presign_ttl: Option<Duration>,
    storage_class: Option<String>,
}

impl S3Binding {
    pub fn from_metadata(metadata: &Metadata, config: &SdkConfig) -> Result<Self, Vec<FieldError>> {
        let S3Config {
            bucket,
            force_path_style: path_style,
            decode_base64,
            encode_base64,
            file_path,
            presign_ttl,
            storage_class,
            max_read_size,
            ..
        } = S3Config::from_metadata(metadata)?;
        let s3_config = aws_sdk_s3::config::Builder::from(config).force_path_style(path_style).build();
        Ok(Self {
            client: Client::from_conf(s3_config),
            bucket,
            endpoint: config.endpoint_url().map(|e| e.trim_end_matches('/').to_owned()),
            path_style,
            defaults: Options { decode_base64, encode_base64, file_path, presign_ttl, storage_class },
            max_read_size,
        })
    }

    /// The component's options, overridden by the request's non-empty values.
    fn options(&self, request: &InvokeRequest) -> Result<Options, InvokeError> {
        let mut options = self.defaults.clone();
        let flag = |name: &str, default: bool| match request.meta(name) {
            None => Ok(default),
            Some(v) => parse_bool(v).ok_or_else(|| bad(format!("{name}: expected true or false, got {v:?}"))),
        };
        options.decode_base64 = flag("decodeBase64", options.decode_base64)?;
        options.encode_base64 = flag("encodeBase64", options.encode_base64)?;
        if let Some(path) = request.meta("filePath") {
            options.file_path = Some(path.to_owned());
        }
        if let Some(ttl) = request.meta("presignTTL") {
            let ttl =
                parse_duration(ttl).ok_or_else(|| bad(format!("presignTTL: expected a duration, got {ttl:?}")))?;
            options.presign_ttl = Some(ttl);
        }
        if let Some(class) = request.meta("storageClass") {
            options.storage_class = Some(class.to_owned());
        }
        Ok(options)
    }

    /// The `location` of an upload: S3's own when it gives one (multipart
    /// uploads), else Dapr's fallback.
    fn location(&self, key: &str, from_s3: Option<String>) -> String {
        from_s3
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| fallback_location(self.endpoint.as_deref(), self.path_style, &self.bucket, key))
    }
}

/// Dapr's fallback `location` when S3 returns none (PutObject never does):
/// `{endpoint}/{bucket}/{key}` with a custom endpoint, else the global S3
/// host, path or virtual-host style.
fn fallback_location(endpoint: Option<&str>, path_style: bool, bucket: &str, key: &str) -> String {
    match (endpoint, path_style) {
        (Some(endpoint), _) => format!("{endpoint}/{bucket}/{key}"),
        (None, true) => format!("https://s3.amazonaws.com/{bucket}/{key}"),
        (None, false) => format!("https://{bucket}.s3.amazonaws.com/{key}"),
    }
}

/// Reads, deletes and writes to a named key can be repeated; a write with a
/// generated key cannot (a second attempt would store a second object).
fn idempotent(request: &InvokeRequest) -> bool {
    match request.operation.as_str() {
        "create" => request.meta("key").is_some(),
        "bulkCreate" => bulk::all_items_keyed(&request.data),
        _ => true,
    }
}

fn bad(message: impl std::fmt::Display) -> InvokeError {
    InvokeError::bad_request(format!("{PREFIX}: {message}"))
}

fn required_key(request: &InvokeRequest) -> Result<&str, InvokeError> {
    request.meta("key").ok_or_else(|| bad("required metadata 'key' missing"))
}

/// An SDK error, with S3's "no such key" as [`super::ErrorKind::NotFound`]
/// `object not found`. HeadObject's 404 has no body, hence no code; any other
/// 404 (`NoSuchBucket`, `NoSuchUpload`) keeps its code and message.
fn s3_error<E>(error: SdkError<E, HttpResponse>) -> InvokeError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let missing = match &error {
        SdkError::ServiceError(e) => object_missing(e.err().code(), e.raw().status().as_u16()),
        _ => false,
    };
    if missing { InvokeError::not_found(format!("{PREFIX}: object not found")) } else { sdk_error(PREFIX, error) }
}

fn object_missing(code: Option<&str>, status: u16) -> bool {
    match code {
        Some(code) => matches!(code, "NoSuchKey" | "NotFound"),
        None => status == 404,
    }
}

impl OutputBinding for S3Binding {
    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn is_idempotent(&self, request: &InvokeRequest) -> bool {
        idempotent(request)
    }

    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(async move {
            match request.operation.as_str() {
                "create" => self.create(&request).await,
                "get" => self.get(&request).await,
                "delete" => self.delete(&request).await,
                "list" => self.list(&request).await,
                "presign" => self.presign_operation(&request).await,
                "bulkCreate" => self.bulk_create(&request).await,
                "bulkGet" => self.bulk_get(&request).await,
                "bulkDelete" => self.bulk_delete(&request).await,
                other => Err(bad(format!("unsupported operation {other}"))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_fall_back_like_dapr() {
        let endpoint = Some("http://127.0.0.1:5000");
        assert_eq!(fallback_location(endpoint, false, "b", "dir/k"), "http://127.0.0.1:5000/b/dir/k");
        assert_eq!(fallback_location(endpoint, true, "b", "k"), "http://127.0.0.1:5000/b/k");
        assert_eq!(fallback_location(None, true, "b", "k"), "https://s3.amazonaws.com/b/k");
        assert_eq!(fallback_location(None, false, "b", "k"), "https://b.s3.amazonaws.com/k");
    }

    /// The URL the SDK built for `forcePathStyle` (`None`: not set), from a
    /// presign, which signs a request without sending it: the made-up host
    /// is never dialed.
    async fn presigned_url(force_path_style: Option<&str>) -> String {
        let mut pairs = vec![
            ("bucket", "reports"),
            ("region", "us-east-1"),
            ("endpoint", "http://s3.bindery.invalid:9000"),
            ("accessKey", "AKIDEXAMPLE"),
            ("secretKey", "example"),
        ];
        pairs.extend(force_path_style.map(|v| ("forcePathStyle", v)));
        let metadata = Metadata::from_pairs(pairs);
        let config = crate::output::aws::sdk_config(&metadata).await.unwrap();
        let binding = S3Binding::from_metadata(&metadata, &config).unwrap();
        let request =
            InvokeRequest::new("presign", "").with_metadata("key", "daily.json").with_metadata("presignTTL", "5m");
        let response = binding.invoke(request).await.unwrap().unwrap();
        let answer: serde_json::Value = serde_json::from_slice(&response.data).unwrap();
        answer["presignURL"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn force_path_style_false_or_unset_puts_the_bucket_in_the_host() {
        for setting in [Some("false"), None] {
            let url = presigned_url(setting).await;
            assert!(url.starts_with("http://reports.s3.bindery.invalid:9000/daily.json?"), "{setting:?}: {url}");
        }
        let url = presigned_url(Some("true")).await;
        assert!(url.starts_with("http://s3.bindery.invalid:9000/reports/daily.json?"), "{url}");
    }

    #[test]
    fn writes_with_generated_keys_are_not_idempotent() {
        let create = InvokeRequest::new("create", "x");
        assert!(!idempotent(&create));
        assert!(idempotent(&create.with_metadata("key", "k")));
        assert!(!idempotent(&InvokeRequest::new("create", "x").with_metadata("key", "")));
        assert!(idempotent(&InvokeRequest::new("bulkCreate", r#"{"items":[{"key":"a","data":"x"}]}"#)));
        assert!(!idempotent(&InvokeRequest::new("bulkCreate", r#"{"items":[{"key":"a"},{"data":"x"}]}"#)));
        for operation in ["get", "delete", "list", "presign", "bulkGet", "bulkDelete"] {
            assert!(idempotent(&InvokeRequest::new(operation, "")), "{operation}");
        }
    }

    #[test]
    fn only_a_missing_key_is_object_not_found() {
        assert!(object_missing(Some("NoSuchKey"), 404));
        assert!(object_missing(Some("NotFound"), 404));
        assert!(object_missing(None, 404), "HeadObject's bodiless 404");
        assert!(!object_missing(Some("NoSuchBucket"), 404));
        assert!(!object_missing(Some("AccessDenied"), 403));
        assert!(!object_missing(None, 500));
    }
}
