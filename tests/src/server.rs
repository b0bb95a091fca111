//! A tiny loopback HTTP/1 server for an axum `Router`, with an abortive stop.
//!
//! `axum::serve` shuts down gracefully (it waits for open connections); the harness
//! needs the opposite — "the app is down": stop accepting and drop every open
//! connection at once, so clients see refused or reset connections.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// A running server; dropping it aborts the listener and every connection.
pub(crate) struct Server {
    addr: SocketAddr,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<JoinSet<()>>>,
}

impl Server {
    /// Binds 127.0.0.1 on an ephemeral port and serves `router` on it.
    pub(crate) async fn start(router: Router) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr of a bound listener");
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let accept = tokio::spawn(accept_loop(listener, router, connections.clone()));
        Server { addr, accept, connections }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes the listener and every open connection, and waits until they are gone.
    pub(crate) async fn stop(mut self) {
        self.accept.abort();
        // The listener is dropped before the aborted task reports completion.
        let _ = (&mut self.accept).await;
        let mut connections = std::mem::take(&mut *lock(&self.connections));
        connections.shutdown().await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.abort();
        // Dropping a JoinSet aborts its tasks.
        drop(std::mem::take(&mut *lock(&self.connections)));
    }
}

fn lock(connections: &Mutex<JoinSet<()>>) -> std::sync::MutexGuard<'_, JoinSet<()>> {
    connections.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn accept_loop(listener: TcpListener, router: Router, connections: Arc<Mutex<JoinSet<()>>>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            // E.g. EMFILE: back off briefly instead of spinning.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let mut set = lock(&connections);
        while set.try_join_next().is_some() {}
        set.spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            // Errors here are client disconnects; nothing to report.
            let _ = conn.await;
        });
    }
}
