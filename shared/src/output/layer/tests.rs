//! The layers around a binding whose failures the test scripts: the layers
//! are what is under test here, so the binding is a stand-in.

use std::sync::Mutex;
use std::time::Duration;

use super::*;
use crate::output::error::{ErrorKind, InvokeError};
use crate::output::{BoxFuture, InvokeRequest, InvokeResponse, InvokeResult, OutputBinding};

/// Fails with the scripted kinds, in order, then succeeds; `create` is not idempotent.
struct Scripted {
    failures: Mutex<Vec<ErrorKind>>,
    calls: Mutex<u32>,
    delay: Duration,
}

impl Scripted {
    fn new(failures: &[ErrorKind]) -> Self {
        Self {
            failures: Mutex::new(failures.iter().rev().copied().collect()),
            calls: Mutex::new(0),
            delay: Duration::ZERO,
        }
    }
    fn calls(&self) -> u32 {
        *self.calls.lock().unwrap()
    }
}

impl OutputBinding for Scripted {
    fn operations(&self) -> &'static [&'static str] {
        &["get", "create"]
    }
    fn is_idempotent(&self, request: &InvokeRequest) -> bool {
        request.operation == "get"
    }
    fn invoke(&self, _request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(async move {
            *self.calls.lock().unwrap() += 1;
            tokio::time::sleep(self.delay).await;
            match self.failures.lock().unwrap().pop() {
                Some(kind) => Err(InvokeError::new(kind, format!("{kind:?}"))),
                None => Ok(Some(InvokeResponse::new("ok"))),
            }
        })
    }
}

fn fast_policy(max_retries: u32) -> RetryPolicy {
    RetryPolicy { max_retries, min_delay: Duration::from_millis(1), max_delay: Duration::from_millis(2) }
}

#[tokio::test]
async fn throttling_is_retried_even_when_not_idempotent() {
    let retry = Retry::new(Scripted::new(&[ErrorKind::Throttled, ErrorKind::Throttled]), fast_policy(3));
    let response = retry.invoke(InvokeRequest::new("create", "x")).await.unwrap().unwrap();
    assert_eq!(response.data, "ok");
    assert_eq!(retry.get_ref().calls(), 3);
}

#[tokio::test]
async fn transient_failures_are_retried_only_when_idempotent() {
    let retry = Retry::new(Scripted::new(&[ErrorKind::Transient]), fast_policy(3));
    assert!(retry.invoke(InvokeRequest::new("get", "")).await.is_ok());
    assert_eq!(retry.get_ref().calls(), 2);

    let retry = Retry::new(Scripted::new(&[ErrorKind::Transient]), fast_policy(3));
    let error = retry.invoke(InvokeRequest::new("create", "x")).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Transient);
    assert_eq!(retry.get_ref().calls(), 1, "a create may have happened: never repeated");
}

#[tokio::test]
async fn bad_requests_are_never_retried_and_retries_run_out() {
    let retry = Retry::new(Scripted::new(&[ErrorKind::BadRequest]), fast_policy(3));
    assert_eq!(retry.invoke(InvokeRequest::new("get", "")).await.unwrap_err().kind, ErrorKind::BadRequest);
    assert_eq!(retry.get_ref().calls(), 1);

    let retry = Retry::new(Scripted::new(&[ErrorKind::Throttled; 5]), fast_policy(2));
    assert_eq!(retry.invoke(InvokeRequest::new("get", "")).await.unwrap_err().kind, ErrorKind::Throttled);
    assert_eq!(retry.get_ref().calls(), 3, "the first attempt and two retries");
}

#[tokio::test(start_paused = true)]
async fn each_attempt_is_timed_and_an_idempotent_timeout_is_retried() {
    let mut slow = Scripted::new(&[]);
    slow.delay = Duration::from_secs(5);
    let timed = Timeout::new(slow, Duration::from_secs(1));
    let error = timed.invoke(InvokeRequest::new("create", "x")).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Timeout);
    assert_eq!(error.message, "timed out after 1s");

    let retried = Retry::new(timed, fast_policy(2));
    assert_eq!(retried.invoke(InvokeRequest::new("get", "")).await.unwrap_err().kind, ErrorKind::Timeout);
    assert_eq!(retried.get_ref().get_ref().calls(), 1 + 1 + 2, "one create, then a get tried three times");
}

#[tokio::test]
async fn the_stack_keeps_the_bindings_rules() {
    let settings = LayerSettings { timeout: Some(Duration::from_secs(5)), retry: fast_policy(1) };
    let stacked = stack(Box::new(Scripted::new(&[ErrorKind::Transient])), "orders", "test", &settings);
    assert_eq!(stacked.operations(), ["get", "create"]);
    assert!(stacked.is_idempotent(&InvokeRequest::new("get", "")));
    assert!(stacked.invoke(InvokeRequest::new("get", "")).await.is_ok());
}

/// Every line a subscriber writes, for reading back.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<Mutex<Vec<u8>>>);

impl crate::telemetry::line::LineSink for Captured {
    fn write_line(&self, _: tracing::Level, line: &[u8]) {
        self.0.lock().unwrap().extend_from_slice(line);
    }
}

/// The lines a function's subscriber at `level` writes while the stack runs
/// a failing and then a succeeding call carrying `data` and `metadata`.
async fn traced_calls(level: tracing::Level, data: &str, metadata: (&str, &str)) -> (String, Vec<serde_json::Value>) {
    use crate::telemetry::line::{Format, Lines};
    use tracing_subscriber::layer::SubscriberExt;

    let captured = Captured::default();
    let lines = Lines::new(Format::Json, "orders", None, captured.clone());
    let filter = tracing_subscriber::filter::LevelFilter::from_level(level);
    let _default = tracing::subscriber::set_default(tracing_subscriber::registry().with(filter).with(lines));
    let settings = LayerSettings { timeout: Some(Duration::from_secs(5)), retry: fast_policy(1) };
    let stacked = stack(Box::new(Scripted::new(&[ErrorKind::BadRequest])), "orders", "bindings.aws.sqs", &settings);
    let request = || InvokeRequest::new("create", data.to_owned()).with_metadata(metadata.0, metadata.1);
    assert!(stacked.invoke(request()).await.is_err());
    assert!(stacked.invoke(request()).await.is_ok());
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    (text, lines)
}

#[tokio::test]
async fn each_call_is_traced_with_binding_type_and_operation_but_no_values() {
    let (data, metadata) = ("the-message-body-7f3a", ("securityToken", "the-token-value-9c1e"));
    for level in [tracing::Level::INFO, tracing::Level::TRACE] {
        let (text, lines) = traced_calls(level, data, metadata).await;
        assert!(!text.contains(data) && !text.contains(metadata.1), "{level}: a value was traced: {text}");
        let names_the_call = |line: &serde_json::Value| {
            line["binding"] == "orders" && line["type"] == "bindings.aws.sqs" && line["operation"] == "create"
        };
        let failed = lines.iter().find(|l| l["message"] == "invocation failed").expect("the failure is logged");
        assert_eq!(failed["level"], "WARN");
        assert_eq!(failed["kind"], "BadRequest");
        assert!(names_the_call(failed), "{level}: {text}");
        let invoked: Vec<_> = lines.iter().filter(|l| l["message"] == "invoked").collect();
        let expected = if level == tracing::Level::TRACE { 1 } else { 0 };
        assert_eq!(invoked.len(), expected, "{level}: the success is a debug line: {text}");
        assert!(invoked.iter().all(|l| names_the_call(l)), "{level}: {text}");
    }
}
