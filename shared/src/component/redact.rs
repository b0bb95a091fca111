//! Keeping secret values out of configuration errors.
//!
//! A field's check quotes the value it refuses (`got "..."`), and
//! configuration errors are printed and sent to Lambda as init errors. When
//! the value came from a secret store, [`redact`] replaces it, in every
//! spelling the checks quote values in: as it is, trimmed (at either end or
//! both), in any ASCII case, escaped as `{:?}` escapes it, and, for a URL,
//! without its user information (as the HTTP binding shows URLs).

use super::error::FieldError;
use super::metadata::Metadata;

/// What a secret value is replaced with.
const HIDDEN: &str = "<secret>";

/// `error` with every secret value of `metadata` hidden from its message.
pub(crate) fn redact(metadata: &Metadata, mut error: FieldError) -> FieldError {
    for item in metadata.iter().filter(|item| item.secret) {
        for spelling in spellings(&item.value) {
            error.message = replace_ignore_case(&error.message, &spelling, HIDDEN);
        }
    }
    error
}

/// The spellings of `value` a check may quote it in, longest first, so that
/// a shorter one never leaves part of a longer one behind.
fn spellings(value: &str) -> Vec<String> {
    let mut spellings = Vec::new();
    for text in [value, value.trim(), value.trim_start(), value.trim_end()] {
        let escaped = format!("{text:?}");
        spellings.push(escaped[1..escaped.len() - 1].to_owned());
        spellings.push(text.to_owned());
        if let Some((_, rest)) = text.split_once("://")
            && let Some((_, after_user)) = rest.split_once('@')
        {
            spellings.push(after_user.to_owned());
        }
    }
    spellings.retain(|s| !s.trim().is_empty());
    spellings.sort_by_key(|s| std::cmp::Reverse(s.len()));
    spellings.dedup();
    spellings
}

/// `text` with every occurrence of `needle`, ASCII case ignored, replaced.
fn replace_ignore_case(text: &str, needle: &str, with: &str) -> String {
    let (haystack, needle_bytes) = (text.as_bytes(), needle.as_bytes());
    let mut out = String::with_capacity(text.len());
    let (mut start, mut i) = (0, 0);
    while i + needle_bytes.len() <= haystack.len() {
        if haystack[i..i + needle_bytes.len()].eq_ignore_ascii_case(needle_bytes) && text.is_char_boundary(i) {
            out.push_str(&text[start..i]);
            out.push_str(with);
            i += needle_bytes.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::MetadataValue;

    fn secret(value: &str) -> Metadata {
        Metadata::new(vec![
            MetadataValue { name: "plain".into(), value: "visible".into(), secret: false },
            MetadataValue { name: "s".into(), value: value.into(), secret: true },
        ])
    }

    #[test]
    fn every_spelling_is_hidden_and_nothing_else() {
        let error = |message: &str| FieldError::invalid("s", message);
        let hidden = |value: &str, message: &str| redact(&secret(value), error(message)).message;
        assert_eq!(
            hidden(" Tok3n\n", "got \"Tok3n\\n\" or \"tok3n\", visible"),
            "got \"<secret>\" or \"<secret>\", visible"
        );
        assert_eq!(hidden("https://u:p@h.example/x", "\"https://***@h.example/x\""), "\"https://***@<secret>\"");
        assert_eq!(hidden("ünï", "got ÜNÏ or ünï"), "got ÜNÏ or <secret>");
        assert_eq!(hidden("   ", "got \"   \""), "got \"   \"");
    }
}
