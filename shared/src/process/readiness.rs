//! When the app counts as ready: a TCP connection is accepted, or an HTTP GET
//! is answered with a status below 500 (Lambda Web Adapter's default rule:
//! a 404 still proves a server is listening).

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use bytes::Bytes;
use http::uri::Scheme;
use http::{Request, Uri};
use http_body_util::Empty;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until, timeout_at};
use tracing::info;

use super::{ProcessError, ProcessErrorKind};

/// Time between two probes.
const POLL: Duration = Duration::from_millis(10);
/// The longest one probe may take, so one stuck connection cannot use up the wait.
const MAX_ATTEMPT: Duration = Duration::from_secs(2);
/// How often the wait is logged, so a slow start shows before the timeout.
const NOTE_EVERY: Duration = Duration::from_secs(2);

/// What proves the app ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// A TCP connection to this address is accepted.
    Tcp(SocketAddr),
    /// A `GET` of this `http://` URL is answered with a status below 500.
    Http { url: Uri },
}

/// The address of an app at `host:port`, resolved now, IPv4 first
/// (`localhost` may list `::1` first while apps commonly listen on 127.0.0.1
/// only). The error says which host could not be resolved.
pub fn app_address(host: &str, port: u16) -> Result<SocketAddr, String> {
    let addresses: Vec<SocketAddr> =
        (host, port).to_socket_addrs().map_err(|e| format!("cannot resolve {host:?}: {e}"))?.collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addresses.first())
        .copied()
        .ok_or_else(|| format!("{host:?} has no address"))
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(address) => write!(f, "a TCP connection to {address}"),
            Self::Http { url } => write!(f, "GET {url}"),
        }
    }
}

impl Readiness {
    /// Probes until ready or `deadline`; the error says what the last probe saw.
    pub(super) async fn wait(&self, deadline: Instant) -> Result<(), ProcessError> {
        self.check()?;
        let started = Instant::now();
        let mut next_note = started + NOTE_EVERY;
        let mut last = String::new();
        loop {
            let attempt_started = Instant::now();
            let cut_by_deadline = deadline < attempt_started + MAX_ATTEMPT;
            last = match timeout_at(deadline.min(attempt_started + MAX_ATTEMPT), self.probe()).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(reason)) => reason,
                // An attempt the overall deadline cut short (possibly at once:
                // the timer has millisecond granularity) says less than the
                // one before it.
                Err(_) if cut_by_deadline && !last.is_empty() => last,
                Err(_) => format!("{self} got no answer within {} ms", attempt_started.elapsed().as_millis()),
            };
            let now = Instant::now();
            if now >= next_note {
                let waited_ms = (now - started).as_millis() as u64;
                info!(waited_ms, last_attempt = %last, "waiting for the app to be ready");
                next_note = now + NOTE_EVERY;
            }
            // No attempt is started at the deadline: it could only be cut short.
            sleep_until((now + POLL).min(deadline)).await;
            if Instant::now() >= deadline {
                return Err(ProcessError::new(ProcessErrorKind::NotReady, last));
            }
        }
    }

    fn check(&self) -> Result<(), ProcessError> {
        let Self::Http { url } = self else { return Ok(()) };
        if url.scheme() != Some(&Scheme::HTTP) || url.host().is_none() {
            return Err(ProcessError::new(
                ProcessErrorKind::InvalidReadiness,
                format!("the readiness URL {url} must be http://host[:port]/path"),
            ));
        }
        Ok(())
    }

    /// One attempt; `Err` describes what it saw.
    async fn probe(&self) -> Result<(), String> {
        match self {
            Self::Tcp(address) => match TcpStream::connect(address).await {
                Ok(_) => Ok(()),
                Err(e) => Err(format!("nothing accepted a TCP connection on {address} ({e})")),
            },
            Self::Http { url } => match get_status(url).await {
                Ok(status) if status.as_u16() < 500 => Ok(()),
                Ok(status) => Err(format!("GET {url} answered {status}")),
                Err(e) => Err(format!("GET {url} failed: {e}")),
            },
        }
    }
}

/// The status of `GET url` on a connection of its own, closed afterwards.
async fn get_status(url: &Uri) -> Result<http::StatusCode, String> {
    let host = url.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let port = url.port_u16().unwrap_or(80);
    let stream = TcpStream::connect((host, port)).await.map_err(|e| format!("no connection ({e})"))?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    let authority = url.authority().map_or(host, |a| a.as_str());
    let path = url.path_and_query().map_or("/", |p| p.as_str());
    let request = Request::get(path)
        .header(http::header::HOST, authority)
        .header(http::header::USER_AGENT, "bindery-readiness")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    // The connection is driven by a task of its own; if it ends first, the
    // request fails with the reason.
    let driver = tokio::spawn(connection);
    let status = sender.send_request(request).await.map(|r| r.status()).map_err(|e| e.to_string());
    driver.abort();
    status
}
