//! `bindery-extension`: daprd's output API inside a Lambda function of any
//! runtime, so a Python or Node function keeps its Dapr SDK calls unchanged
//! in the cloud.
//!
//! An external extension (`/opt/extensions/bindery-extension`, from a layer):
//! it loads the components (`BINDERY_COMPONENTS`), binds the API's ports
//! (`DAPR_HTTP_PORT`, default 3500; `DAPR_GRPC_PORT`, default 50001), then
//! registers for `SHUTDOWN` only, so Lambda never waits on it per invocation.
//! The function's SDK waits for `/v1.0/healthz/outbound` as it does for daprd.
//! A bad component is reported to the Extensions API as an init error, with
//! the file, component and field, and the function fails its init.

use lambda_extension::requests::{ErrorRequest, init_error};
use lambda_extension::{Extension, LambdaEvent, NextEvent, service_fn};
use lambda_runtime_api_client::Client;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{error, info};

use super::{StartupError, setup, telemetry};
use crate::api::{ApiSettings, OutputApi};
use crate::output::Bindings;

const EXTENSION: &str = "bindery-extension";
const ERROR_TYPE: &str = "Bindery.ConfigError";

/// `main` of `bindery-extension`.
pub async fn run() -> Result<(), lambda_extension::Error> {
    telemetry::init();
    let prepared = prepare().await;
    let (stop, stopped) = watch::channel(false);
    let processor = service_fn(move |event: LambdaEvent| {
        let stop = stop.clone();
        async move {
            if let NextEvent::Shutdown(shutdown) = event.next {
                info!(reason = %shutdown.shutdown_reason, "shutting down");
                let _ = stop.send(true);
            }
            Ok::<(), lambda_extension::Error>(())
        }
    });
    let registered = Extension::new().with_events(&["SHUTDOWN"]).with_events_processor(processor).register().await?;
    let (api, http, grpc) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            error!(extension = EXTENSION, error = %e.0, "cannot start");
            report_init_error(&registered.extension_id, &e.0).await;
            return Err(Box::new(e));
        }
    };
    let servers = api.serve(http, grpc, stopped);
    tokio::select! {
        result = registered.run() => result,
        result = servers => result.map_err(Into::into),
    }
}

/// Everything that can fail, before registering: the components and the ports.
async fn prepare() -> Result<(OutputApi, TcpListener, TcpListener), StartupError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let path = setup::components_path(&env)?;
    let bindings = Bindings::load(&path).await.map_err(|e| StartupError(e.to_string().trim_end().to_owned()))?;
    let port = |name: &str, default: u16| setup::number(&env, name, u64::from(default), 1..=65_535).map(|p| p as u16);
    let http_port = port("DAPR_HTTP_PORT", 3500)?;
    let grpc_port = port("DAPR_GRPC_PORT", 50001)?;
    let bind = |port: u16, variable: &'static str| async move {
        TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| StartupError(format!("cannot listen on 127.0.0.1:{port} ({variable}): {e}")))
    };
    let http = bind(http_port, "DAPR_HTTP_PORT").await?;
    let grpc = bind(grpc_port, "DAPR_GRPC_PORT").await?;
    let api = OutputApi::new(std::sync::Arc::new(bindings), ApiSettings::from_env());
    info!(http_port, grpc_port, bindings = api.bindings().list().count(), "output API ready");
    Ok((api, http, grpc))
}

/// Posts `/extension/init/error`, so Lambda fails the init with the reason.
async fn report_init_error(extension_id: &str, message: &str) {
    let request = ErrorRequest { error_message: message, error_type: ERROR_TYPE, stack_trace: Vec::new() };
    let sent = match (Client::builder().build(), init_error(extension_id, ERROR_TYPE, Some(request))) {
        (Ok(client), Ok(request)) => client.call(request).await.map(|_| ()).map_err(|e| e.to_string()),
        (Err(e), _) => Err(e.to_string()),
        (_, Err(e)) => Err(e.to_string()),
    };
    if let Err(e) = sent {
        error!(error = %e, "cannot report the init error to the Extensions API");
    }
}
