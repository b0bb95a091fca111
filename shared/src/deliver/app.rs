//! The app that receives events: one type, two targets.
//!
//! - in-process: a Rust app hands over its `axum::Router` (or any tower
//!   service); requests never touch a socket;
//! - HTTP: a pooled keep-alive client to `BINDERY_APP_URL`, for apps in any
//!   language.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use http_body::Body;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// A response body from either target.
pub type AppBody = UnsyncBoxBody<Bytes, BoxError>;
pub type AppRequest = Request<Full<Bytes>>;
pub type AppResponse = Response<AppBody>;

/// Where deliveries go. Cheap to clone.
#[derive(Clone)]
pub struct App {
    service: BoxCloneSyncService<AppRequest, AppResponse, BoxError>,
    target: Arc<str>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("target", &self.target).finish()
    }
}

/// `BINDERY_APP_URL` is not a usable `http://host:port[/base]` URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("app URL {url:?}: {reason}")]
pub struct InvalidAppUrl {
    pub url: String,
    pub reason: &'static str,
}

/// How long an idle pooled connection is kept. Below the common 5 s
/// keep-alive of app servers (uvicorn, gunicorn, Node), so bindery never
/// reuses a connection the app is about to close.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);

impl App {
    /// An app served in-process, e.g. an `axum::Router`.
    pub fn in_process<S, B>(service: S) -> Self
    where
        S: Service<AppRequest, Response = Response<B>> + Clone + Send + Sync + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let service = service
            .map_response(|response: Response<B>| response.map(|body| body.map_err(Into::into).boxed_unsync()))
            .map_err(Into::into);
        Self { service: BoxCloneSyncService::new(service), target: "in-process".into() }
    }

    /// An app over HTTP at `url` (`http://host:port`, optionally with a base
    /// path that is prefixed to every route).
    pub fn http(url: &str) -> Result<Self, InvalidAppUrl> {
        let invalid = |reason| InvalidAppUrl { url: url.to_owned(), reason };
        let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
        if uri.scheme() != Some(&Scheme::HTTP) {
            return Err(invalid("must start with http:// (the app is reached over plain HTTP)"));
        }
        let authority = uri.authority().cloned().ok_or_else(|| invalid("has no host"))?;
        if uri.query().is_some() {
            return Err(invalid("must not have a query string"));
        }
        let base = uri.path().trim_end_matches('/').to_owned();
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).pool_idle_timeout(POOL_IDLE_TIMEOUT).build(connector);
        let target = HttpTarget { client, authority, base: base.into() };
        Ok(Self {
            service: BoxCloneSyncService::new(tower::service_fn(move |req| target.clone().send(req))),
            target: url.into(),
        })
    }

    /// A short description for logs: `in-process` or the URL.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Sends one request. The request's URI is the path only (`/route`).
    pub async fn call(&self, request: AppRequest) -> Result<AppResponse, BoxError> {
        self.service.clone().oneshot(request).await
    }
}

#[derive(Clone)]
struct HttpTarget {
    client: Client<HttpConnector, Full<Bytes>>,
    authority: Authority,
    base: Arc<str>,
}

impl HttpTarget {
    async fn send(self, mut request: AppRequest) -> Result<AppResponse, BoxError> {
        let path = request.uri().path_and_query().map_or("/", PathAndQuery::as_str);
        let full: PathAndQuery = format!("{}{path}", self.base).parse()?;
        *request.uri_mut() =
            Uri::builder().scheme(Scheme::HTTP).authority(self.authority.clone()).path_and_query(full).build()?;
        let response = self.client.request(request).await?;
        Ok(response.map(|body| body.map_err(Into::into).boxed_unsync()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_urls() {
        assert!(App::http("http://127.0.0.1:8080").is_ok());
        assert!(App::http("http://localhost:3000/api/").is_ok());
        for (url, reason) in [
            ("https://127.0.0.1:8080", "must start with http:// (the app is reached over plain HTTP)"),
            ("127.0.0.1:8080", "must start with http:// (the app is reached over plain HTTP)"),
            ("http://127.0.0.1:8080/?x=1", "must not have a query string"),
            ("not a url", "not a URL"),
        ] {
            assert_eq!(App::http(url).unwrap_err().reason, reason, "{url}");
        }
    }
}
