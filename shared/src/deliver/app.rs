//! The app that receives events: one type, two targets, and itself a
//! `tower::Service`.
//!
//! - in-process: a Rust app hands over its `axum::Router` (or any tower
//!   service); requests never touch a socket;
//! - HTTP: a pooled keep-alive client to `BINDERY_APP_URL`, for apps in any
//!   language. The request goes straight to hyper, with no boxing on the way:
//!   this is the hot path of every delivery.

use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
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
    target: Target,
    description: Arc<str>,
}

#[derive(Clone)]
enum Target {
    // Shared: the pooled client is large, and cloning an App must stay cheap.
    Http(std::sync::Arc<AppOverHttp>),
    InProcess(BoxCloneSyncService<AppRequest, AppResponse, BoxError>),
}

struct AppOverHttp {
    /// Replaced whole by [`App::reset_connections`]; read once per request.
    client: RwLock<HttpClient>,
    authority: Authority,
    base: Arc<str>,
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn http_client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new()).pool_idle_timeout(POOL_IDLE_TIMEOUT).build(connector)
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("target", &self.description).finish()
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
        Self { target: Target::InProcess(BoxCloneSyncService::new(service)), description: "in-process".into() }
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
        let base = uri.path().trim_end_matches('/').into();
        let client = RwLock::new(http_client());
        Ok(Self {
            target: Target::Http(std::sync::Arc::new(AppOverHttp { client, authority, base })),
            description: url.into(),
        })
    }

    /// Drops every idle pooled connection to the app: later requests open new
    /// ones. For after a SnapStart restore, when the pool may hold connections
    /// from before the snapshot whose peer has long forgotten them (and whose
    /// idle timers did not run while the VM was frozen). Requests in flight
    /// finish on their connections.
    pub fn reset_connections(&self) {
        if let Target::Http(http) = &self.target {
            *http.client.write().unwrap_or_else(PoisonError::into_inner) = http_client();
        }
    }

    /// A short description for logs: `in-process` or the URL.
    pub fn target(&self) -> &str {
        &self.description
    }

    /// The URI a request for `path` (such as `/orders`) must carry: absolute
    /// for an HTTP app, the path alone in-process. Computed once per binding.
    pub fn uri_for(&self, path: &str) -> Result<Uri, http::Error> {
        match &self.target {
            Target::InProcess(_) => Ok(path.parse()?),
            Target::Http(http) => {
                let full: PathAndQuery = format!("{}{path}", http.base).parse()?;
                Uri::builder().scheme(Scheme::HTTP).authority(http.authority.clone()).path_and_query(full).build()
            }
        }
    }

    /// Sends one request whose URI came from [`App::uri_for`].
    pub async fn call(&self, request: AppRequest) -> Result<AppResponse, BoxError> {
        match &self.target {
            Target::Http(http) => {
                // The future owns what it needs: the lock is held only to start the request.
                let sending = http.client.read().unwrap_or_else(PoisonError::into_inner).request(request);
                let response = sending.await?;
                Ok(response.map(|body| body.map_err(Into::into).boxed_unsync()))
            }
            Target::InProcess(service) => service.clone().oneshot(request).await,
        }
    }
}

impl Service<AppRequest> for App {
    type Response = AppResponse;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<AppResponse, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: AppRequest) -> Self::Future {
        let app = self.clone();
        Box::pin(async move { App::call(&app, request).await })
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

    #[test]
    fn uris_are_absolute_for_http_and_paths_in_process() {
        let http = App::http("http://127.0.0.1:8080/api/").unwrap();
        assert_eq!(http.uri_for("/orders").unwrap(), "http://127.0.0.1:8080/api/orders");
        let local = App::in_process(tower::service_fn(|_: AppRequest| async {
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
        }));
        assert_eq!(local.uri_for("/orders").unwrap(), "/orders");
    }

    /// A loopback server that counts the connections it accepts and answers
    /// 200 on each, keeping them open.
    async fn counting_server() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_: Request<hyper::body::Incoming>| async {
                        Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        (url, accepted)
    }

    #[tokio::test]
    async fn after_a_reset_no_pooled_connection_is_reused() {
        let (url, accepted) = counting_server().await;
        let app = App::http(&url).unwrap();
        let get = || async {
            let request = Request::builder().uri(app.uri_for("/").unwrap()).body(Full::new(Bytes::new())).unwrap();
            let response = app.call(request).await.unwrap();
            let _ = response.into_body().collect().await.unwrap();
        };
        get().await;
        get().await;
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1, "the pool reuses its connection");

        app.reset_connections();
        get().await;
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 2, "a new connection after the reset");
    }
}
