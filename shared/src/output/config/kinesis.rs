//! `bindings.aws.kinesis`'s component metadata for the output side
//! (reference §1.4): the stream. The input side's fields (`consumerName`,
//! `mode`) belong to its source.

use super::AwsConfig;
use crate::component::{FieldError, Metadata};

/// The stream a component puts records into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisConfig {
    pub aws: AwsConfig,
    /// `streamName`, checked against Kinesis's naming rule.
    pub stream: String,
}

impl KinesisConfig {
    /// Checks `streamName` without calling Kinesis: 1 to 128 letters, digits,
    /// `_`, `-` and `.` (Kinesis's `CreateStream` rule).
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let aws = AwsConfig::from_metadata(metadata);
        let stream = metadata.required("streamName").and_then(|name| {
            let name = name.trim();
            let valid = !name.is_empty()
                && name.len() <= 128
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            if valid {
                Ok(name.to_owned())
            } else {
                Err(FieldError::invalid(
                    "streamName",
                    format!("expected a stream name (up to 128 letters, digits, _, - and .), got {name:?}"),
                ))
            }
        });
        match (aws, stream) {
            (Ok(aws), Ok(stream)) => Ok(Self { aws, stream }),
            (aws, stream) => Err(aws.err().into_iter().flatten().chain(stream.err()).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_are_checked_at_load() {
        let config = |name: &str| KinesisConfig::from_metadata(&Metadata::from_pairs([("streamName", name)]));
        assert_eq!(config(" events.v2_x-1 ").unwrap().stream, "events.v2_x-1");
        assert!(config(&"s".repeat(128)).is_ok());
        for bad in ["", " ", "has space", "a/b", &"s".repeat(129), "arn:aws:kinesis:us-east-1:1:stream/x"] {
            let Err(errors) = config(bad) else { panic!("{bad:?} accepted") };
            assert_eq!(errors[0].field, "streamName", "{bad:?}");
        }
    }
}
