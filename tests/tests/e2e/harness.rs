//! Self-test of the harness, without any bindery binary: an in-test client plays the
//! function against the Runtime API emulator, and plain requests exercise the
//! recording app.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bindery_e2e::{FUNCTION_ARN, InvokeOptions, RecordingApp, Reply, RuntimeApi, loopback_only, unused_port};
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use tokio::io::AsyncWriteExt;

const SECOND: Duration = Duration::from_secs(1);

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> (StatusCode, HeaderMap, Bytes) {
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = client().request(request.body(Full::new(body.into())).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    (parts.status, parts.headers, body.collect().await.unwrap().to_bytes())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).unwrap_or_else(|| panic!("missing header {name}")).to_str().unwrap()
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()
}

/// Plays the function for one invocation: polls /next, then posts `body` to `.../{id}/{post}`.
/// Returns the /next headers and event.
async fn serve_one(api: &str, post: &str, error_type: Option<&str>, body: &'static str) -> (HeaderMap, Bytes) {
    let (status, headers, event) =
        send(Method::GET, &format!("http://{api}/2018-06-01/runtime/invocation/next"), &[], "").await;
    assert_eq!(status, StatusCode::OK);
    let id = header(&headers, "lambda-runtime-aws-request-id").to_owned();
    let extra: Vec<(&str, &str)> = error_type.map(|t| ("Lambda-Runtime-Function-Error-Type", t)).into_iter().collect();
    let url = format!("http://{api}/2018-06-01/runtime/invocation/{id}/{post}");
    let (status, _, _) = send(Method::POST, &url, &extra, body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    (headers, event)
}

#[tokio::test]
async fn next_delivers_the_event_with_lambda_headers_and_response_is_recorded() {
    let api = RuntimeApi::start().await;
    loopback_only(&format!("http://{}", api.address()));
    let address = api.address();
    let function = tokio::spawn(async move { serve_one(&address, "response", None, r#"{"ok":true}"#).await });
    let polled = api.wait_for_next_poll(5 * SECOND).await.expect("the in-test function polls /next");

    let opts = InvokeOptions {
        deadline: 7 * SECOND,
        trace_id: Some("Root=1-5759e988-bd862e3fe1be46a994272793".into()),
        ..Default::default()
    };
    let before = now_ms();
    let outcome = api.invoke(r#"{"hello":"world"}"#, opts).await;
    assert_eq!(outcome.response(), json!({"ok": true}));

    let (headers, event) = function.await.unwrap();
    assert!(polled.elapsed() < 10 * SECOND);
    assert_eq!(event, Bytes::from_static(br#"{"hello":"world"}"#));
    assert!(!header(&headers, "lambda-runtime-aws-request-id").is_empty());
    let deadline: u128 = header(&headers, "lambda-runtime-deadline-ms").parse().unwrap();
    assert!(deadline > before + 6_000 && deadline <= now_ms() + 7_000, "deadline {deadline} vs now {before}");
    assert_eq!(header(&headers, "lambda-runtime-invoked-function-arn"), FUNCTION_ARN);
    assert_eq!(header(&headers, "lambda-runtime-trace-id"), "Root=1-5759e988-bd862e3fe1be46a994272793");
    assert_eq!(header(&headers, "content-type"), "application/json");
    assert!(api.violations().is_empty(), "{:?}", api.violations());
}

#[tokio::test]
async fn error_report_is_recorded_and_trace_header_is_absent_when_not_given() {
    let api = RuntimeApi::start().await;
    let address = api.address();
    let function = tokio::spawn(async move {
        serve_one(
            &address,
            "error",
            Some("unhandled"),
            r#"{"errorType":"DeliveryFailed","errorMessage":"app said 500"}"#,
        )
        .await
    });
    let error = api.invoke("{}", InvokeOptions::default()).await.error();
    assert_eq!(error.error_type, "unhandled");
    assert_eq!(error.body_error_type(), Some("DeliveryFailed"));
    assert_eq!(error.error_message(), Some("app said 500"));
    let (headers, _) = function.await.unwrap();
    assert!(headers.get("lambda-runtime-trace-id").is_none());
}

#[tokio::test]
async fn non_json_response_is_kept_as_text_and_invocations_are_served_in_order() {
    let api = RuntimeApi::start().await;
    let address = api.address();
    let function = tokio::spawn(async move {
        let (_, first) = serve_one(&address, "response", None, "plain text").await;
        let (_, second) = serve_one(&address, "response", None, "[1,2]").await;
        (first, second)
    });
    let (a, b) = tokio::join!(api.invoke("1", InvokeOptions::default()), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        api.invoke("2", InvokeOptions::default()).await
    });
    assert_eq!(a.response(), json!("plain text"));
    assert_eq!(b.response(), json!([1, 2]));
    assert_eq!(function.await.unwrap(), (Bytes::from("1"), Bytes::from("2")));
}

#[tokio::test]
async fn init_errors_unknown_ids_and_routes_are_recorded() {
    let api = RuntimeApi::start().await;
    let base = format!("http://{}/2018-06-01/runtime", api.address());
    let body = r#"{"errorType":"ConfigError","errorMessage":"BINDERY_APP_URL is not set"}"#;
    let headers = [("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")];
    let (status, _, _) = send(Method::POST, &format!("{base}/init/error"), &headers, body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let errors = api.init_errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].error_type, "Runtime.InitError");
    assert_eq!(errors[0].error_message(), Some("BINDERY_APP_URL is not set"));

    let (status, _, _) = send(Method::POST, &format!("{base}/invocation/nope/response"), &[], "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = send(Method::GET, &format!("{base}/whatever"), &[], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(api.violations().len(), 2, "{:?}", api.violations());
}

#[tokio::test]
async fn a_poll_abandoned_by_its_client_does_not_swallow_the_next_invocation() {
    let api = RuntimeApi::start().await;
    let mut stream = tokio::net::TcpStream::connect(api.address()).await.unwrap();
    let poll = format!("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {}\r\n\r\n", api.address());
    stream.write_all(poll.as_bytes()).await.unwrap();
    api.wait_for_next_poll(5 * SECOND).await.expect("raw poll arrives");
    drop(stream); // the "function" dies mid-poll
    tokio::time::sleep(Duration::from_millis(200)).await;

    let address = api.address();
    let function = tokio::spawn(async move { serve_one(&address, "response", None, "true").await });
    let opts = InvokeOptions { wait: 5 * SECOND, ..Default::default() };
    assert_eq!(api.invoke("{}", opts).await.response(), json!(true));
    function.await.unwrap();
}

#[tokio::test]
async fn an_invocation_whose_invoker_gave_up_is_not_delivered() {
    let api = RuntimeApi::start().await;
    let gave_up = tokio::time::timeout(Duration::from_millis(50), api.invoke("stale", InvokeOptions::default())).await;
    assert!(gave_up.is_err());
    let address = api.address();
    let function = tokio::spawn(async move { serve_one(&address, "response", None, "1").await });
    assert_eq!(api.invoke("fresh", InvokeOptions::default()).await.response(), json!(1));
    assert_eq!(function.await.unwrap().1, "fresh");
}

#[tokio::test]
async fn wait_for_next_poll_is_none_without_a_function() {
    let api = RuntimeApi::start().await;
    assert_eq!(api.wait_for_next_poll(Duration::from_millis(100)).await, None);
}

#[tokio::test]
#[should_panic(expected = "never took it from /next")]
async fn invoke_panics_when_nothing_answers() {
    let api = RuntimeApi::start().await;
    let opts = InvokeOptions { wait: Duration::from_millis(200), ..Default::default() };
    api.invoke("{}", opts).await;
}

#[tokio::test]
async fn app_records_any_method_path_query_headers_and_body() {
    let app = RecordingApp::start().await;
    app.set_reply(|r| {
        if r.body == "boom" {
            Reply::StatusBody(503, vec![("retry-after".into(), "1".into())], Bytes::from_static(b"down"))
        } else {
            Reply::Status(204)
        }
    });
    let url = app.url();
    let (status, _, _) = send(Method::POST, &format!("{url}/orders/42?x=1&y=2"), &[("x-test", "yes")], "hi").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, headers, body) = send(Method::PUT, &format!("{url}/a/b/c"), &[], "boom").await;
    assert_eq!(
        (status, header(&headers, "retry-after"), &body[..]),
        (StatusCode::SERVICE_UNAVAILABLE, "1", &b"down"[..])
    );
    send(Method::GET, &url, &[], "").await;
    send(Method::from_bytes(b"PATCH").unwrap(), &format!("{url}/p"), &[], "").await;

    let requests = app.wait_for_requests(4, 5 * SECOND).await;
    assert_eq!(requests.len(), 4);
    assert_eq!((requests[0].method.as_str(), requests[0].path.as_str()), ("POST", "/orders/42"));
    assert_eq!(requests[0].query.as_deref(), Some("x=1&y=2"));
    assert_eq!(requests[0].header("x-test"), Some("yes"));
    assert_eq!(requests[0].body, "hi");
    assert_eq!((requests[1].method.as_str(), requests[1].path.as_str()), ("PUT", "/a/b/c"));
    assert_eq!(
        (requests[2].method.as_str(), requests[2].path.as_str(), requests[2].query.as_deref()),
        ("GET", "/", None)
    );
    assert!(requests[2].body.is_empty());
    assert_eq!(requests[3].method, "PATCH");
    assert!(requests[0].at <= requests[1].at);
}

#[tokio::test]
async fn app_accepts_large_bodies() {
    let app = RecordingApp::start().await;
    let body = Bytes::from(vec![b'x'; 8 * 1024 * 1024 + 1]);
    let (status, _, _) = send(Method::POST, &app.url(), &[], body.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.requests()[0].body, body);
}

#[tokio::test]
async fn delayed_reply_is_recorded_before_it_is_sent() {
    let app = RecordingApp::start().await;
    app.set_reply(|_| Reply::Delay(Duration::from_millis(400), Box::new(Reply::Status(202))));
    let url = app.url();
    let started = std::time::Instant::now();
    let request = tokio::spawn(async move { send(Method::POST, &url, &[], "slow").await.0 });
    let recorded = app.wait_for_requests(1, 5 * SECOND).await;
    assert_eq!(recorded.len(), 1);
    assert!(!request.is_finished(), "the reply must still be delayed");
    assert_eq!(request.await.unwrap(), StatusCode::ACCEPTED);
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn wait_for_requests_returns_what_it_has_on_timeout() {
    let app = RecordingApp::start().await;
    assert!(app.wait_for_requests(1, Duration::from_millis(100)).await.is_empty());
}

#[tokio::test]
async fn stopped_app_and_unused_port_refuse_connections() {
    let app = RecordingApp::start().await;
    let address = app.url().trim_start_matches("http://").to_owned();
    let open = tokio::net::TcpStream::connect(&address).await.unwrap();
    app.stop().await;
    let refused = tokio::net::TcpStream::connect(&address).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    // An already-open connection is closed too.
    let mut buffer = [0u8; 16];
    open.readable().await.unwrap();
    assert!(matches!(open.try_read(&mut buffer), Ok(0) | Err(_)));

    let refused = tokio::net::TcpStream::connect(("127.0.0.1", unused_port())).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn loopback_only_accepts_loopback_hosts() {
    for url in
        ["http://127.0.0.1:8080/x", "http://localhost", "https://LOCALHOST:1/", "http://[::1]:9/", "127.0.0.1:9001"]
    {
        loopback_only(url);
    }
}

#[test]
#[should_panic(expected = "only talk to loopback")]
fn loopback_only_refuses_other_hosts() {
    loopback_only("http://10.0.0.1:8080/");
}

#[test]
#[should_panic(expected = "only talk to loopback")]
fn loopback_only_refuses_lookalike_hosts() {
    loopback_only("http://127.0.0.1.example.com/");
}
