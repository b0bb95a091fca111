//! Serving the API on listeners the caller bound, until `shutdown` resolves.

use std::future::Future;
use std::io;

use tokio::net::TcpListener;

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
}
