//! The Dapr-compatible output API: what daprd serves to apps for output
//! bindings, so an app in any language keeps its Dapr SDK calls unchanged.
//!
//! - HTTP ([`OutputApi::http_router`]): `POST|PUT /v1.0/bindings/{name}`,
//!   `GET /v1.0/healthz`, `GET /v1.0/healthz/outbound`, `GET /v1.0/metadata`;
//! - gRPC ([`OutputApi::grpc_service`]): `dapr.proto.runtime.v1.Dapr/InvokeBinding`.
//!
//! Bodies, status codes, `metadata.<k>` headers, error JSON and API-token
//! rules are daprd's (see `reference/dapr-bindings-contract.md` §2, §5).
//! Where daprd loses information, bindery keeps it: an HTTP binding's
//! non-2xx answer keeps its body in the error (`responseBody`).
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use bindery::api::{ApiSettings, OutputApi};
//! use bindery::output::Bindings;
//!
//! let bindings = Bindings::load("components".as_ref()).await.expect("valid components");
//! let api = OutputApi::new(Arc::new(bindings), ApiSettings::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3500").await?;
//! api.serve_http(listener, std::future::pending()).await
//! # }
//! ```

mod error;
mod go_json;
mod grpc;
pub(crate) mod http;
mod local_only;
mod serve;

use std::sync::Arc;

pub use grpc::{GrpcService, TokenCheck, proto};
pub use local_only::{LocalOnly, Refused};

use crate::component::Components;
use crate::output::{Bindings, InvokeError, InvokeRequest, InvokeResult};
use crate::token::SecretToken;

/// daprd's default request body limit (`--max-body-size 4Mi`).
pub const DEFAULT_MAX_BODY_SIZE: usize = 4 << 20;

/// How the API is served.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// `DAPR_API_TOKEN`: when set, every call but the health checks must
    /// carry it as `dapr-api-token`.
    pub api_token: Option<String>,
    /// The largest request body (HTTP) accepted, and the largest message
    /// (gRPC) received or sent, as daprd's `--max-body-size`.
    pub max_body_size: usize,
    /// The app id reported by `GET /v1.0/metadata`.
    pub app_id: String,
    /// Which hosts and browser origins may call the API (loopback, and no
    /// web page, unless allowed).
    pub local_only: LocalOnly,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            api_token: None,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            app_id: String::new(),
            local_only: LocalOnly::default(),
        }
    }
}

impl ApiSettings {
    /// The settings daprd reads from its environment: `DAPR_API_TOKEN`, and
    /// `APP_ID` for the metadata endpoint; and bindery's
    /// `BINDERY_ALLOWED_HOSTS` and `BINDERY_ALLOWED_ORIGINS` (comma-separated).
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let list =
            |name: &str| var(name).map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>()).unwrap_or_default();
        Self {
            api_token: var("DAPR_API_TOKEN"),
            app_id: var("APP_ID").unwrap_or_default(),
            local_only: LocalOnly::api(&list("BINDERY_ALLOWED_HOSTS"), &list("BINDERY_ALLOWED_ORIGINS")),
            ..Self::default()
        }
    }
}

/// A loaded component, as `GET /v1.0/metadata` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentInfo {
    pub name: String,
    pub type_: String,
    pub version: String,
}

/// The output bindings behind daprd's API. Cheap to clone.
#[derive(Clone)]
pub struct OutputApi {
    inner: Arc<Inner>,
}

struct Inner {
    bindings: Arc<Bindings>,
    settings: ApiSettings,
    /// `settings.api_token`, ready to compare.
    api_token: Option<SecretToken>,
    components: Vec<ComponentInfo>,
}

impl std::fmt::Debug for OutputApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputApi").field("bindings", &self.inner.bindings).finish_non_exhaustive()
    }
}

impl OutputApi {
    /// The metadata endpoint lists the output bindings; use
    /// [`OutputApi::with_components`] to list every loaded component.
    pub fn new(bindings: Arc<Bindings>, settings: ApiSettings) -> Self {
        let components = bindings
            .list()
            .map(|(name, type_)| ComponentInfo { name: name.to_owned(), type_: type_.to_owned(), version: "v1".into() })
            .collect();
        let api_token = settings.api_token.as_deref().map(|t| SecretToken::new(t.as_bytes()));
        Self { inner: Arc::new(Inner { bindings, settings, api_token, components }) }
    }

    /// Lists `components` (input bindings and secret stores too) in `GET /v1.0/metadata`.
    pub fn with_components(self, components: &Components) -> Self {
        let listed = components
            .iter()
            .map(|c| ComponentInfo {
                name: c.name.clone(),
                type_: c.kind.type_name().to_owned(),
                version: c.version.clone(),
            })
            .collect();
        let inner = Inner {
            bindings: self.inner.bindings.clone(),
            settings: self.inner.settings.clone(),
            api_token: self.inner.api_token.clone(),
            components: listed,
        };
        Self { inner: Arc::new(inner) }
    }

    pub fn settings(&self) -> &ApiSettings {
        &self.inner.settings
    }

    pub fn bindings(&self) -> &Bindings {
        &self.inner.bindings
    }

    /// daprd's `SendToOutputBinding`: an empty operation is refused before
    /// the binding is looked up.
    async fn invoke(&self, name: &str, request: InvokeRequest) -> InvokeResult {
        if request.operation.is_empty() {
            return Err(InvokeError::bad_request("operation field is missing from request"));
        }
        self.inner.bindings.invoke(name, request).await
    }
}

/// daprd's error message for a failed invocation (`ErrInvokeOutputBinding`).
fn invoke_error_message(name: &str, error: &InvokeError) -> String {
    format!("error invoking output binding {name}: {}", error.message)
}

#[cfg(test)]
mod tests;
