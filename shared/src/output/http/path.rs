//! Joining a request's `path` onto the component's `url` so that it can only
//! ever add to the path: never change the scheme, the host or the port, and
//! never climb above the base path.

/// Why a `path` was refused.
pub(crate) fn join(base_path: &str, path: &str) -> Result<String, String> {
    if path.chars().any(|c| c.is_control() || c == ' ' || c == '\\') {
        return Err("contains a control character, a space or a backslash".into());
    }
    if path.contains("://") || path.starts_with("//") {
        return Err("is an absolute URL; it may only add to the component's url".into());
    }
    let (segments, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    if segments.contains('@') {
        return Err("contains '@', which could be read as user information".into());
    }
    for segment in segments.split('/') {
        let decoded = percent_decode(segment).ok_or("has a malformed %-escape")?;
        if decoded == "." || decoded == ".." || decoded.contains(['/', '\\']) {
            return Err("climbs out of the component's url with a dot segment or an encoded slash".into());
        }
    }
    if query.is_some_and(|q| q.contains('#')) || segments.contains('#') {
        return Err("contains a fragment ('#')".into());
    }
    let mut joined = base_path.trim_end_matches('/').to_owned();
    joined.push('/');
    joined.push_str(segments.trim_start_matches('/'));
    if let Some(query) = query {
        joined.push('?');
        joined.push_str(query);
    }
    Ok(joined)
}

/// `%XX` decoding of one segment; `None` when an escape is malformed.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_appended_as_dapr_appends_them() {
        assert_eq!(join("/webhooks", "").unwrap(), "/webhooks/");
        assert_eq!(join("/webhooks/", "/tasks/1").unwrap(), "/webhooks/tasks/1");
        assert_eq!(join("", "tasks?done=true&x=%2F").unwrap(), "/tasks?done=true&x=%2F");
        assert_eq!(join("/api", "a%20b/c.json").unwrap(), "/api/a%20b/c.json");
    }

    #[test]
    fn escapes_are_refused() {
        for path in [
            "..",
            "../admin",
            "a/../../admin",
            "%2e%2e/admin",
            ".%2E/admin",
            "a/%2E",
            "..%2fadmin",
            "a%5c..%5cb",
            "http://evil.example.com/",
            "https://evil.example.com",
            "//evil.example.com/x",
            "user@evil.example.com",
            "@evil.example.com/x",
            "a\\..\\b",
            "a\nb",
            "a b",
            "%zz",
            "a#frag",
        ] {
            assert!(join("/base", path).is_err(), "{path:?} was accepted");
        }
    }
}
