//! An app that misbehaves on purpose, at the TCP level: it does what no HTTP
//! framework would let it do (reset a connection in the middle of a body,
//! promise a body and cut it short), for the fault-injection tests.
//!
//! Each request is matched by a rule on its `messageid` header (the SQS
//! record's id, as bindery delivers it); the app records what it did to each.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the app does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No fault: reads the whole request and answers this status, empty body,
    /// keeping the connection open.
    Answer(u16),
    /// Reads the head and at most half of the body, then resets the connection.
    ResetMidRequest,
    /// Reads the request, answers `200` with `Content-Length: 100`, sends 10
    /// bytes of it, then closes the connection.
    TruncatedOk,
    /// Reads the request, answers `200` with `Content-Length: 100`, sends 10
    /// bytes of it, then resets the connection.
    ResetMidResponse,
    /// Reads the request, answers `200` with `Content-Length: 2097152`,
    /// sends 1.5 MiB of it, then resets the connection.
    ResetMidLargeResponse,
    /// Reads the request and answers `200` with a whole 3 MiB body.
    LargeOk,
    /// Reads the request and never answers (until the app is dropped).
    Hang,
}

/// One request as the app saw it, and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// The `messageid` header; empty if there was none.
    pub message_id: String,
    pub fault: Fault,
}

impl Handled {
    /// Whether the app acknowledged the request: a whole 2xx answer.
    pub fn acknowledged(&self) -> bool {
        matches!(self.fault, Fault::Answer(200..=299) | Fault::LargeOk)
    }
}

type Rule = Arc<dyn Fn(&str) -> Fault + Send + Sync>;

struct Shared {
    rule: RwLock<Rule>,
    handled: Mutex<Vec<Handled>>,
    connections: AtomicUsize,
}

/// The app on 127.0.0.1 with an ephemeral port; stops when dropped.
pub struct FaultyApp {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl FaultyApp {
    /// Starts the app; `rule` decides the fault for each `messageid`.
    pub async fn start(rule: impl Fn(&str) -> Fault + Send + Sync + 'static) -> FaultyApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr of a bound listener");
        let shared = Arc::new(Shared {
            rule: RwLock::new(Arc::new(rule)),
            handled: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        FaultyApp { addr, shared, accept }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the rule, e.g. with `|_| Fault::Answer(200)` once the app "recovers".
    pub fn set_rule(&self, rule: impl Fn(&str) -> Fault + Send + Sync + 'static) {
        *self.shared.rule.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(rule);
    }

    /// How many connections the app has accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Every request handled so far, in order.
    pub fn handled(&self) -> Vec<Handled> {
        self.shared.handled.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

impl Drop for FaultyApp {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        shared.connections.fetch_add(1, Ordering::Relaxed);
        while connections.try_join_next().is_some() {}
        // Aborted with the JoinSet when the accept loop is aborted.
        connections.spawn(serve(stream, shared.clone()));
    }
}

/// Serves requests on one connection until a fault ends it or the client closes it.
async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buffer = Vec::new();
    loop {
        let Some((head_len, content_length, message_id)) = read_head(&mut stream, &mut buffer).await else { return };
        let rule = shared.rule.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        let fault = rule(&message_id);
        shared.handled.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(Handled { message_id, fault });
        let body_wanted = if fault == Fault::ResetMidRequest { content_length / 2 } else { content_length };
        while buffer.len() < head_len + body_wanted {
            if !read_more(&mut stream, &mut buffer).await {
                return;
            }
        }
        const PROMISE_100: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789";
        match fault {
            Fault::Answer(status) => {
                buffer.drain(..head_len + content_length);
                let head = format!("HTTP/1.1 {status} Fault\r\ncontent-length: 0\r\n\r\n");
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
            }
            Fault::ResetMidRequest => return reset(stream),
            Fault::TruncatedOk => {
                let _ = stream.write_all(PROMISE_100).await;
                let _ = stream.shutdown().await;
                return;
            }
            Fault::ResetMidResponse => {
                let _ = stream.write_all(PROMISE_100).await;
                let _ = stream.flush().await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                return reset(stream);
            }
            Fault::ResetMidLargeResponse => {
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", 2 << 20);
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&vec![b'x'; 3 << 19]).await;
                let _ = stream.flush().await;
                // Long enough for the client to read all it was sent.
                tokio::time::sleep(Duration::from_millis(200)).await;
                return reset(stream);
            }
            Fault::LargeOk => {
                buffer.drain(..head_len + content_length);
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", 3 << 20);
                let sent = stream.write_all(head.as_bytes()).await.and(stream.write_all(&vec![b'x'; 3 << 20]).await);
                if sent.is_err() {
                    return;
                }
            }
            Fault::Hang => return std::future::pending().await,
        }
    }
}

/// Closes with a TCP reset (RST) instead of an orderly FIN.
fn reset(stream: TcpStream) {
    // A zero linger makes close() send RST and discard unsent data.
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// Reads until `buffer` holds a whole request head; returns its length, the
/// body's `content-length` and the `messageid` header. `None` when the
/// client closed the connection or sent something that is not HTTP.
async fn read_head(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(usize, usize, String)> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(buffer) {
            Ok(httparse::Status::Complete(head_len)) => {
                let header = |name: &str| {
                    request.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.to_vec())
                };
                let content_length = header("content-length")
                    .and_then(|v| String::from_utf8(v).ok())
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                let message_id =
                    header("messageid").map(|v| String::from_utf8_lossy(&v).into_owned()).unwrap_or_default();
                return Some((head_len, content_length, message_id));
            }
            Ok(httparse::Status::Partial) => {
                if !read_more(stream, buffer).await {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
}

/// Appends what arrives to `buffer`; false when the connection is closed.
async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buffer.extend_from_slice(&chunk[..n]);
            true
        }
    }
}
