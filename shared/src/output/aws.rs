//! What every AWS-backed binding and secret store shares: the SDK config from
//! a component's metadata, and the mapping of SDK errors to [`InvokeError`].

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::config::AwsConfig;
use super::error::{ErrorKind, InvokeError};
use crate::component::{FieldError, Metadata, redact};
use crate::error_chain::error_chain;

/// The SDK configuration for one component: the default chain (environment,
/// `AWS_ENDPOINT_URL`, profile, container or instance role), overridden by
/// the component's [`AwsConfig`]. The SDK's own retries are off:
/// the retry layer is the one place calls are repeated.
pub async fn sdk_config(metadata: &Metadata) -> Result<SdkConfig, Vec<FieldError>> {
    // `bindery run`'s SQS pollers print these as they are.
    let aws = AwsConfig::from_metadata(metadata)
        .map_err(|e| e.into_iter().map(|e| redact(metadata, e)).collect::<Vec<_>>())?;
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::disabled());
    if let Some(region) = aws.region {
        loader = loader.region(Region::new(region));
    }
    if let Some(url) = aws.endpoint {
        loader = loader.endpoint_url(url);
    }
    if let Some(keys) = aws.keys {
        let credentials =
            Credentials::new(keys.access_key, keys.secret_key, keys.session_token, None, "bindery component metadata");
        loader = loader.credentials_provider(credentials);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(vec![FieldError::missing(
            "region",
            "no region: set it in the component, or AWS_REGION in the environment",
        )]);
    }
    Ok(config)
}

/// The error codes AWS services use for "slow down".
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestThrottled",
    "ProvisionedThroughputExceededException",
    "BandwidthLimitExceeded",
    "LimitExceededException",
];

/// A service's own error codes for what [`sdk_error`] cannot tell from the
/// status (it calls every 4xx "other"): each service names a missing
/// resource or a bad request in its own words.
pub struct ErrorCodes {
    pub not_found: &'static [&'static str],
    pub bad_request: &'static [&'static str],
    /// Beyond the codes every service uses for "slow down".
    pub throttled: &'static [&'static str],
    /// Conflicts that may pass when tried again.
    pub transient: &'static [&'static str],
}

/// [`sdk_error`], with the service's `codes` given their kinds.
pub fn sdk_error_by_code<E>(prefix: &str, error: SdkError<E, HttpResponse>, codes: &ErrorCodes) -> InvokeError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = error.as_service_error().and_then(ProvideErrorMetadata::code).map(str::to_owned);
    let mut invoke_error = sdk_error(prefix, error);
    let Some(code) = code.as_deref() else { return invoke_error };
    for (listed, kind) in [
        (codes.not_found, ErrorKind::NotFound),
        (codes.bad_request, ErrorKind::BadRequest),
        (codes.throttled, ErrorKind::Throttled),
        (codes.transient, ErrorKind::Transient),
    ] {
        if listed.contains(&code) {
            invoke_error.kind = kind;
            break;
        }
    }
    invoke_error
}

/// Maps an SDK error to an [`InvokeError`] of the right kind, with `prefix`
/// (e.g. `"s3 binding error"`) in front of the service's message.
pub fn sdk_error<E>(prefix: &str, error: SdkError<E, HttpResponse>) -> InvokeError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (kind, message) = match &error {
        SdkError::TimeoutError(_) => (ErrorKind::Timeout, "the request timed out".to_owned()),
        SdkError::DispatchFailure(e) => (
            if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Transient },
            format!("cannot reach the service: {}", error_chain(&error)),
        ),
        SdkError::ResponseError(_) => (ErrorKind::Transient, format!("unreadable response: {}", error_chain(&error))),
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("unknown");
            let text = service.err().message().unwrap_or("no message");
            let status = Some(service.raw().status().as_u16());
            let kind = if THROTTLING_CODES.contains(&code) || status == Some(429) {
                ErrorKind::Throttled
            } else if status.is_some_and(|s| s >= 500) {
                ErrorKind::Transient
            } else {
                ErrorKind::Other
            };
            (kind, format!("{code}: {text}"))
        }
        _ => (ErrorKind::Other, error_chain(&error)),
    };
    InvokeError::new(kind, format!("{prefix}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn half_a_key_pair_is_refused() {
        let m = Metadata::from_pairs([("region", "us-east-1"), ("accessKey", "AKIA")]);
        let errors = sdk_config(&m).await.unwrap_err();
        assert_eq!(errors[0].field, "secretKey");
    }
}
