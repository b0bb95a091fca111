//! `bindings.aws.sqs`'s component metadata, for both sides: the queue.

use super::AwsConfig;
use crate::component::{FieldError, Metadata};

/// The queue a component names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsConfig {
    pub aws: AwsConfig,
    /// `queueName` as configured: an SQS queue name, or a queue URL.
    pub queue: String,
    /// `queueName` is a URL, which needs no `GetQueueUrl` lookup.
    pub is_url: bool,
    /// FIFO queues are the ones whose name ends in `.fifo` (an SQS rule).
    pub fifo: bool,
}

impl SqsConfig {
    /// Checks `queueName` (an SQS queue name or an http(s) queue URL)
    /// without calling SQS.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let aws = AwsConfig::from_metadata(metadata);
        let queue = metadata.required("queueName").and_then(|queue| {
            let queue = queue.trim();
            if queue.contains("://") { check_url(queue) } else { check_name(queue) }.map(|()| queue.to_owned())
        });
        match (aws, queue) {
            (Ok(aws), Ok(queue)) => {
                let is_url = queue.contains("://");
                let fifo = queue.trim_end_matches('/').ends_with(".fifo");
                Ok(Self { aws, queue, is_url, fifo })
            }
            (aws, queue) => Err(aws.err().into_iter().flatten().chain(queue.err()).collect()),
        }
    }
}

/// SQS's rule: 1 to 80 letters, digits, `-` and `_`, FIFO names ending in
/// `.fifo` (counted in the 80).
fn check_name(name: &str) -> Result<(), FieldError> {
    let stem = name.strip_suffix(".fifo").unwrap_or(name);
    let valid = !stem.is_empty()
        && name.len() <= 80
        && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(FieldError::invalid(
            "queueName",
            format!(
                "expected a queue name (up to 80 letters, digits, - and _, ending in .fifo for FIFO queues) \
                 or a queue URL, got {name:?}"
            ),
        ))
    }
}

/// An http(s) URL with a host and a path: what `GetQueueUrl` answers.
fn check_url(url: &str) -> Result<(), FieldError> {
    match url.parse::<http::Uri>() {
        Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some() && u.path().len() > 1 => Ok(()),
        _ => Err(FieldError::invalid(
            "queueName",
            format!("expected a queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/tasks, got {url:?}"),
        )),
    }
}
