//! The `bindery` binary from the shell: `validate`, `invoke` (inline data or
//! `--data-file`), `events`, `sidecar`'s ports from the Dapr variables, and
//! the one-line, non-zero failures of every command.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::{Command, Output};

fn bindery(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bindery"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts a failure: exit code 1 and exactly one line on stderr, containing `needle`.
fn assert_one_line_failure(output: &Output, needle: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(1), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "expected one line, got: {err}");
    assert!(err.starts_with("bindery: ") && err.contains(needle), "{err}");
}

fn local_components(dir: &Path) {
    std::fs::write(
        dir.join("files.yaml"),
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: files\nspec:\n  type: bindings.localstorage\n  \
         version: v1\n  metadata:\n  - name: rootPath\n    value: ./data\n",
    )
    .unwrap();
}

/// A child process that is killed (and reaped) however the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn validate_lists_every_component_or_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    local_components(dir.path());
    let ok = bindery(&["validate", "--components", "."], dir.path());
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("files (bindings.localstorage/v1) [output]"), "{}", stdout(&ok));

    std::fs::write(
        dir.path().join("broken.yaml"),
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: nightly\nspec:\n  type: bindings.cron\n  \
         version: v1\n  metadata:\n  - name: schedule\n    value: \"61 * * * *\"\n---\n\
         apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: store\nspec:\n  type: bindings.aws.s3\n  \
         version: v1\n  metadata: []\n",
    )
    .unwrap();
    // A problem only building the binding finds (the layers' timeout),
    // reported in the same run as the loader's.
    std::fs::write(
        dir.path().join("slow.yaml"),
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: slow\nspec:\n  type: bindings.localstorage\n  \
         version: v1\n  metadata:\n  - name: rootPath\n    value: ./data\n  - name: timeout\n    value: soon\n",
    )
    .unwrap();
    let bad = bindery(&["validate", "--components", "."], dir.path());
    let err = stderr(&bad);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    assert!(err.contains("3 configuration errors"), "{err}");
    assert!(err.contains("component \"nightly\"") && err.contains("field \"schedule\""), "{err}");
    assert!(err.contains("component \"store\"") && err.contains("field \"bucket\""), "{err}");
    assert!(err.contains("component \"slow\"") && err.contains("field \"timeout\""), "{err}");
}

#[test]
fn invoke_calls_a_binding_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    local_components(dir.path());
    let created =
        bindery(&["invoke", "-c", ".", "files", "-o", "create", "-d", "hello", "-m", "fileName=a.txt"], dir.path());
    assert!(created.status.success(), "{}", stderr(&created));
    assert_eq!(std::fs::read(dir.path().join("data/a.txt")).unwrap(), b"hello");
    let got =
        bindery(&["invoke", "-c", ".", "files", "--operation", "get", "--metadata", "fileName=a.txt"], dir.path());
    assert_eq!(stdout(&got), "hello\n");

    let missing = bindery(&["invoke", "-c", ".", "nope", "-o", "create"], dir.path());
    assert_one_line_failure(&missing, "error invoking output binding nope: couldn't find output binding nope");
    let bad_metadata = bindery(&["invoke", "-c", ".", "files", "-o", "create", "-m", "novalue"], dir.path());
    assert_eq!(bad_metadata.status.code(), Some(2), "{}", stderr(&bad_metadata));
}

#[test]
fn invoke_reads_the_data_from_a_file_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    local_components(dir.path());
    let bytes: Vec<u8> = [b"line one\n".as_slice(), &[0x00, 0xff, 0xfe], b"\"quoted\" {json}"].concat();
    std::fs::write(dir.path().join("payload.bin"), &bytes).unwrap();
    let created = bindery(
        &["invoke", "-c", ".", "files", "-o", "create", "--data-file", "payload.bin", "-m", "fileName=copy.bin"],
        dir.path(),
    );
    assert!(created.status.success(), "{}", stderr(&created));
    assert_eq!(std::fs::read(dir.path().join("data/copy.bin")).unwrap(), bytes);

    let missing = bindery(&["invoke", "-c", ".", "files", "-o", "create", "--data-file", "nope.bin"], dir.path());
    assert_one_line_failure(&missing, "cannot read --data-file nope.bin: ");
    let both =
        bindery(&["invoke", "-c", ".", "files", "-o", "create", "-d", "x", "--data-file", "payload.bin"], dir.path());
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
}

/// With no `--http-port`/`--grpc-port`, `bindery sidecar` listens where
/// `DAPR_HTTP_PORT` and `DAPR_GRPC_PORT` say, as an SDK beside it expects.
#[test]
fn sidecar_ports_default_to_the_dapr_port_variables() {
    let dir = tempfile::tempdir().unwrap();
    local_components(dir.path());
    let free_port = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let (http, grpc) = (free_port(), free_port());
    let mut sidecar = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_bindery"))
            .args(["sidecar", "--components", "."])
            .current_dir(dir.path())
            .env_clear()
            .env("DAPR_HTTP_PORT", &http)
            .env("DAPR_GRPC_PORT", &grpc)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut banner = String::new();
    std::io::BufReader::new(sidecar.0.stdout.take().unwrap()).read_line(&mut banner).unwrap();
    let answers = |port: &str| {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
        stream.write_all(b"GET /v1.0/healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    let healthz = answers(&http);
    // The gRPC port takes a connection (it speaks HTTP/2 only).
    let grpc_listens = std::net::TcpStream::connect(("127.0.0.1", grpc.parse::<u16>().unwrap())).is_ok();
    drop(sidecar);

    let expected = format!("output API on http://127.0.0.1:{http} and grpc://127.0.0.1:{grpc}");
    assert!(banner.contains(&expected), "{banner}");
    assert!(healthz.starts_with("HTTP/1.1 204"), "{healthz}");
    assert!(grpc_listens, "nothing listens on DAPR_GRPC_PORT {grpc}");
}

#[test]
fn events_prints_samples_the_functions_accept() {
    let dir = tempfile::tempdir().unwrap();
    for (args, check) in [
        (&["events", "schedule", "--binding", "nightly"][..], "/binding"),
        (&["events", "schedule", "--legacy"][..], "/detail-type"),
        (&["events", "sqs", "--count", "2"][..], "/Records/1/messageId"),
        (&["events", "webhook", "--body", "{}"][..], "/requestContext/http/method"),
    ] {
        let output = bindery(args, dir.path());
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        let event: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(event.pointer(check).is_some(), "{args:?}: {event}");
    }
}

#[test]
fn every_command_fails_on_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["run", "sidecar", "validate"] {
        let output = bindery(&[command, "--components", "missing"], dir.path());
        assert_one_line_failure(
            &output,
            "no components at missing: pass the folder with --resources-path DIR (-d DIR)",
        );
        // Every folder given must exist, not only the first.
        local_components(dir.path());
        let output = bindery(&[command, "-d", ".", "-d", "missing"], dir.path());
        assert_one_line_failure(&output, "no components at missing: ");
    }

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = bindery(&["sidecar", "-c", ".", "--http-port", &port, "--grpc-port", "0"], dir.path());
    assert_one_line_failure(
        &output,
        &format!(
            "port {port} (the output API's HTTP port) is already in use: stop what holds it, or choose another with --dapr-http-port (-H)"
        ),
    );
    let output = bindery(&["run", "-d", ".", "-H", "0", "-G", &port], dir.path());
    assert_one_line_failure(
        &output,
        &format!(
            "port {port} (the output API's gRPC port) is already in use: stop what holds it, or choose another with --dapr-grpc-port (-G)"
        ),
    );
}

/// `dapr run`'s spellings: `--resources-path` (repeatable and comma-separated),
/// `--components-path`/`-d`, `--dapr-http-port`/`-H`, `--dapr-grpc-port`/`-G`,
/// `--app-id`/`-a`, `--app-port`/`-p`; `invoke` keeps `-d` for the data.
#[test]
fn the_dapr_cli_spellings_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "b"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    local_components(&dir.path().join("a"));
    std::fs::write(
        dir.path().join("b/mail.yaml"),
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: mail\nspec:\n  type: bindings.local.mailbox\n  \
         version: v1\n  metadata:\n  - name: rootPath\n    value: ./mail\n",
    )
    .unwrap();
    for args in [
        &["validate", "--resources-path", "a", "--resources-path", "b"][..],
        &["validate", "--resources-path", "a,b"][..],
        &["validate", "--components-path", "a", "-d", "b"][..],
        &["validate", "--components", "a", "-c", "b", "-a", "checkout"][..],
    ] {
        let output = bindery(args, dir.path());
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        let out = stdout(&output);
        assert!(
            out.contains("files (bindings.localstorage/v1)") && out.contains("mail (bindings.local.mailbox/v1)"),
            "{args:?}: {out}"
        );
    }
    let env = bindery_with_env(&["validate"], dir.path(), &[("BINDERY_COMPONENTS", "a,b")]);
    assert!(stdout(&env).contains("2 component(s)"), "{}", stderr(&env));

    // The data is `-d` in invoke, as in `dapr invoke`; the folders are `--resources-path`.
    let created = bindery(
        &[
            "invoke",
            "--resources-path",
            "a",
            "--resources-path",
            "b",
            "files",
            "-o",
            "create",
            "-d",
            "hi",
            "-m",
            "fileName=x.txt",
        ],
        dir.path(),
    );
    assert!(created.status.success(), "{}", stderr(&created));
    assert_eq!(std::fs::read(dir.path().join("data/x.txt")).unwrap(), b"hi");

    // The functions read one folder, shipped as one layer: infra takes one.
    let output = bindery(&["infra", "-d", "a", "-d", "b", "--code-uri", "."], dir.path());
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("bindery infra ships one components folder as the functions' layer, but 2 were given (a, b)"),
        "{}",
        stderr(&output)
    );
}

fn bindery_with_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bindery"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .unwrap()
}
