//! Joining a request's `path` onto the component's URL as Dapr does
//! (`TrimRight(url, "/") + "/" + TrimLeft(path, "/")`), but so that it can
//! only ever add to the URL's path.
//!
//! The scheme, host and port cannot change here by construction: the result
//! is a path and query that [`super::target`] puts after the component's own
//! origin, and checks again once parsed. What is left to refuse is what a
//! server would turn into something else: `..` segments in any spelling a
//! server might decode (`%2e%2e`, `%252e%252e`, `..%2f`, Tomcat's `..;`),
//! backslashes (a separator on Windows servers), control characters, and
//! fragments. Something that looks like an absolute URL is refused too: it
//! would stay on the component's host, but it cannot be what the caller meant.
//!
//! An `@` in the first segment (before the first `/`, `?` or `#`, leading
//! slashes aside) is refused as well: `user:pw@evil.com/x` appended to a
//! URL reads as user information and a host to anyone who joins it without
//! the `/` bindery puts between them, or who logs it for a person to read.
//! Past the first `/`, `@` and `:` are ordinary path characters, so
//! `users/@me` and e-mail addresses deeper in the path are fine, and a first
//! segment that needs an `@` can spell it `%40`. Spaces, non-ASCII and other
//! characters a URI cannot hold are percent-encoded, as Go's `net/url` does
//! for Dapr.

/// How many rounds of `%`-decoding are checked for `..`: a server that
/// decodes twice is not unheard of, three times would be.
const DECODE_ROUNDS: usize = 3;

/// The path and query for `path` appended to `base_path`; `base_query` (from
/// the component's URL) comes first in the query. `Err` says why, without
/// repeating the path, which may hold tokens or personal data.
pub(crate) fn join(base_path: &str, base_query: Option<&str>, path: &str) -> Result<String, &'static str> {
    if path.chars().any(|c| c.is_control() || c == '\\') {
        return Err("contains a control character or a backslash");
    }
    if path.contains('#') {
        return Err("contains a fragment ('#')");
    }
    let (segments, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    if segments.starts_with("//") || is_absolute(segments.trim_start_matches('/')) {
        return Err("is an absolute URL; it may only add to the component's url");
    }
    if reads_as_userinfo(segments) {
        return Err("has an '@' before its first '/', which would read as user information (user@host); \
                    write it as %40 or put it after a '/'");
    }
    for segment in segments.split('/') {
        climbs(segment)?;
    }

    let mut joined = String::with_capacity(base_path.len() + path.len() + base_query.map_or(0, str::len) + 2);
    joined.push_str(base_path.trim_end_matches('/'));
    joined.push('/');
    encode(segments.trim_start_matches('/'), b"", &mut joined);
    let mut separator = '?';
    for part in [base_query, query].into_iter().flatten().filter(|q| !q.is_empty()) {
        joined.push(separator);
        encode(part, b"?", &mut joined);
        separator = '&';
    }
    Ok(joined)
}

/// `scheme://…` (RFC 3986 scheme characters, then `://`) at the start.
fn is_absolute(path: &str) -> bool {
    let Some((scheme, rest)) = path.split_once(':') else { return false };
    rest.starts_with("//")
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// An `@` in the first segment (leading slashes aside, as they are trimmed
/// when joining): `user:pw@host` or `@host` once appended to a URL.
fn reads_as_userinfo(segments: &str) -> bool {
    let first = segments.trim_start_matches('/').split('/').next().unwrap_or_default();
    first.contains('@')
}

/// Refuses a segment that is, or decodes to, a `..` step up.
fn climbs(segment: &str) -> Result<(), &'static str> {
    let mut text = segment.to_owned();
    for round in 0..=DECODE_ROUNDS {
        let dot_dot = text.split(['/', '\\']).any(|piece| piece.split(';').next() == Some(".."));
        if dot_dot {
            return Err("has a '..' segment (perhaps %-encoded), which could climb above the component's url");
        }
        if round == DECODE_ROUNDS || !text.contains('%') {
            break;
        }
        text = match percent_decode(&text) {
            Some(decoded) => String::from_utf8_lossy(&decoded).into_owned(),
            // Go refuses a malformed escape in a URL; a decoded layer may
            // hold a literal `%` (from `%25`) that is data, not an escape.
            None if round == 0 => return Err("has a malformed %-escape"),
            None => break,
        };
    }
    Ok(())
}

/// `%XX` decoding; `None` when an escape is malformed.
pub(super) fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Appends `text`, percent-encoding what a URI path (plus `extra`) cannot
/// hold. `%` passes through: escapes the caller wrote stay as written.
fn encode(text: &str, extra: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b) || extra.contains(&b) {
            out.push(char::from(b));
        } else {
            out.extend(['%', char::from(HEX[usize::from(b >> 4)]), char::from(HEX[usize::from(b & 15)])]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_appended_as_dapr_appends_them() {
        assert_eq!(join("/webhooks", None, "").unwrap(), "/webhooks/");
        assert_eq!(join("/webhooks/", None, "/tasks/1").unwrap(), "/webhooks/tasks/1");
        assert_eq!(join("/", None, "tasks?done=true&x=%2F").unwrap(), "/tasks?done=true&x=%2F");
        assert_eq!(join("/api", None, "a%20b/c.json").unwrap(), "/api/a%20b/c.json");
        assert_eq!(join("/api", None, "a..b/.well-known/./x").unwrap(), "/api/a..b/.well-known/./x");
    }

    #[test]
    fn the_component_query_comes_first() {
        assert_eq!(join("/fn", Some("code=k"), "run?x=1").unwrap(), "/fn/run?code=k&x=1");
        assert_eq!(join("/fn", Some("code=k"), "run").unwrap(), "/fn/run?code=k");
        assert_eq!(join("/fn", None, "run?").unwrap(), "/fn/run");
    }

    #[test]
    fn what_a_uri_cannot_hold_is_encoded() {
        assert_eq!(join("/", None, "a b/café?q=a b|c").unwrap(), "/a%20b/caf%C3%A9?q=a%20b%7Cc");
        assert_eq!(join("/", None, "{id}\"<>^`").unwrap(), "/%7Bid%7D%22%3C%3E%5E%60");
    }

    #[test]
    fn at_signs_past_the_first_slash_and_urls_inside_stay_in_the_path() {
        assert_eq!(join("/api", None, "users/@me").unwrap(), "/api/users/@me");
        assert_eq!(join("/api", None, "/users/@me?x=1").unwrap(), "/api/users/@me?x=1");
        assert_eq!(join("/mail", None, "to/alice@example.com").unwrap(), "/mail/to/alice@example.com");
        assert_eq!(join("/npm", None, "%40scope/pkg").unwrap(), "/npm/%40scope/pkg");
        assert_eq!(join("/cb", None, "x?by=bob@example.com").unwrap(), "/cb/x?by=bob@example.com");
        assert_eq!(join("/web", None, "2020/https://example.com").unwrap(), "/web/2020/https://example.com");
        assert_eq!(join("/cb", None, "?next=https://example.com/x").unwrap(), "/cb/?next=https://example.com/x");
        assert_eq!(join("/", None, "evil.com:443/x").unwrap(), "/evil.com:443/x");
    }

    #[test]
    fn escapes_are_refused() {
        for path in [
            "..",
            "../admin",
            "/..",
            "a/../../admin",
            "%2e%2e/admin",
            ".%2E/admin",
            "%252e%252e/admin",
            "..%2fadmin",
            "a%5c..%5cb",
            "..;/admin",
            "%2e%2e;jsessionid=1/admin",
            "http://evil.example.com/",
            "https://evil.example.com",
            "/http://evil.example.com",
            "//evil.example.com/x",
            "a\\..\\b",
            "a\\b",
            "a\nb",
            "a\u{7f}b",
            "%zz",
            "a#frag",
            "a?b#frag",
        ] {
            assert!(join("/base", None, path).is_err(), "{path:?} was accepted");
        }
    }

    #[test]
    fn user_information_is_refused() {
        for path in [
            "@evil.com/x",
            "@evil.com",
            "user:pw@evil.com",
            "user:pw@evil.com/x?y=1",
            "user@evil.com",
            "@evil.com:8080/x",
            "/@evil.com/x",
            "//user@evil.com",
            "a@b?c",
        ] {
            let why = join("/base", None, path).unwrap_err();
            assert!(why.contains("user information") || why.contains("absolute URL"), "{path:?}: {why}");
        }
        assert!(join("", None, "user:pw@evil.com").unwrap_err().contains("'@' before its first '/'"));
    }

    #[test]
    fn a_literal_percent_deeper_down_is_data() {
        assert_eq!(join("/", None, "100%25").unwrap(), "/100%25");
        assert_eq!(join("/", None, "%2525zz").unwrap(), "/%2525zz");
    }
}
