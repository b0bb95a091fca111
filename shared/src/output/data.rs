//! How Dapr's components read `data`. The HTTP API re-encodes `data` as JSON,
//! so a string arrives quoted (`"hello"`) while gRPC delivers raw bytes;
//! each component copes in its own way, and bindery keeps each one's rule.

use std::borrow::Cow;

/// `commonutils.Unquote` (S3 `create`): if the bytes are a JSON string,
/// number or boolean, its text; otherwise (objects, arrays, raw text) the
/// bytes as they are.
pub fn unquote_json(data: &[u8]) -> Cow<'_, [u8]> {
    // Only a string, a number or a boolean can change; anything else (a large
    // object, binary data) is returned without being parsed.
    let first = data.trim_ascii_start().first().copied();
    if !matches!(first, Some(b'"' | b'-' | b'0'..=b'9' | b't' | b'f')) {
        return Cow::Borrowed(data);
    }
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(serde_json::Value::String(s)) => Cow::Owned(s.into_bytes()),
        Ok(serde_json::Value::Number(n)) => Cow::Owned(n.to_string().into_bytes()),
        Ok(serde_json::Value::Bool(b)) => Cow::Owned(b.to_string().into_bytes()),
        _ => Cow::Borrowed(data),
    }
}

/// A body that may or may not be quoted: a JSON string literal is unquoted,
/// anything else is taken as it is. This is what SES and localstorage need to
/// accept both the HTTP API's quoted strings and gRPC's raw bytes (Dapr's SES
/// fails on the latter).
pub fn unquote_if_quoted(data: &[u8]) -> Cow<'_, [u8]> {
    let trimmed = data.trim_ascii();
    if trimmed.len() >= 2
        && trimmed.starts_with(b"\"")
        && trimmed.ends_with(b"\"")
        && let Ok(s) = serde_json::from_slice::<String>(trimmed)
    {
        return Cow::Owned(s.into_bytes());
    }
    Cow::Borrowed(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_json_follows_dapr() {
        assert_eq!(&*unquote_json(br#""hello \"you\"""#), br#"hello "you""#);
        assert_eq!(&*unquote_json(b"42"), b"42");
        assert_eq!(&*unquote_json(b"true"), b"true");
        assert_eq!(&*unquote_json(br#"{"a":1}"#), br#"{"a":1}"#);
        assert_eq!(&*unquote_json(b"raw text"), b"raw text");
        assert_eq!(&*unquote_json(b""), b"");
    }

    #[test]
    fn unquote_if_quoted_keeps_raw_bodies() {
        assert_eq!(&*unquote_if_quoted(br#""<b>hi</b>\n""#), b"<b>hi</b>\n");
        assert_eq!(&*unquote_if_quoted(b"<b>hi</b>"), b"<b>hi</b>");
        assert_eq!(&*unquote_if_quoted(b"\"not closed"), b"\"not closed");
        assert_eq!(&*unquote_if_quoted(br#"{"a":"b"}"#), br#"{"a":"b"}"#);
    }
}
