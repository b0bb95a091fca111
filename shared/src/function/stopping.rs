//! Stopping: on SIGTERM (Lambda's shutdown, when an extension is registered;
//! `docker stop`, `sam local`, Ctrl-C locally) the deliveries in flight get at
//! most [`STOP_GRACE`] more, and the function waits for the invocation in
//! flight to be answered before it exits ([`InFlight`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::deliver::{DeliveryError, DeliveryErrorKind};

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
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {}
            () = self.grace_over() => {}
        }
    }

    /// Completes [`STOP_GRACE`] after a stop is requested, never before: for
    /// work that its own deadline bounds already (no second timer per event).
    pub async fn grace_over(&self) {
        let mut stop = self.0.subscribe();
        // The sender lives in `self`, so this only returns once stopping.
        let _ = stop.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(STOP_GRACE).await;
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

/// Counts invocations between being taken from `/next` and their answer
/// being posted.
#[derive(Debug, Clone, Default)]
pub(crate) struct InFlight(Arc<watch::Sender<usize>>);

impl InFlight {
    /// Completes once no invocation is in flight.
    pub(crate) async fn idle(&self) {
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
