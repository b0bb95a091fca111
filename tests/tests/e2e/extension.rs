//! `bindery-extension` as Lambda runs it: registered through a real
//! Extensions API on loopback, serving daprd's output API to a function's
//! Dapr SDK (the real Python SDK here), with the body limit
//! `BINDERY_MAX_BODY_SIZE` sets, refusing a file too large to read instead of
//! running out of memory, stopping on SHUTDOWN, and failing the init with the
//! file, component and field when a component is wrong.

use std::time::Duration;

use crate::common::{ComponentsDir, component, http_post, value};
use crate::output_limits::{cap_address_space, sparse};
use crate::python_sdk::sdk_calls;
use bindery_e2e::{ExtensionCall, ExtensionsApi, FunctionProcess, debug_bin, unused_port};
use serde_json::json;

fn start(api: &ExtensionsApi, dir: &ComponentsDir, http_port: u16, grpc_port: u16) -> FunctionProcess {
    start_with(api, dir, http_port, grpc_port, &[])
}

/// [`start`], plus `extra` variables.
pub(crate) fn start_with(
    api: &ExtensionsApi,
    dir: &ComponentsDir,
    http_port: u16,
    grpc_port: u16,
    extra: &[(&str, &str)],
) -> FunctionProcess {
    let address = api.address();
    let (http, grpc, components) = (http_port.to_string(), grpc_port.to_string(), dir.path_str());
    let mut env = vec![
        ("AWS_LAMBDA_RUNTIME_API", address.as_str()),
        ("BINDERY_COMPONENTS", components.as_str()),
        ("DAPR_HTTP_PORT", http.as_str()),
        ("DAPR_GRPC_PORT", grpc.as_str()),
    ];
    env.extend_from_slice(extra);
    FunctionProcess::command(&debug_bin("bindery-extension"), &[], &env)
}

/// A components directory with one localstorage binding, `files`, and the
/// folder it writes to.
fn files_binding() -> (ComponentsDir, std::path::PathBuf) {
    let dir = ComponentsDir::new();
    let files = dir.path().join("files");
    dir.write(
        "files.yaml",
        &component("files", "bindings.localstorage", &[value("rootPath", &files.display().to_string())]),
    );
    (dir, files)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_python_function_keeps_its_dapr_sdk_calls_through_the_extension() {
    let api = ExtensionsApi::start().await;
    let (dir, files) = files_binding();
    let (http_port, grpc_port) = (unused_port(), unused_port());
    let mut extension = start(&api, &dir, http_port, grpc_port);
    assert!(api.wait_for_next(Duration::from_secs(20)).await, "{}", extension.logs());
    assert_eq!(
        api.calls()[0],
        ExtensionCall::Register { name: "bindery-extension".into(), events: vec!["SHUTDOWN".into()] }
    );

    // The function's code: DaprClient() waits for the health check, then invokes.
    let calls = json!([
        {"via": "grpc", "binding": "files", "operation": "create", "data": "from lambda", "metadata": {"fileName": "l.txt"}},
        {"via": "http", "binding": "files", "operation": "get", "data": null, "metadata": {"fileName": "l.txt"}},
    ]);
    let results = sdk_calls((http_port, grpc_port), None, &calls, &extension).await;
    assert_eq!(std::fs::read(files.join("l.txt")).unwrap(), b"from lambda");
    assert_eq!(results[1]["data"], "from lambda");

    api.shutdown();
    let status = extension.wait_exit(Duration::from_secs(10)).await.expect("the extension exits on SHUTDOWN");
    assert!(status.success(), "{status:?}\n{}", extension.logs());
}

/// `BINDERY_MAX_BODY_SIZE` moves the body limit as `--max-body-size` does
/// for `bindery sidecar`: a body of exactly that many bytes is served, one
/// more is a 413.
#[tokio::test(flavor = "multi_thread")]
async fn the_body_limit_is_set_by_bindery_max_body_size() {
    let api = ExtensionsApi::start().await;
    let (dir, files) = files_binding();
    let http_port = unused_port();
    let extension = start_with(&api, &dir, http_port, unused_port(), &[("BINDERY_MAX_BODY_SIZE", "2048")]);
    assert!(api.wait_for_next(Duration::from_secs(20)).await, "{}", extension.logs());
    let url = format!("http://127.0.0.1:{http_port}/v1.0/bindings/files");
    let body = |size: usize| {
        let frame = r#"{"operation":"create","metadata":{"fileName":"f.txt"},"data":""}"#.len();
        format!(r#"{{"operation":"create","metadata":{{"fileName":"f.txt"}},"data":"{}"}}"#, "x".repeat(size - frame))
    };

    let (at_limit, answer) = http_post(&url, &[], &body(2048)).await;
    assert_eq!(at_limit, 200, "{answer}\n{}", extension.logs());
    assert!(files.join("f.txt").exists());
    let (above, _) = http_post(&url, &[], &body(2049)).await;
    assert_eq!(above, 413, "{}", extension.logs());
    // A declared length over the limit is answered at once, before any body.
    let declared = crate::common::raw_post::declare_only(http_port, "/v1.0/bindings/files", &[], 1 << 30).await;
    assert_eq!(declared, Some(413), "{}", extension.logs());
}

/// A 5 GiB file under the extension's localstorage binding is refused over
/// HTTP and gRPC, and the extension keeps serving: held to a 2 GiB address
/// space, it could not have read the file into memory.
#[tokio::test(flavor = "multi_thread")]
async fn a_5_gib_file_is_an_error_and_the_extension_keeps_serving() {
    let api = ExtensionsApi::start().await;
    let (dir, files) = files_binding();
    std::fs::create_dir_all(&files).unwrap();
    sparse(&files.join("huge.bin"), 5 << 30);
    let (http_port, grpc_port) = (unused_port(), unused_port());
    let extension = start(&api, &dir, http_port, grpc_port);
    assert!(api.wait_for_next(Duration::from_secs(20)).await, "{}", extension.logs());
    cap_address_space(extension.pid(), 2 << 30);

    let calls = json!([
        {"via": "grpc", "binding": "files", "operation": "get", "data": "", "metadata": {"fileName": "huge.bin"}},
        {"via": "http", "binding": "files", "operation": "get", "data": null, "metadata": {"fileName": "huge.bin"}},
        {"via": "grpc", "binding": "files", "operation": "create", "data": "after", "metadata": {"fileName": "a.txt"}},
    ]);
    let results = sdk_calls((http_port, grpc_port), None, &calls, &extension).await;
    let refused = "error invoking output binding files: huge.bin is 5368709120 bytes, \
                   more than maxReadSize (104857600 bytes)";
    assert_eq!((&results[0]["code"], &results[0]["message"]), (&json!("INTERNAL"), &json!(refused)), "{results:?}");
    assert_eq!((&results[1]["code"], &results[1]["message"]), (&json!(500), &json!(refused)), "{results:?}");
    assert_eq!(results[2]["ok"], true, "{results:?}");
    assert_eq!(std::fs::read(files.join("a.txt")).unwrap(), b"after");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_component_fails_the_init_with_its_file_component_and_field() {
    let api = ExtensionsApi::start().await;
    let dir =
        ComponentsDir::with("store.yaml", &component("store", "bindings.aws.s3", &[value("region", "us-east-1")]));
    let mut extension = start(&api, &dir, unused_port(), unused_port());
    let Some(ExtensionCall::Error { kind, error_type, body }) = api.wait_for_error(Duration::from_secs(20)).await
    else {
        panic!("no init error reported: {:?}\n{}", api.calls(), extension.logs());
    };
    assert_eq!((kind.as_str(), error_type.as_str()), ("init", "Bindery.ConfigError"));
    assert!(
        body.contains("store.yaml") && body.contains("component \\\"store\\\"") && body.contains("bucket"),
        "{body}"
    );
    let status = extension.wait_exit(Duration::from_secs(10)).await.expect("the extension exits");
    assert!(!status.success());
    assert!(!api.calls().contains(&ExtensionCall::Next), "{:?}", api.calls());
}
