//! `scripts/demo`, the README's first command: run to the end on the debug
//! builds `cargo test` made, it shows every binding at work and leaves the
//! files the output bindings wrote; and it never hangs on a busy machine:
//! when a port it needs is taken (a `daprd` left running, say), it names the
//! port and exits 1, before building anything.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bindery_e2e::debug_bin;

/// The two tests use the same fixed ports: one at a time.
static PORTS: Mutex<()> = Mutex::new(());

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/demo");

/// Runs the demo to its end. Not a timing assertion: the limit is a guard
/// so that a demo that hangs fails the test instead of hanging it.
fn run_demo(command: &mut Command) -> Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    // Read as it runs, so that a full pipe never stalls the demo.
    let stdout = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap());
    let stderr = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(180) {
            child.kill().unwrap();
            panic!("scripts/demo still runs after 180 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = stdout.join().unwrap().into_bytes();
    let stderr = stderr.join().unwrap().into_bytes();
    Output { status, stdout, stderr }
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path.to_string_lossy().into_owned());
        }
    }
    found.sort();
    found
}

#[test]
fn the_demo_runs_every_local_binding_to_the_end() {
    let _ports = PORTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let bin = debug_bin("bindery");
    debug_bin("task-api");
    // Long enough for the cron binding's first run ("@every 10s").
    let output =
        run_demo(Command::new(DEMO).env("BINDERY_DEMO_BIN_DIR", bin.parent().unwrap()).env("DEMO_SECONDS", "12"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let both = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(output.status.code(), Some(0), "{both}");

    // The signed webhook reached the app; the forged one did not.
    assert!(stdout.contains(r#"{"bytes":38,"received":"push"} (200)"#), "{both}");
    assert!(stdout.contains(r#"{"error":"signature does not match"} (401)"#), "{both}");
    // Completing the task notified the monitoring receiver (bindings.http).
    assert!(stdout.contains(r#"monitoring: received /webhooks {"event":"task.completed""#), "{both}");
    // The Dapr HTTP API answered the output call.
    assert!(stdout.contains(r#"{"fileName":"hello.json"} (200)"#), "{both}");
    // The cron binding fired and the app acked it; the console says so.
    assert!(stdout.lines().any(|line| line.contains("cron-binding") && line.contains("✓ acked")), "{both}");
    // Without an emulator on 4566 the stream is skipped, by name, and the
    // demo goes on (ignoreErrors); with one, it is read.
    assert!(stdout.contains("task-changes:"), "{both}");

    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/demo/local-data");
    let files = files_under(&demo);
    let under = |folder: &str| -> Vec<&String> { files.iter().filter(|f| f.contains(folder)).collect() };
    // One cleanup, or two on a machine slow enough to need 20 s.
    assert!(!under("/reports/cleanup/").is_empty(), "{files:?}");
    assert_eq!(under("/mail/").len(), under("/reports/cleanup/").len(), "{files:?}");
    let hello = std::fs::read_to_string(demo.join("reports/hello.json")).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&hello).unwrap(), serde_json::json!({"hello": "dapr"}));
    let mail = std::fs::read_to_string(under("/mail/")[0]).unwrap();
    assert!(mail.contains("Subject: Nightly cleanup: "), "{mail}");
    let done = under("/task-done/");
    assert_eq!(done.len(), 1, "{files:?}");
    let done: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(done[0]).unwrap()).unwrap();
    assert_eq!(done["subject"], "Task 1 done", "{done}");
}

#[test]
fn the_demo_names_its_taken_ports_and_exits() {
    let _ports = PORTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    // A port something else already holds is taken all the same.
    let _held: Vec<_> = [3500, 8089].iter().filter_map(|port| TcpListener::bind(("127.0.0.1", *port)).ok()).collect();
    let output = run_demo(&mut Command::new(DEMO));
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("demo: taken on 127.0.0.1: 3500 8089 ("), "{stderr}");
    assert!(!stderr.contains("Compiling") && !stderr.contains("Finished"), "it built first: {stderr}");
}
