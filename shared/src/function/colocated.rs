//! The co-located app: with `BINDERY_APP_CMD` set, the function starts the
//! app itself, as Lambda Web Adapter does, so an app in any language ships in
//! the same package. Unlike Lambda Web Adapter, nothing is left to chance:
//!
//! - the app is started at init, before the first event is taken, with the
//!   function's environment plus `PORT` (the port of `BINDERY_APP_URL`); an
//!   app that cannot start, exits, or is not ready within
//!   `BINDERY_APP_READY_TIMEOUT_MS` is an init error naming the command;
//! - an app that exits later ends the function with status 1, so Lambda
//!   starts a new execution environment. An invocation in flight then gets
//!   no answer at all: Lambda counts it failed (`Runtime.ExitError`) and the
//!   event source delivers its events again; nothing is acknowledged that
//!   the app did not acknowledge;
//! - SIGTERM or SIGINT to the function stops the app's whole process group
//!   (SIGTERM, then SIGKILL after a short grace) before the function exits.

use std::time::Duration;

use http::Uri;
use tracing::{error, info};

use super::env::number;
use super::startup::StartupError;
use crate::component::EnvLookup;
use crate::process::{AppCommand, AppProcess, ProcessErrorKind, Readiness, app_address, describe_exit};

/// Lambda's init phase is limited to 10 s; this leaves time to report.
const DEFAULT_READY_TIMEOUT_MS: u64 = 9_000;
/// Lambda's longest possible function timeout.
const MAX_READY_TIMEOUT_MS: u64 = 900_000;
/// How long the app gets to stop on SIGTERM: Lambda allows a runtime about
/// 500 ms after its own SIGTERM, and deliveries in flight had 200 ms of it.
const APP_STOP_GRACE: Duration = Duration::from_millis(250);

/// How to start the app and know it is ready, read at init.
#[derive(Debug, Clone)]
pub(crate) struct Colocated {
    command: AppCommand,
    port: u16,
    readiness: Readiness,
    timeout: Duration,
}

/// The co-located app's configuration, `None` without `BINDERY_APP_CMD`.
/// `app_url` is `BINDERY_APP_URL`, `None` when the app runs in-process.
pub(crate) fn config(env: EnvLookup<'_>, app_url: Option<&str>) -> Result<Option<Colocated>, StartupError> {
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let Some(line) = set("BINDERY_APP_CMD") else {
        if let Some(name) =
            ["BINDERY_APP_READY_PATH", "BINDERY_APP_READY_TIMEOUT_MS"].into_iter().find(|n| set(n).is_some())
        {
            return Err(StartupError(format!(
                "{name} is set but BINDERY_APP_CMD is not: bindery only checks the readiness of an app it starts"
            )));
        }
        return Ok(None);
    };
    let Some(app_url) = app_url else {
        return Err(StartupError("BINDERY_APP_CMD is set, but this function's app runs in-process".into()));
    };
    let url: Uri = app_url.parse().map_err(|_| StartupError(format!("BINDERY_APP_URL {app_url:?} is not a URL")))?;
    let host = url.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = url.port_u16().unwrap_or(80);
    if let Some(given) = set("PORT")
        && given.trim() != port.to_string()
    {
        return Err(StartupError(format!(
            "PORT is {given:?}, but BINDERY_APP_URL ({app_url}) has the app on port {port}: \
             unset PORT (the app is given PORT={port}) or change BINDERY_APP_URL"
        )));
    }
    let readiness = match set("BINDERY_APP_READY_PATH") {
        Some(path) if !path.starts_with('/') => {
            return Err(StartupError(format!("BINDERY_APP_READY_PATH must start with \"/\", got {path:?}")));
        }
        Some(path) => {
            let authority = url.authority().map_or(host.as_str(), |a| a.as_str());
            let url = format!("http://{authority}{path}")
                .parse()
                .map_err(|_| StartupError(format!("BINDERY_APP_READY_PATH {path:?} is not a URL path")))?;
            Readiness::Http { url }
        }
        None => Readiness::Tcp(app_address(&host, port).map_err(|e| StartupError(format!("BINDERY_APP_URL: {e}")))?),
    };
    let timeout_ms = number(env, "BINDERY_APP_READY_TIMEOUT_MS", DEFAULT_READY_TIMEOUT_MS, 1..=MAX_READY_TIMEOUT_MS)?;
    Ok(Some(Colocated {
        command: AppCommand::shell(line),
        port,
        readiness,
        timeout: Duration::from_millis(timeout_ms),
    }))
}

impl Colocated {
    /// Starts the app and waits until it is ready; dropping the result on
    /// failure kills whatever it started.
    pub(crate) async fn start(&self) -> Result<AppProcess, StartupError> {
        info!(command = %self.command, port = self.port, readiness = %self.readiness, "starting the app");
        let env = [("PORT".to_owned(), self.port.to_string())];
        let mut app = AppProcess::spawn(self.command.clone(), &env).map_err(|e| StartupError(e.message))?;
        // In a container image the function may be process 1: the app's orphans are then its own.
        app.reap_orphans_if_init();
        match app.wait_ready(&self.readiness, self.timeout).await {
            Ok(()) => {
                info!(command = %self.command, pid = app.pid(), "the app is ready");
                Ok(app)
            }
            Err(e) if e.kind == ProcessErrorKind::NotReady => {
                Err(StartupError(format!("{} (the app was given PORT={})", e.message, self.port)))
            }
            Err(e) => Err(StartupError(e.message)),
        }
    }
}

/// The app exited after it was ready.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct AppExited(String);

/// Runs `runtime` (the Runtime API loop) while watching `app`: ends with an
/// error if the app exits, and stops the app when the loop ends or once
/// `stopped` completes (a signal, and the invocation in flight answered).
pub(crate) async fn run_beside_app<F>(
    function: &str,
    app: Option<AppProcess>,
    runtime: F,
    stopped: impl Future<Output = ()>,
) -> Result<(), lambda_runtime::Error>
where
    F: Future<Output = Result<(), lambda_runtime::Error>>,
{
    let Some(mut app) = app else {
        return tokio::select! {
            result = runtime => result,
            () = stopped => Ok(()),
        };
    };
    tokio::select! {
        // First: once the app is gone, the loop must not answer another invocation.
        biased;
        status = app.exited() => {
            let reason = format!("the app ({}) {} after it was ready", app.command(), describe_exit(status));
            error!(function, error = %reason, "the app exited; the function exits too, so that Lambda replaces it");
            // Dropping `app` kills what is left of its process group.
            Err(Box::new(AppExited(reason)))
        }
        () = stopped => {
            info!(function, "stopping the app");
            app.shutdown(APP_STOP_GRACE).await;
            Ok(())
        }
        result = runtime => {
            app.shutdown(APP_STOP_GRACE).await;
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)], app_url: Option<&str>) -> Result<Option<Colocated>, StartupError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let env = move |name: &str| map.get(name).cloned();
        config(&env, app_url)
    }

    const URL: Option<&str> = Some("http://127.0.0.1:8080");

    #[test]
    fn nothing_without_a_command() {
        assert!(read(&[], URL).unwrap().is_none());
        assert!(read(&[("BINDERY_APP_CMD", "  ")], URL).unwrap().is_none());
    }

    #[test]
    fn tcp_readiness_on_the_app_port_by_default() {
        let c = read(&[("BINDERY_APP_CMD", "python3 app.py")], Some("http://localhost:3000/api")).unwrap().unwrap();
        assert_eq!(c.command, AppCommand::shell("python3 app.py"));
        assert_eq!(c.port, 3000);
        assert_eq!(c.readiness, Readiness::Tcp("127.0.0.1:3000".parse().unwrap()));
        assert_eq!(c.timeout, Duration::from_millis(9000));
    }

    #[test]
    fn http_readiness_and_timeout_when_set() {
        let vars = [
            ("BINDERY_APP_CMD", "uvicorn app:app"),
            ("BINDERY_APP_READY_PATH", "/healthz?full=1"),
            ("BINDERY_APP_READY_TIMEOUT_MS", "2500"),
            ("PORT", "8080"),
        ];
        let c = read(&vars, Some("http://127.0.0.1:8080/base")).unwrap().unwrap();
        assert_eq!(c.readiness, Readiness::Http { url: "http://127.0.0.1:8080/healthz?full=1".parse().unwrap() });
        assert_eq!(c.timeout, Duration::from_millis(2500));
    }

    #[test]
    fn refuses_what_would_be_ignored_or_inconsistent() {
        let err = |vars: &[(&str, &str)], url| read(vars, url).unwrap_err().0;
        assert_eq!(
            err(&[("BINDERY_APP_READY_PATH", "/health")], URL),
            "BINDERY_APP_READY_PATH is set but BINDERY_APP_CMD is not: bindery only checks the readiness of an app it starts"
        );
        assert_eq!(
            err(&[("BINDERY_APP_CMD", "./app")], None),
            "BINDERY_APP_CMD is set, but this function's app runs in-process"
        );
        assert!(
            err(&[("BINDERY_APP_CMD", "./app"), ("PORT", "3000")], URL)
                .starts_with("PORT is \"3000\", but BINDERY_APP_URL (http://127.0.0.1:8080) has the app on port 8080")
        );
        assert_eq!(
            err(&[("BINDERY_APP_CMD", "./app"), ("BINDERY_APP_READY_PATH", "health")], URL),
            "BINDERY_APP_READY_PATH must start with \"/\", got \"health\""
        );
        assert_eq!(
            err(&[("BINDERY_APP_CMD", "./app"), ("BINDERY_APP_READY_TIMEOUT_MS", "0")], URL),
            "BINDERY_APP_READY_TIMEOUT_MS must be a whole number from 1 to 900000, got \"0\""
        );
    }
}
