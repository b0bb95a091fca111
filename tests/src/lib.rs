//! End-to-end test harness for bindery: a Lambda Runtime API emulator
//! ([`RuntimeApi`]), a spawner for the real release binaries ([`FunctionProcess`],
//! [`release_bin`]) and a recording HTTP app ([`RecordingApp`]) — all on loopback.
//!
//! [`aws::Emulator`] is the AWS emulator (moto or LocalStack) the test script starts.
//!
//! Project rule: test helpers talk to loopback only; [`loopback_only`] enforces it.

mod app;
pub mod aws;
pub mod browser;
pub mod cargo_lambda;
mod extensions_api;
mod faulty_app;
mod function;
mod otlp_collector;
pub mod python;
mod runtime_api;
pub mod sam;
mod server;
mod sink_app;

pub use app::{Recorded, RecordingApp, Reply, unused_port};
pub use extensions_api::{ExtensionCall, ExtensionsApi};
pub use faulty_app::{Fault, FaultyApp, Handled};
pub use function::{FunctionProcess, bindery_run_args, debug_bin, example_bin, release_bin};
pub use otlp_collector::{CollectedSpan, OtlpCollector};
pub use runtime_api::{FUNCTION_ARN, InvocationError, InvokeOptions, Outcome, RuntimeApi, TimedOutcome, Unanswered};
pub use sink_app::SinkApp;

/// The workspace root: `tests/`' parent.
pub fn workspace() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace root")
}

/// Panics unless `url`'s host is `127.0.0.1`, `localhost` or `[::1]`. Accepts full
/// URLs (`http://127.0.0.1:8080/x`) and bare authorities (`127.0.0.1:8080`).
pub fn loopback_only(url: &str) {
    let uri: http::Uri = url.parse().unwrap_or_else(|e| panic!("not a URL ({e}): {url:?}"));
    let host = uri.host().unwrap_or_else(|| panic!("URL has no host: {url:?}"));
    let host = host.trim_start_matches('[').trim_end_matches(']');
    assert!(
        matches!(host.to_ascii_lowercase().as_str(), "127.0.0.1" | "localhost" | "::1"),
        "test helpers must only talk to loopback (127.0.0.1, localhost, [::1]); refusing {url:?}"
    );
}
