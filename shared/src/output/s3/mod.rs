//! `bindings.aws.s3` on `aws-sdk-s3`, with Dapr's operations and metadata
//! (reference §3.3): `create`, `get`, `delete`, `list`, `presign`, and the
//! v1.18 `bulkCreate`, `bulkGet` and `bulkDelete`.
//!
//! Bodies are handed to the SDK as the request's own `Bytes` (no copy unless
//! Dapr's unquote or base64 rules change them), and `filePath` uploads stream
//! the file in parts, so a 100 MiB upload holds one part in memory at a time.
//!
//! Where bindery differs from Dapr: `delete` of a missing key succeeds, as S3
//! itself answers (Dapr's "object not found" check can never fire on S3, and a
//! retried delete must not fail because the first attempt worked).

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
use super::binding::{BoxFuture, InvokeRequest, InvokeResult, OutputBinding};
use super::error::InvokeError;
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
        let mut errors = Vec::new();
        let mut flag = |name: &str| metadata.bool(name, false).map_err(|e| errors.push(e)).unwrap_or(false);
        let path_style = flag("forcePathStyle");
        let decode_base64 = flag("decodeBase64");
        let encode_base64 = flag("encodeBase64");
        let presign_ttl = metadata.duration("presignTTL").map_err(|e| errors.push(e)).unwrap_or(None);
        let bucket = metadata.required("bucket").map_err(|e| errors.push(e)).unwrap_or_default().to_owned();
        if !errors.is_empty() {
            return Err(errors);
        }
        let s3_config = aws_sdk_s3::config::Builder::from(config).force_path_style(path_style).build();
        Ok(Self {
            client: Client::from_conf(s3_config),
            bucket,
            endpoint: config.endpoint_url().map(|e| e.trim_end_matches('/').to_owned()),
            path_style,
            defaults: Options {
                decode_base64,
                encode_base64,
                file_path: metadata.get("filePath").map(str::to_owned),
                presign_ttl,
                storage_class: metadata.get("storageClass").map(str::to_owned),
            },
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

    /// Dapr's fallback `location`.
    fn location(&self, key: &str) -> String {
        match (&self.endpoint, self.path_style) {
            (Some(endpoint), _) => format!("{endpoint}/{}/{key}", self.bucket),
            (None, true) => format!("https://s3.amazonaws.com/{}/{key}", self.bucket),
            (None, false) => format!("https://{}.s3.amazonaws.com/{key}", self.bucket),
        }
    }
}

fn bad(message: impl std::fmt::Display) -> InvokeError {
    InvokeError::bad_request(format!("{PREFIX}: {message}"))
}

fn required_key(request: &InvokeRequest) -> Result<&str, InvokeError> {
    request.meta("key").ok_or_else(|| bad("required metadata 'key' missing"))
}

/// An SDK error, with S3's "no such key" as [`super::ErrorKind::NotFound`].
fn s3_error<E>(error: SdkError<E, HttpResponse>) -> InvokeError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let missing = match &error {
        SdkError::ServiceError(e) => {
            matches!(e.err().code(), Some("NoSuchKey" | "NotFound")) || e.raw().status().as_u16() == 404
        }
        _ => false,
    };
    if missing { InvokeError::not_found(format!("{PREFIX}: object not found")) } else { sdk_error(PREFIX, error) }
}

impl OutputBinding for S3Binding {
    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    /// Repeating a write with a generated key would store a second object.
    fn is_idempotent(&self, request: &InvokeRequest) -> bool {
        request.operation != "create" || request.meta("key").is_some()
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
