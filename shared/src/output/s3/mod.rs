//! PLACEHOLDER: being written.

use crate::component::{FieldError, Metadata};
use crate::output::{BoxFuture, InvokeError, InvokeRequest, InvokeResult, OutputBinding};

pub struct S3Binding {}

impl S3Binding {
    pub fn from_metadata(metadata: &Metadata, _config: &aws_config::SdkConfig) -> Result<Self, Vec<FieldError>> {
        let _ = metadata;
        Ok(Self {})
    }
}

impl OutputBinding for S3Binding {
    fn operations(&self) -> &'static [&'static str] {
        &["create"]
    }
    fn is_idempotent(&self, _request: &InvokeRequest) -> bool {
        false
    }
    fn invoke(&self, _request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(async { Err(InvokeError::other("not yet")) })
    }
}
