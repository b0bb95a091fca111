//! JSON to DynamoDB attribute values and back. Writing follows Dapr exactly:
//! Go's `encoding/json` decodes `data` into `any`, and the SDK's
//! `attributevalue.MarshalMap` encodes it (reference §1.3). Reading is
//! bindery's own (Dapr has no `get`): each type as the nearest plain JSON.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use serde_json::Value;

/// An item: attribute names to values.
pub(super) type Item = HashMap<String, AttributeValue>;

/// The item a JSON object is, as Dapr writes it. `Err` is the reason, the
/// encoder's words (`marshal failed, map key cannot be empty`).
pub(super) fn item_from_json(object: &serde_json::Map<String, Value>) -> Result<Item, String> {
    object.iter().map(|(name, value)| Ok((key(name)?, attribute(value)?))).collect()
}

/// One JSON value as an attribute value:
/// - a string is `S` (the empty string too);
/// - a number is `N`, printed as Go's `FormatFloat(f, 'f', -1, 64)`: a
///   float64's shortest digits, never an exponent (Rust's `{}` of an f64
///   prints the same);
/// - `true`/`false` is `BOOL`, `null` is `NULL: true`;
/// - an array is `L` (never a set), an object is `M`.
pub(super) fn attribute(value: &Value) -> Result<AttributeValue, String> {
    Ok(match value {
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Number(n) => AttributeValue::N(format!("{}", n.as_f64().unwrap_or(0.0))),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Null => AttributeValue::Null(true),
        Value::Array(items) => AttributeValue::L(items.iter().map(attribute).collect::<Result<_, _>>()?),
        Value::Object(fields) => AttributeValue::M(item_from_json(fields)?),
    })
}

fn key(name: &str) -> Result<String, String> {
    if name.is_empty() { Err("marshal failed, map key cannot be empty".to_owned()) } else { Ok(name.to_owned()) }
}

/// An item as plain JSON: `S` a string, `N` a number (kept digit for digit;
/// one that is not a JSON number, which DynamoDB does not store, a string),
/// `BOOL` a boolean, `NULL` null, `L` an array, `M` an object, `SS` and `NS`
/// arrays, `B` a base64 string and `BS` an array of them.
pub(super) fn item_to_json(item: &Item) -> String {
    let mut out = String::new();
    write_map(item, &mut out);
    out
}

fn write_map(map: &Item, out: &mut String) {
    // Sorted, so that the same item always reads the same.
    let mut names: Vec<&String> = map.keys().collect();
    names.sort_unstable();
    out.push('{');
    for (i, name) in names.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(name, out);
        out.push(':');
        write_attribute(&map[name], out);
    }
    out.push('}');
}

fn write_attribute(value: &AttributeValue, out: &mut String) {
    let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    match value {
        AttributeValue::S(s) => write_string(s, out),
        AttributeValue::N(n) => write_number(n, out),
        AttributeValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        AttributeValue::Null(_) => out.push_str("null"),
        AttributeValue::B(blob) => write_string(&base64(blob.as_ref()), out),
        AttributeValue::L(items) => write_list(items, out, write_attribute),
        AttributeValue::M(map) => write_map(map, out),
        AttributeValue::Ss(items) => write_list(items, out, |s, out| write_string(s, out)),
        AttributeValue::Ns(items) => write_list(items, out, |n, out| write_number(n, out)),
        AttributeValue::Bs(items) => write_list(items, out, |b, out| write_string(&base64(b.as_ref()), out)),
        // A type newer than this SDK: nothing can be said of it.
        _ => out.push_str("null"),
    }
}

fn write_list<T>(items: &[T], out: &mut String, write: impl Fn(&T, &mut String)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(item, out);
    }
    out.push(']');
}

fn write_string(s: &str, out: &mut String) {
    out.push_str(&Value::from(s).to_string());
}

/// DynamoDB's numbers have up to 38 digits, more than a float64 keeps: they
/// are written as they are, when they are JSON numbers.
fn write_number(n: &str, out: &mut String) {
    if is_json_number(n) { out.push_str(n) } else { write_string(n, out) }
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(n: &str) -> bool {
    let b = n.strip_prefix('-').unwrap_or(n).as_bytes();
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(b);
    if int == 0 || (b[0] == b'0' && int > 1) {
        return false;
    }
    let mut rest = &b[int..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let count = digits(fraction);
        if count == 0 {
            return false;
        }
        rest = &fraction[count..];
    }
    if let Some(exponent) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        let exponent = exponent.strip_prefix(b"+").or_else(|| exponent.strip_prefix(b"-")).unwrap_or(exponent);
        let count = digits(exponent);
        return count > 0 && count == exponent.len();
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::primitives::Blob;
    use serde_json::json;

    use super::*;

    fn item(value: Value) -> Result<Item, String> {
        item_from_json(value.as_object().unwrap())
    }

    #[test]
    fn json_is_written_as_dapr_writes_it() {
        let written = item(json!({
            "id": "t-1", "empty": "", "count": 3, "ratio": 0.25, "big": 1e21, "tiny": 1.5e-7,
            "huge": 12345678901234567890u64, "done": true, "none": null,
            "tags": ["a", 1, []], "nested": {"deep": {"x": false}}, "blank": {}
        }))
        .unwrap();
        let expected: Item = [
            ("id", AttributeValue::S("t-1".into())),
            ("empty", AttributeValue::S(String::new())),
            ("count", AttributeValue::N("3".into())),
            ("ratio", AttributeValue::N("0.25".into())),
            ("big", AttributeValue::N("1000000000000000000000".into())),
            ("tiny", AttributeValue::N("0.00000015".into())),
            ("huge", AttributeValue::N("12345678901234567000".into())),
            ("done", AttributeValue::Bool(true)),
            ("none", AttributeValue::Null(true)),
            (
                "tags",
                AttributeValue::L(vec![
                    AttributeValue::S("a".into()),
                    AttributeValue::N("1".into()),
                    AttributeValue::L(vec![]),
                ]),
            ),
            (
                "nested",
                AttributeValue::M(
                    [("deep".to_owned(), AttributeValue::M([("x".to_owned(), AttributeValue::Bool(false))].into()))]
                        .into(),
                ),
            ),
            ("blank", AttributeValue::M(HashMap::new())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(written, expected);
    }

    #[test]
    fn an_empty_name_is_refused_at_any_depth() {
        for bad in [json!({"": 1}), json!({"a": {"": 1}}), json!({"a": [{"b": {"": null}}]})] {
            assert_eq!(item(bad).unwrap_err(), "marshal failed, map key cannot be empty");
        }
    }

    #[test]
    fn items_read_back_as_plain_json() {
        let original = json!({"id": "t-1", "n": 3, "f": -0.5, "b": true, "z": null, "l": [1, "x"], "m": {"k": "v"}});
        let text = item_to_json(&item(original.clone()).unwrap());
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), original);
        assert_eq!(text, r#"{"b":true,"f":-0.5,"id":"t-1","l":[1,"x"],"m":{"k":"v"},"n":3,"z":null}"#);

        let sets: Item = [
            ("ss".to_owned(), AttributeValue::Ss(vec!["a".into(), "\"q\"".into()])),
            ("ns".to_owned(), AttributeValue::Ns(vec!["1.50".into(), "12345678901234567890123456789012345678".into()])),
            ("bin".to_owned(), AttributeValue::B(Blob::new(b"hi".to_vec()))),
            ("bs".to_owned(), AttributeValue::Bs(vec![Blob::new(vec![0xff])])),
            ("odd".to_owned(), AttributeValue::N("+5".into())),
        ]
        .into();
        assert_eq!(
            item_to_json(&sets),
            r#"{"bin":"aGk=","bs":["/w=="],"ns":[1.50,12345678901234567890123456789012345678],"odd":"+5","ss":["a","\"q\""]}"#
        );
    }

    #[test]
    fn the_json_number_grammar() {
        for good in ["0", "-0", "12", "1.5", "-0.25", "1e5", "1E+5", "2.5e-10"] {
            assert!(is_json_number(good), "{good}");
        }
        for bad in ["", "-", "+5", "01", "1.", ".5", "1e", "1e+", "NaN", "1x", "--1"] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }
}
