//! A real browser for the pages bindery serves: Debian's Chromium, headless,
//! driven by ChromeDriver over WebDriver (W3C), on loopback pages only.
//! `scripts/test` installs both (`chromium`, `chromium-driver`).
//!
//! `chromium --dump-dom` cannot look at a live page: it dumps at the load
//! event, before a stream's first message, and with a virtual-time budget it
//! waits forever on a stream that never ends. WebDriver reads the DOM
//! whenever asked.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn installed(path: &str) -> PathBuf {
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "{} does not exist: run the tests with scripts/test, which installs Debian's chromium and chromium-driver",
        path.display()
    );
    path
}

/// A headless Chromium session, ended (and its driver stopped) when dropped.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts ChromeDriver on a port of its own and a headless Chromium with
    /// nothing of its own on the network (this machine's network is closed,
    /// and its background connections would be refused many at a time).
    pub async fn start() -> Self {
        let port = crate::unused_port();
        let driver = Command::new(installed(CHROMEDRIVER))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("a profile folder");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1000,700",
        ]
        .map(str::to_owned)
        .into_iter()
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": installed(CHROMIUM), "args": args},
        }}});
        let give_up = Instant::now() + Duration::from_secs(20);
        let session = loop {
            match call("POST", &format!("{base}/session"), Some(&capabilities)).await {
                Ok(answer) => break answer["value"]["sessionId"].as_str().expect("a session id").to_owned(),
                Err(e) if Instant::now() < give_up => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("chromedriver gave no session: {e}"),
            }
        };
        Browser { driver, base, session, _profile: profile }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    /// Opens `url` (loopback only).
    pub async fn open(&self, url: &str) {
        crate::loopback_only(url);
        call("POST", &self.url("/url"), Some(&json!({"url": url}))).await.expect("navigate");
    }

    /// What `script` (the body of a function) returns in the page.
    pub async fn run(&self, script: &str) -> Value {
        let body = json!({"script": script, "args": []});
        call("POST", &self.url("/execute/sync"), Some(&body)).await.expect("execute")["value"].take()
    }

    /// The page's HTML once `ready` (a script returning a boolean) is true,
    /// or after `timeout` as it then stands.
    pub async fn html_when(&self, ready: &str, timeout: Duration) -> String {
        let give_up = Instant::now() + timeout;
        while self.run(ready).await != Value::Bool(true) && Instant::now() < give_up {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.run("return document.documentElement.outerHTML").await.as_str().unwrap_or_default().to_owned()
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        let answer = call("GET", &self.url("/screenshot"), None).await.expect("screenshot");
        base64::engine::general_purpose::STANDARD.decode(answer["value"].as_str().unwrap_or_default()).expect("a PNG")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let url = self.url("");
        // The session ends with the driver, whose process is killed below.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(runtime) = runtime {
                let _ = runtime.block_on(call("DELETE", &url, None));
            }
        })
        .join();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One WebDriver call: its JSON answer, or why it failed.
async fn call(method: &str, url: &str, body: Option<&Value>) -> Result<Value, String> {
    crate::loopback_only(url);
    let client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Full<Bytes>>();
    let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let request = http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let response = client.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status();
    let bytes = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_success() { Ok(answer) } else { Err(format!("{method} {url}: {status} {answer}")) }
}
