//! A web page in the developer's browser must not reach the local API
//! (finding 2 of the second review): `bindery sidecar` and `bindery run`
//! refuse a `Host` that is not loopback (DNS rebinding) and any request a
//! browser marks as coming from a page (`Origin`, `Sec-Fetch-Site:
//! cross-site`), unless the user allowed it; the webhook port of `bindery
//! run` has the Host rule only. daprd has this hole. All with curl.

use std::path::Path;

use crate::common::webhook::{SECRET, github_signature};
use crate::common::{ComponentsDir, bindery_run, bindery_sidecar, component, curl, secret, value};
use bindery_e2e::RecordingApp;

/// A text/plain POST, a "simple request" a page may send with no preflight.
async fn post_plain(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut args: Vec<String> = ["-X", "POST", "-H", "Content-Type: text/plain"].map(String::from).to_vec();
    args.extend([
        "--data-binary".into(),
        r#"{"operation":"create","data":"pwned","metadata":{"fileName":"x"}}"#.into(),
    ]);
    for (name, value) in headers {
        args.extend(["-H".to_owned(), format!("{name}: {value}")]);
    }
    args.push(url.to_owned());
    curl(args).await
}

fn files_component(dir: &ComponentsDir, files: &Path) {
    dir.write(
        "files.yaml",
        &component("files", "bindings.localstorage", &[value("rootPath", &files.display().to_string())]),
    );
}

#[tokio::test]
async fn the_sidecar_refuses_forged_hosts_and_web_pages_and_serves_its_own_callers() {
    let dir = ComponentsDir::new();
    let files = dir.path().join("files");
    files_component(&dir, &files);
    let sidecar = bindery_sidecar(&dir, &[]).await;
    let api = format!("http://127.0.0.1:{}", sidecar.http_port);
    let invoke = format!("{api}/v1.0/bindings/files");

    let refused = [
        vec![("Host", "evil.example")],
        vec![("Host", "evil.example:3500")],
        vec![("Origin", "https://evil.example")],
        vec![("Origin", "null")],
        vec![("Sec-Fetch-Site", "cross-site")],
    ];
    for headers in &refused {
        let (status, body) = post_plain(&invoke, headers).await;
        assert_eq!(status, 403, "{headers:?}: {body}");
        assert!(body.contains("ERR_FORBIDDEN"), "{headers:?}: {body}");
    }
    // Reading answers by DNS rebinding: refused too; health stays open.
    let (status, _) = curl(vec!["-H".into(), "Host: evil.example".into(), format!("{api}/v1.0/metadata")]).await;
    assert_eq!(status, 403);
    let (status, _) = curl(vec!["-H".into(), "Host: evil.example".into(), format!("{api}/v1.0/healthz")]).await;
    assert_eq!(status, 204);
    assert!(!files.join("x").exists(), "a refused request wrote a file");

    // What the developer's own tools send: curl, an SDK, `localhost` by name.
    for headers in [vec![], vec![("Host", "localhost:3500")], vec![("Host", "[::1]")]] {
        let (status, body) = post_plain(&invoke, &headers).await;
        assert_eq!(status, 200, "{headers:?}: {body}");
    }
    // localstorage unquotes a JSON string, as Dapr's does.
    assert_eq!(std::fs::read(files.join("x")).unwrap(), b"pwned");
}

/// gRPC over cleartext HTTP/2, as curl sends it: a forged `:authority` is
/// `PERMISSION_DENIED` (7), the loopback one reaches the binding.
#[tokio::test]
async fn the_sidecar_grpc_port_refuses_a_forged_authority() {
    let dir = ComponentsDir::new();
    let files = dir.path().join("files");
    files_component(&dir, &files);
    let sidecar = bindery_sidecar(&dir, &[]).await;
    // InvokeBindingRequest{name: "files", data: "hi", metadata: {fileName: "g"}, operation: "create"},
    // length-prefixed as a gRPC message.
    let message: &[u8] = b"\x0a\x05files\x12\x02hi\x1a\x0d\x0a\x08fileName\x12\x01g\x22\x06create";
    let mut frame = vec![0u8];
    frame.extend((message.len() as u32).to_be_bytes());
    frame.extend(message);
    let request = dir.path().join("request.bin");
    std::fs::write(&request, frame).unwrap();
    // A refusal comes before the request body is read, so the forged call
    // sends none: curl reports a reset stream if it is still sending one.
    let empty = dir.path().join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    let call = |authority: &str, body: &std::path::Path| {
        let args: Vec<String> = [
            "-S",
            "--http2-prior-knowledge",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "-H",
            "content-type: application/grpc",
            "-H",
            "te: trailers",
            "-H",
            &format!("Host: {authority}"),
            "--data-binary",
            &format!("@{}", body.display()),
            &format!("http://127.0.0.1:{}/dapr.proto.runtime.v1.Dapr/InvokeBinding", sidecar.grpc_port),
        ]
        .map(String::from)
        .to_vec();
        curl(args)
    };
    let (_, head) = call("evil.example:50001", &empty).await;
    assert!(head.contains("grpc-status: 7"), "{head}");
    assert!(!files.join("g").exists());
    let (_, head) = call("127.0.0.1:50001", &request).await;
    assert!(!head.contains("grpc-status: 7"), "{head}");
    assert_eq!(std::fs::read(files.join("g")).unwrap(), b"hi");
}

#[tokio::test]
async fn hosts_and_origins_the_user_allowed_are_served() {
    let dir = ComponentsDir::new();
    let files = dir.path().join("files");
    files_component(&dir, &files);
    let env =
        [("BINDERY_ALLOWED_HOSTS", "sidecar,*.internal.example"), ("BINDERY_ALLOWED_ORIGINS", "http://localhost:5173")];
    let sidecar = bindery_sidecar(&dir, &env).await;
    let invoke = format!("http://127.0.0.1:{}/v1.0/bindings/files", sidecar.http_port);
    for headers in [
        vec![("Host", "sidecar:3500")],
        vec![("Host", "api.internal.example")],
        vec![("Origin", "http://localhost:5173"), ("Sec-Fetch-Site", "same-site")],
    ] {
        let (status, body) = post_plain(&invoke, &headers).await;
        assert_eq!(status, 200, "{headers:?}: {body}");
    }
    for headers in [vec![("Host", "evil.example")], vec![("Origin", "https://evil.example")]] {
        let (status, body) = post_plain(&invoke, &headers).await;
        assert_eq!(status, 403, "{headers:?}: {body}");
    }
}

/// `bindery run`: the API has both rules; the webhook port the Host rule
/// only (webhooks come from servers and tunnels), widened by a flag.
#[tokio::test(flavor = "multi_thread")]
async fn bindery_run_guards_its_api_and_its_webhook_port() {
    let app = RecordingApp::start().await;
    let dir = ComponentsDir::new();
    let files = dir.path().join("files");
    files_component(&dir, &files);
    let hook = [
        value("direction", "input"),
        value("signatureScheme", "github"),
        secret("signatureSecret", "GITHUB_WEBHOOK_SECRET"),
    ];
    dir.write("hook.yaml", &component("github-webhook", "bindings.http", &hook));
    let env = [("GITHUB_WEBHOOK_SECRET", SECRET)];
    let (bindery, webhook_port) = bindery_run(&dir, &app.url(), &env, "github-webhook: webhook").await;
    let body = r#"{"ref":"refs/heads/main"}"#;
    let signature = github_signature(body.as_bytes());
    let deliver = |host: &'static str| {
        let args: Vec<String> = [
            "-X",
            "POST",
            "-H",
            &format!("Host: {host}"),
            "-H",
            &format!("X-Hub-Signature-256: {signature}"),
            "-H",
            "Origin: https://github.com",
            "--data-binary",
            body,
            &format!("http://127.0.0.1:{webhook_port}/github-webhook"),
        ]
        .map(String::from)
        .to_vec();
        curl(args)
    };
    let (status, answer) = deliver("abc.ngrok-free.app").await;
    assert_eq!(status, 403, "{answer}\n{}", bindery.logs());
    assert!(answer.contains("--webhook-allowed-hosts"), "{answer}");
    assert!(app.requests().is_empty());
    // A loopback Host passes, Origin or not: the webhook port has no browser rule.
    let (status, answer) = deliver("localhost").await;
    assert_eq!(status, 200, "{answer}\n{}", bindery.logs());
    assert_eq!(app.requests().len(), 1);

    let api = bindery.logs();
    let port =
        api.split("output API on http://127.0.0.1:").nth(1).and_then(|r| r.split(' ').next()).unwrap().to_owned();
    let (status, _) =
        post_plain(&format!("http://127.0.0.1:{port}/v1.0/bindings/files"), &[("Host", "evil.example")]).await;
    assert_eq!(status, 403);
    assert!(!files.join("x").exists());
}

/// `--webhook-allowed-hosts` lets a tunnel's Host through.
#[tokio::test(flavor = "multi_thread")]
async fn bindery_run_serves_webhooks_through_an_allowed_tunnel_host() {
    let app = RecordingApp::start().await;
    let dir = ComponentsDir::new();
    dir.write(
        "hook.yaml",
        &component("hook", "bindings.http", &[value("direction", "input"), value("signatureScheme", "none")]),
    );
    let webhook = bindery_e2e::unused_port();
    let (port, http, grpc) =
        (webhook.to_string(), bindery_e2e::unused_port().to_string(), bindery_e2e::unused_port().to_string());
    let args = [
        "run",
        "--components",
        &dir.path_str(),
        "--app-url",
        &app.url(),
        "--http-port",
        &http,
        "--grpc-port",
        &grpc,
        "--webhook-port",
        &port,
        "--webhook-allowed-hosts",
        "*.ngrok-free.app",
    ];
    let bindery = bindery_e2e::FunctionProcess::command(&bindery_e2e::debug_bin("bindery"), &args, &[]);
    assert!(bindery.wait_for_output("hook: webhook", 20 * crate::common::SECOND).await, "{}", bindery.logs());
    let url = format!("http://127.0.0.1:{webhook}/hook");
    let (status, answer) = crate::common::http_post(&url, &[("Host", "abc.ngrok-free.app")], "{}").await;
    assert_eq!(status, 200, "{answer}\n{}", bindery.logs());
    let (status, _) = crate::common::http_post(&url, &[("Host", "evil.example")], "{}").await;
    assert_eq!(status, 403);
    assert_eq!(app.requests().len(), 1);
}
