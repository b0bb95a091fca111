//! `bindings.http` output: Dapr's operations (`create` is POST; `get`,
//! `head`, `post`, `put`, `patch`, `delete`, `options`, `trace`) against the
//! component's `url`, with its metadata rules (reference §3.2). Where bindery
//! differs from Dapr, it is on purpose:
//!
//! - `path` can only add to the URL: it never changes the scheme, host or
//!   port and cannot climb above the base path ([`path`]).
//! - `errorIfNot2XX` errors keep the remote status, headers and body (Dapr
//!   loses the body, components-contrib#2706).
//! - A body cut at `maxResponseBodySize` is flagged (`bodyTruncated: "true"`).
//! - `responseTimeout` is applied by the timeout layer, per attempt; without
//!   it the layer's default (60 s) applies, where Dapr waits forever.

mod path;
mod response;
mod tls;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub use response::TRUNCATED_KEY;

use super::binding::{BoxFuture, InvokeRequest, InvokeResult, OutputBinding};
use super::error::{ErrorKind, InvokeError};
use crate::component::{FieldError, Metadata};

const OPERATIONS: &[&str] = &["create", "get", "head", "post", "put", "patch", "delete", "options", "trace"];
const JSON: &str = "application/json; charset=utf-8";
/// Dapr's default `maxResponseBodySize`: 100 MiB.
const DEFAULT_MAX_BODY: u64 = 100 << 20;
/// Headers that carry the caller's trace, forced onto the request as Dapr does.
const TRACE_KEYS: &[&str] = &["traceparent", "tracestate", "baggage"];

pub struct HttpBinding {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    base_path: String,
    token: Option<(HeaderName, HeaderValue)>,
    error_if_not_2xx: bool,
    max_body: Option<u64>,
}

impl HttpBinding {
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let url = metadata.required("url").map_err(|e| vec![e])?;
        let uri: Uri = url.trim().parse().map_err(|e| vec![FieldError::invalid("url", format!("{url:?}: {e}"))])?;
        let (Some(scheme), Some(authority)) = (uri.scheme().cloned(), uri.authority().cloned()) else {
            return Err(vec![FieldError::invalid("url", format!("expected an http:// or https:// URL, got {url:?}"))]);
        };
        if uri.query().is_some() {
            errors.push(FieldError::invalid("url", "a query belongs in the request's path, not the component's url"));
        }
        let error_if_not_2xx = metadata.bool("errorIfNot2XX", true).unwrap_or_else(|e| {
            errors.push(e);
            true
        });
        let max_body = match metadata.byte_size("maxResponseBodySize") {
            Ok(None) => Some(DEFAULT_MAX_BODY),
            Ok(Some(0)) => None,
            Ok(Some(n)) => Some(n),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let token = match (metadata.get("securityTokenHeader"), metadata.get("securityToken")) {
            (Some(name), Some(value)) => match (HeaderName::try_from(name.trim()), HeaderValue::try_from(value)) {
                (Ok(name), Ok(mut value)) => {
                    value.set_sensitive(true);
                    Some((name, value))
                }
                (Err(_), _) => {
                    errors.push(FieldError::invalid("securityTokenHeader", format!("{name:?} is not a header name")));
                    None
                }
                (_, Err(_)) => {
                    errors.push(FieldError::invalid("securityToken", "not a valid header value"));
                    None
                }
            },
            _ => None,
        };
        let tls = tls::client_config(metadata).map_err(|mut e| {
            errors.append(&mut e);
            std::mem::take(&mut errors)
        })?;
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(std::time::Duration::from_secs(15)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            scheme,
            authority,
            base_path: uri.path().to_owned(),
            token,
            error_if_not_2xx,
            max_body,
        })
    }

    fn request(&self, invoke: &InvokeRequest) -> Result<Request<Full<Bytes>>, InvokeError> {
        let method = match invoke.operation.as_str() {
            "create" => Method::POST,
            op => Method::from_bytes(op.to_ascii_uppercase().as_bytes())
                .map_err(|_| InvokeError::unsupported("http", op, OPERATIONS))?,
        };
        // As in Dapr, the URL is used as it is unless the request has a `path`.
        let path = match invoke.meta("path") {
            None if self.base_path.is_empty() => "/".to_owned(),
            None => self.base_path.clone(),
            Some(path) => path::join(&self.base_path, path)
                .map_err(|why| InvokeError::bad_request(format!("path {path:?} {why}")))?,
        };
        let uri = Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path)
            .build()
            .map_err(|e| InvokeError::bad_request(format!("path: {e}")))?;
        let with_body = matches!(method, Method::POST | Method::PUT | Method::PATCH);
        let mut builder = Request::builder().method(method).uri(uri);
        let headers = builder.headers_mut().ok_or_else(|| InvokeError::bad_request("invalid request"))?;
        if let Some((name, value)) = &self.token {
            headers.insert(name, value.clone());
        }
        for (key, value) in &invoke.metadata {
            let traced = TRACE_KEYS.contains(&key.as_str());
            if !(key.starts_with(|c: char| c.is_ascii_uppercase()) || traced) {
                continue;
            }
            let name = HeaderName::try_from(key.as_str())
                .map_err(|_| InvokeError::bad_request(format!("metadata {key:?} is not a valid header name")))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|_| InvokeError::bad_request(format!("metadata {key:?} is not a valid header value")))?;
            headers.insert(name, value);
        }
        if !headers.contains_key(ACCEPT) {
            headers.insert(ACCEPT, HeaderValue::from_static(JSON));
        }
        if with_body && !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        }
        let body = if with_body { Full::new(invoke.data.clone()) } else { Full::default() };
        builder.body(body).map_err(|e| InvokeError::bad_request(format!("invalid request: {e}")))
    }

    async fn call(&self, invoke: InvokeRequest) -> InvokeResult {
        let request = self.request(&invoke)?;
        let error_if_not_2xx = match invoke.meta("errorIfNot2XX") {
            None => self.error_if_not_2xx,
            Some(v) => crate::component::metadata::parse_bool(v)
                .ok_or_else(|| InvokeError::bad_request(format!("errorIfNot2XX: expected true or false, got {v:?}")))?,
        };
        let answer = self.client.request(request).await.map_err(|e| {
            let mut text = e.to_string();
            if let Some(source) = std::error::Error::source(&e) {
                text = format!("{text}: {source}");
            }
            InvokeError::new(ErrorKind::Transient, format!("cannot reach {}://{}: {text}", self.scheme, self.authority))
        })?;
        let (parts, body) = answer.into_parts();
        let (data, truncated) = response::read_body(body, self.max_body).await?;
        let result = response::response(parts.status, &parts.headers, data, truncated);
        if error_if_not_2xx && !parts.status.is_success() {
            return Err(response::status_error(result, parts.status));
        }
        Ok(Some(result))
    }
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
