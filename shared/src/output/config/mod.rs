//! The checked settings of the AWS output bindings ([`AwsConfig`], and one
//! config each), built with or without
//! the `aws` feature: the loader checks a component against them in every
//! build (the input functions have no AWS SDK), and `bindery infra` reads
//! them to grant IAM permissions. The bindings themselves
//! ([`super::s3`], [`super::ses`], [`super::sqs`], [`super::sns`],
//! [`super::dynamodb`], [`super::kinesis`]) need the SDK, and build from these.
//!
//! The other bindings keep their config beside the binding
//! ([`super::http::HttpConfig`], [`super::localstorage::LocalStorageConfig`],
//! [`super::mailbox::MailboxConfig`]), which always builds.

mod aws;
mod dynamodb;
mod kinesis;
mod s3;
pub(crate) mod ses;
mod sns;
mod sqs;

pub use aws::{AwsConfig, StaticKeys};
pub use dynamodb::DynamoDbConfig;
pub use kinesis::KinesisConfig;
pub use s3::S3Config;
pub use ses::SesConfig;
pub use sns::SnsConfig;
pub use sqs::SqsConfig;
