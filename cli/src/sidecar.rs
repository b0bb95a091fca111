//! `bindery sidecar`: the output API alone, for an app running elsewhere
//! (a container beside it, another terminal).

use bindery::api::OutputApi;
use tokio::sync::watch;

use crate::args::SidecarArgs;
use crate::load::load;
use crate::{Failure, ports};

pub(crate) async fn sidecar(args: SidecarArgs) -> Result<(), Failure> {
    let loaded = load(&args.components.resources, Some(&args.app_id)).await?;
    loaded.print_warnings();
    let http = ports::bind(args.api.http_port, "the output API's HTTP port", "--dapr-http-port (-H)").await?;
    let grpc = ports::bind(args.api.grpc_port, "the output API's gRPC port", "--dapr-grpc-port (-G)").await?;
    let api =
        OutputApi::new(loaded.bindings.clone(), args.api.settings(&args.app_id)).with_components(&loaded.components);
    let names: Vec<String> = loaded.bindings.list().map(|(name, type_)| format!("{name} ({type_})")).collect();
    println!(
        "bindery sidecar: output API on http://127.0.0.1:{} and grpc://127.0.0.1:{}; bindings: {}",
        args.api.http_port,
        args.api.grpc_port,
        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
    );
    serve_until_stopped(&api, http, grpc, ports::stop_signal()).await
}

/// Serves both APIs until `stop` resolves or a server fails.
async fn serve_until_stopped(
    api: &OutputApi,
    http: tokio::net::TcpListener,
    grpc: tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), Failure> {
    let (stopping, stopped) = watch::channel(false);
    let servers = api.serve(http, grpc, stopped);
    tokio::pin!(servers);
    let result = tokio::select! {
        result = &mut servers => result,
        () = stop => {
            let _ = stopping.send(true);
            servers.await
        }
    };
    result.map_err(|e| Failure::new(format!("the output API stopped: {e}")))
}
