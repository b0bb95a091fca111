//! Reading JSON fields of an event in place, shared by the batch sources.

use bytes::Bytes;
use serde_json::value::RawValue;

/// The contents of a JSON string without escapes, read without a second
/// parse. The first pass already checked that `raw` is valid JSON, so a
/// string in it with no backslash holds exactly its text; a 1 KiB body is
/// searched for one byte instead of being scanned and validated again.
pub(crate) fn plain_string(raw: &RawValue) -> Option<&str> {
    let inner = raw.get().strip_prefix('"')?.strip_suffix('"')?;
    memchr::memchr(b'\\', inner.as_bytes()).is_none().then_some(inner)
}

/// A parse error in words that never quote the record: serde's own message
/// quotes the value it did not expect (`invalid type: string "..."`), and
/// the reason a record failed is logged. What was expected is kept; it is
/// the last part of serde's message, after any quoted value.
pub(crate) fn without_content(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rsplit_once(", expected ") {
        Some((_, expected)) => format!("expected {expected}"),
        None if error.is_data() => {
            format!("a value of the wrong shape at line {} column {}", error.line(), error.column())
        }
        // Syntax errors name characters and positions, never values.
        None => text,
    }
}

/// `part` as a slice of `buffer`, when it lies inside it.
pub(crate) fn slice_of(buffer: &Bytes, part: &str) -> Option<Bytes> {
    let start = (part.as_ptr() as usize).checked_sub(buffer.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= buffer.len()).then(|| buffer.slice(start..end))
}
