//! `scripts/demo`, the README's first command, never hangs on a busy
//! machine: when a port it needs is taken (a `daprd` left running, say), it
//! names the port and exits 1, before building anything.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn the_demo_names_its_taken_ports_and_exits() {
    // A port something else already holds is taken all the same.
    let _held: Vec<_> = [3500, 8089].iter().filter_map(|port| TcpListener::bind(("127.0.0.1", *port)).ok()).collect();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/demo");
    let mut child = Command::new(demo).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();

    // Not a timing assertion: a guard so that a demo that hangs fails the
    // test instead of hanging it.
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("scripts/demo still runs after 120 s with its ports taken");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("demo: taken on 127.0.0.1: 3500 8089 ("), "{stderr}");
    assert!(!stderr.contains("Compiling") && !stderr.contains("Finished"), "it built first: {stderr}");
}
