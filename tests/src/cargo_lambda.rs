//! cargo-lambda, the user's own tool, for the tests that run bindery under
//! it: the binary of the venv `scripts/test` creates
//! (`BINDERY_TEST_CARGO_LAMBDA`), its Runtime API emulator (`cargo lambda
//! watch --only-lambda-apis`) on loopback, and `cargo lambda invoke`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::function::FunctionProcess;
use crate::workspace;

/// The variable `scripts/test` sets to the venv's `cargo-lambda`.
pub const CARGO_LAMBDA_VAR: &str = "BINDERY_TEST_CARGO_LAMBDA";

/// How long an invoke may go unanswered before the test fails: no function
/// here takes a tenth of it, and one that never answers must not hang CI.
pub const INVOKE_HANG: Duration = Duration::from_secs(120);

/// The variable `scripts/test` sets to the folder where `cargo lambda build`
/// left the zips (`target/lambda`).
pub const LAMBDA_DIR_VAR: &str = "BINDERY_TEST_LAMBDA_DIR";

/// The venv's `cargo-lambda`. Panics with the fix when it is missing: these
/// tests are never silently skipped.
pub fn cargo_lambda() -> PathBuf {
    let path = std::env::var_os(CARGO_LAMBDA_VAR).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{CARGO_LAMBDA_VAR} is not set: run the tests with scripts/test, which installs cargo-lambda")
    });
    assert!(path.is_file(), "{CARGO_LAMBDA_VAR} is {}, which does not exist: rerun scripts/test", path.display());
    path
}

/// The zip `cargo lambda build --output-format zip` left for `name`:
/// `<dir>/<name>/bootstrap.zip`, or `<dir>/extensions/<name>.zip` for an
/// extension. Panics with the fix when it is missing.
pub fn lambda_zip(name: &str, extension: bool) -> PathBuf {
    let dir = std::env::var_os(LAMBDA_DIR_VAR).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{LAMBDA_DIR_VAR} is not set: run the tests with scripts/test, which runs cargo lambda build")
    });
    let path = if extension {
        dir.join("extensions").join(format!("{name}.zip"))
    } else {
        dir.join(name).join("bootstrap.zip")
    };
    assert!(path.is_file(), "{} not found: rerun scripts/test, which runs cargo lambda build", path.display());
    path
}

/// `cargo lambda watch --only-lambda-apis` on a loopback port: the Runtime
/// API emulator alone, the function started by the test. Stopped on drop.
pub struct LambdaWatch {
    process: FunctionProcess,
    port: u16,
}

impl LambdaWatch {
    /// Starts the emulator and waits until it serves.
    pub async fn start() -> LambdaWatch {
        let port = crate::unused_port();
        let (port_text, manifest) = (port.to_string(), workspace().join("Cargo.toml"));
        let args = [
            "lambda",
            "watch",
            "--only-lambda-apis",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port_text,
            "--manifest-path",
            manifest.to_str().expect("a UTF-8 workspace path"),
        ];
        let process = FunctionProcess::command(&cargo_lambda(), &args, &[]);
        let started = process.wait_for_output("starting Runtime server", Duration::from_secs(60)).await;
        assert!(started, "cargo lambda watch did not start within 60 s:\n{}", process.logs());
        let watch = LambdaWatch { process, port };
        crate::loopback_only(&watch.runtime_api());
        watch
    }

    /// `AWS_LAMBDA_RUNTIME_API` as the emulator gives it: `http://127.0.0.1:PORT/.rt`.
    pub fn runtime_api(&self) -> String {
        format!("http://127.0.0.1:{}/.rt", self.port)
    }

    /// What the emulator printed so far.
    pub fn logs(&self) -> String {
        self.process.logs()
    }

    /// Spawns `bin` as the emulator says a function must run with
    /// `--only-lambda-apis` (its variables, printed at start), plus `env`.
    pub fn spawn(&self, bin: &Path, env: &[(&str, &str)]) -> FunctionProcess {
        let api = self.runtime_api();
        let lambda = [
            ("AWS_LAMBDA_RUNTIME_API", api.as_str()),
            ("AWS_LAMBDA_FUNCTION_NAME", "_"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096"),
        ];
        let env: Vec<(&str, &str)> = lambda.into_iter().chain(env.iter().copied()).collect();
        FunctionProcess::command(bin, &[], &env)
    }

    /// `cargo lambda invoke --data-file <event>` against this emulator, run
    /// to its end (off the async runtime). It waits as long as the function
    /// takes: past [`INVOKE_HANG`] the test fails, naming the emulator's log.
    pub async fn invoke(&self, event: &Path) -> Invoked {
        let mut command = Command::new(cargo_lambda());
        command
            .args(["lambda", "invoke", "--invoke-address", "127.0.0.1", "--invoke-port", &self.port.to_string()])
            .args(["--output-format", "json", "--data-file"])
            .arg(event)
            .env_clear()
            .envs(["PATH", "HOME", "TMPDIR"].into_iter().filter_map(|k| Some((k, std::env::var_os(k)?))))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = command.spawn().unwrap_or_else(|e| panic!("cannot run cargo lambda invoke: {e}"));
        let pid = child.id().to_string();
        let waited = tokio::task::spawn_blocking(move || child.wait_with_output());
        match tokio::time::timeout(INVOKE_HANG, waited).await {
            Ok(output) => Invoked(output.expect("the invoke's thread").expect("wait for cargo lambda invoke")),
            Err(_) => {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
                panic!("cargo lambda invoke got no answer in {INVOKE_HANG:?}; the emulator:\n{}", self.logs())
            }
        }
    }
}

/// What `cargo lambda invoke` printed, and how it ended.
#[derive(Debug)]
pub struct Invoked(pub Output);

impl Invoked {
    /// Its standard output.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    /// Its standard error.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    /// The function's answer, as JSON; panics unless the invoke succeeded.
    pub fn response(&self) -> serde_json::Value {
        assert!(self.0.status.success(), "cargo lambda invoke failed:\n{}\n{}", self.stdout(), self.stderr());
        serde_json::from_str(self.stdout().trim())
            .unwrap_or_else(|e| panic!("cargo lambda invoke printed no JSON ({e}):\n{}", self.stdout()))
    }
}
