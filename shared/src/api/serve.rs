//! Serving the API on listeners the caller bound, until `shutdown` resolves.

use std::future::Future;
use std::io;

use tokio::net::TcpListener;
use tokio::sync::watch;

use super::OutputApi;

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
        tonic::transport::Server::builder()
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
