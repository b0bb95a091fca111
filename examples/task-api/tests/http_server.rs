//! The `task-api` binary as the functions reach it: over HTTP, on the port
//! `PORT` names, with its output bindings from `BINDERY_COMPONENTS`.
//!
//! (Being an integration test, this also makes `cargo test` build the
//! example's binaries, which the end-to-end tests in `tests/` run.)
#![allow(clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn call(method: &str, url: &str, body: &str) -> (u16, String) {
    let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let request = http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(Full::from(body.to_owned()))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    (status, String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
}

#[tokio::test]
async fn serves_tasks_over_http_with_its_components() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: reports\nspec:\n  type: bindings.localstorage\n  \
         version: v1\n  metadata:\n  - name: rootPath\n    value: {}\n",
        dir.path().join("reports").display()
    );
    std::fs::write(dir.path().join("reports.yaml"), yaml).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _app = Killed(
        Command::new(env!("CARGO_BIN_EXE_task-api"))
            .env("PORT", port.to_string())
            .env("BINDERY_COMPONENTS", dir.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(call("POST", &format!("{url}/tasks"), r#"{"title":"over HTTP"}"#).await.0, 201);
    let (status, body) = call("GET", &format!("{url}/tasks"), "").await;
    assert_eq!((status, body.as_str()), (200, r#"[{"id":1,"title":"over HTTP","done":false}]"#));
}

#[test]
fn a_bad_component_stops_it_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: reports\nspec:\n  type: bindings.localstorage\n  version: v1\n  metadata: []\n";
    std::fs::write(dir.path().join("reports.yaml"), yaml).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_task-api")).env("BINDERY_COMPONENTS", dir.path()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("reports.yaml") && stderr.contains("rootPath"), "{stderr}");
}
