//! The app command of `bindery run`: started in its own process group (so
//! Ctrl-C reaches bindery first, and stopping the app stops everything it
//! started, such as uvicorn's workers), waited for until it listens, and
//! stopped with SIGTERM, then SIGKILL after a grace period.

use std::net::SocketAddr;
use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

use crate::Failure;

/// The running app.
pub(crate) struct AppProcess {
    child: Child,
    /// The command as typed, for messages.
    command: String,
}

impl AppProcess {
    /// Starts `command` with `env` added to bindery's environment.
    pub(crate) fn spawn(command: &[String], env: &[(&str, String)]) -> Result<Self, Failure> {
        let described = command.join(" ");
        let (program, args) = command.split_first().ok_or_else(|| Failure::new("no app command after --"))?;
        let child = Command::new(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Failure::new(format!("cannot start the app ({described}): {e}")))?;
        Ok(Self { child, command: described })
    }

    /// Waits until something accepts connections on `address`; fails at
    /// once if the app exits first, or after `timeout`.
    pub(crate) async fn wait_ready(&mut self, address: SocketAddr, timeout: Duration) -> Result<(), Failure> {
        let give_up = tokio::time::Instant::now() + timeout;
        loop {
            if tokio::net::TcpStream::connect(address).await.is_ok() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= give_up {
                return Err(Failure::new(format!(
                    "the app ({}) did not listen on {address} within {} s; check --app-port",
                    self.command,
                    timeout.as_secs()
                )));
            }
            tokio::select! {
                status = self.child.wait() => {
                    let status = status.map_or_else(|e| e.to_string(), describe);
                    return Err(Failure::new(format!(
                        "the app ({}) exited ({status}) before it listened on {address}",
                        self.command
                    )));
                }
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
    }

    /// Resolves when the app exits by itself.
    pub(crate) async fn exited(&mut self) -> String {
        self.child.wait().await.map_or_else(|e| e.to_string(), describe)
    }

    /// SIGTERM to the app's process group, then SIGKILL after `grace`.
    pub(crate) async fn stop(mut self, grace: Duration) {
        let Some(pid) = self.child.id().and_then(|id| i32::try_from(id).ok()) else {
            return; // already reaped
        };
        let group = Pid::from_raw(pid);
        let _ = killpg(group, Signal::SIGTERM);
        if tokio::time::timeout(grace, self.child.wait()).await.is_err() {
            let _ = killpg(group, Signal::SIGKILL);
            let _ = self.child.wait().await;
        }
        // Whatever else the app left in its group.
        let _ = killpg(group, Signal::SIGKILL);
    }

    pub(crate) fn command(&self) -> &str {
        &self.command
    }
}

fn describe(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("status {code}"),
        None => format!("{status}"),
    }
}
