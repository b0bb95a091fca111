//! The Lambda functions: each reads its configuration from the environment
//! at init, fails there (never at the first event) when it is wrong, and then
//! serves its binding.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `BINDERY_COMPONENTS` | `./components`, then `$LAMBDA_TASK_ROOT/components` | component directory or file |
//! | `BINDERY_BINDING` | required | the component this function serves |
//! | `BINDERY_APP_URL` | `http://127.0.0.1:8080` | the app |
//! | `APP_API_TOKEN` | none | sent as `dapr-api-token` |
//! | `BINDERY_DEADLINE_MARGIN_MS` | 250 | answer this long before the invocation deadline |
//! | `BINDERY_SQS_CONCURRENCY` | 16 | SQS deliveries in flight at once |

pub mod cron;
#[cfg(feature = "extension")]
pub mod extension;
mod raw_event;
mod setup;
pub mod sqs;
mod startup;
pub mod telemetry;
pub mod webhook;

pub use setup::{FunctionSetup, StartupError, setup};

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Context, Diagnostic};
use tokio::time::Instant;

use crate::deliver::DeliveryError;
use crate::output::Bindings;

/// For a function whose app runs in-process and calls output bindings: the
/// bindings of its components (`BINDERY_COMPONENTS`), loaded at init. A
/// problem is reported to Lambda as an init error, like every config error.
pub async fn output_bindings(function: &str) -> Result<Arc<Bindings>, lambda_runtime::Error> {
    telemetry::init();
    let env = |name: &str| std::env::var(name).ok();
    let loaded = match setup::components_path(&env) {
        Ok(path) => Bindings::load(&path).await.map_err(|e| StartupError(e.to_string())),
        Err(e) => Err(e),
    };
    match loaded {
        Ok(bindings) => Ok(Arc::new(bindings)),
        Err(e) => Err(startup::fail(function, e).await),
    }
}

/// The instant to be done by: the invocation deadline less the margin.
pub(crate) fn deadline(context: &Context, margin: Duration) -> Instant {
    let deadline = UNIX_EPOCH + Duration::from_millis(context.deadline);
    let remaining = deadline.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
    Instant::now() + remaining.saturating_sub(margin)
}

pub(crate) fn diagnostic(error: &DeliveryError) -> Diagnostic {
    Diagnostic { error_type: error.error_type().to_owned(), error_message: error.message.clone() }
}
