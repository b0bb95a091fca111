//! daprd's re-encoding of the HTTP API's `data` field: Go decodes it into
//! `any` and `json.Marshal`s it again, and the binding sees those bytes. A
//! compatible sidecar must produce the same bytes, since bindings (and apps)
//! depend on them: strings keep their quotes, object keys come out sorted, no
//! whitespace, `<`, `>`, `&`, U+2028 and U+2029 escaped, and every number
//! goes through a float64.

use serde_json::Value;

/// The bytes `json.Marshal` gives for the value Go decoded from `value`.
pub(crate) fn marshal(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_float(n.as_f64().unwrap_or(0.0), out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        // serde_json's map without `preserve_order` is a BTreeMap: keys in
        // byte order, as Go sorts them.
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(item, out);
            }
            out.push(b'}');
        }
    }
}

/// Go's `floatEncoder`: the shortest round-trip digits, in plain notation
/// unless the magnitude is below 1e-6 or at least 1e21, where it switches to
/// an exponent written as `e-7` / `e+21`.
fn write_float(f: f64, out: &mut Vec<u8>) {
    let abs = f.abs();
    let text = if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let scientific = format!("{f:e}");
        match scientific.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => format!("{mantissa}e+{exponent}"),
            _ => scientific,
        }
    } else {
        format!("{f}")
    };
    out.extend_from_slice(text.as_bytes());
}

/// Go's `appendString` with HTML escaping on, as `json.Marshal` uses it.
fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\u{2028}' => out.extend_from_slice(b"\\u2028"),
            '\u{2029}' => out.extend_from_slice(b"\\u2029"),
            c if (c as u32) < 0x20 || matches!(c, '<' | '>' | '&') => {
                let b = c as u8;
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(json: &str) -> String {
        let value: Value = serde_json::from_str(json).unwrap();
        String::from_utf8(marshal(&value)).unwrap()
    }

    #[test]
    fn strings_keep_their_quotes_and_null_is_four_bytes() {
        assert_eq!(go(r#""hello""#), r#""hello""#);
        assert_eq!(go("null"), "null");
        assert_eq!(go("true"), "true");
    }

    #[test]
    fn objects_are_sorted_and_compact() {
        assert_eq!(go(r#"{ "b": 1, "a": [1, 2, {"d": null, "c": "x"}] }"#), r#"{"a":[1,2,{"c":"x","d":null}],"b":1}"#);
        assert_eq!(go(r#"{"a": 1, "a": 2}"#), r#"{"a":2}"#);
    }

    #[test]
    fn html_characters_and_controls_are_escaped_as_go_does() {
        assert_eq!(go(r#""<a href='x'>&</a>""#), r#""\u003ca href='x'\u003e\u0026\u003c/a\u003e""#);
        assert_eq!(go(r#""tab\tnl\ncr\rbs\bff\f\u0001""#), r#""tab\tnl\ncr\rbs\bff\f\u0001""#);
        assert_eq!(go(r#""\u2028\u2029 é 😀 \/""#), "\"\\u2028\\u2029 é 😀 /\"");
    }

    #[test]
    fn numbers_go_through_a_float64() {
        assert_eq!(go("1.0"), "1");
        assert_eq!(go("-0.0"), "-0");
        assert_eq!(go("12345678901234567890"), "12345678901234567000");
        assert_eq!(go("0.1"), "0.1");
        assert_eq!(go("1e20"), "100000000000000000000");
        assert_eq!(go("1e21"), "1e+21");
        assert_eq!(go("1.5e300"), "1.5e+300");
        assert_eq!(go("0.000001"), "0.000001");
        assert_eq!(go("0.0000001"), "1e-7");
        assert_eq!(go("-2.5e-10"), "-2.5e-10");
        assert_eq!(go("0"), "0");
    }
}
