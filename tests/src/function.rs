//! Spawning a real function binary against a [`RuntimeApi`], with its output captured.
//!
//! The child gets a clean environment (only `PATH`, `HOME`, `TMPDIR` are inherited)
//! plus the Lambda variables `lambda_runtime` requires and the caller's `env`, so no
//! stray `AWS_*`, `BINDERY_*`, `APP_API_TOKEN`, `RUST_LOG` or proxy settings leak in.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::runtime_api::RuntimeApi;

/// Variables inherited from the test's environment; everything else is dropped.
const INHERITED: &[&str] = &["PATH", "HOME", "TMPDIR"];

/// A running function binary; killed (and reaped) on drop. If the test is panicking,
/// its captured output is printed to stderr on drop.
pub struct FunctionProcess {
    name: String,
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl FunctionProcess {
    /// Spawns `bin` with `AWS_LAMBDA_RUNTIME_API` pointing at `api`, the function name,
    /// version and memory size variables, plus `env` (which may override them).
    pub fn spawn(bin: &Path, api: &RuntimeApi, env: &[(&str, &str)]) -> FunctionProcess {
        Self::spawn_by(&[], bin, api, env)
    }

    /// [`Self::spawn`], with `bin` started by `launcher`, a program and its
    /// arguments to which `bin`'s path is appended: `unshare --pid --fork`
    /// runs the function as process 1 of a new PID namespace, say.
    pub fn spawn_by(launcher: &[&str], bin: &Path, api: &RuntimeApi, env: &[(&str, &str)]) -> FunctionProcess {
        let address = api.address();
        crate::loopback_only(&format!("http://{address}"));
        let lambda = [
            ("AWS_LAMBDA_RUNTIME_API", address.as_str()),
            ("AWS_LAMBDA_FUNCTION_NAME", "test"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ];
        let env: Vec<(&str, &str)> = lambda.into_iter().chain(env.iter().copied()).collect();
        match launcher.split_first() {
            None => Self::command(bin, &[], &env),
            Some((program, args)) => {
                let bin = bin.to_str().expect("a UTF-8 binary path");
                let args: Vec<&str> = args.iter().copied().chain([bin]).collect();
                Self::command(Path::new(program), &args, &env)
            }
        }
    }

    /// Spawns `bin args...` (the `bindery` CLI, say) in the same clean
    /// environment plus `env`, its output captured.
    pub fn command(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> FunctionProcess {
        let mut command = Command::new(bin);
        command.env_clear();
        for name in INHERITED {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command.args(args).envs(env.iter().copied()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot spawn {}: {e}", bin.display()));
        let output = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let readers = vec![capture(stdout, output.clone()), capture(stderr, output.clone())];
        let name = bin.file_name().map_or_else(|| bin.display().to_string(), |n| n.to_string_lossy().into_owned());
        FunctionProcess { name, child, output, readers }
    }

    /// Waits up to `timeout` until the output contains `needle`.
    pub async fn wait_for_output(&self, needle: &str, timeout: Duration) -> bool {
        let give_up = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < give_up {
            if self.logs().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.logs().contains(needle)
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does (through `kill`, as the
    /// workspace forbids `unsafe`).
    pub fn interrupt(&self) {
        let status = Command::new("kill").args(["-INT", &self.pid().to_string()]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -INT {} failed", self.pid());
    }

    /// Sends SIGTERM, as Lambda does at shutdown (through `kill`, as the
    /// workspace forbids `unsafe`).
    pub fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -TERM {} failed", self.pid());
    }

    /// Everything the process printed so far (stdout and stderr, interleaved by chunk).
    pub fn logs(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap_or_else(|poisoned| poisoned.into_inner())).into_owned()
    }

    /// Waits up to `timeout` for the process to exit; `None` if it is still running.
    /// Once it has exited, the returned status is final and the output fully captured.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let give_up = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait on our own child") {
                // The pipes close at exit; let the readers drain them.
                for reader in self.readers.drain(..) {
                    let _ = tokio::task::spawn_blocking(move || reader.join()).await;
                }
                return Some(status);
            }
            if tokio::time::Instant::now() >= give_up {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process (SIGKILL) and reaps it; a no-op if it already exited.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "----- output of {} (pid {}) -----\n{}\n----- end of output -----",
                self.name,
                self.pid(),
                self.logs()
            );
        }
    }
}

fn capture(mut pipe: impl Read + Send + 'static, output: Arc<Mutex<Vec<u8>>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        loop {
            match pipe.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => output.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(&buffer[..n]),
            }
        }
    })
}

/// The path of a release binary: `$BINDERY_BIN_DIR/<name>` if that is set, else
/// `$CARGO_TARGET_DIR/release/<name>` if that is set, else
/// `<workspace root>/target/release/<name>`. Panics if it does not exist — never skips.
pub fn release_bin(name: &str) -> PathBuf {
    workspace_bin("release", name)
}

/// The path of an example's binary, built in the debug profile: the examples
/// link the AWS SDK, whose release build takes minutes, and the tests measure
/// nothing about them. Panics if it does not exist.
pub fn example_bin(name: &str) -> PathBuf {
    workspace_bin("debug", name)
}

/// The arguments of `bindery run` serving the components in `components` to
/// the app at `app_url`, its output API and webhooks on ports of their own
/// (picked free, so a parallel test may take one first): the arguments, and
/// the webhook port.
pub fn bindery_run_args(components: &str, app_url: &str) -> (Vec<String>, u16) {
    let webhook = crate::unused_port();
    let (http, grpc) = (crate::unused_port().to_string(), crate::unused_port().to_string());
    let args = [
        "run",
        "--components",
        components,
        "--app-url",
        app_url,
        "--http-port",
        &http,
        "--grpc-port",
        &grpc,
        "--webhook-port",
        &webhook.to_string(),
    ];
    (args.map(str::to_owned).to_vec(), webhook)
}

/// The path of a workspace binary built in the debug profile (the `bindery`
/// CLI, `bindery-extension`), as scripts/test builds them: `cargo build
/// --workspace --bins --tests --examples`, the test build's feature set.
/// Panics if it does not exist.
pub fn debug_bin(name: &str) -> PathBuf {
    workspace_bin("debug", name)
}

fn workspace_bin(profile: &str, name: &str) -> PathBuf {
    let workspace = crate::workspace();
    let dir = match (std::env::var_os("BINDERY_BIN_DIR"), std::env::var_os("CARGO_TARGET_DIR")) {
        (Some(dir), _) if profile == "release" => PathBuf::from(dir),
        (_, Some(target)) => workspace.join(target).join(profile),
        _ => workspace.join("target").join(profile),
    };
    let path = dir.join(name);
    let flag = if profile == "release" { " --release" } else { "" };
    assert!(
        path.is_file(),
        "binary {} not found: build it first with `cargo build{flag} --workspace --bins` in {} \
         (or run scripts/test, which does)",
        path.display(),
        workspace.display(),
    );
    path
}
