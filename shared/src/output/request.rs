//! What flows through an output binding: Dapr's invoke request and response.

use std::collections::BTreeMap;

use bytes::Bytes;

/// Request or response metadata: Dapr's `map[string]string`.
pub type MetadataMap = BTreeMap<String, String>;

/// Dapr's well-known operations (`bindings/requests.go`); bindings may add their own.
pub mod operation {
    pub const CREATE: &str = "create";
    pub const GET: &str = "get";
    pub const DELETE: &str = "delete";
    pub const LIST: &str = "list";
}

/// `invoke(binding, operation, data, metadata)`, minus the binding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvokeRequest {
    pub operation: String,
    pub data: Bytes,
    pub metadata: MetadataMap,
}

impl InvokeRequest {
    pub fn new(operation: impl Into<String>, data: impl Into<Bytes>) -> Self {
        Self { operation: operation.into(), data: data.into(), metadata: MetadataMap::new() }
    }

    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// The value of the exact key `name`, empty counting as absent, as Dapr's
    /// components read request metadata.
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.metadata.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The value of `name` matched case-insensitively (Dapr's `DecodeMetadata`
    /// rule, used by SES), empty counting as absent.
    pub fn meta_ignore_case(&self, name: &str) -> Option<&str> {
        self.meta(name).or_else(|| {
            self.metadata.iter().find(|(k, v)| k.eq_ignore_ascii_case(name) && !v.is_empty()).map(|(_, v)| v.as_str())
        })
    }
}

/// What a binding answers: data and metadata. `None` from
/// [`OutputBinding::invoke`] means "no response" (the HTTP API's 204).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvokeResponse {
    pub data: Bytes,
    pub metadata: MetadataMap,
    pub content_type: Option<String>,
}

impl InvokeResponse {
    pub fn new(data: impl Into<Bytes>) -> Self {
        Self { data: data.into(), ..Self::default() }
    }

    /// A JSON response body.
    pub fn json(value: &serde_json::Value) -> Self {
        Self {
            data: Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
            content_type: Some("application/json".into()),
            ..Self::default()
        }
    }

    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}
