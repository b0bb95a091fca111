//! The exporter's HTTP client: the functions' own HTTPS client (one copy
//! of its code in the binary), HTTP/1 only. opentelemetry-http's hyper
//! client would bring HTTP/2 and a second client with it.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use opentelemetry_http::{HttpClient, HttpError};

use crate::tls::{ExchangeError, HttpsClient, exchange, https_connector, web_roots};

/// A collector's answer is a small protobuf; more than this is refused.
const MAX_RESPONSE: usize = 64 << 10;

#[derive(Debug)]
pub(super) struct Client {
    inner: HttpsClient,
    /// For the whole exchange, the response's body included.
    timeout: Duration,
}

impl Client {
    /// Plain `http://` (a collector beside the function) or HTTPS trusting
    /// the public web roots, with ring's every algorithm: a collector's
    /// certificate is anyone's, not one of AWS's (tls.rs).
    pub(super) fn new(timeout: Duration) -> Self {
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let connector = https_connector(provider, web_roots(), HttpConnector::new(), true);
        let inner = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        Self { inner, timeout }
    }
}

#[async_trait::async_trait]
impl HttpClient for Client {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        exchange(&self.inner, request.map(Full::new), MAX_RESPONSE, self.timeout).await.map_err(|e| match e {
            ExchangeError::TimedOut => format!("no answer within {:?}", self.timeout).into(),
            ExchangeError::Failed(why) => why.into(),
        })
    }
}
