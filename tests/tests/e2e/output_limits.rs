//! What an output binding reads into memory is bounded, and an answer too
//! large is a clear error that names its size and the limit, never a
//! sidecar killed for its memory: through the real `bindery sidecar`, driven
//! by the Dapr Python SDK (gRPC) and daprd's HTTP API, a localstorage `get`
//! of a 5 GiB file, a `list` of a folder past `maxListEntries`, and a gRPC
//! answer past `--max-body-size`; in process, the S3 binding's `get` and
//! `bulkGet` against the emulator.

use std::path::Path;

use crate::common::{ComponentsDir, Sidecar, bindery_sidecar, component, http_get, value};
use crate::python_sdk::{call, python_calls};
use bindery::output::InvokeRequest;
use bindery_e2e::aws::{Emulator, load_bindings};
use serde_json::{Value, json};

/// 5 GiB: more than the sidecar may map under [`ADDRESS_SPACE`].
const HUGE: u64 = 5 << 30;
/// The address space the sidecar is held to: room for everything it really
/// needs, not for the file. Reading the file into memory fails the
/// allocation instead of taking the machine's memory.
const ADDRESS_SPACE: u64 = 2 << 30;

/// A file of `size` bytes that takes no disk: a hole, read back as zeros.
pub(crate) fn sparse(path: &Path, size: u64) {
    std::fs::File::create(path).unwrap().set_len(size).unwrap();
}

/// Caps the address space of the running process `pid` (`prlimit --as`).
pub(crate) fn cap_address_space(pid: u32, bytes: u64) {
    let status = std::process::Command::new("prlimit")
        .args([format!("--pid={pid}"), format!("--as={bytes}")])
        .status()
        .expect("prlimit (util-linux) runs");
    assert!(status.success(), "prlimit failed: {status:?}");
}

/// A components directory with the localstorage binding `files` (plus
/// `extra` metadata) and its folder, created.
fn files_binding(extra: &[String]) -> (ComponentsDir, std::path::PathBuf) {
    let dir = ComponentsDir::new();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let mut items = vec![value("rootPath", &files.display().to_string())];
    items.extend_from_slice(extra);
    dir.write("files.yaml", &component("files", "bindings.localstorage", &items));
    (dir, files)
}

/// The sidecar answers its health check.
async fn assert_alive(sidecar: &Sidecar) {
    let (status, _) = http_get(&format!("http://127.0.0.1:{}/v1.0/healthz", sidecar.http_port)).await;
    assert_eq!(status, 204, "{}", sidecar.process.logs());
}

/// `result` is daprd's failed invocation: gRPC `code` with `message`, or a
/// 500 with the error JSON.
fn assert_failed(result: &Value, grpc_code: &str, message: &str) {
    let answered = result["data"].as_str().map_or(0, str::len);
    assert_eq!(result["ok"], false, "expected an error, got an answer of {answered} bytes");
    if result["code"].is_string() {
        assert_eq!((result["code"].as_str(), result["message"].as_str()), (Some(grpc_code), Some(message)));
    } else {
        assert_eq!(result["code"], 500, "{result}");
        assert_eq!(result["error"], json!({"errorCode": "ERR_INVOKE_OUTPUT_BINDING", "message": message}));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_5_gib_file_is_an_error_over_http_and_grpc_and_the_sidecar_lives_on() {
    let (dir, files) = files_binding(&[]);
    sparse(&files.join("huge.bin"), HUGE);
    std::fs::write(files.join("small.txt"), "still here").unwrap();
    let sidecar = bindery_sidecar(&dir, &[]).await;
    cap_address_space(sidecar.process.pid(), ADDRESS_SPACE);

    let calls = json!([
        call("grpc", "files", "get", json!(""), json!({"fileName": "huge.bin"})),
        call("http", "files", "get", json!(null), json!({"fileName": "huge.bin"})),
        call("grpc", "files", "get", json!(""), json!({"fileName": "small.txt"})),
        call("http", "files", "get", json!(null), json!({"fileName": "small.txt"})),
    ]);
    let results = python_calls(&sidecar, None, &calls).await;
    let refused = "error invoking output binding files: huge.bin is 5368709120 bytes, \
                   more than maxReadSize (104857600 bytes)";
    assert_failed(&results[0], "INTERNAL", refused);
    assert_failed(&results[1], "INTERNAL", refused);
    for small in &results[2..] {
        assert_eq!((&small["ok"], &small["data"]), (&json!(true), &json!("still here")), "{small}");
    }
    assert_alive(&sidecar).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_stops_at_max_list_entries_over_http_and_grpc() {
    let (dir, files) = files_binding(&[value("maxListEntries", "100")]);
    for n in 0..101 {
        std::fs::File::create(files.join(format!("{n:03}.txt"))).unwrap();
    }
    let sidecar = bindery_sidecar(&dir, &[]).await;
    let calls = json!([
        call("grpc", "files", "list", json!(""), json!({})),
        call("http", "files", "list", json!(null), json!({})),
    ]);
    let results = python_calls(&sidecar, None, &calls).await;
    let refused = "error invoking output binding files: rootPath holds more than maxListEntries (100) files and \
                   folders; list a folder below it";
    assert_failed(&results[0], "INTERNAL", refused);
    assert_failed(&results[1], "INTERNAL", refused);

    std::fs::remove_file(files.join("100.txt")).unwrap();
    let results = python_calls(&sidecar, None, &json!([call("http", "files", "list", json!(null), json!({}))])).await;
    let listed: Vec<String> = serde_json::from_str(results[0]["data"].as_str().unwrap()).unwrap();
    assert_eq!(listed.len(), 100);
    assert_alive(&sidecar).await;
}

/// daprd's gRPC server sends no message larger than `--max-body-size`
/// (grpc-go's `MaxSendMsgSize`); its HTTP answers have no such cap.
#[tokio::test(flavor = "multi_thread")]
async fn grpc_answers_stop_at_max_body_size_as_daprds_do() {
    let (dir, files) = files_binding(&[]);
    std::fs::write(files.join("two-mib.bin"), vec![b'x'; 2 << 20]).unwrap();
    let sidecar = bindery_sidecar(&dir, &[("BINDERY_MAX_BODY_SIZE", "1048576")]).await;
    let calls = json!([
        call("grpc", "files", "get", json!(""), json!({"fileName": "two-mib.bin"})),
        call("http", "files", "get", json!(null), json!({"fileName": "two-mib.bin"})),
    ]);
    let results = python_calls(&sidecar, None, &calls).await;
    assert_failed(
        &results[0],
        "RESOURCE_EXHAUSTED",
        "error invoking output binding files: the answer is 2097157 bytes, \
         more than the gRPC message limit (max-body-size, 1048576 bytes)",
    );
    assert_eq!((&results[1]["ok"], results[1]["data"].as_str().map(str::len)), (&json!(true), Some(2 << 20)));
    assert_alive(&sidecar).await;
}

#[tokio::test]
async fn s3_get_and_bulk_get_stop_at_max_read_size() {
    let emulator = Emulator::from_env();
    let bucket = emulator.bucket("limits").await;
    let items = [("bucket", bucket.as_str()), ("forcePathStyle", "true"), ("maxReadSize", "1Ki")];
    let (bindings, _dir) = load_bindings(&[emulator.component("objects", "bindings.aws.s3", &items)]).await;
    let client = emulator.s3().await;
    for (key, size) in [("small", 600), ("other", 600), ("big", 1025)] {
        let body = aws_sdk_s3::primitives::ByteStream::from(vec![b'o'; size]);
        client.put_object().bucket(&bucket).key(key).body(body).send().await.unwrap();
    }
    let get = |key: &str| InvokeRequest::new("get", "").with_metadata("key", key);

    let small = bindings.invoke("objects", get("small")).await.unwrap().unwrap();
    assert_eq!(small.data.len(), 600);
    let big = bindings.invoke("objects", get("big")).await.unwrap_err();
    assert_eq!(big.message, r#"s3 binding error: object "big" is 1025 bytes, more than maxReadSize (1024 bytes)"#);

    // One answer holds all the items: together they stay within the limit.
    let bulk = r#"{"items": [{"key": "small"}, {"key": "other"}, {"key": "big"}], "concurrency": 1}"#;
    let answer = bindings.invoke("objects", InvokeRequest::new("bulkGet", bulk)).await.unwrap().unwrap();
    let answer: Value = serde_json::from_slice(&answer.data).unwrap();
    assert_eq!(answer[0]["data"].as_str().map(str::len), Some(600), "{answer}");
    assert_eq!(
        answer[1],
        json!({"key": "other", "error": "s3 binding error: object \"other\" is 600 bytes, more than the 424 bytes \
                                         left of maxReadSize (1024 bytes) for the whole bulkGet answer"})
    );
    assert_eq!(
        answer[2],
        json!({"key": "big", "error": "s3 binding error: object \"big\" is 1025 bytes, more than maxReadSize (1024 bytes)"})
    );
}
