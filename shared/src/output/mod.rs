//! Output bindings: `invoke(binding, operation, data, metadata)` performed
//! against S3, SES, HTTP, SQS, SNS, DynamoDB, Kinesis, a local folder or a
//! local mailbox, configured by unchanged Dapr component YAML.
//!
//! - [`OutputBinding`]: the one trait; one module per binding type.
//! - [`layer`]: timeouts, retries and tracing, written once for all of them.
//! - [`Bindings`]: the registry built from components, with typed helpers
//!   ([`Storage`], [`Mailer`], [`HttpTarget`], [`Queue`], [`Topic`],
//!   [`Table`], [`Stream`]) for Rust apps.

mod binding;
pub mod config;
mod data;
mod email;
mod error;
mod registry;
mod request;
mod typed;

pub mod layer;
pub mod secrets;

pub mod http;
pub mod localstorage;
pub mod mailbox;
mod read_limit;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod dynamodb;
#[cfg(feature = "aws")]
pub mod kinesis;
#[cfg(feature = "aws")]
pub mod s3;
#[cfg(feature = "aws")]
pub mod ses;
#[cfg(feature = "aws")]
pub mod sns;
#[cfg(feature = "aws")]
pub mod sqs;

pub use binding::{BoxFuture, InvokeResult, OutputBinding};
pub use data::{unquote_if_quoted, unquote_json};
pub use error::{ErrorKind, InvokeError};
pub use registry::Bindings;
pub use request::{InvokeRequest, InvokeResponse, MetadataMap, operation};
pub use typed::{Email, HttpTarget, Mailer, Notification, Queue, RecordPosition, Storage, Stream, Table, Topic};
