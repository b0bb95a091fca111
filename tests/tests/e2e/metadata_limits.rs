//! Metadata that a strict server would refuse must not make a record
//! undeliverable. SQS allows 256 KiB of attributes on a message; Node's
//! HTTP server refuses more than 16 KiB of headers with 431 (Tomcat's,
//! nginx's 8 KiB), so a record whose attributes went out as headers failed
//! on every receive until its DLQ, blocking its FIFO group. Past
//! `BINDERY_MAX_METADATA_BYTES` (8 KiB by default) the items that do not fit
//! are left out and named in `bindery-metadata-omitted`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bindery_e2e::{InvokeOptions, unused_port};
use serde_json::{Value, json};

use crate::common::{SECOND, sqs_record, start_sqs};

/// `node_app.js` on a port of its own, recording into a file.
struct NodeApp {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl NodeApp {
    async fn start() -> NodeApp {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("app.js");
        // The directory goes when this returns: by then Node has read the script and listens.
        std::fs::write(&script, include_str!("common/node_app.js")).unwrap();
        let (port, log) = (unused_port(), tempfile::NamedTempFile::new().unwrap());
        let child = Command::new("node")
            .arg(&script)
            .arg(port.to_string())
            .arg(log.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("node (Node.js) is needed for this test: {e}"));
        // Killed and waited for on drop, whatever happens next.
        let app = NodeApp { child, port, log };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return app;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the Node app did not listen on {port}");
    }

    fn requests(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
    }
}

impl Drop for NodeApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn attributes_past_the_limit_are_named_not_sent_so_a_strict_server_takes_the_record() {
    let app = NodeApp::start().await;
    let f = start_sqs(&format!("http://127.0.0.1:{}", app.port), &[]).await;
    let mut large = sqs_record("large", "with 20 KiB of attributes");
    large["messageAttributes"]["big"] = json!({"stringValue": "b".repeat(20 << 10), "dataType": "String"});
    large["messageAttributes"]["small"] = json!({"stringValue": "kept", "dataType": "String"});
    let event = json!({ "Records": [large, sqs_record("plain", "an ordinary record")] });

    let response =
        f.invoke(&event, InvokeOptions { deadline: 10 * SECOND, ..InvokeOptions::default() }).await.response();

    assert_eq!(response, json!({"batchItemFailures": []}), "{}", f.function.logs());
    let requests = app.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let large = requests.iter().find(|r| r["headers"]["messageid"] == "large").unwrap();
    assert_eq!(large["body"], "with 20 KiB of attributes");
    assert_eq!(large["headers"]["bindery-metadata-omitted"], "attr-big");
    assert_eq!(large["headers"]["attr-small"], "kept");
    assert!(large["headers"].get("attr-big").is_none());
    let plain = requests.iter().find(|r| r["headers"]["messageid"] == "plain").unwrap();
    assert!(plain["headers"].get("bindery-metadata-omitted").is_none(), "{plain}");
}

/// `BINDERY_MAX_METADATA_BYTES` raises the limit for an app whose server
/// takes larger headers (hyper's, here).
#[tokio::test]
async fn bindery_max_metadata_bytes_raises_the_limit() {
    let app = bindery_e2e::RecordingApp::start().await;
    let f = start_sqs(&app.url(), &[("BINDERY_MAX_METADATA_BYTES", "65536")]).await;
    let mut large = sqs_record("large", "body");
    large["messageAttributes"]["big"] = json!({"stringValue": "b".repeat(20 << 10), "dataType": "String"});

    let response = f.invoke(&json!({ "Records": [large] }), InvokeOptions::default()).await.response();

    assert_eq!(response, json!({"batchItemFailures": []}), "{}", f.function.logs());
    let requests = app.requests();
    assert_eq!(requests[0].header("attr-big").map(str::len), Some(20 << 10));
    assert_eq!(requests[0].header("bindery-metadata-omitted"), None);
}
