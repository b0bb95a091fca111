//! The SQS function's loop on the Lambda Runtime API (next event, handler,
//! answer), which reads each event straight into one buffer.
//!
//! `lambda_runtime` gathers an event's body as the chunks hyper reads and
//! only then copies them into one buffer, so while a large batch arrives it
//! is held about one and a half times over (BENCHMARKS.md). Here the body
//! goes into a buffer of its `Content-Length` as it arrives, read 64 KiB at
//! a time, and each chunk is dropped once copied. Everything else
//! is `lambda_runtime`'s own: `Config`, `Context`, `Diagnostic`, and the
//! requests as `Runtime` sends them (its user agent included); the request
//! span is [`telemetry::invocation_span`], with Powertools' keys.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_LENGTH;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use lambda_runtime::{Config, Context, Diagnostic};
use lambda_runtime_api_client::build_request;
use serde::Serialize;
use tracing::Instrument;

use super::stopping::InFlight;
use crate::telemetry;

type BoxError = lambda_runtime::Error;

/// Lambda's payloads are at most 6 MB; a `Content-Length` beyond this is not
/// trusted for the buffer's first size (the body still arrives whole).
const PREALLOCATE_AT_MOST: usize = 64 << 20;

/// hyper's read buffer: chunks of an event are at most this big. hyper's
/// default (about 400 KiB) keeps a few such buffers mapped at once while a
/// large event streams in.
const READ_BUFFER: usize = 64 << 10;

type ApiClient = Client<HttpConnector, Full<Bytes>>;

/// The Runtime API, as the function's environment names it.
pub(crate) struct RuntimeApi {
    /// Replaced after a SnapStart restore: pooled connections from before
    /// the snapshot are stale.
    client: RwLock<ApiClient>,
    endpoint: Endpoint,
    config: Arc<Config>,
    /// The last event's buffer, kept for the next: its pages are already
    /// mapped, where a fresh buffer costs a page fault per 4 KiB written
    /// (about 8 ms of the 10,000-record benchmark). Lambda's payloads are at
    /// most 6 MB, so that is the most kept between invocations.
    spare: Mutex<BytesMut>,
}

fn api_client() -> ApiClient {
    // An answer's head and body may go out as two writes: without
    // TCP_NODELAY the second waits for the first's ACK.
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new()).http1_max_buf_size(READ_BUFFER).build(connector)
}

impl RuntimeApi {
    /// Reads `AWS_LAMBDA_RUNTIME_API` and the function's configuration.
    /// Unlike `lambda_runtime::Runtime::new`, a missing variable is an error
    /// that names it, not a panic.
    pub(crate) fn from_env() -> Result<Self, BoxError> {
        let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set: not on Lambda?"));
        let endpoint = Endpoint::parse(&var("AWS_LAMBDA_RUNTIME_API")?)?;
        let memory = var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")?;
        let config = Config {
            function_name: var("AWS_LAMBDA_FUNCTION_NAME")?,
            memory: memory
                .parse()
                .map_err(|_| format!("AWS_LAMBDA_FUNCTION_MEMORY_SIZE is not a number: {memory:?}"))?,
            version: var("AWS_LAMBDA_FUNCTION_VERSION")?,
            log_stream: var("AWS_LAMBDA_LOG_STREAM_NAME").unwrap_or_default(),
            log_group: var("AWS_LAMBDA_LOG_GROUP_NAME").unwrap_or_default(),
        };
        Ok(Self::new(endpoint, config))
    }

    fn new(endpoint: Endpoint, config: Config) -> Self {
        Self { client: RwLock::new(api_client()), endpoint, config: Arc::new(config), spare: Mutex::default() }
    }

    /// With SnapStart, waits on `/restore/next` until the snapshot is
    /// restored, then starts the Runtime API's connections over and calls
    /// `after_restore`. Without it, returns at once.
    pub(crate) async fn restore_if_snapshotted(&self, after_restore: impl FnOnce()) -> Result<(), BoxError> {
        if std::env::var("AWS_LAMBDA_INITIALIZATION_TYPE").as_deref() != Ok("snap-start") {
            return Ok(());
        }
        let response = self.call(Method::GET, "/2018-06-01/runtime/restore/next", None, Bytes::new()).await?;
        if !response.status().is_success() {
            return Err(format!("/restore/next answered {}", response.status()).into());
        }
        *self.client.write().unwrap_or_else(PoisonError::into_inner) = api_client();
        after_restore();
        Ok(())
    }

    /// Waits for the next invocation: its context and its event, whole.
    /// `None` when the Runtime API answered 204, no invocation, as
    /// `cargo lambda watch` does to keep a function polling.
    pub(crate) async fn next(&self) -> Result<Option<(Context, Bytes)>, BoxError> {
        let response = self.call(Method::GET, "/2018-06-01/runtime/invocation/next", None, Bytes::new()).await?;
        let (parts, mut body) = response.into_parts();
        if parts.status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        if !parts.status.is_success() {
            return Err(format!("/invocation/next answered {}", parts.status).into());
        }
        let request_id = parts
            .headers
            .get("lambda-runtime-aws-request-id")
            .and_then(|v| v.to_str().ok())
            .ok_or("/invocation/next gave no lambda-runtime-aws-request-id")?;
        // `Context::new` panics without it (lambda_runtime 1.5 `expect`s it).
        if !parts.headers.contains_key("lambda-runtime-deadline-ms") {
            return Err("/invocation/next gave no lambda-runtime-deadline-ms".into());
        }
        let context = Context::new(request_id, self.config.clone(), &parts.headers)?;
        let length = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let mut event = std::mem::take(&mut *self.spare.lock().unwrap_or_else(PoisonError::into_inner));
        event.clear();
        event.reserve(length.unwrap_or(0).min(PREALLOCATE_AT_MOST));
        while let Some(frame) = body.frame().await {
            if let Ok(chunk) = frame?.into_data() {
                event.extend_from_slice(&chunk);
            }
        }
        Ok(Some((context, event.freeze())))
    }

    /// Keeps `event`'s buffer for the next event, once nothing else holds it.
    fn recycle(&self, event: Bytes) {
        if let Ok(buffer) = event.try_into_mut() {
            *self.spare.lock().unwrap_or_else(PoisonError::into_inner) = buffer;
        }
    }

    /// Posts the handler's result: its JSON to `/response`, or its
    /// diagnostic to `/error`.
    pub(crate) async fn answer<R: Serialize>(
        &self,
        request_id: &str,
        result: Result<R, Diagnostic>,
    ) -> Result<(), BoxError> {
        let (path, error_type, body) = match result {
            Ok(response) => ("response", None, serde_json::to_vec(&response)?),
            Err(diagnostic) => ("error", Some("unhandled"), serde_json::to_vec(&diagnostic)?),
        };
        let path = format!("/2018-06-01/runtime/invocation/{request_id}/{path}");
        let response = self.call(Method::POST, &path, error_type, Bytes::from(body)).await?;
        // Drained so the connection is reused; a refusal (say, an answer
        // after the deadline) is Lambda's to report, as in `lambda_runtime`.
        let _ = response.into_body().collect().await;
        Ok(())
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        error_type: Option<&str>,
        body: Bytes,
    ) -> Result<Response<Incoming>, BoxError> {
        let path: PathAndQuery = format!("{}{path}", self.endpoint.base_path).parse()?;
        let uri = Uri::builder()
            .scheme(Scheme::HTTP)
            .authority(self.endpoint.authority.clone())
            .path_and_query(path)
            .build()?;
        let mut request = build_request().method(method).uri(uri);
        if let Some(error_type) = error_type {
            request = request.header("lambda-runtime-function-error-type", error_type);
        }
        let request: Request<Full<Bytes>> = request.body(Full::new(body))?;
        let client = self.client.read().unwrap_or_else(PoisonError::into_inner).clone();
        Ok(client.request(request).await?)
    }
}

/// Where the Runtime API is: `AWS_LAMBDA_RUNTIME_API`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoint {
    authority: Authority,
    /// Put before every path; empty, or a prefix without a trailing `/`.
    base_path: String,
}

impl Endpoint {
    /// Every form `lambda_runtime`'s client takes (lambda_runtime_api_client
    /// 1.1 parses the variable as a URI and keeps its scheme, authority and
    /// path): `host:port`, as Lambda sets it, or `http://host:port` with an
    /// optional path prefix, as `cargo lambda watch` sets it
    /// (`http://127.0.0.1:9000/.rt`). Its plain-HTTP connector cannot call an
    /// `https://` one, and neither can this loop: that is refused here, at init.
    fn parse(value: &str) -> Result<Self, String> {
        let refuse = |why: &str| format!("AWS_LAMBDA_RUNTIME_API is {value:?}: {why}");
        let uri: Uri = value.parse().map_err(|e| refuse(&format!("not a host:port or an http:// URL ({e})")))?;
        if uri.scheme().is_some_and(|scheme| *scheme != Scheme::HTTP) {
            return Err(refuse("the Runtime API is plain HTTP (http:// or host:port)"));
        }
        let authority = uri.authority().cloned().ok_or_else(|| refuse("it names no host:port"))?;
        Ok(Self { authority, base_path: uri.path().trim_end_matches('/').to_owned() })
    }
}

/// Answers invocations of the function serving `binding` one at a time
/// until the Runtime API fails, each counted in `in_flight` from its event's
/// arrival to its answer's posting.
pub(crate) async fn run<H, Fut, R>(
    api: &RuntimeApi,
    in_flight: &InFlight,
    binding: &str,
    handler: H,
) -> Result<(), BoxError>
where
    H: Fn(Bytes, Context) -> Fut,
    Fut: Future<Output = Result<R, Diagnostic>>,
    R: Serialize,
{
    telemetry::hold_until_answered();
    // What is held is written however the loop ends.
    let _written = WrittenOnDrop;
    let mut cold_start = true;
    loop {
        let Some((context, event)) = api.next().await? else { continue };
        let _answering = in_flight.enter();
        let span = telemetry::invocation_span(&context, std::mem::replace(&mut cold_start, false), binding);
        let request_id = context.request_id.clone();
        let result = handler(event.clone(), context).instrument(span.clone()).await;
        if result.is_err() {
            telemetry::span_failed(&span);
        }
        api.recycle(event);
        api.answer(&request_id, result).instrument(span).await?;
        telemetry::write_held();
        // The invocation's span has ended: it goes out while the function
        // is still thawed, before it asks for the next event.
        telemetry::export_traces().await;
    }
}

/// Writes the held log lines when dropped.
struct WrittenOnDrop;

impl Drop for WrittenOnDrop {
    fn drop(&mut self) {
        telemetry::write_held();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::body::Body;
    use axum::extract::{Path, State};
    use axum::routing::{get, post};
    use futures_util::stream;

    use super::*;

    /// A Runtime API that first answers `/next` with 204, then with one
    /// event sent in three chunks without a `Content-Length`, and keeps
    /// what is posted to `/response` or `/error`.
    #[derive(Default)]
    struct Api {
        polls: AtomicUsize,
        answers: Mutex<Vec<(String, String)>>,
    }

    async fn next(State(api): State<Arc<Api>>) -> axum::response::Response {
        let poll = api.polls.fetch_add(1, Ordering::SeqCst);
        let builder =
            axum::response::Response::builder().header("lambda-runtime-aws-request-id", format!("req-{poll}"));
        let builder = builder.header("lambda-runtime-deadline-ms", "4102444800000");
        match poll {
            0 => builder.status(204).body(Body::empty()).unwrap(),
            1 => {
                let chunks = ["{\"Records\":", "[1,2,", "3]}"].map(|c| Ok::<_, std::io::Error>(Bytes::from(c)));
                builder.body(Body::from_stream(stream::iter(chunks))).unwrap()
            }
            _ => builder.body(Body::from("not json")).unwrap(),
        }
    }

    async fn answer(
        State(api): State<Arc<Api>>,
        Path((id, kind)): Path<(String, String)>,
        headers: http::HeaderMap,
        body: String,
    ) {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
        let error_type = header("lambda-runtime-function-error-type");
        assert!(header("user-agent").starts_with("aws-lambda-rust/"), "lambda_runtime's user agent");
        api.answers.lock().unwrap().push((format!("{id}/{kind} {error_type}"), body));
    }

    /// lambda_runtime's `Context::new` `expect`s the deadline header: an
    /// invocation without one aborted the function (`panic = "abort"`).
    #[tokio::test]
    async fn an_invocation_without_a_deadline_is_an_error_not_a_panic() {
        let next = || async {
            axum::response::Response::builder()
                .header("lambda-runtime-aws-request-id", "req-0")
                .body(Body::from(r#"{"Records":[]}"#))
                .unwrap()
        };
        let router = Router::new().route("/2018-06-01/runtime/invocation/next", get(next));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = Endpoint::parse(&listener.local_addr().unwrap().to_string()).unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });

        let runtime = RuntimeApi::new(endpoint, Config { function_name: "f".into(), ..Config::default() });
        let error = runtime.next().await.expect_err("no deadline, no invocation");
        assert_eq!(error.to_string(), "/invocation/next gave no lambda-runtime-deadline-ms");
    }

    /// Every form `lambda_runtime`'s own client accepts: `cargo lambda
    /// watch` sets `http://127.0.0.1:9000/.rt`, which this loop refused.
    #[test]
    fn the_runtime_api_is_a_host_and_port_or_an_http_url_with_a_path() {
        let parsed = |value: &str| {
            let endpoint = Endpoint::parse(value).unwrap_or_else(|e| panic!("{value}: {e}"));
            (endpoint.authority.to_string(), endpoint.base_path)
        };
        let at = |authority: &str, base: &str| (authority.to_owned(), base.to_owned());
        assert_eq!(parsed("127.0.0.1:9001"), at("127.0.0.1:9001", ""));
        assert_eq!(parsed("localhost:9001"), at("localhost:9001", ""));
        assert_eq!(parsed("http://127.0.0.1:9000"), at("127.0.0.1:9000", ""));
        assert_eq!(parsed("http://127.0.0.1:9000/"), at("127.0.0.1:9000", ""));
        assert_eq!(parsed("http://127.0.0.1:9000/.rt"), at("127.0.0.1:9000", "/.rt"));
        assert_eq!(parsed("http://127.0.0.1:9000/a/b/"), at("127.0.0.1:9000", "/a/b"));
        assert_eq!(parsed("http://[::1]:9000/.rt"), at("[::1]:9000", "/.rt"));
    }

    #[test]
    fn a_runtime_api_it_cannot_call_is_named() {
        let error = |value: &str| Endpoint::parse(value).expect_err(value);
        assert_eq!(
            error("https://127.0.0.1:9000"),
            "AWS_LAMBDA_RUNTIME_API is \"https://127.0.0.1:9000\": the Runtime API is plain HTTP (http:// or host:port)"
        );
        assert!(error("").starts_with("AWS_LAMBDA_RUNTIME_API is \"\": "), "{}", error(""));
        assert!(error("/.rt").starts_with("AWS_LAMBDA_RUNTIME_API is \"/.rt\": "), "{}", error("/.rt"));
        assert!(error("http://a b:1").starts_with("AWS_LAMBDA_RUNTIME_API is \"http://a b:1\": "));
    }

    #[tokio::test]
    async fn events_arrive_whole_and_answers_are_posted_past_a_204() {
        answers_past_a_204("").await;
    }

    #[tokio::test]
    async fn a_runtime_api_under_a_path_prefix_is_called_there() {
        answers_past_a_204("/.rt").await;
    }

    async fn answers_past_a_204(prefix: &str) {
        let api = Arc::new(Api::default());
        let routes = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(answer))
            .with_state(api.clone());
        let router = if prefix.is_empty() { routes } else { Router::new().nest(prefix, routes) };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}{prefix}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });

        let endpoint = Endpoint::parse(&address).unwrap();
        let runtime = RuntimeApi::new(endpoint, Config { function_name: "f".into(), ..Config::default() });
        let in_flight = InFlight::default();
        let handler = |event: Bytes, context: Context| async move {
            let value: serde_json::Value = serde_json::from_slice(&event)
                .map_err(|e| Diagnostic { error_type: "Bad".into(), error_message: format!("{e}") })?;
            Ok::<_, Diagnostic>(serde_json::json!({ "id": context.request_id, "event": value }))
        };
        let answered = async {
            while api.answers.lock().unwrap().len() < 2 {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        };
        let within = std::time::Duration::from_secs(10);
        tokio::select! {
            result = run(&runtime, &in_flight, "orders", handler) => panic!("the loop ended: {result:?}"),
            waited = tokio::time::timeout(within, answered) => waited.expect("both answers posted"),
        }
        let answers = api.answers.lock().unwrap().clone();
        assert_eq!(answers[0], ("req-1/response -".into(), r#"{"event":{"Records":[1,2,3]},"id":"req-1"}"#.into()));
        assert_eq!(answers[1].0, "req-2/error unhandled");
        let diagnostic: serde_json::Value = serde_json::from_str(&answers[1].1).unwrap();
        assert_eq!(diagnostic["errorType"], "Bad");
    }
}
