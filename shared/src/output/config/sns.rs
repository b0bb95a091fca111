//! `bindings.aws.sns`'s component metadata (reference §1.2): the topic.

use super::AwsConfig;
use crate::component::{FieldError, Metadata};

/// The topic a component publishes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsConfig {
    pub aws: AwsConfig,
    /// `topicArn`, checked to be an SNS topic ARN.
    pub topic_arn: String,
    /// FIFO topics are the ones whose name ends in `.fifo` (an SNS rule).
    pub fifo: bool,
}

impl SnsConfig {
    /// Checks `topicArn` without calling SNS. Dapr only finds an empty or
    /// wrong ARN at the first publish; bindery reports it at load.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let aws = AwsConfig::from_metadata(metadata);
        let topic = metadata.required("topicArn").and_then(|arn| {
            let arn = arn.trim();
            topic_name(arn).map(|name| (arn.to_owned(), name.ends_with(".fifo")))
        });
        match (aws, topic) {
            (Ok(aws), Ok((topic_arn, fifo))) => Ok(Self { aws, topic_arn, fifo }),
            (aws, topic) => Err(aws.err().into_iter().flatten().chain(topic.err()).collect()),
        }
    }
}

/// The topic name of `arn:<partition>:sns:<region>:<account>:<name>`, where
/// the name is 1 to 256 letters, digits, `-` and `_`, FIFO names ending in
/// `.fifo` (SNS's rule for `CreateTopic`).
fn topic_name(arn: &str) -> Result<&str, FieldError> {
    let parts: Vec<&str> = arn.split(':').collect();
    let valid_name = |name: &str| {
        let stem = name.strip_suffix(".fifo").unwrap_or(name);
        !stem.is_empty()
            && name.len() <= 256
            && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    match parts.as_slice() {
        ["arn", partition, "sns", region, account, name]
            if !partition.is_empty() && !region.is_empty() && !account.is_empty() && valid_name(name) =>
        {
            Ok(name)
        }
        _ => Err(FieldError::invalid(
            "topicArn",
            format!("expected a topic ARN such as arn:aws:sns:us-east-1:123456789012:tasks, got {arn:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(arn: &str) -> Result<SnsConfig, Vec<FieldError>> {
        SnsConfig::from_metadata(&Metadata::from_pairs([("topicArn", arn)]))
    }

    #[test]
    fn topic_arns_are_checked_at_load() {
        let standard = config(" arn:aws:sns:us-east-1:123456789012:tasks ").unwrap();
        assert_eq!((standard.topic_arn.as_str(), standard.fifo), ("arn:aws:sns:us-east-1:123456789012:tasks", false));
        assert!(config("arn:aws-cn:sns:cn-north-1:123456789012:Done_2-x.fifo").unwrap().fifo);
        for bad in [
            "",
            "tasks",
            "arn:aws:sqs:us-east-1:123456789012:tasks",
            "arn:aws:sns:us-east-1:123456789012",
            "arn:aws:sns:us-east-1:123456789012:",
            "arn:aws:sns:us-east-1:123456789012:.fifo",
            "arn:aws:sns:us-east-1:123456789012:has space",
            "arn:aws:sns:us-east-1:123456789012:a:b",
            "arn:aws:sns::123456789012:tasks",
        ] {
            let Err(errors) = config(bad) else { panic!("{bad:?} accepted") };
            assert_eq!(errors[0].field, "topicArn", "{bad:?}");
        }
        let missing = SnsConfig::from_metadata(&Metadata::from_pairs([("region", "us-east-1")])).unwrap_err();
        assert_eq!(missing[0].field, "topicArn");
    }
}
