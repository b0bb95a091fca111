//! The webhook function beside its floor and Lambda Web Adapter (issue 16).
//! Run with:
//!
//! ```sh
//! cargo build --release -p bindery-webhook && cargo bench -p bindery-e2e --bench webhook_peers
//! ```
//!
//! Prefix both with `CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16`
//! for a short build (the `ci-release` settings; the bench says which it ran).
//! `cargo bench` builds the floor, `bindery-floor-webhook`, itself. Lambda Web
//! Adapter takes part when `lambda-adapter` is on `PATH` or in `~/.cargo/bin`
//! (`cargo install lambda_web_adapter --version 1.0.0-rc1 --locked`); otherwise
//! the bench says so and runs the other two.
//!
//! `BINDERY_BIN_DIR=DIR` takes `bindery-webhook` and the floor from `DIR`
//! instead (to measure an older build beside today's floor).
//!
//! Three processes run as Lambda functions, each against its own instance of
//! the Runtime API emulator (as each function has its own Runtime API in
//! Lambda), all in this process and its runtime, and all deliver into one
//! sink app:
//! - the release `bindery-webhook`, for a `bindings.http` component with
//!   `signatureScheme: none` and `maxBodySize: 6Mi`;
//! - the floor, `bindery-floor-webhook`: it POSTs each event as it came, and
//!   parses nothing;
//! - `lambda-adapter`, forwarding to the sink.
//!
//! They get the same API Gateway HTTP API (v2) events, round-robin one event
//! at a time (the first process turning each round), so that the machine's
//! noise falls on all alike; each event is handed out once the previous
//! one's process is back at `/next`, idle. An event's time is the
//! emulator's: from `/next` handing it out to the function's whole
//! `/response` having arrived. Every event must reach the sink whole, once,
//! with a 204 back; anything else stops the bench, as figures of a failure
//! would mislead. Nothing timed is asserted: the machine is shared and noisy.

use std::path::PathBuf;
use std::time::Duration;

use bindery_e2e::{FunctionProcess, InvokeOptions, Outcome, RuntimeApi, SinkApp, release_bin};
use bytes::Bytes;
use serde_json::json;

const COMMAND: &str = "cargo build --release -p bindery-webhook && cargo bench -p bindery-e2e --bench webhook_peers";
const BINDING: &str = "hook";

/// A body size: its label, its bytes, and how many timed events of it each
/// process gets; the first `warm_up` more are not timed.
struct Size {
    label: &'static str,
    bytes: usize,
    events: usize,
    warm_up: usize,
}

const SIZES: [Size; 4] = [
    Size { label: "0 B", bytes: 0, events: 9000, warm_up: 100 },
    Size { label: "1 KiB", bytes: 1 << 10, events: 9000, warm_up: 100 },
    Size { label: "1 MiB", bytes: 1 << 20, events: 500, warm_up: 10 },
    Size { label: "6 MiB", bytes: 6 << 20, events: 500, warm_up: 10 },
];

/// The body: printable ASCII that JSON carries without escapes, so the
/// event's `body` string is the body's bytes.
const BODY_TEXT: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const BODY_NOTE: &str = "text/plain, ASCII letters and digits (nothing JSON escapes), \
     in the event's `body` as a string with `isBase64Encoded: false`";

/// One function process, its own Runtime API, and what it did.
struct Peer {
    name: &'static str,
    api: RuntimeApi,
    process: FunctionProcess,
    /// Whether the app gets the whole event (the floor) or the request body.
    posts_event: bool,
    /// Per size, the timed events' times.
    times: Vec<Vec<Duration>>,
    /// Requests and body bytes the sink read from this process: one request
    /// per invocation.
    requests: u64,
    body_bytes: u64,
}

impl Peer {
    async fn start(name: &'static str, bin: PathBuf, env: &[(&str, &str)], posts_event: bool) -> Peer {
        let api = RuntimeApi::start().await;
        let process = FunctionProcess::spawn(&bin, &api, env);
        if api.wait_for_next_poll(Duration::from_secs(20)).await.is_none() {
            panic!("{name} did not poll /invocation/next within 20 s; its output:\n{}", process.logs());
        }
        let times = SIZES.iter().map(|size| Vec::with_capacity(size.events)).collect();
        Peer { name, api, process, posts_event, times, requests: 0, body_bytes: 0 }
    }

    /// One event through this process; its time, checked that the sink read
    /// it whole and the function answered 204.
    async fn invoke(&mut self, sink: &SinkApp, event: &Bytes, body_bytes: usize) -> Duration {
        let (requests_before, bytes_before) = (sink.requests(), sink.body_bytes());
        let options = InvokeOptions { wait: Duration::from_secs(60), ..Default::default() };
        let timed = self.api.invoke_timed(event.clone(), options).await;
        // The function answers only after the sink has answered it, and the
        // sink counts a request before answering: no other process runs now.
        let (requests, bytes) = (sink.requests() - requests_before, sink.body_bytes() - bytes_before);
        let expected = if self.posts_event { event.len() } else { body_bytes } as u64;
        assert!(
            requests == 1 && bytes == expected,
            "{}: the sink read {requests} requests and {bytes} body bytes for one event, expected 1 and {expected}",
            self.name
        );
        match &timed.outcome {
            Outcome::Response(response) if response["statusCode"] == 204 => {}
            other => panic!("{}: expected the sink's 204 back, got {other:?}", self.name),
        }
        self.requests += requests;
        self.body_bytes += bytes;
        // Untimed: back at `/next`, the process is idle, and its tail (that
        // call, freeing the event, a log line) no longer runs beside the next
        // process's event. Without this wait the floor, mostly following
        // lambda-adapter's turn, read 131 µs at 0 B instead of 95.
        let polls = self.requests + 1;
        assert!(
            self.api.wait_for_polls(polls, Duration::from_secs(10)).await,
            "{} did not call /invocation/next again after its event",
            self.name
        );
        timed.took
    }

    /// `VmHWM` (peak RSS) from /proc/<pid>/status, in KiB.
    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.pid())).expect("proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .expect("VmHWM in /proc status")
    }
}

/// The components directory with the webhook binding: no signature, so that
/// bindery does what the other two do, and bodies up to 6 MiB (the default
/// limit is 1 MiB).
fn components() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bindery-webhook-peers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let component = format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {BINDING}\nspec:\n  type: bindings.http\n  version: v1\n  metadata:\n  - name: direction\n    value: input\n  - name: signatureScheme\n    value: none\n  - name: maxBodySize\n    value: 6Mi\n"
    );
    std::fs::write(dir.join("hook.yaml"), component).expect("write the component");
    dir
}

/// An API Gateway HTTP API (v2) `POST /hook` event with a `size`-byte text body.
fn http_api_event(size: usize) -> Bytes {
    let body: String = BODY_TEXT.iter().cycle().take(size).map(|&b| b as char).collect();
    let event = json!({
        "version": "2.0",
        "routeKey": "POST /hook",
        "rawPath": "/hook",
        "rawQueryString": "",
        "headers": {
            "accept": "*/*",
            "content-length": size.to_string(),
            "content-type": "text/plain",
            "host": "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
            "user-agent": "bindery-bench/1",
            "x-amzn-trace-id": "Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e",
            "x-forwarded-for": "192.30.252.44",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https"
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "r3pmxmplak",
            "domainName": "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
            "domainPrefix": "r3pmxmplak",
            "http": {
                "method": "POST",
                "path": "/hook",
                "protocol": "HTTP/1.1",
                "sourceIp": "192.30.252.44",
                "userAgent": "bindery-bench/1"
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "POST /hook",
            "stage": "$default",
            "time": "10/Mar/2020:05:16:23 +0000",
            "timeEpoch": 1583817383220_u64
        },
        "body": body,
        "isBase64Encoded": false
    });
    Bytes::from(event.to_string())
}

/// `lambda-adapter` on `PATH`, else in `~/.cargo/bin`.
fn lambda_adapter() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let cargo_bin = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo/bin"));
    std::env::split_paths(&path).chain(cargo_bin).map(|dir| dir.join("lambda-adapter")).find(|bin| bin.is_file())
}

/// Median and p90.
fn quantiles(times: &[Duration]) -> (Duration, Duration) {
    let mut sorted = times.to_vec();
    sorted.sort();
    (sorted[sorted.len() / 2], sorted[sorted.len() * 9 / 10])
}

fn duration(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 1000.0 { format!("{micros:.0} µs") } else { format!("{:.2} ms", micros / 1000.0) }
}

/// A line of the machine note: CPU model and count, memory, rustc, commit, date.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("?", |m| m.trim_start_matches([' ', '\t', ':']));
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let output = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "?".to_owned())
    };
    let workspace = bindery_e2e::workspace().display().to_string();
    format!(
        "{cpus} vCPU {model}, {:.0} GiB; {}; commit {}; {} UTC",
        mem_kib as f64 / (1024.0 * 1024.0),
        output("rustc", &["--version"]),
        output("git", &["-C", &workspace, "describe", "--always", "--dirty", "--abbrev=10"]),
        output("date", &["-u", "+%Y-%m-%d %H:%M"]),
    )
}

/// The release settings the run's builds had, if Cargo's environment changed them.
fn profile() -> String {
    let lto = std::env::var("CARGO_PROFILE_RELEASE_LTO").ok();
    let units = std::env::var("CARGO_PROFILE_RELEASE_CODEGEN_UNITS").ok();
    match (lto, units) {
        (None, None) => "the release profile (fat LTO, codegen-units = 1)".to_owned(),
        (lto, units) => format!(
            "the release profile with lto = {}, codegen-units = {} (from CARGO_PROFILE_RELEASE_*; bindery-webhook as built in the same environment)",
            lto.as_deref().unwrap_or("\"fat\""),
            units.as_deref().unwrap_or("1")
        ),
    }
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; a plain `cargo test --benches` passes nothing.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let sink = SinkApp::start().await;
    let sink_url = sink.url();
    let sink_port = sink_url.rsplit(':').next().expect("the sink's URL has a port").to_owned();
    let dir = components();
    let dir_text = dir.display().to_string();
    let floor_url = format!("{sink_url}/{BINDING}");

    let mut peers = Vec::new();
    let bindery_env =
        [("BINDERY_COMPONENTS", dir_text.as_str()), ("BINDERY_BINDING", BINDING), ("BINDERY_APP_URL", &sink_url)];
    peers.push(Peer::start("bindery-webhook", release_bin("bindery-webhook"), &bindery_env, false).await);
    match lambda_adapter() {
        Some(bin) => {
            // Forward to the sink; the readiness check's GET / gets the sink's 204.
            let env = [
                ("AWS_LWA_HOST", "127.0.0.1"),
                ("AWS_LWA_PORT", sink_port.as_str()),
                ("AWS_LWA_READINESS_CHECK_PATH", "/"),
                ("AWS_LWA_INVOKE_MODE", "buffered"),
            ];
            peers.push(Peer::start("lambda-adapter", bin, &env, false).await);
        }
        None => println!(
            "lambda-adapter is not on PATH nor in ~/.cargo/bin: Lambda Web Adapter is left out \
             (`cargo install lambda_web_adapter --version 1.0.0-rc1 --locked` adds it)\n"
        ),
    }
    peers.push(
        Peer::start("floor", release_bin("bindery-floor-webhook"), &[("BINDERY_APP_URL", &floor_url)], true).await,
    );

    for (index, size) in SIZES.iter().enumerate() {
        let event = http_api_event(size.bytes);
        for round in 0..size.warm_up + size.events {
            for turn in 0..peers.len() {
                let count = peers.len();
                let peer = &mut peers[(round + turn) % count];
                let took = peer.invoke(&sink, &event, size.bytes).await;
                if round >= size.warm_up {
                    peer.times[index].push(took);
                }
            }
        }
    }
    report(&peers);
    let _ = std::fs::remove_dir_all(dir);
}

fn report(peers: &[Peer]) {
    let floor = peers.iter().find(|p| p.name == "floor").expect("the floor runs");
    let others: Vec<&Peer> = peers.iter().filter(|p| p.name != "floor").collect();
    println!("Machine: {}.", machine());
    println!("Command: `{COMMAND}`, built with {}.", profile());
    if let Some(dir) = std::env::var_os("BINDERY_BIN_DIR") {
        println!("Binaries from BINDERY_BIN_DIR={} (not necessarily of that commit).", dir.display());
    }
    println!("Events: API Gateway HTTP API (v2) `POST /hook`; the body is {BODY_NOTE}.");
    println!(
        "Time per event: from `/invocation/next` handing the event out to the whole `/response` having arrived, \
         as the Runtime API emulator saw it; the processes take turns event by event, \
         each event handed out once the previous one's process is back at `/next`.\n"
    );
    let mut head = String::from("| body (timed events per process) |");
    let mut rule = String::from("|---|");
    for peer in &others {
        head += &format!(" {}: median, p90 | × floor (median) |", peer.name);
        rule += "---|---|";
    }
    println!("{head} floor: median, p90 |\n{rule}---|");
    for (index, size) in SIZES.iter().enumerate() {
        let (floor_median, floor_p90) = quantiles(&floor.times[index]);
        let mut line = format!("| {} ({}) |", size.label, size.events);
        for peer in &others {
            let (median, p90) = quantiles(&peer.times[index]);
            let ratio = median.as_secs_f64() / floor_median.as_secs_f64();
            line += &format!(" {}, {} | {ratio:.2}× |", duration(median), duration(p90));
        }
        println!("{line} {}, {} |", duration(floor_median), duration(floor_p90));
    }
    let mib = |peer: &Peer| format!("{:.1} MiB", peer.peak_rss_kib() as f64 / 1024.0);
    let mut line = String::from("| peak RSS (VmHWM) after the 6 MiB events |");
    for peer in &others {
        line += &format!(" {} | |", mib(peer));
    }
    println!("{line} {} |\n", mib(floor));
    let received: Vec<String> = peers
        .iter()
        .map(|p| {
            let what = if p.posts_event { "whole events" } else { "bodies" };
            format!("{} {} requests, {} body bytes ({what})", p.name, p.requests, p.body_bytes)
        })
        .collect();
    println!("The sink read every event's request whole, once each (warm-up included): {}.", received.join("; "));
    let logs: Vec<String> = peers.iter().map(|p| format!("{} {} bytes", p.name, p.process.logs().len())).collect();
    println!("Log output at each process's default level: {}.", logs.join("; "));
}
