//! The HTTP binding's `path` joiner: whatever it accepts stays under the
//! component's base path and holds no `..` segment, however encoded.
#![no_main]

use bindery::fuzzing::http_path_join;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    let Ok(joined) = http_path_join("/api/v1", Some("key=1"), path) else { return };
    let path_part = joined.split('?').next().unwrap_or_default();
    assert!(path_part.starts_with("/api/v1"), "{joined:?} left the base path");
    let mut decoded = path_part.to_owned();
    for _ in 0..3 {
        decoded = percent_decode(&decoded);
        assert!(!decoded.split(['/', '\\']).any(|segment| segment == ".." || segment.starts_with("..;")), "{joined:?}");
    }
});

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok())
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
