//! `spec.initTimeout`: how long a component's start-up may take.

use std::future::Future;
use std::time::Duration;

/// `start`, the start-up work of a component, cut off after `limit` (its
/// `spec.initTimeout`) with the error `timed_out(limit)`; with no limit it
/// runs as long as it takes.
pub async fn within_init_timeout<T, E>(
    limit: Option<Duration>,
    start: impl Future<Output = Result<T, E>>,
    timed_out: impl FnOnce(Duration) -> E,
) -> Result<T, E> {
    match limit {
        None => start.await,
        Some(limit) => tokio::time::timeout(limit, start).await.unwrap_or_else(|_| Err(timed_out(limit))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn start_up_past_the_limit_is_the_timeout_error() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok::<_, String>("started")
        };
        let timed_out = |limit: Duration| format!("took longer than {limit:?}");
        assert_eq!(
            within_init_timeout(Some(Duration::from_secs(1)), slow, timed_out).await,
            Err("took longer than 1s".into())
        );
        assert_eq!(within_init_timeout(None, async { Ok::<_, String>(1) }, timed_out).await, Ok(1));
        assert_eq!(
            within_init_timeout(Some(Duration::from_secs(1)), async { Err::<u8, _>("no".to_owned()) }, timed_out).await,
            Err("no".into())
        );
    }
}
