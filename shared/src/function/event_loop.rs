//! The SQS function's loop on the Lambda Runtime API (next event, handler,
//! answer), which reads each event straight into one buffer.
//!
//! `lambda_runtime` gathers an event's body as the chunks hyper reads and
//! only then copies them into one buffer, so while a large batch arrives it
//! is held about one and a half times over (BENCHMARKS.md, "Memory"). Here
//! the body goes into a buffer of its `Content-Length` as it arrives, and
//! each chunk is dropped once copied, which also lets hyper reuse its read
//! buffer instead of mapping fresh memory for every chunk. Everything else
//! is `lambda_runtime`'s own: `Config`, `Context`, `Diagnostic`, the request
//! span, and the requests as `Runtime` sends them (its user agent included).

use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_LENGTH;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Method, Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use lambda_runtime::layers::trace::request_span;
use lambda_runtime::{Config, Context, Diagnostic};
use lambda_runtime_api_client::build_request;
use serde::Serialize;
use tracing::Instrument;

use super::lifecycle::InFlight;

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
    authority: Authority,
    config: Arc<Config>,
}

fn api_client() -> ApiClient {
    Client::builder(TokioExecutor::new()).http1_max_buf_size(READ_BUFFER).build(HttpConnector::new())
}

impl RuntimeApi {
    /// Reads `AWS_LAMBDA_RUNTIME_API` and the function's configuration.
    /// Unlike `lambda_runtime::Runtime::new`, a missing variable is an error
    /// that names it, not a panic.
    pub(crate) fn from_env() -> Result<Self, BoxError> {
        let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set: not on Lambda?"));
        let authority: Authority = var("AWS_LAMBDA_RUNTIME_API")?
            .parse()
            .map_err(|e| format!("AWS_LAMBDA_RUNTIME_API is not a host:port: {e}"))?;
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
        Ok(Self { client: RwLock::new(api_client()), authority, config: Arc::new(config) })
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
    pub(crate) async fn next(&self) -> Result<(Context, Bytes), BoxError> {
        let response = self.call(Method::GET, "/2018-06-01/runtime/invocation/next", None, Bytes::new()).await?;
        let (parts, mut body) = response.into_parts();
        if !parts.status.is_success() {
            return Err(format!("/invocation/next answered {}", parts.status).into());
        }
        let request_id = parts
            .headers
            .get("lambda-runtime-aws-request-id")
            .and_then(|v| v.to_str().ok())
            .ok_or("/invocation/next gave no lambda-runtime-aws-request-id")?;
        let context = Context::new(request_id, self.config.clone(), &parts.headers)?;
        let length = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let mut event = BytesMut::with_capacity(length.unwrap_or(0).min(PREALLOCATE_AT_MOST));
        while let Some(frame) = body.frame().await {
            if let Ok(chunk) = frame?.into_data() {
                event.extend_from_slice(&chunk);
            }
        }
        Ok((context, event.freeze()))
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
        let path: PathAndQuery = path.parse()?;
        let uri = Uri::builder().scheme(Scheme::HTTP).authority(self.authority.clone()).path_and_query(path).build()?;
        let mut request = build_request().method(method).uri(uri);
        if let Some(error_type) = error_type {
            request = request.header("lambda-runtime-function-error-type", error_type);
        }
        let request: Request<Full<Bytes>> = request.body(Full::new(body))?;
        let client = self.client.read().unwrap_or_else(PoisonError::into_inner).clone();
        Ok(client.request(request).await?)
    }
}

/// Answers invocations one at a time until the Runtime API fails, each
/// counted in `in_flight` from its event's arrival to its answer's posting.
pub(crate) async fn run<H, Fut, R>(api: &RuntimeApi, in_flight: &InFlight, handler: H) -> Result<(), BoxError>
where
    H: Fn(Bytes, Context) -> Fut,
    Fut: Future<Output = Result<R, Diagnostic>>,
    R: Serialize,
{
    loop {
        let (context, event) = api.next().await?;
        let _answering = in_flight.enter();
        let span = request_span(&context);
        let request_id = context.request_id.clone();
        let result = handler(event, context).instrument(span.clone()).await;
        api.answer(&request_id, result).instrument(span).await?;
    }
}
