//! The user's app as a child process, as `dapr run -- COMMAND` and Lambda Web
//! Adapter run it: started in a process group of its own (so a server and
//! its workers stop together), without Lambda's runtime-only variables,
//! checked for readiness, watched for its exit, its orphans reaped when
//! bindery is process 1, and stopped with SIGTERM, then SIGKILL.
//!
//! ```no_run
//! # async fn example() -> Result<(), bindery::process::ProcessError> {
//! use std::time::Duration;
//! use bindery::process::{AppCommand, AppProcess, Readiness};
//!
//! let env = [("PORT".to_owned(), "8080".to_owned())];
//! let mut app = AppProcess::spawn(AppCommand::shell("python3 app.py"), &env)?;
//! app.wait_ready(&Readiness::Tcp("127.0.0.1:8080".parse().expect("an address")), Duration::from_secs(9)).await?;
//! // ... deliver events; `app.exited()` completes if it dies ...
//! app.shutdown(Duration::from_secs(2)).await;
//! # Ok(())
//! # }
//! ```
//!
//! Everything here needs a Tokio runtime with its I/O and time drivers: the
//! exit is observed through SIGCHLD, readiness over sockets.

mod orphans;
mod readiness;

use std::fmt::{self, Write as _};
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::sync::watch;
use tokio::time::{Instant, sleep};
use tracing::{debug, warn};

use orphans::OrphanReaper;
pub use readiness::{Readiness, app_address};

/// How often the group is checked while it is given time to stop.
const STOP_POLL: Duration = Duration::from_millis(20);

/// Lambda's variables that only the runtime client (the process that talks
/// to the Runtime API: bindery) may use; the app is started without them.
/// - `AWS_LAMBDA_RUNTIME_API`: where the invocations are taken. A framework
///   that finds it starts a runtime client of its own (Spring Cloud
///   Function starts its custom-runtime event loop on this variable alone),
///   which would take invocations from bindery's loop; the Extensions API
///   is on the same address, too.
/// - `_HANDLER`: the function's Handler setting, which tells the runtime
///   what to load and run: bindery's, never the app's.
/// - `_LAMBDA_TELEMETRY_LOG_FD`: the runtime's framed log pipe, a descriptor
///   the managed runtime clients take out of the environment once read
///   (awslambdaric deletes it), so that no other code writes frames to it.
///
/// Everything else an app uses as any Lambda code does stays: the region,
/// the credentials, `AWS_LAMBDA_FUNCTION_NAME` and the other function
/// settings, `LAMBDA_TASK_ROOT`, `_X_AMZN_TRACE_ID`, the log level and format.
pub const RUNTIME_ONLY_VARIABLES: [&str; 3] = ["AWS_LAMBDA_RUNTIME_API", "_HANDLER", "_LAMBDA_TELEMETRY_LOG_FD"];

/// What to run: an argument vector, or a line for `sh -c`.
#[derive(Clone, PartialEq, Eq)]
pub enum AppCommand {
    /// The program and its arguments, run without a shell.
    Argv(Vec<String>),
    /// A shell command line, run with `sh -c`.
    Shell(String),
}

impl AppCommand {
    /// A shell command line, run with `sh -c`.
    pub fn shell(line: impl Into<String>) -> Self {
        Self::Shell(line.into())
    }

    /// A program and its arguments, run without a shell.
    pub fn argv<I: IntoIterator<Item = S>, S: Into<String>>(args: I) -> Self {
        Self::Argv(args.into_iter().map(Into::into).collect())
    }
}

/// The command as a user would type it, on one line for messages:
/// `python app.py`. Control characters (a script's newlines) are escaped.
impl fmt::Display for AppCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::Shell(line) => line.clone(),
            Self::Argv(args) => args.iter().map(|a| shell_quoted(a)).collect::<Vec<_>>().join(" "),
        };
        for c in text.chars() {
            if c.is_control() { write!(f, "{}", c.escape_default())? } else { f.write_char(c)? }
        }
        Ok(())
    }
}

impl fmt::Debug for AppCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppCommand({self})")
    }
}

fn shell_quoted(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain { arg.to_owned() } else { format!("'{}'", arg.replace('\'', r"'\''")) }
}

/// Why the app could not be started or did not become ready.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProcessError {
    pub kind: ProcessErrorKind,
    /// One line naming the command and what happened.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessErrorKind {
    /// The command could not be started at all (no such program, no runtime).
    Spawn,
    /// The app exited before it was ready, with this status.
    ExitedBeforeReady(ExitStatus),
    /// The app was still running but not ready when the time was up.
    NotReady,
    /// The readiness check itself cannot work (e.g. not an `http://` URL).
    InvalidReadiness,
}

impl ProcessError {
    fn new(kind: ProcessErrorKind, message: String) -> Self {
        Self { kind, message }
    }
}

/// The app's exit, observable from anywhere: cheap to clone.
#[derive(Debug, Clone)]
pub struct AppExit(watch::Receiver<Option<ExitStatus>>);

impl AppExit {
    /// The exit status, if the app has exited.
    pub fn status(&self) -> Option<ExitStatus> {
        *self.0.borrow()
    }

    /// Completes when the app has exited. Never completes if its exit cannot
    /// be observed any more (the runtime that watched it is shutting down).
    pub async fn wait(&mut self) -> ExitStatus {
        // Copied out at once: the borrow must not be held across an await.
        let status = self.0.wait_for(Option::is_some).await.map(|status| *status);
        match status {
            Ok(Some(status)) => status,
            _ => std::future::pending().await,
        }
    }
}

/// A running app: its own process group, killed when this is dropped.
#[derive(Debug)]
pub struct AppProcess {
    command: AppCommand,
    /// The child's pid, which is also its process group's id.
    group: Pid,
    exit: AppExit,
    /// Set once the group has been stopped, so `Drop` signals nothing more.
    stopped: bool,
    /// Collects the app's orphans while this process is process 1.
    orphans: Option<OrphanReaper>,
}

impl AppProcess {
    /// Starts `command` with the current environment plus `env`, less
    /// [`RUNTIME_ONLY_VARIABLES`], stdin closed, stdout and stderr shared
    /// with this process, in a new process group. Must be called within a
    /// Tokio runtime, which then reaps it.
    pub fn spawn(command: AppCommand, env: &[(String, String)]) -> Result<Self, ProcessError> {
        let spawn_error = |reason: String| ProcessError::new(ProcessErrorKind::Spawn, reason);
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| spawn_error(format!("cannot start the app ({command}): no Tokio runtime to watch it")))?;
        let mut builder = match &command {
            AppCommand::Shell(line) => {
                let mut builder = tokio::process::Command::new("sh");
                builder.arg("-c").arg(line);
                builder
            }
            AppCommand::Argv(args) => {
                let (program, rest) = args
                    .split_first()
                    .ok_or_else(|| spawn_error("cannot start the app: the command is empty".into()))?;
                let mut builder = tokio::process::Command::new(program);
                builder.args(rest);
                builder
            }
        };
        for name in RUNTIME_ONLY_VARIABLES {
            builder.env_remove(name);
        }
        builder
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .process_group(0)
            // Should the watcher task be dropped unfinished (runtime shutdown),
            // the leader is killed rather than left running unwatched.
            .kill_on_drop(true);
        let mut child = {
            let _entered = runtime.enter();
            builder.spawn().map_err(|e| spawn_error(format!("cannot start the app ({command}): {e}")))?
        };
        let group = child.id().and_then(|id| i32::try_from(id).ok()).map(Pid::from_raw).ok_or_else(|| {
            spawn_error(format!("cannot start the app ({command}): it exited before its process id was read"))
        })?;
        let (report, exit) = watch::channel(None);
        let description = command.to_string();
        runtime.spawn(async move {
            match child.wait().await {
                Ok(status) => {
                    debug!(command = %description, status = %describe_exit(status), "the app exited");
                    report.send_replace(Some(status));
                }
                Err(e) => warn!(command = %description, error = %e, "the app's exit cannot be observed"),
            }
        });
        debug!(command = %command, pid = group.as_raw(), "the app started");
        Ok(Self { command, group, exit: AppExit(exit), stopped: false, orphans: None })
    }

    /// When this process is process 1 of its PID namespace (a container
    /// image's entrypoint), collects the exit of the app's orphans, handed
    /// to it, so they do not stay zombies; does nothing otherwise. Only for
    /// a process whose one child is this app: the exit of any other child
    /// would be taken from whoever waits for it (the CLI, whose AWS SDK
    /// may run a `credential_process`, does not call this).
    pub fn reap_orphans_if_init(&mut self) {
        if self.orphans.is_none() {
            self.orphans = OrphanReaper::start_if_init(self.group, self.exit.clone());
        }
    }

    /// The command the app was started with.
    pub fn command(&self) -> &AppCommand {
        &self.command
    }

    /// The app's process id, which is also its process group's id.
    pub fn pid(&self) -> u32 {
        self.group.as_raw().unsigned_abs()
    }

    /// The exit status, if the app has exited.
    pub fn status(&self) -> Option<ExitStatus> {
        self.exit.status()
    }

    /// A handle that observes the app's exit, for other tasks.
    pub fn exit_watch(&self) -> AppExit {
        self.exit.clone()
    }

    /// Completes when the app (the process started, not its whole group) has exited.
    pub async fn exited(&mut self) -> ExitStatus {
        self.exit.wait().await
    }

    /// Waits until `readiness` holds, polling every 10 ms. Fails at once if
    /// the app exits first, and after `timeout` if it is still not ready.
    pub async fn wait_ready(&mut self, readiness: &Readiness, timeout: Duration) -> Result<(), ProcessError> {
        let started = Instant::now();
        let outcome = tokio::select! {
            biased;
            status = self.exit.wait() => Err(exited_before_ready(&self.command, status)),
            outcome = readiness.wait(started + timeout) => outcome,
        };
        // The app may have died just as the last probe failed: its exit is the better reason.
        match (outcome, self.status()) {
            (Ok(()), _) => {
                debug!(command = %self.command, ready_ms = started.elapsed().as_millis() as u64, "the app is ready");
                Ok(())
            }
            (Err(e), _) if e.kind != ProcessErrorKind::NotReady => Err(e),
            (Err(_), Some(status)) => Err(exited_before_ready(&self.command, status)),
            (Err(e), None) => Err(ProcessError::new(
                ProcessErrorKind::NotReady,
                format!("the app ({}) was not ready within {} ms: {}", self.command, timeout.as_millis(), e.message),
            )),
        }
    }

    /// Stops the whole process group: SIGTERM, up to `grace` for it to go,
    /// then SIGKILL for whatever is left. Returns the app's exit status, or
    /// `None` if it could not be observed.
    pub async fn shutdown(mut self, grace: Duration) -> Option<ExitStatus> {
        let give_up = Instant::now() + grace;
        if self.signal_group(Signal::SIGTERM) {
            while self.group_alive() && Instant::now() < give_up {
                sleep(STOP_POLL).await;
            }
            if self.group_alive() {
                debug!(command = %self.command, "the app did not stop on SIGTERM; killing it");
                self.signal_group(Signal::SIGKILL);
            }
        }
        // Only now: if this future is dropped half-way, `Drop` still kills the group.
        self.stopped = true;
        // The leader is reaped by its watcher task; SIGKILL makes that quick.
        tokio::time::timeout(grace.max(Duration::from_secs(1)), self.exit.wait()).await.ok()
    }

    /// Sends `signal` to the group; false once there is no group left.
    fn signal_group(&self, signal: Signal) -> bool {
        killpg(self.group, signal) != Err(Errno::ESRCH)
    }

    /// Whether any process of the group is still running. Zombies do not
    /// count: an orphan's is reaped by init, which may take a second or more.
    fn group_alive(&self) -> bool {
        killpg(self.group, None) != Err(Errno::ESRCH) && running_member(self.group).unwrap_or(true)
    }
}

/// Whether a process of `group` is running (not a zombie), from `/proc`;
/// `None` where there is no `/proc` to tell.
fn running_member(group: Pid) -> Option<bool> {
    let group = group.as_raw().to_string();
    let running = std::fs::read_dir("/proc").ok()?.flatten().any(|entry| {
        let is_pid = entry.file_name().to_str().is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
        let stat =
            if is_pid { std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default() } else { String::new() };
        let mut fields = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace();
        let (state, pgrp) = (fields.next(), fields.nth(1));
        pgrp == Some(group.as_str()) && state.is_some_and(|s| s != "Z" && s != "X")
    });
    Some(running)
}

impl Drop for AppProcess {
    /// Kills the whole group, so no part of the app outlives its owner.
    fn drop(&mut self) {
        if !self.stopped {
            let _ = killpg(self.group, Signal::SIGKILL);
        }
    }
}

/// `exited with status 3`, `was killed by signal 9 (SIGKILL)`.
pub fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(number)) => match Signal::try_from(number) {
            Ok(signal) => format!("was killed by signal {number} ({})", signal.as_str()),
            Err(_) => format!("was killed by signal {number}"),
        },
        (None, None) => format!("ended ({status})"),
    }
}

fn exited_before_ready(command: &AppCommand, status: ExitStatus) -> ProcessError {
    // sh's way of saying it found no such command, which it also printed.
    let hint = match (command, status.code()) {
        (AppCommand::Shell(_), Some(127)) => " (sh: command not found)",
        (AppCommand::Shell(_), Some(126)) => " (sh: command not executable)",
        _ => "",
    };
    ProcessError::new(
        ProcessErrorKind::ExitedBeforeReady(status),
        format!("the app ({command}) {} before it was ready{hint}", describe_exit(status)),
    )
}

#[cfg(test)]
mod tests;
