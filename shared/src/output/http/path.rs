//! Joining a request's `path` onto the component's URL as Dapr does
//! (`TrimRight(url, "/") + "/" + TrimLeft(path, "/")`), but so that it can
//! only ever add to the URL's path.
//!
//! The scheme, host and port cannot change here by construction: the result
//! is a path and query that [`super::target`] puts after the component's own
//! origin, and checks again once parsed. What is left to refuse is what a
//! server would turn into something else: `..` segments in any spelling a
//! server might decode or normalise to one (`%2e%2e`, `%252e%252e`, `..%2f`,
//! Tomcat's `..;`, `...`, `..%20`, `..%00`, overlong UTF-8 such as
//! `%c0%ae%c0%ae`, IIS's `%u002e`, fullwidth `．．`; [`super::climb`] has
//! the rule and why), `%`-encoded control characters in the path,
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

use super::climb::climbs;

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
mod tests;
