//! Binding the ports bindery serves on, with an error that says which
//! port is taken and how to choose another.

use std::net::{Ipv4Addr, SocketAddr};

use tokio::net::TcpListener;

use crate::Failure;

/// Binds `127.0.0.1:port`; `what` and `flag` name the port in the error.
pub(crate) async fn bind(port: u16, what: &str, flag: &str) -> Result<TcpListener, Failure> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpListener::bind(address).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            Failure::new(format!(
                "port {port} ({what}) is already in use: stop what holds it, or choose another with {flag}"
            ))
        } else {
            Failure::new(format!("cannot listen on {address} ({what}): {e}"))
        }
    })
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
