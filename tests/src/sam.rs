//! The user's deployment tools, run for real against loopback only: the SAM
//! CLI of the venv `scripts/test` creates (`BINDERY_TEST_SAM`), what its
//! `sam build` of the example's template left (`BINDERY_TEST_SAM_BUILD`), and
//! the offline environment they and `cargo lambda deploy` (the binary from
//! [`crate::cargo_lambda`]) run in.
//!
//! Every command runs with a cleared environment: fake credentials, a region,
//! `AWS_ENDPOINT_URL` at the given loopback emulator, no AWS config files,
//! telemetry off, and HTTP(S) proxies at a dead loopback port for everything
//! but loopback, so that the SAM CLI's weekly PyPI version check (or anything
//! else) cannot leave the machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::Digest;

use crate::{loopback_only, workspace};

/// The variable `scripts/test` sets to the venv's `sam`.
pub const SAM_VAR: &str = "BINDERY_TEST_SAM";
/// The variable `scripts/test` sets to the folder where it ran `sam build`
/// (`target/sam`: `template.yaml` and `.aws-sam/build/`).
pub const SAM_BUILD_VAR: &str = "BINDERY_TEST_SAM_BUILD";

/// A dead loopback port: what the proxies point at, and the endpoint of
/// commands that must not call AWS at all.
pub const DEAD_ENDPOINT: &str = "http://127.0.0.1:9";

fn from_env(var: &str, what: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{var} is not set: run the tests with scripts/test, which {what}"));
    assert!(path.exists(), "{var} is {}, which does not exist: rerun scripts/test", path.display());
    path
}

/// The venv's `sam`. Panics with the fix when it is missing: these tests are
/// never silently skipped.
pub fn sam() -> PathBuf {
    from_env(SAM_VAR, "installs the SAM CLI")
}

/// The Python of the SAM CLI's venv (boto3 and aws-sam-translator).
pub fn sam_python() -> PathBuf {
    sam().with_file_name("python")
}

/// The folder of `scripts/test`'s `sam build`.
pub fn sam_build() -> PathBuf {
    from_env(SAM_BUILD_VAR, "runs sam build")
}

/// `program` with the environment described above, talking to `endpoint`;
/// the SAM CLI keeps its settings in `config_dir`.
pub fn offline_command(program: &Path, endpoint: &str, config_dir: &Path) -> Command {
    loopback_only(endpoint);
    let mut command = Command::new(program);
    command
        .env_clear()
        .envs(
            ["PATH", "HOME", "TMPDIR", "RUSTUP_HOME", "CARGO_HOME"]
                .into_iter()
                .filter_map(|k| Some((k, std::env::var_os(k)?))),
        )
        .envs([
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", crate::aws::REGION),
            ("AWS_DEFAULT_REGION", crate::aws::REGION),
            ("AWS_CONFIG_FILE", "/nonexistent/bindery-test/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/bindery-test/credentials"),
            ("SAM_CLI_TELEMETRY", "0"),
            ("HTTP_PROXY", DEAD_ENDPOINT),
            ("HTTPS_PROXY", DEAD_ENDPOINT),
            ("NO_PROXY", "127.0.0.1,localhost"),
        ])
        .env("__SAM_CLI_APP_DIR", config_dir);
    command
}

/// Runs `command`; panics with everything it printed unless it succeeded.
/// Runs `tests/python/sam_cli.py ARGS` with `python` (one with boto3 and
/// aws-sam-translator: the SAM CLI's, or moto's); its JSON output, if any.
pub fn sam_cli_py(python: &Path, args: &[&str]) -> serde_json::Value {
    let mut command = Command::new(python);
    command.arg(workspace().join("tests/python/sam_cli.py")).args(args);
    let output = run(command
        .env_clear()
        .envs(std::env::var_os("PATH").map(|p| ("PATH", p)))
        .env("PYTHONDONTWRITEBYTECODE", "1"));
    if output.stdout.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&output.stdout).expect("sam_cli.py prints JSON")
    }
}

/// The SHA-256 of `bytes`, in lower-case hex, as the tests compare code and layer entries.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

pub fn run(command: &mut Command) -> Output {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
