//! Serving the API on listeners the caller bound, until `shutdown` resolves.

use std::future::{Future, Ready, ready};
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::Either;

use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{LocalOnly, OutputApi};

impl OutputApi {
    /// Serves the HTTP API on `listener` (HTTP/1.1) until `shutdown`
    /// resolves, then lets requests in flight finish.
    pub async fn serve_http(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        axum::serve(listener, self.http_router()).with_graceful_shutdown(shutdown).await
    }

    /// Serves the gRPC API on `listener` (HTTP/2 cleartext) until `shutdown`
    /// resolves.
    pub async fn serve_grpc(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
        let local_only = LocalOnlyLayer(Arc::new(self.inner.settings.local_only.clone()));
        tonic::transport::Server::builder()
            .layer(local_only)
            .add_service(self.grpc_service())
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
            .map_err(io::Error::other)
    }

    /// Serves both APIs (HTTP on `http`, gRPC on `grpc`) until `stopped`
    /// turns true, then lets calls in flight finish; ends early if either
    /// server fails.
    pub async fn serve(&self, http: TcpListener, grpc: TcpListener, stopped: watch::Receiver<bool>) -> io::Result<()> {
        let until = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let http = self.serve_http(http, until(stopped.clone()));
        let grpc = self.serve_grpc(grpc, until(stopped));
        tokio::try_join!(http, grpc).map(|_| ())
    }
}

/// [`LocalOnly`]'s rules for the gRPC API: a call from a host that is not
/// allowed is answered `PERMISSION_DENIED` before it reaches the service.
/// (Browsers cannot speak cleartext HTTP/2 at all; this keeps both ports
/// under one rule.)
#[derive(Clone)]
struct LocalOnlyLayer(Arc<LocalOnly>);

impl<S> tower::Layer<S> for LocalOnlyLayer {
    type Service = LocalOnlyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LocalOnlyService { inner, rules: self.0.clone() }
    }
}

#[derive(Clone)]
struct LocalOnlyService<S> {
    inner: S,
    rules: Arc<LocalOnly>,
}

impl<S, B> tower::Service<http::Request<B>> for LocalOnlyService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<S::Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        match self.rules.check(request.uri(), request.headers()) {
            Ok(()) => Either::Right(self.inner.call(request)),
            Err(refused) => Either::Left(ready(Ok(tonic::Status::permission_denied(refused.0).into_http()))),
        }
    }
}
