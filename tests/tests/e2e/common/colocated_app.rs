//! The Python app a function starts itself (`BINDERY_APP_CMD`):
//! `recording_app.py` in a temporary directory of its own, on a port of its own,
//! for the tests of the co-located app.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bindery_e2e::unused_port;
use serde_json::Value;

use super::{ComponentsDir, Running, sqs_component};

const APP_SOURCE: &str = include_str!("recording_app.py");

/// The Python app in a temporary directory, on a port of its own; killed on
/// drop if it outlived its function (which a passing test never lets happen).
pub(crate) struct PythonApp {
    dir: tempfile::TempDir,
    pub(crate) port: u16,
}

impl PythonApp {
    pub(crate) fn new() -> PythonApp {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.py"), APP_SOURCE).unwrap();
        PythonApp { dir, port: unused_port() }
    }

    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `BINDERY_APP_CMD`, as a user would write it.
    pub(crate) fn command(&self) -> String {
        format!("python3 {}", self.file("app.py").display())
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The function's environment: the app's command and URL, and `extra`
    /// (the app's `APP_*` settings, bindery's variables).
    pub(crate) fn env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        self.env_with_command(self.command(), extra)
    }

    /// [`Self::env`], with `BINDERY_APP_CMD` running the shell line `first`
    /// and then `exec`ing the app, so the app keeps the command's process.
    pub(crate) fn env_after(&self, first: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        self.env_with_command(format!("{first}; exec {}", self.command()), extra)
    }

    fn env_with_command(&self, command: String, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut vars = vec![
            ("BINDERY_APP_CMD".to_owned(), command),
            ("BINDERY_APP_URL".to_owned(), self.url()),
            ("APP_RECORD".to_owned(), self.file("requests.jsonl").display().to_string()),
            ("APP_PID_FILE".to_owned(), self.file("app.pid").display().to_string()),
        ];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        vars
    }

    /// Every request the app recorded, in order.
    pub(crate) fn requests(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.file("requests.jsonl")).unwrap_or_default();
        text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
    }

    pub(crate) fn posts(&self) -> Vec<Value> {
        self.requests().into_iter().filter(|r| r["method"] == "POST").collect()
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.file("app.pid")).ok()?.trim().parse().ok()
    }

    /// Whether the app's process is running (a zombie is not, nor a stranger
    /// that got its pid since).
    pub(crate) fn alive(&self) -> bool {
        let Some(pid) = self.pid() else { return false };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let script = self.file("app.py").display().to_string();
        String::from_utf8_lossy(&cmdline).contains(&script)
            && stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z'))
    }

    pub(crate) async fn gone_within(&self, timeout: Duration) -> bool {
        let give_up = Instant::now() + timeout;
        while self.alive() {
            if Instant::now() >= give_up {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

impl Drop for PythonApp {
    fn drop(&mut self) {
        if let (true, Some(pid)) = (self.alive(), self.pid()) {
            signal(pid, "KILL");
        }
    }
}

pub(crate) fn signal(pid: u32, name: &str) {
    let status = Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status().unwrap();
    assert!(status.success(), "kill -{name} {pid} failed");
}

pub(crate) fn as_strs(vars: &[(String, String)]) -> Vec<(&str, &str)> {
    vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

pub(crate) async fn start_sqs(app: &PythonApp, extra: &[(&str, &str)]) -> Running {
    let mut env = app.env(extra);
    env.push(("BINDERY_BINDING".into(), "task-events".into()));
    let components = ComponentsDir::with("task-events.yaml", &sqs_component("task-events"));
    Running::start("bindery-sqs", components, &as_strs(&env)).await
}
