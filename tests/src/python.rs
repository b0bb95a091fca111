//! Python for the tests that drive bindery with the real Dapr Python SDK
//! and the FastAPI example: the interpreter of the venv `scripts/test`
//! creates (`BINDERY_TEST_PYTHON`), and running a script with it or with
//! another venv's (boto3 is in moto's, [`crate::aws::moto_python`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The variable `scripts/test` sets to the venv's interpreter.
pub const PYTHON_VAR: &str = "BINDERY_TEST_PYTHON";

/// The venv's `python`. Panics with the fix when it is missing: these tests
/// are never silently skipped.
pub fn python() -> PathBuf {
    let path = std::env::var_os(PYTHON_VAR).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{PYTHON_VAR} is not set: run the tests with scripts/test, which creates the Python venv")
    });
    assert!(path.is_file(), "{PYTHON_VAR} is {}, which does not exist: rerun scripts/test", path.display());
    path
}

/// A file under the workspace's `tests/python/`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python").join(name)
}

/// Runs `script` with `stdin`, in a clean environment plus `env`, and waits
/// for it (off the async runtime).
pub async fn run(script: PathBuf, env: Vec<(String, String)>, stdin: Vec<u8>) -> Output {
    run_with(python(), script, env, stdin).await
}

/// [`run`], with the interpreter `python`.
pub async fn run_with(python: PathBuf, script: PathBuf, env: Vec<(String, String)>, stdin: Vec<u8>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(&python)
            .arg(&script)
            .env_clear()
            .envs(std::env::var_os("PATH").map(|p| ("PATH".to_owned(), p.to_string_lossy().into_owned())))
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {} {}: {e}", python.display(), script.display()));
        if let Some(mut input) = child.stdin.take() {
            input.write_all(&stdin).expect("write the script's stdin");
        }
        child.wait_with_output().expect("wait for the script")
    })
    .await
    .expect("the script's thread")
}
