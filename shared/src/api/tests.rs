//! The HTTP API in process (tower `oneshot`), the gRPC API over a real
//! loopback socket with the generated client, both against a recording binding.

use std::sync::{Arc, Mutex};

use ::http::{Request, StatusCode};
use axum::body::Body;
use bytes::Bytes;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::proto::InvokeBindingRequest;
use super::proto::dapr_client::DaprClient;
use super::*;
use crate::output::{BoxFuture, ErrorKind, InvokeResponse, OutputBinding};

/// Records what it was asked; answers by operation.
#[derive(Default, Clone)]
struct Recorder(Arc<Mutex<Vec<InvokeRequest>>>);

impl OutputBinding for Recorder {
    fn operations(&self) -> &'static [&'static str] {
        &["create", "none", "fail", "remote"]
    }
    fn is_idempotent(&self, _: &InvokeRequest) -> bool {
        true
    }
    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        self.0.lock().unwrap().push(request.clone());
        Box::pin(async move {
            match request.operation.as_str() {
                "none" => Ok(None),
                "fail" => Err(InvokeError::bad_request("the data is wrong")),
                "remote" => {
                    let mut error = InvokeError::new(ErrorKind::Remote, "received status code 404");
                    error.response = Some(Box::new(
                        InvokeResponse::new(r#"{"error":"no such task"}"#).with_metadata("statusCode", "404"),
                    ));
                    Err(error)
                }
                _ => Ok(Some(InvokeResponse::new(request.data).with_metadata("key", "k1").with_metadata("Mixed", "v"))),
            }
        })
    }
}

fn api(token: Option<&str>) -> (OutputApi, Recorder) {
    let recorder = Recorder::default();
    let mut bindings = Bindings::default();
    bindings.insert("store", "test.recorder", Box::new(recorder.clone()));
    let settings = ApiSettings {
        api_token: token.map(str::to_owned),
        max_body_size: 1024,
        app_id: "app".into(),
        ..ApiSettings::default()
    };
    (OutputApi::new(Arc::new(bindings), settings), recorder)
}

async fn call(
    api: &OutputApi,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> ::http::Response<Bytes> {
    let mut request = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = api.http_router().oneshot(request.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    ::http::Response::from_parts(parts, body.collect().await.unwrap().to_bytes())
}

fn json(response: &::http::Response<Bytes>) -> serde_json::Value {
    serde_json::from_slice(response.body()).unwrap()
}

#[tokio::test]
async fn http_invoke_re_encodes_data_and_answers_200_with_metadata_headers() {
    let (api, recorder) = api(None);
    let body = r#"{"data": {"b": "<x>", "a": 1.0}, "metadata": {"key": "k1"}, "operation": "create"}"#;
    let response = call(&api, "POST", "/v1.0/bindings/store", &[("traceparent", "00-abc-def-01")], body).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["metadata.key"], "k1");
    assert_eq!(response.headers()["metadata.mixed"], "v");
    assert_eq!(response.body().as_ref(), br#"{"a":1,"b":"\u003cx\u003e"}"#);
    let seen = recorder.0.lock().unwrap()[0].clone();
    assert_eq!(seen.metadata.get("key").map(String::as_str), Some("k1"));
    assert_eq!(seen.metadata.get("traceparent").map(String::as_str), Some("00-abc-def-01"));

    let put = call(&api, "PUT", "/v1.0/bindings/store", &[], r#"{"data": "hello", "operation": "create"}"#).await;
    assert_eq!((put.status(), put.body().as_ref()), (StatusCode::OK, &br#""hello""#[..]));
    let absent = call(&api, "POST", "/v1.0/bindings/store", &[], r#"{"operation": "create"}"#).await;
    assert_eq!(absent.body().as_ref(), b"null");
}

#[tokio::test]
async fn http_invoke_answers_204_when_the_binding_has_no_response() {
    let (api, _) = api(None);
    let response = call(&api, "POST", "/v1.0/bindings/store", &[], r#"{"operation": "none"}"#).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.body().is_empty());
}

#[tokio::test]
async fn http_errors_are_daprds() {
    let (api, _) = api(None);
    let cases = [
        ("store", r#"{"operation": "fail"}"#, "error invoking output binding store: the data is wrong"),
        ("store", r#"{"data": 1}"#, "error invoking output binding store: operation field is missing from request"),
        ("nope", r#"{"operation": "create"}"#, "error invoking output binding nope: couldn't find output binding nope"),
        (
            "store",
            r#"{"operation": "get"}"#,
            "error invoking output binding store: binding store does not support operation get. \
             supported operations:create none fail remote",
        ),
    ];
    for (name, body, message) in cases {
        let response = call(&api, "POST", &format!("/v1.0/bindings/{name}"), &[], body).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert_eq!(json(&response), serde_json::json!({"errorCode": "ERR_INVOKE_OUTPUT_BINDING", "message": message}));
    }
    for body in ["", "{", r#"{"metadata": {"n": 1}}"#] {
        let response = call(&api, "POST", "/v1.0/bindings/store", &[], body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body:?}");
        let error = json(&response);
        assert_eq!(error["errorCode"], "ERR_MALFORMED_REQUEST");
        assert!(error["message"].as_str().unwrap().starts_with("failed deserializing HTTP body: "), "{error}");
    }
}

#[tokio::test]
async fn http_remote_errors_keep_the_metadata_headers_and_the_body() {
    let (api, _) = api(None);
    let response = call(&api, "POST", "/v1.0/bindings/store", &[], r#"{"operation": "remote"}"#).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["metadata.statuscode"], "404");
    assert_eq!(
        json(&response),
        serde_json::json!({
            "errorCode": "ERR_INVOKE_OUTPUT_BINDING",
            "message": "error invoking output binding store: received status code 404",
            "responseBody": r#"{"error":"no such task"}"#,
        })
    );
}

#[tokio::test]
async fn http_token_guards_everything_but_health() {
    let (api, recorder) = api(Some("s3cret"));
    let body = r#"{"operation": "create", "data": 1}"#;
    for headers in [&[][..], &[("dapr-api-token", "wrong")][..]] {
        let response = call(&api, "POST", "/v1.0/bindings/store", headers, body).await;
        assert_eq!(
            (response.status(), response.body().as_ref()),
            (StatusCode::UNAUTHORIZED, &b"invalid api token\n"[..])
        );
        assert_eq!(call(&api, "GET", "/v1.0/metadata", headers, "").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert!(recorder.0.lock().unwrap().is_empty());
    let ok = call(&api, "POST", "/v1.0/bindings/store", &[("dapr-api-token", "s3cret")], body).await;
    assert_eq!(ok.status(), StatusCode::OK);
    for path in ["/v1.0/healthz", "/v1.0/healthz/outbound"] {
        assert_eq!(call(&api, "GET", path, &[], "").await.status(), StatusCode::NO_CONTENT);
    }
}

#[tokio::test]
async fn http_body_limit_and_metadata_listing() {
    let (api, recorder) = api(None);
    let big = format!(r#"{{"operation": "create", "data": "{}"}}"#, "x".repeat(2000));
    assert_eq!(call(&api, "POST", "/v1.0/bindings/store", &[], &big).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(recorder.0.lock().unwrap().is_empty());
    let metadata = json(&call(&api, "GET", "/v1.0/metadata", &[], "").await);
    assert_eq!(metadata["id"], "app");
    assert_eq!(
        metadata["components"],
        serde_json::json!([{"name": "store", "type": "test.recorder", "version": "v1", "capabilities": []}])
    );
    assert_eq!(call(&api, "GET", "/v1.0/bindings/store", &[], "").await.status(), StatusCode::METHOD_NOT_ALLOWED);
}

/// A declared `Content-Length` over the limit is answered 413 without one
/// byte of the body being read: the body here fails if it is ever polled.
#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_the_body_is_read() {
    let (api, recorder) = api(None);
    let never = futures_util::stream::poll_fn(|_| -> std::task::Poll<Option<Result<Bytes, std::io::Error>>> {
        panic!("the body of a request declared too large was read")
    });
    let request = Request::post("/v1.0/bindings/store")
        .header("content-length", (1u64 << 40).to_string())
        .body(Body::from_stream(never))
        .unwrap();
    let response = api.http_router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(recorder.0.lock().unwrap().is_empty());
}

/// A web page may not call the API: a forged Host (DNS rebinding), an
/// `Origin` or a cross-site fetch is 403 with daprd's error shape; health
/// checks stay open, and loopback callers are served.
#[tokio::test]
async fn requests_from_other_hosts_and_web_pages_are_forbidden() {
    let (api, recorder) = api(None);
    let body = r#"{"operation": "create", "data": "x"}"#;
    for headers in
        [[("host", "evil.example")], [("origin", "https://evil.example")], [("sec-fetch-site", "cross-site")]]
    {
        let response = call(&api, "POST", "/v1.0/bindings/store", &headers, body).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(json(&response)["errorCode"], "ERR_FORBIDDEN");
        let metadata = call(&api, "GET", "/v1.0/metadata", &headers, "").await;
        assert_eq!(metadata.status(), StatusCode::FORBIDDEN, "{headers:?}");
    }
    assert!(recorder.0.lock().unwrap().is_empty());
    assert_eq!(
        call(&api, "GET", "/v1.0/healthz", &[("host", "10.1.2.3:3500")], "").await.status(),
        StatusCode::NO_CONTENT
    );
    let ok = call(&api, "POST", "/v1.0/bindings/store", &[("host", "127.0.0.1:3500")], body).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

/// daprd's `--max-body-size` default, 4 MiB: a request of exactly that size
/// is served, one byte more is refused before the binding runs.
#[tokio::test]
async fn the_default_body_limit_is_daprds_4_mib() {
    assert_eq!(DEFAULT_MAX_BODY_SIZE, 4 * 1024 * 1024);
    assert_eq!(ApiSettings::default().max_body_size, DEFAULT_MAX_BODY_SIZE);
    let recorder = Recorder::default();
    let mut bindings = Bindings::default();
    bindings.insert("store", "test.recorder", Box::new(recorder.clone()));
    let api = OutputApi::new(Arc::new(bindings), ApiSettings::default());
    let body = |size: usize| {
        let frame = r#"{"operation":"create","data":""}"#.len();
        format!(r#"{{"operation":"create","data":"{}"}}"#, "x".repeat(size - frame))
    };

    let at_limit = call(&api, "POST", "/v1.0/bindings/store", &[], &body(DEFAULT_MAX_BODY_SIZE)).await;
    assert_eq!(at_limit.status(), StatusCode::OK);
    let above = call(&api, "POST", "/v1.0/bindings/store", &[], &body(DEFAULT_MAX_BODY_SIZE + 1)).await;
    assert_eq!(above.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(recorder.0.lock().unwrap().len(), 1, "only the request at the limit reached the binding");
}

/// What `bindery run` and `bindery sidecar` serve: the metadata lists every
/// loaded component (input bindings and secret stores too, with their
/// versions), and the bindings and settings are those of the API it came from.
#[tokio::test]
async fn metadata_lists_every_loaded_component_with_with_components() {
    let dir = tempfile::tempdir().unwrap();
    let component = |name: &str, type_: &str, version: &str, items: &str| {
        format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {type_}\n  \
             version: {version}\n  metadata:\n{items}"
        )
    };
    let files = dir.path().join("files").display().to_string();
    let yaml = [
        component("nightly", "bindings.cron", "v1", "  - name: schedule\n    value: \"@daily\"\n"),
        component("files", "bindings.localstorage", "v1", &format!("  - name: rootPath\n    value: {files:?}\n")),
        component("env", "secretstores.local.env", "v1", "    []\n"),
    ]
    .join("---\n");
    std::fs::write(dir.path().join("components.yaml"), yaml).unwrap();
    let env = |_: &str| None;
    let options = crate::component::LoadOptions {
        namespace: None,
        app_id: None,
        env: &env,
        prefetched: None,
        check: crate::kinds::check,
    };
    let components = crate::component::load(dir.path(), &options).unwrap();
    let bindings = Bindings::from_components(&components).await.unwrap();
    let settings = ApiSettings { api_token: Some("s3cret".into()), app_id: "orders".into(), ..ApiSettings::default() };
    let api = OutputApi::new(Arc::new(bindings), settings).with_components(&components);
    let token = [("dapr-api-token", "s3cret")];

    let metadata = json(&call(&api, "GET", "/v1.0/metadata", &token, "").await);
    assert_eq!(metadata["id"], "orders");
    let listed =
        |name: &str, type_: &str| serde_json::json!({"name": name, "type": type_, "version": "v1", "capabilities": []});
    assert_eq!(
        metadata["components"],
        serde_json::json!([
            listed("nightly", "bindings.cron"),
            listed("files", "bindings.localstorage"),
            listed("env", "secretstores.local.env"),
        ])
    );
    assert_eq!(call(&api, "GET", "/v1.0/metadata", &[], "").await.status(), StatusCode::UNAUTHORIZED);
    let create = r#"{"operation": "create", "data": "hi", "metadata": {"fileName": "a.txt"}}"#;
    assert_eq!(call(&api, "POST", "/v1.0/bindings/files", &token, create).await.status(), StatusCode::OK);
    // localstorage unquotes the JSON string, as Dapr's does.
    assert_eq!(std::fs::read(dir.path().join("files/a.txt")).unwrap(), b"hi");
}

async fn grpc_client(api: &OutputApi) -> (DaprClient<tonic::transport::Channel>, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = api.clone();
    tokio::spawn(async move { server.serve_grpc(listener, async { stopped.await.unwrap_or(()) }).await });
    let channel = tonic::transport::Channel::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap();
    let client = DaprClient::new(channel);
    (client, stop)
}

fn grpc_request(name: &str, operation: &str, data: &[u8], token: Option<&str>) -> tonic::Request<InvokeBindingRequest> {
    let mut request = tonic::Request::new(InvokeBindingRequest {
        name: name.into(),
        data: Bytes::copy_from_slice(data),
        metadata: [("key".to_owned(), "k1".to_owned())].into(),
        operation: operation.into(),
    });
    if let Some(token) = token {
        request.metadata_mut().insert("dapr-api-token", token.parse().unwrap());
    }
    request
}

#[tokio::test]
async fn grpc_invoke_passes_raw_bytes_and_answers_metadata_twice() {
    let (api, recorder) = api(None);
    let (mut client, _stop) = grpc_client(&api).await;
    let response = client.invoke_binding(grpc_request("store", "create", b"hello", None)).await.unwrap();
    assert_eq!(response.metadata().get("metadata.key").unwrap(), "k1");
    assert_eq!(response.metadata().get("metadata.mixed").unwrap(), "v");
    let message = response.into_inner();
    assert_eq!(message.data.as_ref(), b"hello");
    assert_eq!(message.metadata.get("Mixed").map(String::as_str), Some("v"));
    let seen = recorder.0.lock().unwrap()[0].clone();
    assert_eq!((seen.data.as_ref(), seen.metadata.get("key").map(String::as_str)), (&b"hello"[..], Some("k1")));
    assert!(!seen.metadata.contains_key("user-agent"));

    let none = client.invoke_binding(grpc_request("store", "none", b"", None)).await.unwrap().into_inner();
    assert!(none.data.is_empty() && none.metadata.is_empty());
}

#[tokio::test]
async fn grpc_errors_are_daprds_with_error_info() {
    use tonic_types::StatusExt;
    let (api, _) = api(None);
    let (mut client, _stop) = grpc_client(&api).await;
    let status = client.invoke_binding(grpc_request("nope", "create", b"", None)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Internal);
    assert_eq!(status.message(), "error invoking output binding nope: couldn't find output binding nope");
    let info = status.get_details_error_info().unwrap();
    assert_eq!((info.reason.as_str(), info.domain.as_str()), ("ERR_INVOKE_OUTPUT_BINDING", "dapr.io"));

    let remote = client.invoke_binding(grpc_request("store", "remote", b"", None)).await.unwrap_err();
    assert_eq!(remote.metadata().get("metadata.statuscode").unwrap(), "404");
    let info = remote.get_details_error_info().unwrap();
    assert_eq!(info.metadata.get("responseBody").map(String::as_str), Some(r#"{"error":"no such task"}"#));
}

#[tokio::test]
async fn grpc_token_and_message_limit() {
    let (api, recorder) = api(Some("s3cret"));
    let (mut client, _stop) = grpc_client(&api).await;
    let missing = client.invoke_binding(grpc_request("store", "create", b"x", None)).await.unwrap_err();
    assert_eq!(
        (missing.code(), missing.message()),
        (tonic::Code::Unauthenticated, "missing api token in request metadata")
    );
    let wrong = client.invoke_binding(grpc_request("store", "create", b"x", Some("nope"))).await.unwrap_err();
    assert_eq!(wrong.message(), "authentication error: api token mismatch");
    let big = client.invoke_binding(grpc_request("store", "create", &[b'x'; 2000], Some("s3cret"))).await.unwrap_err();
    assert_eq!(big.code(), tonic::Code::OutOfRange);
    assert!(recorder.0.lock().unwrap().is_empty());
    client.invoke_binding(grpc_request("store", "create", b"x", Some("s3cret"))).await.unwrap();
}

/// The gRPC port has the Host rule too: a call whose `:authority` is not
/// loopback is `PERMISSION_DENIED` before it reaches the binding.
#[tokio::test]
async fn grpc_calls_for_another_host_are_denied() {
    let (api, recorder) = api(None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = api.clone();
    tokio::spawn(async move { server.serve_grpc(listener, std::future::pending()).await });
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{address}")).unwrap();
    let forged = endpoint.clone().origin("http://evil.example:50001".parse().unwrap()).connect().await.unwrap();
    let denied = DaprClient::new(forged).invoke_binding(grpc_request("store", "create", b"x", None)).await.unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{denied:?}");
    assert!(recorder.0.lock().unwrap().is_empty());
    let own = endpoint.connect().await.unwrap();
    DaprClient::new(own).invoke_binding(grpc_request("store", "create", b"x", None)).await.unwrap();
}

/// Answers `get` with as many bytes as its data says.
struct Sized;

impl OutputBinding for Sized {
    fn operations(&self) -> &'static [&'static str] {
        &["get"]
    }
    fn is_idempotent(&self, _: &InvokeRequest) -> bool {
        true
    }
    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        let size: usize = std::str::from_utf8(&request.data).unwrap().parse().unwrap();
        Box::pin(async move { Ok(Some(InvokeResponse::new(vec![b'x'; size]))) })
    }
}

/// daprd caps what its gRPC server sends at `--max-body-size`, as it caps
/// what it receives (grpc-go's `MaxSendMsgSize`); its HTTP answers have no cap.
#[tokio::test]
async fn grpc_answers_above_the_message_limit_are_refused_with_their_size_and_the_limit() {
    let mut bindings = Bindings::default();
    bindings.insert("sized", "test.sized", Box::new(Sized));
    let settings = ApiSettings { max_body_size: 1024, ..ApiSettings::default() };
    let api = OutputApi::new(Arc::new(bindings), settings);
    let (mut client, _stop) = grpc_client(&api).await;

    // 1021 bytes of data, its tag and length: a message of exactly 1024 bytes.
    let at_limit = client.invoke_binding(grpc_request("sized", "get", b"1021", None)).await.unwrap();
    assert_eq!(at_limit.into_inner().data.len(), 1021);
    let above = client.invoke_binding(grpc_request("sized", "get", b"1022", None)).await.unwrap_err();
    assert_eq!(
        (above.code(), above.message()),
        (
            tonic::Code::ResourceExhausted,
            "error invoking output binding sized: the answer is 1025 bytes, \
             more than the gRPC message limit (max-body-size, 1024 bytes)"
        )
    );
    // The server is still there.
    client.invoke_binding(grpc_request("sized", "get", b"10", None)).await.unwrap();

    let http = call(&api, "POST", "/v1.0/bindings/sized", &[], r#"{"operation": "get", "data": 5000}"#).await;
    assert_eq!((http.status(), http.body().len()), (StatusCode::OK, 5000));
}
