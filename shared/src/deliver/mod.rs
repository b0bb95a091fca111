//! Delivery: a [`BindingEvent`] becomes `POST /<route>` on the app, and the
//! answer becomes acknowledged or failed (any 2xx acknowledges).

mod app;
pub mod batch;
mod error;
pub mod once;
mod request;
pub mod webhook;

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Uri};
use http_body_util::BodyExt;
use tokio::time::{Instant, timeout_at};

pub use app::{App, AppBody, AppRequest, AppResponse, BoxError, InvalidAppUrl};
pub use error::{DeliveryError, DeliveryErrorKind};
pub use request::{DEFAULT_METADATA_LIMIT, build_request};

use crate::error_chain::error_chain;
use crate::input::BindingEvent;
use crate::process::AppExit;

/// Sends events for one binding to the app.
#[derive(Debug, Clone)]
pub struct Deliverer {
    app: App,
    route: String,
    /// The app's URI for the route, computed once.
    uri: Uri,
    api_token: Option<HeaderValue>,
    /// How many bytes of metadata headers a request may carry.
    metadata_limit: usize,
    /// The exit of the app process behind `app`, when bindery started it.
    app_exit: Option<AppExit>,
}

impl Deliverer {
    /// `route` is the binding's path (`/name`); `api_token` is `APP_API_TOKEN`.
    pub fn new(app: App, route: impl Into<String>, api_token: Option<&str>) -> Result<Self, DeliveryError> {
        let api_token = api_token
            .filter(|t| !t.is_empty())
            .map(|t| {
                let mut v = HeaderValue::try_from(t).map_err(|_| {
                    DeliveryError::new(DeliveryErrorKind::InvalidEvent, "APP_API_TOKEN cannot be an HTTP header value")
                })?;
                v.set_sensitive(true);
                Ok::<_, DeliveryError>(v)
            })
            .transpose()?;
        let route = route.into();
        let uri = app.uri_for(&route).map_err(|_| {
            DeliveryError::new(DeliveryErrorKind::InvalidEvent, format!("route {route:?} is not a URL path"))
        })?;
        Ok(Self { app, route, uri, api_token, metadata_limit: DEFAULT_METADATA_LIMIT, app_exit: None })
    }

    /// Sets how many bytes of metadata headers a request may carry
    /// (`BINDERY_MAX_METADATA_BYTES`; [`DEFAULT_METADATA_LIMIT`] otherwise).
    pub fn with_metadata_limit(mut self, bytes: usize) -> Self {
        self.metadata_limit = bytes;
        self
    }

    pub fn route(&self) -> &str {
        &self.route
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// Ties deliveries to the app process bindery started: a delivery that
    /// fails because that process died never completes (see
    /// [`hold_if_exited`]), since its owner is about to end the function.
    pub fn watch_app_exit(&mut self, exit: AppExit) {
        self.app_exit = Some(exit);
    }

    /// Sends the event and returns the app's response, whatever its status.
    pub async fn send(&self, event: BindingEvent, deadline: Instant) -> Result<AppResponse, DeliveryError> {
        timeout_at(deadline, self.send_now(event)).await.unwrap_or_else(|_| Err(timed_out()))
    }

    /// Sends the event and succeeds only on a 2xx whose body arrives whole,
    /// as daprd reads the whole response before it acknowledges.
    pub async fn deliver(&self, event: BindingEvent, deadline: Instant) -> Result<(), DeliveryError> {
        timeout_at(deadline, self.deliver_untimed(event)).await.unwrap_or_else(|_| Err(timed_out()))
    }

    /// [`Deliverer::deliver`] without a deadline of its own, for callers that
    /// bound many deliveries by one (a batch), so each needs no timer.
    pub async fn deliver_untimed(&self, event: BindingEvent) -> Result<(), DeliveryError> {
        let response = self.send_now(event).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(DeliveryError::new(
                DeliveryErrorKind::AppRejected(status),
                format!("the app answered {status}"),
            ));
        }
        drain(response.into_body()).await.map_err(|e| {
            DeliveryError::new(
                DeliveryErrorKind::AppFailed,
                format!("the app answered {status} but its response broke off: {e}"),
            )
        })
    }

    /// Dapr's subscription probe (`isAppSubscribedToBinding`): `OPTIONS
    /// /<route>` with `Content-Type: application/json` and no body. A 2xx or
    /// 405 means the app subscribes; any other status that it does not. No
    /// answer within `within` is an error, as in daprd.
    pub async fn probe(&self, within: std::time::Duration) -> Result<bool, DeliveryError> {
        let mut request = http::Request::new(http_body_util::Full::new(Bytes::new()));
        *request.method_mut() = http::Method::OPTIONS;
        *request.uri_mut() = self.uri.clone();
        request.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(token) = &self.api_token {
            request.headers_mut().insert("dapr-api-token", token.clone());
        }
        let deadline = Instant::now() + within;
        let response = match timeout_at(deadline, self.app.call(request)).await {
            Ok(response) => response.map_err(|e| classify(&*e))?,
            Err(_) => return Err(timed_out()),
        };
        let status = response.status();
        // Read for the connection's sake only; the status is the answer.
        let _ = timeout_at(deadline, drain(response.into_body())).await;
        Ok(status.is_success() || status == http::StatusCode::METHOD_NOT_ALLOWED)
    }

    async fn send_now(&self, event: BindingEvent) -> Result<AppResponse, DeliveryError> {
        let request = build_request(&self.uri, event, self.api_token.as_ref(), self.metadata_limit)?;
        match self.app.call(request).await {
            Ok(response) => Ok(response),
            Err(e) => {
                if let Some(exit) = &self.app_exit {
                    hold_if_exited(exit.clone()).await;
                }
                Err(classify(&*e))
            }
        }
    }
}

/// How long after a failed call the app's exit is awaited. An app's
/// connections break as it dies, a moment before its exit is reaped.
const EXIT_NOTICE: Duration = Duration::from_millis(200);

/// Returns if the app is still running; never returns if it has exited or
/// exits within [`EXIT_NOTICE`]. Its owner ends the function then, and the
/// invocation gets no answer: Lambda counts it failed and the source
/// delivers all its events again, rather than trust a verdict reached while
/// the app was dying.
async fn hold_if_exited(mut exit: AppExit) {
    if tokio::time::timeout(EXIT_NOTICE, exit.wait()).await.is_ok() {
        std::future::pending::<()>().await;
    }
}

/// Reads the app's answer to its end, keeping none of it. Only an answer
/// read to its end shows that it arrived whole: a `Content-Length` body cut
/// short, or a chunked one without its last chunk, is an error here,
/// however much of it came. Bounded by the caller's deadline, not by size.
async fn drain(mut body: AppBody) -> Result<(), BoxError> {
    while let Some(frame) = body.frame().await {
        frame?;
    }
    Ok(())
}

pub(crate) fn timed_out() -> DeliveryError {
    DeliveryError::new(DeliveryErrorKind::Timeout, "no answer from the app before the invocation deadline")
}

/// Connection errors mean the app is not there; anything later, that it failed.
fn classify(error: &(dyn std::error::Error + 'static)) -> DeliveryError {
    let unreachable = error
        .downcast_ref::<hyper_util::client::legacy::Error>()
        .is_some_and(hyper_util::client::legacy::Error::is_connect);
    let kind = if unreachable { DeliveryErrorKind::AppUnreachable } else { DeliveryErrorKind::AppFailed };
    DeliveryError::new(kind, error_chain(error))
}

#[cfg(test)]
mod tests;
