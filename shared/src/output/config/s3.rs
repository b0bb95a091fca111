//! `bindings.aws.s3`'s component metadata (reference §3.3).

use std::time::Duration;

use super::AwsConfig;
use crate::component::{FieldError, Metadata};
use crate::output::read_limit::max_read_size;

/// The component's settings; a request may override the defaults.
#[derive(Debug, Clone)]
pub struct S3Config {
    pub aws: AwsConfig,
    pub bucket: String,
    /// `forcePathStyle`: `endpoint/bucket/key` URLs, for S3 emulators.
    pub force_path_style: bool,
    pub decode_base64: bool,
    pub encode_base64: bool,
    /// `filePath`: upload from, or download to, this local file.
    pub file_path: Option<String>,
    /// `presignTTL`: how long a presigned URL is valid.
    pub presign_ttl: Option<Duration>,
    pub storage_class: Option<String>,
    /// `maxReadSize`: the most bytes one answer reads into memory.
    pub max_read_size: u64,
}

impl S3Config {
    /// Checks every setting and reports all the problems together.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let aws = AwsConfig::from_metadata(metadata).map_err(|e| errors.extend(e)).unwrap_or_default();
        let mut flag = |name: &str| metadata.bool(name, false).map_err(|e| errors.push(e)).unwrap_or(false);
        let force_path_style = flag("forcePathStyle");
        let decode_base64 = flag("decodeBase64");
        let encode_base64 = flag("encodeBase64");
        let presign_ttl = metadata.duration("presignTTL").map_err(|e| errors.push(e)).unwrap_or(None);
        let bucket = metadata.required("bucket").map_err(|e| errors.push(e)).unwrap_or_default().to_owned();
        let max_read_size = max_read_size(metadata).map_err(|e| errors.push(e)).unwrap_or_default();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            aws,
            bucket,
            force_path_style,
            decode_base64,
            encode_base64,
            file_path: metadata.get("filePath").map(str::to_owned),
            presign_ttl,
            storage_class: metadata.get("storageClass").map(str::to_owned),
            max_read_size,
        })
    }
}
