//! `bindery-extension`: daprd's output API inside a Lambda function of any
//! runtime, so a Python or Node function keeps its Dapr SDK calls unchanged
//! in the cloud.
//!
//! An external extension (`/opt/extensions/bindery-extension`, from a layer):
//! it loads the components (`BINDERY_COMPONENTS`), binds the API's ports
//! (`DAPR_HTTP_PORT`, default 3500; `DAPR_GRPC_PORT`, default 50001), then
//! registers for `SHUTDOWN` only, so Lambda never waits on it per invocation.
//! `BINDERY_MAX_BODY_SIZE` sets the body limit, as `--max-body-size` does
//! for `bindery sidecar`.
//! The function's SDK waits for `/v1.0/healthz/outbound` as it does for daprd.
//! A bad component is reported to the Extensions API as an init error, with
//! the file, component and field, and the function fails its init.
//! Built with `otlp`, its calls' spans are exported as they end: Lambda may
//! freeze it before the next, and sends SHUTDOWN before it goes.

use lambda_extension::requests::{ErrorRequest, init_error};
use lambda_extension::{Extension, LambdaEvent, NextEvent, service_fn};
use lambda_runtime_api_client::Client;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{error, info};

use super::env;
use super::secret_ids::FunctionEnvironment;
use super::startup::StartupError;
use crate::api::{ApiSettings, DEFAULT_MAX_BODY_SIZE, OutputApi};
use crate::component::EnvLookup;
use crate::output::Bindings;
use crate::telemetry;

const EXTENSION: &str = "bindery-extension";
const ERROR_TYPE: &str = "Bindery.ConfigError";
const MAX_BODY_SIZE_VAR: &str = "BINDERY_MAX_BODY_SIZE";

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
    let result = tokio::select! {
        result = registered.run() => result,
        result = servers => result.map_err(Into::into),
        () = telemetry::export_traces_as_they_end() => unreachable!("it never returns"),
    };
    // What ended while the servers stopped.
    telemetry::export_traces().await;
    result
}

/// Everything that can fail, before registering: the components and the ports.
async fn prepare() -> Result<(OutputApi, TcpListener, TcpListener), StartupError> {
    let environment = FunctionEnvironment::read().await?;
    let env = |name: &str| environment.var(name).filter(|v| !v.is_empty());
    let path = env::components_paths(&env)?;
    let bindings = Bindings::load_outputs_with(&path, &env)
        .await
        .map_err(|e| StartupError(e.to_string().trim_end().to_owned()))?;
    let port = |name: &str, default: u16| env::number(&env, name, u64::from(default), 1..=65_535).map(|p| p as u16);
    let http_port = port("DAPR_HTTP_PORT", 3500)?;
    let grpc_port = port("DAPR_GRPC_PORT", 50001)?;
    let bind = |port: u16, variable: &'static str| async move {
        TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| StartupError(format!("cannot listen on 127.0.0.1:{port} ({variable}): {e}")))
    };
    let http = bind(http_port, "DAPR_HTTP_PORT").await?;
    let grpc = bind(grpc_port, "DAPR_GRPC_PORT").await?;
    let api = OutputApi::new(std::sync::Arc::new(bindings), api_settings(&env)?);
    info!(http_port, grpc_port, bindings = api.bindings().list().count(), "output API ready");
    Ok((api, http, grpc))
}

/// daprd's settings from the environment, and `BINDERY_MAX_BODY_SIZE`, the
/// variable `bindery run`/`sidecar` read for `--max-body-size`: in bytes,
/// 4 MiB by default as in daprd, at most 1 GiB since a body is held whole in
/// the function's memory.
fn api_settings(env: EnvLookup<'_>) -> Result<ApiSettings, StartupError> {
    let max_body_size = env::number(env, MAX_BODY_SIZE_VAR, DEFAULT_MAX_BODY_SIZE as u64, 1..=1 << 30)?;
    Ok(ApiSettings { max_body_size: max_body_size as usize, ..ApiSettings::from_env() })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn max_body_size(value: Option<&str>) -> Result<usize, String> {
        let env = |name: &str| (name == MAX_BODY_SIZE_VAR).then(|| value.map(str::to_owned)).flatten();
        api_settings(&env).map(|s| s.max_body_size).map_err(|e| e.0)
    }

    #[test]
    fn the_body_limit_is_daprds_unless_bindery_max_body_size_says_otherwise() {
        assert_eq!(max_body_size(None), Ok(4 << 20));
        assert_eq!(max_body_size(Some("")), Ok(4 << 20));
        assert_eq!(max_body_size(Some("16777216")), Ok(16 << 20));
        let refused = "BINDERY_MAX_BODY_SIZE must be a whole number from 1 to 1073741824, got";
        for bad in ["0", "4Mi", "-1", "1073741825"] {
            let error = max_body_size(Some(bad)).unwrap_err();
            assert!(error.starts_with(refused), "{bad:?}: {error}");
        }
    }
}
