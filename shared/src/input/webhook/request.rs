//! A webhook request as bindery reads it, whoever carried it: API Gateway
//! or a Function URL on Lambda ([`crate::input::apigw`]), or `bindery run`'s
//! own HTTP server ([`WebhookRequest::from_parts`]).

use http::request::Parts;
use http::{HeaderMap, Method};

/// Everything of a webhook request but its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    pub method: Method,
    /// The path as the caller asked for it, normalised as a URL path.
    pub path: String,
    /// The query string, without its `?`; `None` when empty.
    pub query: Option<String>,
    /// Every header, every value of a repeated one included.
    pub headers: HeaderMap,
    /// The caller's address, as API Gateway saw it.
    pub source_ip: Option<String>,
    /// API Gateway's id of the request.
    pub request_id: Option<String>,
}

impl WebhookRequest {
    /// A request served directly (`bindery run`): no gateway, so no
    /// source address or request id of its own.
    pub fn from_parts(parts: &Parts) -> Self {
        Self {
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().filter(|q| !q.is_empty()).map(str::to_owned),
            headers: parts.headers.clone(),
            source_ip: None,
            request_id: None,
        }
    }
}
