//! Cross-cutting behaviour, written once and wrapped around every binding:
//! a per-attempt [`Timeout`], [`Retry`] with backoff and jitter, and a
//! tracing span per call ([`Traced`]). Each is an [`OutputBinding`] that
//! holds the next one, as in OpenDAL's layers and tower's services.
//!
//! The registry stacks them as `Traced(Retry(Timeout(binding)))`: one span
//! per call, the timeout bounds each attempt, and the retry policy decides,
//! from the error kind and the binding's idempotency rule, whether to try again.

mod retry;
mod settings;
mod timeout;
mod trace;

pub use retry::{Retry, RetryPolicy};
pub use settings::{DEFAULT_TIMEOUT, LayerSettings};
pub use timeout::Timeout;
pub use trace::Traced;

use super::OutputBinding;

/// Wraps `binding` in every layer, as configured by `settings`.
pub fn stack(
    binding: Box<dyn OutputBinding>,
    name: &str,
    type_: &str,
    settings: &LayerSettings,
) -> Box<dyn OutputBinding> {
    let timed: Box<dyn OutputBinding> = match settings.timeout {
        Some(limit) => Box::new(Timeout::new(binding, limit)),
        None => binding,
    };
    let retried = Retry::new(timed, settings.retry.clone());
    Box::new(Traced::new(retried, name, type_))
}

#[cfg(test)]
mod tests;
