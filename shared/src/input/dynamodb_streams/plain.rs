//! DynamoDB JSON (`{"n": {"N": "1.50"}}`) as plain JSON (`{"n": 1.50}`).
//!
//! Numbers keep their decimal text: DynamoDB numbers have up to 38 digits,
//! more than an `f64` holds, so `N` is written out as it came (once checked
//! to be a JSON number), never through a float. Binary values (`B`, `BS`)
//! stay base64 strings; sets become arrays; `NULL` is `null`.
//!
//! The image was parsed once already, with serde_json's nesting limit of
//! 128, so the recursion here is bounded.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::value::RawValue;

use crate::input::Text;

/// One attribute value: a single type key and its value.
type AttributeValue<'a> = BTreeMap<Text<'a>, &'a RawValue>;

/// An item (an image, or an `M`) as a plain JSON object.
pub(super) fn item(raw: &RawValue) -> Result<String, String> {
    let mut out = String::with_capacity(raw.get().len());
    write_item(raw, &mut out)?;
    Ok(out)
}

/// A key attribute's value as a header carries it: `S` as its text, `N` as
/// its digits, `B` as base64 (key attributes have only these types).
pub(super) fn key(raw: &RawValue) -> Result<String, String> {
    let value: AttributeValue<'_> = parse(raw, "an attribute value")?;
    let (Text(kind), inner) = single(&value)?;
    match &**kind {
        "S" => string(inner),
        "N" => number(inner).map(str::to_owned),
        "B" => binary(inner),
        other => Err(format!("a key attribute must be S, N or B, not {other:?}")),
    }
}

fn write_item(raw: &RawValue, out: &mut String) -> Result<(), String> {
    let attributes: BTreeMap<Text<'_>, &RawValue> = parse(raw, "an object of attribute values")?;
    out.push('{');
    for (n, (Text(name), value)) in attributes.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        write_string(name, out);
        out.push(':');
        write_value(value, out)?;
    }
    out.push('}');
    Ok(())
}

fn write_value(raw: &RawValue, out: &mut String) -> Result<(), String> {
    let value: AttributeValue<'_> = parse(raw, "an attribute value")?;
    let (Text(kind), inner) = single(&value)?;
    match &**kind {
        "S" => write_string(&string(inner)?, out),
        "N" => out.push_str(number(inner)?),
        "B" => write_string(&binary(inner)?, out),
        "BOOL" => out.push_str(if parse::<bool>(inner, "BOOL: true or false")? { "true" } else { "false" }),
        "NULL" => {
            parse::<bool>(inner, "NULL: true")?;
            out.push_str("null");
        }
        "M" => write_item(inner, out)?,
        "L" => write_list(inner, out, write_value)?,
        "SS" => write_list(inner, out, |v, out| {
            write_string(&string(v)?, out);
            Ok(())
        })?,
        "NS" => write_list(inner, out, |v, out| {
            out.push_str(number(v)?);
            Ok(())
        })?,
        "BS" => write_list(inner, out, |v, out| {
            write_string(&binary(v)?, out);
            Ok(())
        })?,
        other => return Err(format!("unknown attribute type {other:?}")),
    }
    Ok(())
}

fn write_list(
    raw: &RawValue,
    out: &mut String,
    each: impl Fn(&RawValue, &mut String) -> Result<(), String>,
) -> Result<(), String> {
    let items: Vec<&RawValue> = parse(raw, "a list")?;
    out.push('[');
    for (n, item) in items.into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        each(item, out)?;
    }
    out.push(']');
    Ok(())
}

fn single<'v, 'a>(value: &'v AttributeValue<'a>) -> Result<(&'v Text<'a>, &'a RawValue), String> {
    let mut entries = value.iter();
    match (entries.next(), entries.next()) {
        (Some((kind, inner)), None) => Ok((kind, *inner)),
        _ => Err("an attribute value must have exactly one type".into()),
    }
}

fn parse<'a, T: serde::Deserialize<'a>>(raw: &'a RawValue, expected: &str) -> Result<T, String> {
    serde_json::from_str(raw.get()).map_err(|_| format!("expected {expected}"))
}

fn string(raw: &RawValue) -> Result<String, String> {
    parse::<Text<'_>>(raw, "a string").map(|t| t.0.into_owned())
}

/// `N`'s text, when it is a JSON number: written out as it is.
fn number(raw: &RawValue) -> Result<&str, String> {
    let text = raw.get().strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or("");
    if is_number(text) { Ok(text) } else { Err("expected a number in N".into()) }
}

/// Base64, checked as `aws_lambda_events` checks it (it decodes `B`).
fn binary(raw: &RawValue) -> Result<String, String> {
    let text = string(raw)?;
    STANDARD.decode(text.as_bytes()).map_err(|_| "expected base64 in B".to_owned())?;
    Ok(text)
}

fn write_string(text: &str, out: &mut String) {
    // Serializing a str cannot fail.
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
}

/// JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(json: &str) -> Result<String, String> {
        item(&serde_json::from_str::<Box<RawValue>>(json).unwrap())
    }

    #[test]
    fn every_type_becomes_plain_json_and_numbers_keep_their_digits() {
        let digits = "12345678901234567890123456789012345678";
        let json = format!(
            r#"{{"s":{{"S":"a\"b"}},"n":{{"N":"{digits}"}},"f":{{"N":"-0.50"}},"e":{{"N":"1E+5"}},"b":{{"B":"AAEqQQ=="}},
            "t":{{"BOOL":true}},"z":{{"NULL":true}},"m":{{"M":{{"x":{{"N":"1"}}}}}},"l":{{"L":[{{"S":"c"}},{{"N":"2"}}]}},
            "ss":{{"SS":["p","q"]}},"ns":{{"NS":["1","2.5"]}},"bs":{{"BS":["QQ=="]}}}}"#
        );
        let out = plain(&json).unwrap();
        assert_eq!(
            out,
            format!(
                r#"{{"b":"AAEqQQ==","bs":["QQ=="],"e":1E+5,"f":-0.50,"l":["c",2],"m":{{"x":1}},"n":{digits},"ns":[1,2.5],"s":"a\"b","ss":["p","q"],"t":true,"z":null}}"#
            )
        );
        // It is JSON, and the big number is all there.
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["s"], "a\"b");
        assert!(out.contains(digits));
    }

    #[test]
    fn malformed_values_are_named() {
        for (json, why) in [
            (r#"{"n":{"N":"1.5.2"}}"#, "number"),
            (r#"{"n":{"N":"+1"}}"#, "number"),
            (r#"{"n":{"N":"01"}}"#, "number"),
            (r#"{"n":{"N":"1."}}"#, "number"),
            (r#"{"b":{"B":"%%"}}"#, "base64"),
            (r#"{"x":{"S":"a","N":"1"}}"#, "exactly one type"),
            (r#"{"x":{"Q":"a"}}"#, "unknown attribute type"),
            (r#"{"x":"a"}"#, "attribute value"),
            (r#"{"x":{"L":{}}}"#, "a list"),
        ] {
            let error = plain(json).unwrap_err();
            assert!(error.contains(why), "{json}: {error}");
        }
    }

    #[test]
    fn keys_are_scalars() {
        let raw = |j: &str| serde_json::from_str::<Box<RawValue>>(j).unwrap();
        assert_eq!(key(&raw(r#"{"S":"a"}"#)).unwrap(), "a");
        assert_eq!(key(&raw(r#"{"N":"101"}"#)).unwrap(), "101");
        assert_eq!(key(&raw(r#"{"B":"QQ=="}"#)).unwrap(), "QQ==");
        assert!(key(&raw(r#"{"M":{}}"#)).is_err());
    }
}
