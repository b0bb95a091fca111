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

/// A record of a batch made from its view (where its fields lie) as soon as
/// it is read, so that no list of views is ever held beside the records.
pub(crate) trait FromView<'a>: Sized {
    type View: serde::Deserialize<'a>;
    /// `Err` when the record cannot be named in `batchItemFailures`: then
    /// the whole invocation must fail.
    fn from_view(view: Self::View) -> Result<Self, super::InputError>;
}

/// A batch's `Records`, each made an `R` as it is read; `Err` once a record
/// could not be.
pub(crate) struct Records<R>(pub(crate) Result<Vec<R>, super::InputError>);

impl<'de, R: FromView<'de>> serde::Deserialize<'de> for Records<R> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Each<R>(std::marker::PhantomData<R>);
        impl<'de, R: FromView<'de>> serde::de::Visitor<'de> for Each<R> {
            type Value = Records<R>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of records")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Records<R>, A::Error> {
                let mut records = Ok(Vec::with_capacity(seq.size_hint().unwrap_or(0).min(10_000)));
                while let Some(view) = seq.next_element::<R::View>()? {
                    if let Ok(list) = &mut records {
                        match R::from_view(view) {
                            Ok(record) => list.push(record),
                            Err(e) => records = Err(e),
                        }
                    }
                }
                Ok(Records(records))
            }
        }
        deserializer.deserialize_seq(Each(std::marker::PhantomData))
    }
}

/// The Lambda payload of a batch source: `{"Records": [...]}`.
#[derive(serde::Deserialize)]
#[serde(bound = "R: FromView<'de>")]
pub(crate) struct BatchView<R> {
    #[serde(rename = "Records")]
    pub(crate) records: Records<R>,
}

/// A JSON string, or `None` for anything else (borrowed unless it has escapes).
pub(crate) fn text(raw: &RawValue) -> Option<std::borrow::Cow<'_, str>> {
    match plain_string(raw) {
        Some(plain) => Some(std::borrow::Cow::Borrowed(plain)),
        None => serde_json::from_str::<super::Text<'_>>(raw.get()).ok().map(|t| t.0),
    }
}
