//! What every AWS-backed binding and secret store shares: the SDK config from
//! a component's metadata, and the mapping of SDK errors to [`InvokeError`].

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::error::{ErrorKind, InvokeError};
use crate::component::{FieldError, Metadata, redact};
use crate::error_chain::error_chain;

/// The SDK configuration for one component: the default chain (environment,
/// `AWS_ENDPOINT_URL`, profile, container or instance role), overridden by
/// the component's `region` (alias `awsRegion`), `endpoint` and static keys
/// (`accessKey`, `secretKey`, `sessionToken`). The SDK's own retries are off:
/// the retry layer is the one place calls are repeated.
pub async fn sdk_config(metadata: &Metadata) -> Result<SdkConfig, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::disabled());
    if let Some(region) = metadata.get("region").or_else(|| metadata.get("awsRegion")) {
        loader = loader.region(Region::new(region.trim().to_owned()));
    }
    if let Some(endpoint) = metadata.get("endpoint") {
        match endpoint_url(endpoint.trim(), metadata.bool("disableSSL", false)) {
            Ok(url) => loader = loader.endpoint_url(url),
            Err(e) => errors.push(e),
        }
    }
    match (metadata.get("accessKey"), metadata.get("secretKey")) {
        (Some(access), Some(secret)) => {
            let token = metadata.get("sessionToken").map(str::to_owned);
            loader = loader.credentials_provider(Credentials::new(
                access,
                secret,
                token,
                None,
                "bindery component metadata",
            ));
        }
        (Some(_), None) => errors.push(FieldError::missing("secretKey", "accessKey is set, so secretKey is required")),
        (None, Some(_)) => errors.push(FieldError::missing("accessKey", "secretKey is set, so accessKey is required")),
        (None, None) => {}
    }
    if !errors.is_empty() {
        // `bindery run`'s SQS pollers print these as they are.
        return Err(errors.into_iter().map(|e| redact(metadata, e)).collect());
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

/// Dapr prepends `http://` to a scheme-less endpoint when `disableSSL` is
/// set; otherwise `https://`.
fn endpoint_url(endpoint: &str, disable_ssl: Result<bool, FieldError>) -> Result<String, FieldError> {
    let disable_ssl = disable_ssl?;
    let url = if endpoint.contains("://") {
        endpoint.to_owned()
    } else if disable_ssl {
        format!("http://{endpoint}")
    } else {
        format!("https://{endpoint}")
    };
    match url.parse::<http::Uri>() {
        Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some() => Ok(url),
        _ => Err(FieldError::invalid(
            "endpoint",
            format!("expected a URL such as http://127.0.0.1:4566, got {endpoint:?}"),
        )),
    }
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

    #[test]
    fn endpoints_get_a_scheme() {
        assert_eq!(endpoint_url("127.0.0.1:4566", Ok(true)).unwrap(), "http://127.0.0.1:4566");
        assert_eq!(endpoint_url("s3.example.com", Ok(false)).unwrap(), "https://s3.example.com");
        assert_eq!(endpoint_url("http://localhost:5000", Ok(false)).unwrap(), "http://localhost:5000");
        assert_eq!(endpoint_url("ftp://x", Ok(false)).unwrap_err().field, "endpoint");
    }

    #[tokio::test]
    async fn half_a_key_pair_is_refused() {
        let m = Metadata::from_pairs([("region", "us-east-1"), ("accessKey", "AKIA")]);
        let errors = sdk_config(&m).await.unwrap_err();
        assert_eq!(errors[0].field, "secretKey");
    }
}
