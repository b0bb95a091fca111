//! bindery: Dapr-style bindings for AWS Lambda.
//!
//! The input side turns AWS events (EventBridge schedules, SQS batches, API
//! Gateway webhooks) into Dapr's input-binding call, `POST /<binding>` on the
//! user's app. Everything here is pure translation plus small I/O edges; the
//! function binaries in `functions/` only call [`function`].
//!
//! - [`component`]: load and validate Dapr Component YAML.
//! - [`schedule`]: Dapr's cron grammar.
//! - [`input`]: one module per event source, event in, [`input::BindingEvent`] out.
//! - [`deliver`]: a [`input::BindingEvent`] becomes `POST /<route>` on the app.
//! - [`idempotency`]: a delivery made once per event id, Powertools' way.
//! - [`function`]: the Lambda handlers, wired from the environment.
//! - [`output`]: the output bindings behind one `invoke`, and the typed API.
//! - [`process`]: the user's app as a supervised child process.
//! - `api` (feature `api`): daprd's HTTP and gRPC output API over [`output`].

#[cfg(feature = "api")]
pub mod api;
mod aws_json;
pub mod component;
pub mod deliver;
mod error_chain;
pub mod function;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod idempotency;
pub mod input;
pub mod kinds;
pub mod output;
pub mod process;
pub mod schedule;
pub mod telemetry;
mod tls;
pub mod token;
