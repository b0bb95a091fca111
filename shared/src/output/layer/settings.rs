//! The layers' settings, read from a component's metadata.

use std::time::Duration;

use super::retry::RetryPolicy;
use crate::component::{FieldError, Metadata};

/// How long an attempt may take and how often it is retried.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSettings {
    /// Per attempt; `None` is no limit.
    pub timeout: Option<Duration>,
    pub retry: RetryPolicy,
}

/// An attempt that takes longer than this is abandoned, unless the component
/// says otherwise: long enough for a large upload, short enough that a hung
/// connection cannot eat a Lambda invocation.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

impl Default for LayerSettings {
    fn default() -> Self {
        Self { timeout: Some(DEFAULT_TIMEOUT), retry: RetryPolicy::default() }
    }
}

impl LayerSettings {
    /// `timeout` (a Go duration, `0` for none) and `maxRetries` (a count, `0`
    /// for none) from the component; `timeout_field` names the binding's own
    /// timeout field instead, e.g. the HTTP binding's `responseTimeout`.
    pub fn from_metadata(metadata: &Metadata, timeout_field: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut settings = Self::default();
        match metadata.duration(timeout_field) {
            Ok(Some(Duration::ZERO)) => settings.timeout = None,
            Ok(Some(limit)) => settings.timeout = Some(limit),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
        match metadata.u64("maxRetries") {
            Ok(Some(n)) => settings.retry.max_retries = n.min(u64::from(u32::MAX)) as u32,
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
        if errors.is_empty() { Ok(settings) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let none = LayerSettings::from_metadata(&Metadata::default(), "timeout").unwrap();
        assert_eq!(none, LayerSettings::default());

        let m = Metadata::from_pairs([("responseTimeout", "250ms"), ("maxRetries", "0")]);
        let s = LayerSettings::from_metadata(&m, "responseTimeout").unwrap();
        assert_eq!(s.timeout, Some(Duration::from_millis(250)));
        assert_eq!(s.retry.max_retries, 0);

        let off = LayerSettings::from_metadata(&Metadata::from_pairs([("timeout", "0")]), "timeout").unwrap();
        assert_eq!(off.timeout, None);
    }

    #[test]
    fn bad_values_name_the_field() {
        let m = Metadata::from_pairs([("timeout", "soon"), ("maxRetries", "many")]);
        let errors = LayerSettings::from_metadata(&m, "timeout").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["timeout", "maxRetries"]);
    }
}
