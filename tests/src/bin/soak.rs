//! A loopback soak of a real `bindery` process: load for a fixed time, then
//! the errors, the latency percentiles and the process's resident memory at
//! the start and the end, as a row for RELIABILITY.md.
//!
//! `bindery-soak BINDERY api|run SECONDS CONCURRENCY`
//!
//! - `api`: `bindery sidecar` with a `bindings.http` output binding to an
//!   acknowledging app; the load is `POST /v1.0/bindings/echo` (operation `post`).
//! - `run`: `bindery run` with a GitHub-signed webhook input binding, the
//!   app the same acknowledging server; the load is signed `POST /github`
//!   on the webhook port, each delivered to the app.
//!
//! Every request must answer 200 (204 from the app is 200 through the
//! webhook): anything else, or a broken connection, counts as an error.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sha2::Sha256;
use tokio::net::TcpListener;

const SECRET: &str = "soak-secret";
/// RSS is sampled this often; the "start" figure is taken after the first
/// sample period, once pools and buffers have reached their working size.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, bindery, mode, seconds, concurrency] = args.as_slice() else {
        panic!("usage: bindery-soak BINDERY api|run SECONDS CONCURRENCY");
    };
    let duration = Duration::from_secs(seconds.parse().expect("SECONDS"));
    let concurrency: usize = concurrency.parse().expect("CONCURRENCY");

    let received = Arc::new(AtomicU64::new(0));
    let app = ack_app(received.clone()).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut target = match mode.as_str() {
        "api" => sidecar(bindery, &dir, app),
        "run" => run(bindery, &dir, app),
        other => panic!("mode {other:?}: expected api or run"),
    };
    let pid = target.child.id();
    wait_listening(target.port, &mut target.child).await;

    let report = load(&target.url, target.body, target.headers, duration, concurrency, pid).await;
    let _ = target.child.kill();
    let _ = target.child.wait();
    println!("{mode}: {report}, delivered to the app {}", received.load(Ordering::Relaxed));
}

/// The bindery process under load, and the request to send it.
struct Target {
    child: Child,
    /// The port that answers once the process is ready.
    port: u16,
    url: String,
    body: String,
    headers: Vec<(&'static str, String)>,
}

/// `bindery sidecar` with an HTTP output binding to the app; the load is
/// the output API's `POST /v1.0/bindings/echo`.
fn sidecar(bindery: &str, dir: &tempfile::TempDir, app: SocketAddr) -> Target {
    let component = format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: echo\nspec:\n  type: bindings.http\n  \
         version: v1\n  metadata:\n    - name: url\n      value: http://{app}/\n"
    );
    std::fs::write(dir.path().join("echo.yaml"), component).expect("write the component");
    let (http, grpc) = (free_port(), free_port());
    let (http_text, grpc_text) = (http.to_string(), grpc.to_string());
    let args = ["sidecar", "--components", &path(dir), "--http-port", &http_text, "--grpc-port", &grpc_text];
    let body = r#"{"operation":"post","data":{"order":42,"items":["a","b"]},"metadata":{"path":"/orders"}}"#;
    Target {
        child: spawn(bindery, &args),
        port: http,
        url: format!("http://127.0.0.1:{http}/v1.0/bindings/echo"),
        body: body.to_owned(),
        headers: Vec::new(),
    }
}

/// `bindery run` with a GitHub-signed webhook input binding delivering to
/// the app; the load is signed `POST /github` on the webhook port.
fn run(bindery: &str, dir: &tempfile::TempDir, app: SocketAddr) -> Target {
    let component = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: github\nspec:\n  \
         type: bindings.http\n  version: v1\n  metadata:\n    - name: direction\n      value: input\n    \
         - name: signatureScheme\n      value: github\n    - name: signatureSecret\n      \
         secretKeyRef:\n        name: SOAK_SECRET\n        key: SOAK_SECRET\n";
    std::fs::write(dir.path().join("github.yaml"), component).expect("write the component");
    let (args, webhook) = bindery_e2e::bindery_run_args(&path(dir), &format!("http://{app}"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let body = r#"{"action":"opened","number":42,"repository":{"full_name":"acme/shop"}}"#.to_owned();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    Target {
        child: spawn(bindery, &args),
        port: webhook,
        url: format!("http://127.0.0.1:{webhook}/github"),
        body,
        headers: vec![("x-hub-signature-256", signature), ("x-github-event", "pull_request".to_owned())],
    }
}

struct Report {
    requests: u64,
    errors: u64,
    latencies_us: Vec<u32>,
    rss_start_kib: u64,
    rss_end_kib: u64,
    rss_max_kib: u64,
    /// A sample per minute, to tell a plateau from a slow leak.
    rss_each_minute_kib: Vec<u64>,
    elapsed: Duration,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let at = |q: f64| sorted.get(((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1)));
        let ms = |v: Option<&u32>| v.map_or(0.0, |us| f64::from(*us) / 1000.0);
        write!(
            f,
            "{} requests in {:.0} s ({:.0}/s), errors {}, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, \
             RSS start {:.1} MiB, end {:.1} MiB, max {:.1} MiB, each minute [{}] MiB",
            self.requests,
            self.elapsed.as_secs_f64(),
            self.requests as f64 / self.elapsed.as_secs_f64(),
            self.errors,
            ms(at(0.5)),
            ms(at(0.99)),
            ms(sorted.last()),
            self.rss_start_kib as f64 / 1024.0,
            self.rss_end_kib as f64 / 1024.0,
            self.rss_max_kib as f64 / 1024.0,
            self.rss_each_minute_kib
                .iter()
                .map(|kib| format!("{:.1}", *kib as f64 / 1024.0))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

async fn load(
    url: &str,
    body: String,
    headers: Vec<(&'static str, String)>,
    duration: Duration,
    concurrency: usize,
    pid: u32,
) -> Report {
    bindery_e2e::loopback_only(url);
    let uri: http::Uri = url.parse().expect("a URL");
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let body = Bytes::from(body);
    let (errors, requests) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let started = Instant::now();
    let end = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, uri, body, headers) = (client.clone(), uri.clone(), body.clone(), headers.clone());
            let (errors, requests) = (errors.clone(), requests.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < end {
                    let mut request = http::Request::post(uri.clone()).header("content-type", "application/json");
                    for (name, value) in &headers {
                        request = request.header(*name, value);
                    }
                    let request = request.body(Full::new(body.clone())).expect("a valid request");
                    let sent = Instant::now();
                    let ok = match client.request(request).await {
                        Ok(response) => {
                            let status = response.status();
                            response.into_body().collect().await.is_ok() && status == http::StatusCode::OK
                        }
                        Err(_) => false,
                    };
                    latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                    requests.fetch_add(1, Ordering::Relaxed);
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies
            })
        })
        .collect();

    let mut rss_start_kib = 0;
    let mut rss_max_kib = 0;
    let mut rss_each_minute_kib = Vec::new();
    let mut samples = 0;
    while Instant::now() + SAMPLE_EVERY < end {
        tokio::time::sleep(SAMPLE_EVERY).await;
        let rss = rss_kib(pid);
        if rss_start_kib == 0 {
            rss_start_kib = rss;
        }
        rss_max_kib = rss_max_kib.max(rss);
        samples += 1;
        if samples % (60 / SAMPLE_EVERY.as_secs()) == 0 {
            rss_each_minute_kib.push(rss);
        }
    }
    let mut latencies_us = Vec::new();
    for worker in workers {
        latencies_us.extend(worker.await.expect("a load worker"));
    }
    let rss_end_kib = rss_kib(pid);
    Report {
        requests: requests.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        latencies_us,
        rss_start_kib: if rss_start_kib == 0 { rss_end_kib } else { rss_start_kib },
        rss_end_kib,
        rss_max_kib: rss_max_kib.max(rss_end_kib),
        rss_each_minute_kib,
        elapsed: started.elapsed(),
    }
}

/// The process's resident set, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the bindery process is running");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("a number of KiB")
}

/// An app that reads each request whole, counts it in `received` and
/// answers 200 with a small JSON body.
async fn ack_app(received: Arc<AtomicU64>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("a bound address");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let received = received.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|request: hyper::Request<hyper::body::Incoming>| {
                    let received = received.clone();
                    async move {
                        let _ = request.into_body().collect().await;
                        received.fetch_add(1, Ordering::Relaxed);
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                            b"{\"ok\":true}",
                        ))))
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    addr
}

fn spawn(bindery: &str, args: &[&str]) -> Child {
    Command::new(bindery)
        .args(args)
        .env_clear()
        .envs(std::env::var_os("PATH").map(|p| ("PATH", p)))
        .env("SOAK_SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bindery}: {e}"))
}

async fn wait_listening(port: u16, child: &mut Child) {
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("bindery exited with {status} before listening on {port}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("bindery did not listen on {port} within 20 s");
}

fn free_port() -> u16 {
    bindery_e2e::unused_port()
}

fn path(dir: &tempfile::TempDir) -> String {
    dir.path().display().to_string()
}
