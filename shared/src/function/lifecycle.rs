//! How a function lives on the Runtime API, around its handler:
//!
//! - **Stopping.** On SIGTERM (Lambda's shutdown, when an extension is
//!   registered; `docker stop`, `sam local`, Ctrl-C locally) the deliveries
//!   in flight get at most [`STOP_GRACE`] more. Whatever has not finished by
//!   then is reported failed in the invocation's answer (an SQS record in
//!   `batchItemFailures`, a schedule as an invocation error, a webhook as
//!   503), never silently dropped. Once that answer is posted, the function
//!   stops its co-located app, if any, and exits 0.
//! - **SnapStart.** After a restore the app client starts over with an empty
//!   connection pool, so no connection opened before the snapshot (whose
//!   peer may be long gone) is ever reused.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use lambda_runtime::{Diagnostic, LambdaInvocation, Runtime, SnapStartResource};
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;
use tower::{Layer, Service};
use tracing::info;

use super::colocated;
use super::event_loop::{self, RuntimeApi};
use crate::deliver::{App, DeliveryError, DeliveryErrorKind};
use crate::process::AppProcess;

type BoxError = lambda_runtime::Error;

/// How long deliveries in flight may go on after a stop is requested. Lambda
/// gives a runtime about 500 ms after SIGTERM, and the co-located app needs
/// part of it to stop.
pub const STOP_GRACE: Duration = Duration::from_millis(200);

/// Whether the function was told to stop. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Stopping(Arc<watch::Sender<bool>>);

impl Default for Stopping {
    fn default() -> Self {
        Self(Arc::new(watch::Sender::new(false)))
    }
}

impl Stopping {
    /// Asks every delivery to wrap up within [`STOP_GRACE`].
    pub fn request(&self) {
        self.0.send_replace(true);
    }

    /// Completes at `deadline`, or [`STOP_GRACE`] after a stop is requested,
    /// whichever comes first: the instant to give up on deliveries.
    pub async fn cutoff(&self, deadline: Instant) {
        let mut stop = self.0.subscribe();
        let after_stop = async {
            // The sender lives in `self`, so this only returns once stopping.
            let _ = stop.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(STOP_GRACE).await;
        };
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {}
            () = after_stop => {}
        }
    }

    /// Runs `delivery` until the [cutoff](Stopping::cutoff): a delivery cut
    /// off by a stop is a [`Timeout`](DeliveryErrorKind::Timeout) that says so.
    pub async fn bound<T>(
        &self,
        deadline: Instant,
        delivery: impl Future<Output = Result<T, DeliveryError>>,
    ) -> Result<T, DeliveryError> {
        tokio::select! {
            biased;
            result = delivery => result,
            () = self.cutoff(deadline) => Err(DeliveryError::new(
                DeliveryErrorKind::Timeout,
                "the function is stopping, and the app did not answer within the stop grace",
            )),
        }
    }
}

/// Runs `runtime` until it fails, the co-located app exits, or a signal
/// stops the function once the invocation in flight has been answered.
pub(crate) async fn run_lambda_runtime<S>(
    function: &'static str,
    runtime: Runtime<S>,
    app: &App,
    stopping: &Stopping,
    colocated: Option<AppProcess>,
) -> Result<(), BoxError>
where
    S: Service<LambdaInvocation, Response = (), Error = BoxError>,
{
    let in_flight = InFlight::default();
    let runtime =
        runtime.register_snapstart_resource(Arc::new(FreshConnections(app.clone()))).layer(in_flight.clone()).run();
    colocated::run_beside_app(function, colocated, runtime, stopped(function, stopping, &in_flight)).await
}

/// [`run_lambda_runtime`] for a function on its own [`event_loop`]: the same stopping,
/// SnapStart restore and co-located app.
pub(crate) async fn run_event_loop<H, Fut, R>(
    function: &'static str,
    handler: H,
    app: &App,
    stopping: &Stopping,
    colocated: Option<AppProcess>,
) -> Result<(), BoxError>
where
    H: Fn(Bytes, lambda_runtime::Context) -> Fut,
    Fut: Future<Output = Result<R, Diagnostic>>,
    R: Serialize,
{
    let api = RuntimeApi::from_env()?;
    let in_flight = InFlight::default();
    let run = async {
        api.restore_if_snapshotted(|| app.reset_connections()).await?;
        event_loop::run(&api, &in_flight, handler).await
    };
    colocated::run_beside_app(function, colocated, run, stopped(function, stopping, &in_flight)).await
}

/// Completes on a stop signal once the invocation in flight, if any, has
/// been answered; its deliveries get the grace.
async fn stopped(function: &'static str, stopping: &Stopping, in_flight: &InFlight) {
    stop_signal().await;
    info!(function, grace_ms = STOP_GRACE.as_millis() as u64, "stopping: deliveries in flight get the grace");
    stopping.request();
    in_flight.idle().await;
}

/// Completes on SIGTERM or SIGINT.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut terminate), Ok(mut interrupt)) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        }
        // Without handlers the signals keep their default: the process dies
        // and the invocation in flight, unanswered, is redelivered.
        _ => std::future::pending().await,
    }
}

/// Drops the app client's pooled connections after a SnapStart restore.
struct FreshConnections(App);

impl SnapStartResource for FreshConnections {
    fn after_restore(&self) -> lambda_runtime::BoxFuture<'_, Result<(), BoxError>> {
        Box::pin(async move {
            self.0.reset_connections();
            Ok(())
        })
    }
}

/// Counts invocations between being taken from `/next` and their answer
/// being posted: the outermost layer, so the count covers the posting too.
#[derive(Debug, Clone, Default)]
pub(crate) struct InFlight(Arc<watch::Sender<usize>>);

impl InFlight {
    /// Completes once no invocation is in flight.
    async fn idle(&self) {
        let _ = self.0.subscribe().wait_for(|count| *count == 0).await;
    }

    pub(crate) fn enter(&self) -> InFlightGuard {
        self.0.send_modify(|count| *count += 1);
        InFlightGuard(self.0.clone())
    }
}

/// Leaves the count when the invocation ends, answered or dropped.
pub(crate) struct InFlightGuard(Arc<watch::Sender<usize>>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.send_modify(|count| *count -= 1);
    }
}

impl<S> Layer<S> for InFlight {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted { inner, in_flight: self.clone() }
    }
}

pub(crate) struct Counted<S> {
    inner: S,
    in_flight: InFlight,
}

impl<S: Service<LambdaInvocation>> Service<LambdaInvocation> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = CountedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        let guard = self.in_flight.enter();
        CountedFuture { inner: Box::pin(self.inner.call(invocation)), _guard: guard }
    }
}

/// The inner future, holding its place in the count until it completes or is dropped.
pub(crate) struct CountedFuture<F> {
    // Boxed so that this future is Unpin without pin projection; one
    // allocation per invocation, next to the many of the runtime itself.
    inner: Pin<Box<F>>,
    _guard: InFlightGuard,
}

impl<F: Future> Future for CountedFuture<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.inner.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_cutoff_is_the_deadline_or_the_grace_after_a_stop() {
        let stopping = Stopping::default();
        let start = Instant::now();
        stopping.cutoff(start + Duration::from_secs(3)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(3), "no stop: the deadline");

        let start = Instant::now();
        let waiting = tokio::spawn({
            let stopping = stopping.clone();
            async move { stopping.cutoff(start + Duration::from_secs(60)).await }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        stopping.request();
        waiting.await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(1) + STOP_GRACE, "a stop: the grace after it");

        let start = Instant::now();
        stopping.cutoff(start + Duration::from_secs(60)).await;
        assert_eq!(start.elapsed(), STOP_GRACE, "work that starts after the stop gets the grace, no more");
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_counts_until_the_future_ends_or_is_dropped() {
        let in_flight = InFlight::default();
        let first = in_flight.enter();
        let second = in_flight.enter();
        let idle = tokio::spawn({
            let in_flight = in_flight.clone();
            async move { in_flight.idle().await }
        });
        drop(first);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!idle.is_finished(), "one invocation is still in flight");
        drop(second);
        idle.await.unwrap();
    }
}
