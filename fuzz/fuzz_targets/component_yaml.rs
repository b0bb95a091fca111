//! The component loader on any text: YAML, multi-document, secrets from a
//! fixed environment. It may refuse; it must not panic.
#![no_main]

use std::path::Path;

use bindery::component::{LoadOptions, load_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let env = |name: &str| (name == "SECRET").then(|| "s3cret".to_owned());
    let options = LoadOptions {
        namespace: None,
        app_id: Some("app".into()),
        env: &env,
        prefetched: None,
        check: bindery::kinds::check,
    };
    if let Err(errors) = load_text(Path::new("fuzz.yaml"), text, &options) {
        // Every error is printable, and names no secret value (unless the
        // text itself holds it, where an error may quote the text).
        let shown = errors.to_string();
        let quoted = |t: &str| t.to_ascii_lowercase().contains("s3cret");
        assert!(quoted(text) || !quoted(&shown), "{shown}");
    }
});
