//! A component's resolved metadata: `spec.metadata` items after `value`,
//! `secretKeyRef` and `envRef` are resolved, with typed getters whose errors
//! name the field.
//!
//! Names match case-insensitively, as Dapr's decoder does; the original case
//! is kept for the names themselves.

use std::fmt;
use std::time::Duration;

use super::error::FieldError;

/// One resolved metadata item.
#[derive(Clone, PartialEq, Eq)]
pub struct MetadataValue {
    pub name: String,
    pub value: String,
    /// Came from a secret store: never printed.
    pub secret: bool,
}

/// The resolved `spec.metadata` of a component.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    items: Vec<MetadataValue>,
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for item in &self.items {
            if item.secret {
                map.entry(&item.name, &"<redacted>");
            } else {
                map.entry(&item.name, &item.value);
            }
        }
        map.finish()
    }
}

impl Metadata {
    pub fn new(items: Vec<MetadataValue>) -> Self {
        Self { items }
    }

    /// Plain (non-secret) items, for tests and examples.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            items: pairs
                .into_iter()
                .map(|(n, v)| MetadataValue { name: n.to_owned(), value: v.to_owned(), secret: false })
                .collect(),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &MetadataValue> {
        self.items.iter()
    }

    /// The value of `name` (case-insensitive); an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(name))
            .map(|i| i.value.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, FieldError> {
        self.get(name).ok_or_else(|| FieldError::missing(name, "required but not set"))
    }

    /// Dapr's truthy words (`y yes true t on 1`) and their opposites; anything
    /// else is an error rather than a silent `false`.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, FieldError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => parse_bool(v)
                .ok_or_else(|| FieldError::invalid(name, format!("expected \"true\" or \"false\", got {v:?}"))),
        }
    }

    pub fn u64(&self, name: &str) -> Result<Option<u64>, FieldError> {
        self.get(name)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| FieldError::invalid(name, format!("expected a whole number, got {v:?}")))
            })
            .transpose()
    }

    /// A Go duration (`1m30s`, `500ms`) or a whole number of seconds.
    pub fn duration(&self, name: &str) -> Result<Option<Duration>, FieldError> {
        self.get(name)
            .map(|v| {
                parse_duration(v).ok_or_else(|| {
                    FieldError::invalid(name, format!("expected a duration such as \"30s\" or \"1m30s\", got {v:?}"))
                })
            })
            .transpose()
    }

    /// A size such as `1Mi`, `512Ki`, `10MB` or a number of bytes.
    pub fn byte_size(&self, name: &str) -> Result<Option<u64>, FieldError> {
        self.get(name)
            .map(|v| {
                parse_byte_size(v)
                    .ok_or_else(|| FieldError::invalid(name, format!("expected a size such as \"1Mi\", got {v:?}")))
            })
            .transpose()
    }
}

pub(crate) fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" | "t" | "on" | "1" => Some(true),
        "n" | "no" | "false" | "f" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// Go's `time.ParseDuration` grammar (`1h30m`, `1.5h`, `300ms`, `2us`), plus
/// a bare whole number meaning seconds, as Dapr's metadata decoder accepts.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let s = text.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    parse_go_duration(s)
}

/// Go's `time.ParseDuration`, without the bare-number extension. Negative
/// durations are refused: nothing in bindery can use one.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let nanos_per_unit = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * nanos_per_unit;
    }
    if !total.is_finite() || total > u64::MAX as f64 {
        return None;
    }
    Some(Duration::from_nanos(total.round() as u64))
}

fn parse_byte_size(text: &str) -> Option<u64> {
    let s = text.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let number: f64 = s[..split].parse().ok()?;
    let multiplier: f64 = match s[split..].trim() {
        "" | "B" => 1.0,
        "k" | "K" | "KB" | "kB" => 1e3,
        "M" | "MB" => 1e6,
        "G" | "GB" => 1e9,
        "Ki" | "KiB" => 1024.0,
        "Mi" | "MiB" => 1024.0 * 1024.0,
        "Gi" | "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number * multiplier;
    (bytes.is_finite() && bytes >= 0.0 && bytes <= u64::MAX as f64).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_case_insensitively_and_empty_is_absent() {
        let m = Metadata::from_pairs([("queueName", "orders"), ("region", "  ")]);
        assert_eq!(m.get("QUEUENAME"), Some("orders"));
        assert_eq!(m.get("region"), None);
        assert_eq!(m.required("region").unwrap_err().field, "region");
    }

    #[test]
    fn booleans_follow_dapr_and_refuse_nonsense() {
        let m = Metadata::from_pairs([("a", "Yes"), ("b", "off"), ("c", "maybe")]);
        assert_eq!(m.bool("a", false), Ok(true));
        assert_eq!(m.bool("b", true), Ok(false));
        assert_eq!(m.bool("missing", true), Ok(true));
        let err = m.bool("c", true).unwrap_err();
        assert_eq!(err.message, "expected \"true\" or \"false\", got \"maybe\"");
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("300ms"), Some(Duration::from_millis(300)));
        assert_eq!(parse_duration("2m3.5s"), Some(Duration::from_millis(123_500)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        for bad in ["", "1d", "h", "-5s", "1h30", "1..5s"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn byte_sizes() {
        let m = Metadata::from_pairs([("a", "1Mi"), ("b", "512Ki"), ("c", "100"), ("d", "10MB"), ("e", "lots")]);
        assert_eq!(m.byte_size("a"), Ok(Some(1 << 20)));
        assert_eq!(m.byte_size("b"), Ok(Some(512 << 10)));
        assert_eq!(m.byte_size("c"), Ok(Some(100)));
        assert_eq!(m.byte_size("d"), Ok(Some(10_000_000)));
        assert!(m.byte_size("e").is_err());
    }

    #[test]
    fn debug_redacts_secrets() {
        let m = Metadata::new(vec![MetadataValue {
            name: "signatureSecret".into(),
            value: "hunter2".into(),
            secret: true,
        }]);
        assert!(!format!("{m:?}").contains("hunter2"));
    }
}
