//! What keeps a web page out of the local API. `bindery run` and `bindery
//! sidecar` listen on loopback, but a page open in the developer's browser
//! can still reach loopback: it can POST `text/plain` to
//! `/v1.0/bindings/<name>` with no CORS preflight (write files, send mail,
//! write to S3 with the developer's credentials), and with DNS rebinding
//! (`evil.example` re-pointed at 127.0.0.1) it can read the answers too.
//!
//! So a request is refused when its `Host` (or HTTP/2 `:authority`) is not
//! a loopback name or address, or one the user allowed; and, for the API, when
//! it carries an `Origin` or `Sec-Fetch-Site: cross-site` that the user did not
//! allow. Only browsers send those; Dapr's SDKs and curl send neither. A
//! request without `Host` cannot come from a browser, and is let through.

use std::net::IpAddr;

use http::header::{HOST, ORIGIN};
use http::{HeaderMap, Uri};

/// The browser's `Sec-Fetch-Site` header.
const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// The rules for one listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOnly {
    /// Hosts allowed beside the loopback ones: a name, `*.domain`, or `*` for any.
    allowed_hosts: Vec<String>,
    /// `None`: browsers' headers are not checked (the webhook port);
    /// otherwise the origins allowed (`*` for any).
    allowed_origins: Option<Vec<String>>,
    /// The settings that allow more hosts and origins, named in refusals.
    hosts_setting: &'static str,
    origins_setting: &'static str,
}

impl Default for LocalOnly {
    /// The API's rules, with nothing allowed beyond loopback.
    fn default() -> Self {
        Self::api(&[], &[])
    }
}

/// Why a request was refused; the message says how to allow it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl LocalOnly {
    /// The Dapr API's rules: the Host rule and the browser rule.
    pub fn api(allowed_hosts: &[String], allowed_origins: &[String]) -> Self {
        Self {
            allowed_hosts: lowercase(allowed_hosts),
            allowed_origins: Some(allowed_origins.iter().map(|o| o.trim().to_owned()).collect()),
            hosts_setting: "--allowed-hosts (BINDERY_ALLOWED_HOSTS)",
            origins_setting: "--allowed-origins (BINDERY_ALLOWED_ORIGINS)",
        }
    }

    /// A webhook port's rule: the Host rule only, as webhooks come from
    /// servers and tunnels, never with a browser's headers.
    pub fn webhook(allowed_hosts: &[String]) -> Self {
        Self {
            allowed_hosts: lowercase(allowed_hosts),
            allowed_origins: None,
            hosts_setting: "--webhook-allowed-hosts",
            origins_setting: "",
        }
    }

    /// The origins allowed, for CORS answers.
    pub fn allowed_origins(&self) -> &[String] {
        self.allowed_origins.as_deref().unwrap_or_default()
    }

    /// `Ok` when the request may be served.
    pub fn check(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), Refused> {
        let hosts = headers.get_all(HOST).iter().map(|h| h.to_str().unwrap_or("\u{fffd}"));
        for host in uri.authority().map(|a| a.host()).into_iter().chain(hosts) {
            if !self.host_allowed(host) {
                return Err(Refused(format!(
                    "Host {host:?} is not a loopback name or address; if this request is yours, allow the host with {}",
                    self.hosts_setting
                )));
            }
        }
        let Some(allowed) = &self.allowed_origins else { return Ok(()) };
        let any = allowed.iter().any(|o| o == "*");
        for origin in headers.get_all(ORIGIN) {
            let origin = origin.to_str().unwrap_or("\u{fffd}");
            if !any && !allowed.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
                return Err(Refused(format!(
                    "a request from the web page at {origin:?} is refused; allow that origin with {}",
                    self.origins_setting
                )));
            }
        }
        let cross_site =
            headers.get_all(SEC_FETCH_SITE).iter().any(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
        if cross_site && !any && !headers.contains_key(ORIGIN) {
            return Err(Refused(format!(
                "a cross-site request from a web page is refused; see {}",
                self.origins_setting
            )));
        }
        Ok(())
    }

    fn host_allowed(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        is_loopback(&name)
            || self.allowed_hosts.iter().any(|allowed| match allowed.strip_prefix('*') {
                Some("") => true,
                Some(suffix) => suffix.starts_with('.') && name.ends_with(suffix),
                None => *allowed == name,
            })
    }
}

fn lowercase(list: &[String]) -> Vec<String> {
    list.iter().map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect()
}

/// The name in a `Host` value, without its port or IPv6 brackets, and
/// without the trailing dot of a fully qualified name.
fn host_name(host: &str) -> &str {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or(rest, |(address, _)| address),
        None => host
            .rsplit_once(':')
            .map_or(host, |(name, port)| if port.bytes().all(|b| b.is_ascii_digit()) { name } else { host }),
    };
    name.strip_suffix('.').unwrap_or(name)
}

/// `localhost` and its subdomains (RFC 6761: resolved to loopback by the
/// browser itself, so DNS cannot re-point them), and loopback addresses.
fn is_loopback(name: &str) -> bool {
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    match name.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, headers: &[(&str, &str)]) -> (Uri, HeaderMap) {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        (uri.parse().unwrap(), map)
    }

    fn check(rules: &LocalOnly, uri: &str, headers: &[(&str, &str)]) -> Result<(), Refused> {
        let (uri, headers) = request(uri, headers);
        rules.check(&uri, &headers)
    }

    #[test]
    fn loopback_hosts_pass_and_others_are_refused() {
        let rules = LocalOnly::api(&[], &[]);
        for host in [
            "localhost",
            "localhost:3500",
            "LOCALHOST.",
            "app.localhost:80",
            "127.0.0.1:3500",
            "127.8.9.1",
            "[::1]:3500",
            "[::ffff:127.0.0.1]",
        ] {
            assert_eq!(check(&rules, "/v1.0/bindings/b", &[("host", host)]), Ok(()), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:3500",
            "localhost.evil.example",
            "10.0.0.5:3500",
            "0.0.0.0:3500",
            "[::]:3500",
            "127.0.0.1.nip.io",
            "",
            "localhost:3500, evil.example",
        ] {
            let refused = check(&rules, "/v1.0/bindings/b", &[("host", host)]).unwrap_err();
            assert!(refused.0.contains("--allowed-hosts"), "{host}: {refused}");
        }
        // HTTP/2's `:authority`, and an absolute-form request target, count as the host too.
        assert!(check(&rules, "http://evil.example/v1.0/bindings/b", &[("host", "localhost")]).is_err());
        assert_eq!(check(&rules, "http://127.0.0.1:50001/dapr.proto.runtime.v1.Dapr/InvokeBinding", &[]), Ok(()));
        // Two Host headers: both must pass.
        assert!(check(&rules, "/", &[("host", "localhost"), ("host", "evil.example")]).is_err());
        // No Host at all: not a browser.
        assert_eq!(check(&rules, "/", &[]), Ok(()));
    }

    #[test]
    fn hosts_the_user_allowed_pass() {
        let rules = LocalOnly::api(&["Sidecar".into(), "*.ngrok-free.app".into()], &[]);
        assert_eq!(check(&rules, "/", &[("host", "sidecar:3500")]), Ok(()));
        assert_eq!(check(&rules, "/", &[("host", "abc.ngrok-free.app")]), Ok(()));
        assert!(check(&rules, "/", &[("host", "ngrok-free.app.evil.example")]).is_err());
        assert!(check(&rules, "/", &[("host", "evilngrok-free.app")]).is_err());
        assert_eq!(check(&LocalOnly::webhook(&["*".into()]), "/", &[("host", "anything.example")]), Ok(()));
    }

    #[test]
    fn browsers_are_refused_on_the_api_unless_their_origin_is_allowed() {
        let rules = LocalOnly::api(&[], &[]);
        let host = ("host", "127.0.0.1:3500");
        assert!(
            check(&rules, "/", &[host, ("origin", "https://evil.example")])
                .unwrap_err()
                .0
                .contains("--allowed-origins")
        );
        assert!(check(&rules, "/", &[host, ("origin", "null")]).is_err());
        assert!(check(&rules, "/", &[host, ("sec-fetch-site", "cross-site")]).is_err());
        assert_eq!(check(&rules, "/", &[host, ("sec-fetch-site", "none")]), Ok(()), "typed into the address bar");

        let allowed = LocalOnly::api(&[], &["http://localhost:5173".into()]);
        assert_eq!(
            check(&allowed, "/", &[host, ("origin", "http://localhost:5173"), ("sec-fetch-site", "same-site")]),
            Ok(())
        );
        assert!(check(&allowed, "/", &[host, ("origin", "https://evil.example")]).is_err());
        let any = LocalOnly::api(&[], &["*".into()]);
        assert_eq!(
            check(&any, "/", &[host, ("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")]),
            Ok(())
        );
    }

    #[test]
    fn the_webhook_rule_is_the_host_rule_alone() {
        let rules = LocalOnly::webhook(&[]);
        let headers = [("host", "localhost:3600"), ("origin", "https://github.com"), ("sec-fetch-site", "cross-site")];
        assert_eq!(check(&rules, "/github-webhook", &headers), Ok(()));
        let refused = check(&rules, "/github-webhook", &[("host", "abc.ngrok-free.app")]).unwrap_err();
        assert!(refused.0.ends_with("allow the host with --webhook-allowed-hosts"), "{refused}");
    }
}
