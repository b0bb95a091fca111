//! The HTTP binding's `path` joiner: whatever it accepts stays under the
//! component's base path, and none of the path's layers (as sent, then
//! after each of three rounds of %-decoding, `%XX` and IIS's `%uXXXX`)
//! holds what a server could turn into a `..` step up: a name of dots, or of
//! dots and spaces, with two dots or more (after NFKC, so fullwidth `．`
//! counts; a name ends at `;`, `:`, `?` or `#`), a control character, or
//! overlong UTF-8.
#![no_main]

use bindery::fuzzing::http_path_join;
use icu_normalizer::ComposingNormalizerBorrowed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    let Ok(joined) = http_path_join("/api/v1", Some("key=1"), path) else { return };
    let path_part = joined.split('?').next().unwrap_or_default();
    assert!(path_part.starts_with("/api/v1"), "{joined:?} left the base path");
    let mut layer = path_part.as_bytes().to_vec();
    for round in 0..=3 {
        assert!(!has_overlong_utf8(&layer), "{joined:?}: overlong UTF-8 after {round} decodings");
        let text = String::from_utf8_lossy(&layer);
        assert!(!text.chars().any(char::is_control), "{joined:?}: a control character after {round} decodings");
        let normalised = ComposingNormalizerBorrowed::new_nfkc().normalize(&text);
        for piece in normalised.split(['/', '\\']) {
            let name = piece.split([';', ':', '?', '#']).next().unwrap_or_default();
            let dots_only = name.chars().all(|c| c == '.' || c.is_whitespace());
            assert!(!(dots_only && name.matches('.').count() >= 2), "{joined:?}: {name:?} after {round} decodings");
        }
        layer = percent_decode(&layer);
    }
});

/// `%XX` and `%uXXXX` decoded, anything else left as it is.
fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let hex = |digits: Option<&[u8]>| {
        let digits = std::str::from_utf8(digits?).ok()?;
        digits.bytes().all(|b| b.is_ascii_hexdigit()).then(|| u32::from_str_radix(digits, 16).ok())?
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = hex(bytes.get(i + 1..i + 3)).and_then(|v| u8::try_from(v).ok())
        {
            out.push(byte);
            i += 3;
        } else if bytes[i] == b'%'
            && matches!(bytes.get(i + 1), Some(b'u' | b'U'))
            && let Some(c) = hex(bytes.get(i + 2..i + 6)).and_then(char::from_u32)
        {
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            i += 6;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// A whole sequence (RFC 2279's 2 to 6 bytes) whose value a shorter one
/// would hold: `C0 AE` is `.`, `E0 80 AF` is `/`.
fn has_overlong_utf8(bytes: &[u8]) -> bool {
    const SHORTEST: [u32; 7] = [0, 0, 0x80, 0x800, 0x1_0000, 0x20_0000, 0x400_0000];
    (0..bytes.len()).any(|i| {
        let lead = bytes[i];
        let len = lead.leading_ones() as usize;
        if !(2..=6).contains(&len) {
            return false;
        }
        let Some(tail) = bytes.get(i + 1..i + len) else { return false };
        if !tail.iter().all(|b| b & 0xc0 == 0x80) {
            return false;
        }
        let value = tail.iter().fold(u32::from(lead & (0x7f >> len)), |v, b| v << 6 | u32::from(b & 0x3f));
        value < SHORTEST[len]
    })
}
