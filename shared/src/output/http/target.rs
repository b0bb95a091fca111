//! The component's `url`, checked once at load: an `http` or `https` origin
//! with a host and a valid port, a base path and perhaps a query. Every
//! request URI is built from it and checked to have kept its origin.
//!
//! User information (`https://user:pass@host/`) becomes a Basic
//! `Authorization` header, as Go's client does for Dapr, and is removed from
//! the authority, so that it is never printed in an error.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::uri::{Authority, Scheme};
use http::{HeaderValue, Uri};

use super::path;

pub(crate) struct Target {
    scheme: Scheme,
    authority: Authority,
    /// `scheme://host:port`, the start of every request URI.
    origin: String,
    base_path: String,
    base_query: Option<String>,
    /// The URL as it is (minus user information): used when a request has no `path`.
    base: Uri,
    basic_auth: Option<HeaderValue>,
}

impl Target {
    /// `Err` is the reason, fit for a `FieldError` on `url`.
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        let shown = redact(url);
        let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(format!("expected an http:// or https:// URL, got {shown:?}"));
        }
        let uri: Uri = url.parse().map_err(|e| format!("{shown:?} is not a URL: {e}"))?;
        let Some(scheme) = uri.scheme().cloned() else { return Err(format!("{shown:?} has no scheme")) };
        let full = uri.authority().map(Authority::as_str).unwrap_or_default();
        let (userinfo, host_port) = match full.rsplit_once('@') {
            Some((user, rest)) => (Some(user), rest),
            None => (None, full),
        };
        let authority: Authority = host_port.parse().map_err(|e| format!("{shown:?}: {e}"))?;
        if authority.host().is_empty() {
            return Err(format!("{shown:?} has no host"));
        }
        // `Authority` keeps a port it cannot read (`:99999`) and reports none.
        let port_text = authority.as_str().rsplit_once(':').map(|(_, p)| p).filter(|p| !p.contains(']'));
        if port_text.is_some_and(|p| p.parse::<u16>().is_err()) {
            return Err(format!("{shown:?} has an invalid port"));
        }
        let origin = format!("{scheme}://{authority}");
        let base_path = uri.path().to_owned();
        let base_query = uri.query().map(str::to_owned);
        let base = format!("{origin}{}", uri.path_and_query().map_or("/", |pq| pq.as_str()))
            .parse()
            .map_err(|e| format!("{shown:?}: {e}"))?;
        let basic_auth = userinfo.filter(|u| !u.is_empty()).map(basic_auth).transpose()?;
        Ok(Self { scheme, authority, origin, base_path, base_query, base, basic_auth })
    }

    /// `scheme://host:port`, for messages.
    pub(crate) fn origin(&self) -> &str {
        &self.origin
    }

    /// The `Authorization` header from the URL's user information, if any.
    pub(crate) fn basic_auth(&self) -> Option<&HeaderValue> {
        self.basic_auth.as_ref()
    }

    /// The request URI: the URL as it is without a `path` (as in Dapr), else
    /// the path joined on. `Err` says why the path is refused.
    pub(crate) fn uri(&self, path: Option<&str>) -> Result<Uri, &'static str> {
        let Some(path) = path else { return Ok(self.base.clone()) };
        let joined = path::join(&self.base_path, self.base_query.as_deref(), path)?;
        let uri: Uri = format!("{}{joined}", self.origin).parse().map_err(|_| "does not make a valid URL")?;
        // Belt and braces: whatever the path held, the origin is the component's.
        if uri.scheme() != Some(&self.scheme) || uri.authority() != Some(&self.authority) {
            return Err("would leave the component's url");
        }
        Ok(uri)
    }
}

/// `Basic base64(user:password)`, both percent-decoded as Go decodes them.
fn basic_auth(userinfo: &str) -> Result<HeaderValue, String> {
    let decode = |s: &str| path::percent_decode(s).ok_or("the user information in the url has a malformed %-escape");
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let credentials = [decode(user)?, b":".to_vec(), decode(password)?].concat();
    let mut value = HeaderValue::try_from(format!("Basic {}", STANDARD.encode(credentials)))
        .map_err(|_| "the user information in the url is not a valid header".to_owned())?;
    value.set_sensitive(true);
    Ok(value)
}

/// The URL with any user information replaced by `***`, for messages (the
/// component loader's check of `url` shows it so too).
pub(crate) fn redact(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..].find(['/', '?', '#']).map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(url: &str, path: Option<&str>) -> String {
        Target::parse(url).unwrap().uri(path).unwrap().to_string()
    }

    #[test]
    fn without_a_path_the_url_is_used_as_it_is() {
        assert_eq!(uri("http://h", None), "http://h/");
        assert_eq!(uri("https://h:8443/api/?code=k", None), "https://h:8443/api/?code=k");
        assert_eq!(uri("http://h/api", Some("v1/x?y=1")), "http://h/api/v1/x?y=1");
        assert_eq!(uri("http://h/fn?code=k", Some("run?y=1")), "http://h/fn/run?code=k&y=1");
        assert_eq!(uri("http://[::1]:8080", Some("x")), "http://[::1]:8080/x");
    }

    #[test]
    fn only_http_origins_with_a_host_and_port() {
        for (url, why) in [
            ("ftp://h/x", "expected an http:// or https:// URL"),
            ("h/x", "expected an http:// or https:// URL"),
            ("http://:80/x", "has no host"),
            ("http://h:99999/x", "has an invalid port"),
            ("http://h x/", "is not a URL"),
        ] {
            let error = Target::parse(url).err().unwrap();
            assert!(error.contains(why), "{url}: {error}");
        }
    }

    #[test]
    fn user_information_becomes_basic_auth_and_is_never_shown() {
        let target = Target::parse("https://al%40ice:s3cr%3At@h:8443/x").unwrap();
        assert_eq!(target.origin(), "https://h:8443");
        assert_eq!(target.uri(None).unwrap().to_string(), "https://h:8443/x");
        let header = target.basic_auth().unwrap();
        assert_eq!(header.to_str().unwrap(), format!("Basic {}", STANDARD.encode("al@ice:s3cr:t")));
        assert!(header.is_sensitive());
        assert!(Target::parse("http://h/x").unwrap().basic_auth().is_none());
        assert!(Target::parse("http://@h/x").unwrap().basic_auth().is_none());

        let error = Target::parse("ftp://bob:hunter2@h/").err().unwrap();
        assert!(!error.contains("hunter2") && error.contains("ftp://***@h/"), "{error}");
    }

    #[test]
    fn paths_keep_the_origin() {
        let target = Target::parse("http://api.example.com:8080/base").unwrap();
        for path in ["users/@me", "evil.com:80", "x/http://evil.com", "%40evil.com"] {
            let uri = target.uri(Some(path)).unwrap();
            assert_eq!(uri.authority().unwrap().as_str(), "api.example.com:8080", "{path}");
            assert!(uri.path().starts_with("/base/"), "{path}");
        }
        for path in ["http://evil.com", "//evil.com", "../x", "%2e%2e", "@evil.com/x", "user:pw@evil.com"] {
            assert!(target.uri(Some(path)).is_err(), "{path}");
        }
    }
}
