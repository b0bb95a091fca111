//! Real processes: `sh`, `sleep` and small Python servers on loopback.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use http::Uri;

use super::*;

const SECOND: Duration = Duration::from_secs(1);

/// Listens on `$PORT` after 200 ms and never accepts: the backlog completes connections.
const TCP_LISTENER: &str = r"
import os, socket, time
time.sleep(0.2)
s = socket.socket()
s.bind(('127.0.0.1', int(os.environ['PORT'])))
s.listen()
time.sleep(60)
";

/// Answers every GET on `$PORT` with `$STATUS`.
const HTTP_STATUS_SERVER: &str = r"
import os, http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(int(os.environ['STATUS']))
        self.send_header('content-length', '0')
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()
";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn tcp(port: u16) -> Readiness {
    Readiness::Tcp(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// Whether `pid` is a live process (a zombie is not).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

async fn dead_within(pid: u32, timeout: Duration) -> bool {
    let give_up = Instant::now() + timeout;
    while alive(pid) {
        if Instant::now() >= give_up {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// The pid a script wrote to `file`, once it is there.
async fn pid_from(file: &Path) -> u32 {
    let give_up = Instant::now() + 5 * SECOND;
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        assert!(Instant::now() < give_up, "no pid in {}", file.display());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `sh` starting a `sleep` in the background (the grandchild), its pid in `pid_file`.
fn with_grandchild(pid_file: &Path, ignore_term: bool) -> AppCommand {
    let trap = if ignore_term { "trap '' TERM; " } else { "" };
    AppCommand::shell(format!("{trap}sleep 1000 & echo $! > '{}'; wait", pid_file.display()))
}

#[tokio::test]
async fn ready_when_a_tcp_connection_is_accepted() {
    let port = free_port();
    let mut app =
        AppProcess::spawn(AppCommand::argv(["python3", "-c", TCP_LISTENER]), &env(&[("PORT", &port.to_string())]))
            .unwrap();
    let started = Instant::now();
    app.wait_ready(&tcp(port), 10 * SECOND).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200), "ready before it listened");
    assert_eq!(app.status(), None);
    app.shutdown(SECOND).await;
}

#[tokio::test]
async fn ready_when_a_get_is_answered_below_500() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let command = format!("exec python3 -m http.server $PORT --bind 127.0.0.1 --directory '{}'", dir.path().display());
    let mut app = AppProcess::spawn(AppCommand::shell(command), &env(&[("PORT", &port.to_string())])).unwrap();
    // http.server answers 404 for a missing file: a server is there, so it is ready.
    let url: Uri = format!("http://127.0.0.1:{port}/healthz").parse().unwrap();
    app.wait_ready(&Readiness::Http { url }, 10 * SECOND).await.unwrap();
    app.shutdown(SECOND).await;
}

#[tokio::test]
async fn an_answer_of_500_or_more_is_not_ready() {
    let port = free_port();
    let vars = env(&[("PORT", &port.to_string()), ("STATUS", "503")]);
    let mut app = AppProcess::spawn(AppCommand::argv(["python3", "-c", HTTP_STATUS_SERVER]), &vars).unwrap();
    let url: Uri = format!("http://127.0.0.1:{port}/ready").parse().unwrap();
    let error = app.wait_ready(&Readiness::Http { url }, Duration::from_millis(1500)).await.unwrap_err();
    assert_eq!(error.kind, ProcessErrorKind::NotReady);
    assert!(
        error.message.ends_with(&format!(
            "was not ready within 1500 ms: GET http://127.0.0.1:{port}/ready answered 503 Service Unavailable"
        )),
        "{error}"
    );
    app.shutdown(SECOND).await;
}

#[tokio::test]
async fn exiting_before_ready_fails_at_once_naming_the_command_and_status() {
    let mut app = AppProcess::spawn(AppCommand::shell("sleep 0.1; exit 3"), &[]).unwrap();
    let started = Instant::now();
    let error = app.wait_ready(&tcp(free_port()), 10 * SECOND).await.unwrap_err();
    assert!(started.elapsed() < 2 * SECOND, "waited {:?}", started.elapsed());
    assert_eq!(error.message, "the app (sleep 0.1; exit 3) exited with status 3 before it was ready");
    assert!(matches!(error.kind, ProcessErrorKind::ExitedBeforeReady(s) if s.code() == Some(3)));
}

#[tokio::test]
async fn early_exits_by_signal_or_missing_command_are_named() {
    let mut killed = AppProcess::spawn(AppCommand::shell("kill -9 $$"), &[]).unwrap();
    let error = killed.wait_ready(&tcp(free_port()), 10 * SECOND).await.unwrap_err();
    assert_eq!(error.message, "the app (kill -9 $$) was killed by signal 9 (SIGKILL) before it was ready");

    let mut missing = AppProcess::spawn(AppCommand::shell("bindery-no-such-program --port 1"), &[]).unwrap();
    let error = missing.wait_ready(&tcp(free_port()), 10 * SECOND).await.unwrap_err();
    assert_eq!(
        error.message,
        "the app (bindery-no-such-program --port 1) exited with status 127 before it was ready (sh: command not found)"
    );

    let error = AppProcess::spawn(AppCommand::argv(["/nonexistent/bindery-app", "a b"]), &[]).unwrap_err();
    assert_eq!(error.kind, ProcessErrorKind::Spawn);
    assert!(error.message.starts_with("cannot start the app (/nonexistent/bindery-app 'a b'): "), "{error}");
}

#[tokio::test]
async fn timing_out_says_which_address_did_not_answer() {
    let port = free_port();
    let mut app = AppProcess::spawn(AppCommand::shell("sleep 30"), &[]).unwrap();
    let started = Instant::now();
    let error = app.wait_ready(&tcp(port), Duration::from_millis(300)).await.unwrap_err();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300) && waited < 2 * SECOND, "waited {waited:?}");
    assert_eq!(error.kind, ProcessErrorKind::NotReady);
    let expected = format!(
        "the app (sleep 30) was not ready within 300 ms: nothing accepted a TCP connection on 127.0.0.1:{port} ("
    );
    assert!(error.message.starts_with(&expected), "{error}");
    assert_eq!(app.status(), None, "a timeout leaves the app to its owner");
}

#[tokio::test]
async fn an_unusable_readiness_url_is_refused() {
    let mut app = AppProcess::spawn(AppCommand::shell("sleep 30"), &[]).unwrap();
    let url: Uri = "https://127.0.0.1:1/ready".parse().unwrap();
    let error = app.wait_ready(&Readiness::Http { url }, 10 * SECOND).await.unwrap_err();
    assert_eq!(error.kind, ProcessErrorKind::InvalidReadiness);
}

#[tokio::test]
async fn the_exit_is_observable_later() {
    let mut app = AppProcess::spawn(AppCommand::shell("sleep 0.1; exit 4"), &[]).unwrap();
    let mut watch = app.exit_watch();
    assert_eq!(watch.status(), None);
    let status = tokio::time::timeout(5 * SECOND, app.exited()).await.unwrap();
    assert_eq!(status.code(), Some(4));
    assert_eq!(watch.wait().await.code(), Some(4));
    assert_eq!(describe_exit(status), "exited with status 4");
}

#[tokio::test]
async fn shutdown_stops_the_whole_group_with_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("grandchild.pid");
    let app = AppProcess::spawn(with_grandchild(&pid_file, false), &[]).unwrap();
    let grandchild = pid_from(&pid_file).await;
    assert!(alive(grandchild));

    let started = Instant::now();
    let status = app.shutdown(5 * SECOND).await.unwrap();
    assert!(started.elapsed() < SECOND, "SIGTERM was enough, yet it took {:?}", started.elapsed());
    assert_eq!(status.signal(), Some(Signal::SIGTERM as i32));
    assert!(dead_within(grandchild, SECOND).await, "the grandchild {grandchild} survived");
}

#[tokio::test]
async fn shutdown_kills_what_ignores_sigterm_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("grandchild.pid");
    let app = AppProcess::spawn(with_grandchild(&pid_file, true), &[]).unwrap();
    let grandchild = pid_from(&pid_file).await;

    let started = Instant::now();
    let status = app.shutdown(Duration::from_millis(300)).await.unwrap();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300) && took < 2 * SECOND, "took {took:?}");
    assert_eq!(status.signal(), Some(Signal::SIGKILL as i32));
    assert!(dead_within(grandchild, SECOND).await, "the grandchild {grandchild} survived");
}

#[tokio::test]
async fn dropping_kills_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("grandchild.pid");
    let app = AppProcess::spawn(with_grandchild(&pid_file, true), &[]).unwrap();
    let (leader, grandchild) = (app.pid(), pid_from(&pid_file).await);
    drop(app);
    assert!(dead_within(grandchild, 2 * SECOND).await, "the grandchild {grandchild} survived");
    assert!(dead_within(leader, 2 * SECOND).await, "the app {leader} survived");
}

#[test]
fn spawning_needs_a_runtime() {
    let error = AppProcess::spawn(AppCommand::shell("true"), &[]).unwrap_err();
    assert_eq!(error.message, "cannot start the app (true): no Tokio runtime to watch it");
}

#[test]
fn commands_read_as_typed() {
    assert_eq!(AppCommand::shell("python app.py > /dev/null").to_string(), "python app.py > /dev/null");
    assert_eq!(
        AppCommand::argv(["python", "app.py", "a b", "it's", ""]).to_string(),
        r"python app.py 'a b' 'it'\''s' ''"
    );
    assert_eq!(format!("{:?}", AppCommand::argv(["uvicorn", "app:app"])), "AppCommand(uvicorn app:app)");
    assert_eq!(AppCommand::shell("cd app\n\texec ./run").to_string(), r"cd app\n\texec ./run", "one line");
}
