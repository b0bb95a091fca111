//! The real Dapr Python SDK (PyPI `dapr`) invokes every output binding
//! through `bindery sidecar`, over gRPC (`DaprClient().invoke_binding`) and
//! over daprd's HTTP API, against moto and local servers: what the SDK gets
//! back and what reached each service are both checked.

use std::time::Duration;

use crate::common::{ComponentsDir, Sidecar, bindery_sidecar, component, value};
use bindery_e2e::aws::Emulator;
use bindery_e2e::{FunctionProcess, RecordingApp, Reply, python};
use serde_json::{Value, json};

/// Runs `calls` through `tests/python/dapr_client_calls.py` against `sidecar`
/// and returns its results.
pub(crate) async fn python_calls(sidecar: &Sidecar, token: Option<&str>, calls: &Value) -> Vec<Value> {
    sdk_calls((sidecar.http_port, sidecar.grpc_port), token, calls, &sidecar.process).await
}

/// Runs `calls` through `tests/python/dapr_client_calls.py` against the Dapr
/// API on `ports` (HTTP, gRPC), which `server` serves (its logs are shown if
/// the client fails), and returns its results.
pub(crate) async fn sdk_calls(
    (http_port, grpc_port): (u16, u16),
    token: Option<&str>,
    calls: &Value,
    server: &FunctionProcess,
) -> Vec<Value> {
    let mut env = vec![
        ("DAPR_HTTP_PORT".to_owned(), http_port.to_string()),
        ("DAPR_GRPC_PORT".to_owned(), grpc_port.to_string()),
        ("DAPR_HEALTH_TIMEOUT".to_owned(), "10".to_owned()),
    ];
    env.extend(token.map(|t| ("DAPR_API_TOKEN".to_owned(), t.to_owned())));
    let output = python::run(python::script("dapr_client_calls.py"), env, calls.to_string().into_bytes()).await;
    assert!(
        output.status.success(),
        "the Python client failed: {}\n{}\nserver:\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout),
        server.logs()
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

pub(crate) fn call(via: &str, binding: &str, operation: &str, data: Value, metadata: Value) -> Value {
    json!({"via": via, "binding": binding, "operation": operation, "data": data, "metadata": metadata})
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_sdk_invokes_every_output_binding_over_grpc_and_http() {
    let emulator = Emulator::from_env();
    let bucket = emulator.bucket("sdk").await;
    let sender = format!("{}@example.com", emulator.unique("sender"));
    emulator.email_identity(&sender).await;
    let queue = emulator.unique("sdk-queue");
    let sqs = emulator.sqs().await;
    let queue_url = sqs.create_queue().queue_name(&queue).send().await.unwrap().queue_url.unwrap();
    let monitoring = RecordingApp::start().await;
    monitoring.set_reply(|request| match request.path.as_str() {
        "/missing" => Reply::StatusBody(404, vec![], bytes::Bytes::from_static(br#"{"error":"no such hook"}"#)),
        _ => Reply::Status(200),
    });

    let dir = ComponentsDir::new();
    let files = dir.path().join("files");
    let mail = dir.path().join("mail");
    dir.write(
        "s3.yaml",
        &emulator.component("files-s3", "bindings.aws.s3", &[("bucket", &bucket), ("forcePathStyle", "true")]),
    );
    dir.write(
        "ses.yaml",
        &emulator.component("mail-ses", "bindings.aws.ses", &[("emailFrom", &sender), ("emailTo", "ops@example.com")]),
    );
    dir.write("sqs.yaml", &emulator.component("queue", "bindings.aws.sqs", &[("queueName", &queue)]));
    dir.write("http.yaml", &component("http-binding", "bindings.http", &[value("url", &monitoring.url())]));
    dir.write(
        "local.yaml",
        &component("files", "bindings.localstorage", &[value("rootPath", &files.display().to_string())]),
    );
    dir.write(
        "mailbox.yaml",
        &component("mailbox", "bindings.local.mailbox", &[value("rootPath", &mail.display().to_string())]),
    );
    let sidecar = bindery_sidecar(&dir, &[]).await;

    let calls = json!([
        // 0-3: S3 over gRPC: raw bytes in, the same bytes back.
        call("grpc", "files-s3", "create", json!("grpc hello"), json!({"key": "g.txt"})),
        call("grpc", "files-s3", "get", json!(""), json!({"key": "g.txt"})),
        call("grpc", "files-s3", "list", json!(""), json!({})),
        call("grpc", "files-s3", "get", json!(""), json!({"key": "missing.txt"})),
        // 4-5: S3 over HTTP: a JSON string is unquoted by the binding, an object stored as JSON.
        call("http", "files-s3", "create", json!("http hello"), json!({"key": "h.txt"})),
        call("http", "files-s3", "create", json!({"b": 1, "a": "<x>"}), json!({"key": "h.json"})),
        // 6-7: SES, raw over gRPC (where daprd fails) and quoted over HTTP.
        call("grpc", "mail-ses", "create", json!("<p>grpc mail</p>"), json!({"subject": "from grpc"})),
        call("http", "mail-ses", "create", json!("<p>http mail</p>"), json!({"subject": "from http"})),
        // 8-9: SQS output.
        call("grpc", "queue", "create", json!("grpc message"), json!({})),
        call("http", "queue", "create", json!({"task": 1}), json!({})),
        // 10-11: the HTTP binding.
        call("grpc", "http-binding", "post", json!(r#"{"event":"grpc"}"#), json!({"path": "/hooks"})),
        call("http", "http-binding", "post", json!({"event": "http"}), json!({"path": "/hooks"})),
        // 12-14: localstorage and the mailbox.
        call("grpc", "files", "create", json!("local grpc"), json!({"fileName": "g.txt"})),
        call("http", "files", "get", json!(null), json!({"fileName": "g.txt"})),
        call(
            "grpc",
            "mailbox",
            "create",
            json!("<p>local mail</p>"),
            json!({"emailTo": "a@example.com", "emailFrom": "b@example.com", "subject": "local"})
        ),
        // 15-17: errors.
        call("grpc", "nope", "create", json!(""), json!({})),
        call("http", "nope", "create", json!(null), json!({})),
        call("grpc", "files", "fly", json!(""), json!({})),
        // 18-19: a remote 404 keeps its status and body (daprd loses the body).
        call("grpc", "http-binding", "post", json!("x"), json!({"path": "/missing"})),
        call("http", "http-binding", "post", json!("x"), json!({"path": "/missing"})),
    ]);
    let results = python_calls(&sidecar, None, &calls).await;
    let ok = |i: usize| {
        assert_eq!(results[i]["ok"], true, "call {i}: {}", results[i]);
        &results[i]
    };

    // S3
    assert_eq!(ok(0)["metadata"]["key"], "g.txt");
    assert_eq!(ok(1)["data"], "grpc hello");
    let listed: Value = serde_json::from_str(ok(2)["data"].as_str().unwrap()).unwrap();
    assert_eq!(listed["Contents"][0]["Key"], "g.txt");
    assert_eq!(results[3]["code"], "INTERNAL");
    assert_eq!(
        (results[3]["reason"].as_str(), results[3]["domain"].as_str()),
        (Some("ERR_INVOKE_OUTPUT_BINDING"), Some("dapr.io"))
    );
    assert!(results[3]["message"].as_str().unwrap().starts_with("error invoking output binding files-s3: "));
    assert_eq!((ok(4)["status"].as_u64(), ok(4)["content_type"].as_str()), (Some(200), Some("application/json")));
    ok(5);
    let s3 = emulator.s3().await;
    let object = |key: &'static str| {
        let (s3, bucket) = (s3.clone(), bucket.clone());
        async move { s3.get_object().bucket(bucket).key(key).send().await.unwrap().body.collect().await.unwrap().to_vec() }
    };
    assert_eq!(object("h.txt").await, b"http hello");
    assert_eq!(object("h.json").await, br#"{"a":"\u003cx\u003e","b":1}"#);

    // SES: both mails arrive with the body as written.
    for (i, subject, body) in [(6, "from grpc", "<p>grpc mail</p>"), (7, "from http", "<p>http mail</p>")] {
        let id = ok(i)["headers"]["metadata.messageid"]
            .as_str()
            .or(ok(i)["metadata"]["messageId"].as_str())
            .unwrap()
            .to_owned();
        let sent = emulator.sent_email(&id).await;
        assert_eq!((sent["subject"].as_str(), sent["body"].as_str()), (Some(subject), Some(body)), "{sent}");
    }

    // SQS: the data as it came (raw over gRPC, JSON over HTTP).
    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    let mut bodies: Vec<String> = received.messages.unwrap_or_default().into_iter().filter_map(|m| m.body).collect();
    bodies.sort();
    assert_eq!(bodies, ["grpc message", r#"{"task":1}"#]);

    // HTTP binding: the monitoring app got both posts; the status comes back as metadata.
    let posts = monitoring.wait_for_requests(4, Duration::from_secs(5)).await;
    let mut seen: Vec<&[u8]> = posts.iter().filter(|p| p.path == "/hooks").map(|p| p.body.as_ref()).collect();
    seen.sort();
    assert_eq!(seen, [&br#"{"event":"grpc"}"#[..], br#"{"event":"http"}"#]);
    assert_eq!(ok(10)["metadata"]["statusCode"], "200");
    assert_eq!(ok(11)["headers"]["metadata.statuscode"], "200");

    // localstorage and the mailbox.
    assert_eq!(std::fs::read(files.join("g.txt")).unwrap(), b"local grpc");
    assert_eq!(ok(13)["data"], "local grpc");
    ok(14);
    let eml: Vec<_> = std::fs::read_dir(&mail).unwrap().collect();
    assert_eq!(eml.len(), 1);

    // Errors, in daprd's words.
    assert_eq!(results[15]["message"], "error invoking output binding nope: couldn't find output binding nope");
    assert_eq!(results[16]["code"], 500);
    assert_eq!(results[16]["error"]["errorCode"], "ERR_INVOKE_OUTPUT_BINDING");
    assert!(results[17]["message"].as_str().unwrap().contains("does not support operation fly"), "{}", results[17]);
    assert_eq!(results[18]["code"], "INTERNAL");
    assert_eq!(results[18]["headers"]["metadata.statuscode"], "404", "{}", results[18]);
    assert_eq!(results[18]["error_metadata"]["responseBody"], r#"{"error":"no such hook"}"#);
    assert_eq!(results[19]["headers"]["metadata.statuscode"], "404", "{}", results[19]);
    assert_eq!(results[19]["error"]["responseBody"], r#"{"error":"no such hook"}"#);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_sdk_sends_the_api_token_and_is_refused_without_it() {
    let dir = ComponentsDir::new();
    let files = dir.path().join("files");
    dir.write(
        "local.yaml",
        &component("files", "bindings.localstorage", &[value("rootPath", &files.display().to_string())]),
    );
    let sidecar = bindery_sidecar(&dir, &[("DAPR_API_TOKEN", "s3cret")]).await;
    let calls = json!([
        call("grpc", "files", "create", json!("with token"), json!({"fileName": "t.txt"})),
        call("http", "files", "create", json!("with token"), json!({"fileName": "h.txt"})),
    ]);
    let with_token = python_calls(&sidecar, Some("s3cret"), &calls).await;
    assert!(with_token.iter().all(|r| r["ok"] == true), "{with_token:?}");
    assert_eq!(std::fs::read(files.join("t.txt")).unwrap(), b"with token");

    let wrong = python_calls(&sidecar, Some("wrong"), &calls).await;
    assert_eq!(wrong[0]["code"], "UNAUTHENTICATED");
    assert_eq!(wrong[1]["code"], 401);
}
