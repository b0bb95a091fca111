//! What every AWS binding and secret store reads besides its own fields:
//! `region` (alias `awsRegion`), `endpoint` and static keys (`accessKey`,
//! `secretKey`, `sessionToken`).

use std::fmt;

use crate::component::{FieldError, Metadata};

/// The AWS settings of one component; what is not set comes from the
/// default chain (environment, profile, role) when the SDK is configured.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct AwsConfig {
    /// `region`, else `awsRegion`.
    pub region: Option<String>,
    /// `endpoint`, with the scheme Dapr gives a bare host: `http://` with
    /// `disableSSL: true`, else `https://`.
    pub endpoint: Option<String>,
    /// `accessKey` and `secretKey`, and `sessionToken` if any.
    pub keys: Option<StaticKeys>,
}

/// Keys from the component's metadata. Debug shows none of them.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticKeys {
    pub access_key: String,
    pub secret_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for AwsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsConfig")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("keys", &self.keys.as_ref().map(|_| "(static keys)"))
            .finish()
    }
}

impl AwsConfig {
    /// Checks every setting and reports all the problems together.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let region = metadata.get("region").or_else(|| metadata.get("awsRegion")).map(|r| r.trim().to_owned());
        let endpoint = metadata
            .get("endpoint")
            .and_then(|e| endpoint_url(e.trim(), metadata.bool("disableSSL", false)).map_err(|e| errors.push(e)).ok());
        let keys = match (metadata.get("accessKey"), metadata.get("secretKey")) {
            (Some(access), Some(secret)) => Some(StaticKeys {
                access_key: access.to_owned(),
                secret_key: secret.to_owned(),
                session_token: metadata.get("sessionToken").map(str::to_owned),
            }),
            (Some(_), None) => {
                errors.push(FieldError::missing("secretKey", "accessKey is set, so secretKey is required"));
                None
            }
            (None, Some(_)) => {
                errors.push(FieldError::missing("accessKey", "secretKey is set, so accessKey is required"));
                None
            }
            (None, None) => None,
        };
        if errors.is_empty() { Ok(Self { region, endpoint, keys }) } else { Err(errors) }
    }
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

    #[test]
    fn the_region_has_an_alias_and_keys_never_reach_debug() {
        let m = Metadata::from_pairs([("awsRegion", " eu-west-1 "), ("accessKey", "AKIA"), ("secretKey", "SeCrEt")]);
        let config = AwsConfig::from_metadata(&m).unwrap();
        assert_eq!(config.region.as_deref(), Some("eu-west-1"));
        assert!(!format!("{config:?}").contains("SeCrEt"));
        let half = AwsConfig::from_metadata(&Metadata::from_pairs([("secretKey", "x")])).unwrap_err();
        assert_eq!(half[0].field, "accessKey");
    }
}
