//! Whether one segment of a `path` is a `..` step up, or something a server
//! could turn into one. Each of up to [`DECODE_ROUNDS`] rounds of
//! `%`-decoding is checked, as servers that decode twice exist, and each
//! layer is refused when it holds:
//!
//! - a name of dots, or of dots and spaces, with at least two dots: `..`,
//!   `...`, `.. `, `. .` (Windows drops a name's trailing dots and spaces,
//!   so IIS opens `.. ` and `...` as `..` or worse);
//! - a control character (`%00`, `%09`, `%0a`, `%c2%85`): C servers stop at
//!   a NUL (`..%00.png` is `..`) and others trim or split at the rest;
//! - overlong UTF-8 (`%c0%ae` for `.`, `%c0%af` for `/`, `%c1%9c` for a
//!   backslash, and the 3- to 6-byte forms): RFC 3629 forbids it, so no
//!   encoder makes it, and the old decoders that accept it are the ones that
//!   read it as a dot or a separator;
//! - a `..` in compatibility forms (fullwidth `．`, `／`, `＼`, `‥`): they are
//!   checked after NFKC, the normalisation that Python and Java apps apply
//!   and that agrees with Windows' "best fit" mapping to ANSI for these.
//!
//! A name ends at Tomcat's `;` (path parameters), at NTFS's `:` (`..::$DATA`
//! opens `..`) and at a decoded `?` or `#`. A layer is split at decoded `/`
//! and backslashes. IIS's `%uXXXX` is decoded in the layers below the top
//! one; at the top, as any escape that is not `%XX`, Go refuses it as
//! malformed, and so does bindery. The other checks apply to the path's
//! segments, not to its query, which no server resolves as a path.
//!
//! A single dot stays allowed (`./x` stays where it is), and so do dots
//! among other characters: `file.tar.gz`, `a..b`, `.well-known`, `D.C.`.

use icu_normalizer::ComposingNormalizerBorrowed;

/// How many rounds of `%`-decoding are checked: a server that decodes twice
/// is not unheard of, three times would be.
const DECODE_ROUNDS: usize = 3;

/// `Err` says why `segment` is refused, without repeating it.
pub(super) fn climbs(segment: &str) -> Result<(), &'static str> {
    if !escapes_are_well_formed(segment.as_bytes()) {
        return Err("has a malformed %-escape");
    }
    let mut layer = segment.as_bytes().to_vec();
    for round in 0..=DECODE_ROUNDS {
        check(&layer)?;
        if round == DECODE_ROUNDS || !layer.contains(&b'%') {
            break;
        }
        // A decoded layer may hold a literal `%` (from `%25`) that is data:
        // what is not an escape stays as it is, as lenient decoders leave it.
        layer = decode_leniently(&layer);
    }
    Ok(())
}

/// One layer of a segment: bytes, as a decoded layer need not be UTF-8.
fn check(layer: &[u8]) -> Result<(), &'static str> {
    if has_overlong_utf8(layer) {
        return Err("has overlong UTF-8 (perhaps %-encoded), which old decoders read as '.' or '/'");
    }
    let text = String::from_utf8_lossy(layer);
    if text.chars().any(char::is_control) {
        return Err(
            "has a %-encoded control character (a NUL, a tab or a line break, say), at which some servers cut the path",
        );
    }
    let normalised = ComposingNormalizerBorrowed::new_nfkc().normalize(&text);
    let names = normalised.split(['/', '\\']).map(|piece| piece.split([';', ':', '?', '#']).next().unwrap_or_default());
    for name in names {
        let dots = name.chars().filter(|&c| c == '.').count();
        if dots >= 2 && name.chars().all(|c| c == '.' || c.is_whitespace()) {
            return Err("has a '..' segment (perhaps %-encoded, fullwidth, or with more dots or trailing spaces), \
                        which could climb above the component's url");
        }
    }
    Ok(())
}

/// Every `%` starts a `%XX` escape, as Go's `net/url` demands.
fn escapes_are_well_formed(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'%')
        .all(|(i, _)| bytes.get(i + 1..i + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)))
}

/// `%XX`, and IIS's `%uXXXX`, decoded; any other `%` left as it is.
fn decode_leniently(bytes: &[u8]) -> Vec<u8> {
    let hex = |from: usize, len: usize| {
        let digits = bytes.get(from..from + len)?;
        let digits = std::str::from_utf8(digits).ok().filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))?;
        u32::from_str_radix(digits, 16).ok()
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(byte) = hex(i + 1, 2).and_then(|value| u8::try_from(value).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
            if matches!(bytes.get(i + 1), Some(b'u' | b'U'))
                && let Some(c) = hex(i + 2, 4).and_then(char::from_u32)
            {
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += 6;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// A lead byte followed by a continuation byte that together can only start
/// an overlong form (RFC 2279's 2- to 6-byte sequences); valid UTF-8 never
/// holds one of these pairs.
fn has_overlong_utf8(bytes: &[u8]) -> bool {
    bytes.windows(2).any(|pair| {
        matches!(
            pair,
            [0xc0 | 0xc1, 0x80..=0xbf]
                | [0xe0, 0x80..=0x9f]
                | [0xf0, 0x80..=0x8f]
                | [0xf8, 0x80..=0x87]
                | [0xfc, 0x80..=0x83]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_utf8_is_never_overlong() {
        for text in ["\u{80}\u{7ff}", "\u{800}\u{fff}\u{ffff}", "\u{10000}\u{3ffff}\u{10ffff}", "caf\u{e9} \u{ff0e}"] {
            assert!(!has_overlong_utf8(text.as_bytes()), "{text:?}");
        }
        assert!(has_overlong_utf8(&[b'a', 0xe0, 0x80, 0xaf]));
        assert!(!has_overlong_utf8(&[b'a', 0xe0, b'/', 0xaf]), "a lead byte without its continuation is not overlong");
    }

    #[test]
    fn decoding_is_lenient_below_the_top_layer() {
        assert_eq!(decode_leniently(b"%2e%u002E%zz%u12%"), b"..%zz%u12%");
        assert_eq!(decode_leniently(b"%uff0e%ud800"), "\u{ff0e}%ud800".as_bytes());
    }
}
