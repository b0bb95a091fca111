//! `bindings.http` output: Dapr's operations (`create` is POST; `get`,
//! `head`, `post`, `put`, `patch`, `delete`, `options`, `trace`) against the
//! component's `url`, with its metadata rules (reference §3.2). Where bindery
//! differs from Dapr, it is on purpose:
//!
//! - `path` can only add to the URL: it never changes the scheme, host or
//!   port and cannot climb above the base path ([`path`], [`target`]).
//!   Metadata cannot set `Host` either, nor other headers the client owns.
//! - A query in `url` (an Azure Functions `?code=` key, say) is kept when a
//!   `path` is added, ahead of the path's own query; Dapr would glue the path
//!   onto the query.
//! - `errorIfNot2XX` errors keep the remote status, headers and body (Dapr
//!   loses the body, components-contrib#2706).
//! - A body cut at `maxResponseBodySize` is flagged (`bodyTruncated: "true"`).
//! - `responseTimeout` is applied by the timeout layer, per attempt; without
//!   it the layer's default (60 s) applies, where Dapr waits forever.
//!
//! Errors never repeat request data or metadata values: the trace layer logs
//! error messages, and paths and headers may hold tokens.

mod climb;
pub(crate) mod path;
mod request;
mod response;
mod target;
mod tls;

use std::time::Duration;

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{HeaderName, HeaderValue};
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub use response::TRUNCATED_KEY;

use super::error::{ErrorKind, InvokeError};
use super::{BoxFuture, InvokeRequest, InvokeResult, OutputBinding};
use crate::component::metadata::parse_bool;
use crate::component::{FieldError, Metadata};
use crate::error_chain::error_chain;

const OPERATIONS: &[&str] = &["create", "get", "head", "post", "put", "patch", "delete", "options", "trace"];
/// Dapr's default `maxResponseBodySize`: 100 MiB.
const DEFAULT_MAX_BODY: u64 = 100 << 20;
/// Dapr's dial timeout; the timeout layer bounds the whole attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

pub struct HttpBinding {
    /// Pooled keep-alive connections: a warm Lambda reuses them across calls.
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    target: target::Target,
    /// Set on every request before the metadata headers, which may override them.
    fixed_headers: Vec<(HeaderName, HeaderValue)>,
    error_if_not_2xx: bool,
    /// `None`: unlimited.
    max_body: Option<u64>,
}

/// The binding's component metadata, checked: read by the loader to
/// validate a component, and by the registry to build the binding. (The TLS
/// material it names is read when the binding is built: files of the
/// function's package, which `bindery infra` need not have.)
pub struct HttpConfig {
    target: target::Target,
    error_if_not_2xx: bool,
    max_body: Option<u64>,
    token: Option<(HeaderName, HeaderValue)>,
}

impl HttpConfig {
    /// Checks every setting and reports all the problems together.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let target = match metadata.required("url").map(target::Target::parse) {
            Ok(Ok(target)) => Some(target),
            Ok(Err(why)) => {
                errors.push(FieldError::invalid("url", why));
                None
            }
            Err(missing) => {
                errors.push(missing);
                None
            }
        };
        let error_if_not_2xx = metadata.bool("errorIfNot2XX", true).unwrap_or_else(|e| {
            errors.push(e);
            true
        });
        let max_body = max_body(metadata).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        let token = security_token(metadata).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        let (Some(target), true) = (target, errors.is_empty()) else { return Err(errors) };
        Ok(Self { target, error_if_not_2xx, max_body, token })
    }
}

impl HttpBinding {
    /// [`HttpConfig::from_metadata`] and the TLS material the component
    /// names; every problem of both is reported.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        match (HttpConfig::from_metadata(metadata), tls::client_config(metadata)) {
            (Ok(config), Ok(tls)) => Ok(Self::new(config, tls)),
            (config, tls) => Err(config.err().into_iter().chain(tls.err()).flatten().collect()),
        }
    }

    pub fn new(config: HttpConfig, tls: rustls::ClientConfig) -> Self {
        let HttpConfig { target, error_if_not_2xx, max_body, token } = config;
        let basic_auth = target.basic_auth().map(|value| (AUTHORIZATION, value.clone()));
        let fixed_headers = basic_auth.into_iter().chain(token).collect();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Self { client, target, fixed_headers, error_if_not_2xx, max_body }
    }

    async fn call(&self, invoke: InvokeRequest) -> InvokeResult {
        let op = invoke.operation.as_str();
        let method = request::method(op).ok_or_else(|| InvokeError::unsupported("http", op, OPERATIONS))?;
        let uri = self
            .target
            .uri(invoke.meta("path"))
            .map_err(|why| InvokeError::bad_request(format!("metadata \"path\" {why}")))?;
        let error_if_not_2xx = match invoke.meta("errorIfNot2XX") {
            None => self.error_if_not_2xx,
            Some(v) => parse_bool(v)
                .ok_or_else(|| InvokeError::bad_request("metadata \"errorIfNot2XX\": expected true or false"))?,
        };
        let request = request::build(&invoke, method, uri, &self.fixed_headers)?;

        let answer = self.client.request(request).await.map_err(|e| {
            InvokeError::new(
                ErrorKind::Transient,
                format!("cannot reach {}: {}", self.target.origin(), error_chain(&e)),
            )
        })?;
        let (parts, body) = answer.into_parts();
        let (data, truncated) = response::read_body(body, self.max_body).await?;
        let reason = parts.extensions.get::<hyper::ext::ReasonPhrase>();
        let result = response::response(parts.status, reason, &parts.headers, data, truncated);
        if error_if_not_2xx && !parts.status.is_success() {
            return Err(response::status_error(result, parts.status));
        }
        Ok(Some(result))
    }
}

/// `maxResponseBodySize`: Dapr's 100Mi when absent; zero or negative is unlimited.
fn max_body(metadata: &Metadata) -> Result<Option<u64>, FieldError> {
    const NAME: &str = "maxResponseBodySize";
    let Some(text) = metadata.get(NAME) else { return Ok(Some(DEFAULT_MAX_BODY)) };
    let (negative, magnitude) = match text.trim().strip_prefix('-') {
        Some(magnitude) => (true, magnitude),
        None => (false, text),
    };
    let size = Metadata::from_pairs([(NAME, magnitude)]).byte_size(NAME).map_err(|_| {
        FieldError::invalid(NAME, format!("expected a size such as \"100Mi\", or 0 for no limit, got {text:?}"))
    })?;
    Ok(size.filter(|&n| n > 0 && !negative))
}

/// `securityTokenHeader: securityToken`, only when both are set, as in Dapr.
fn security_token(metadata: &Metadata) -> Result<Option<(HeaderName, HeaderValue)>, FieldError> {
    let (Some(name), Some(value)) = (metadata.get("securityTokenHeader"), metadata.get("securityToken")) else {
        return Ok(None);
    };
    let name = HeaderName::try_from(name.trim())
        .map_err(|_| FieldError::invalid("securityTokenHeader", format!("{name:?} is not a header name")))?;
    let mut value =
        HeaderValue::try_from(value).map_err(|_| FieldError::invalid("securityToken", "not a valid header value"))?;
    value.set_sensitive(true);
    Ok(Some((name, value)))
}

impl OutputBinding for HttpBinding {
    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn is_idempotent(&self, request: &InvokeRequest) -> bool {
        matches!(request.operation.as_str(), "get" | "head" | "put" | "delete" | "options" | "trace")
    }

    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(self.call(request))
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tls_tests;
