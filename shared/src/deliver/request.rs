//! A [`BindingEvent`] becomes Dapr's input-binding request
//! (reference/dapr-bindings-contract.md §1.2): `POST /<route>`, the raw body,
//! `Content-Type: application/json`, each metadata item as a lower-cased
//! header without prefix, `dapr-api-token` and `traceparent`.
//!
//! No metadata makes an event undeliverable. An item HTTP cannot carry as
//! it is (a value with a control character other than a tab, or with
//! spaces or tabs at either end, which servers strip; a key that is not a
//! header name, or that ends in `*`) travels under a *starred* name, in
//! RFC 8187's notation: the header `<key>*`, the key percent-encoded, with
//! the value `UTF-8''<value percent-encoded>`. So an SQS attribute
//! `note` = `"a\r\nb"` arrives as `attr-note*: UTF-8''a%0D%0Ab`, never as a
//! mangled `attr-note`. A name ending in `*` always carries an encoded item.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Request, Uri};
use http_body_util::Full;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::error::{DeliveryError, DeliveryErrorKind};
use crate::input::BindingEvent;

pub(crate) const API_TOKEN_HEADER: &str = "dapr-api-token";
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Keys Dapr never turns into headers: the body's own framing, hop-by-hop
/// headers, and trace context (which travels as `traceparent` instead).
const SKIPPED: &[&str] = &[
    "content-type",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "http2-settings",
    "host",
    "destination-app-id",
    "traceparent",
    "tracestate",
    API_TOKEN_HEADER,
];

/// The metadata keys an SQS record always carries, with their header names
/// made once: `HeaderName::from_bytes` lower-cases and allocates a name on
/// every call, four times per record.
const SQS_KEYS: [(&str, HeaderName); 4] = [
    ("messageId", HeaderName::from_static("messageid")),
    ("approximateReceiveCount", HeaderName::from_static("approximatereceivecount")),
    ("sentTimestamp", HeaderName::from_static("senttimestamp")),
    ("messageGroupId", HeaderName::from_static("messagegroupid")),
];

/// How many bytes of metadata headers a request carries by default
/// (`BINDERY_MAX_METADATA_BYTES`): what the strictest common servers take
/// in all (Tomcat's and nginx's 8 KiB; Node's is 16 KiB). SQS allows 256 KiB
/// of attributes, and a server that refuses a request for its headers (431)
/// would refuse its record on every receive.
pub const DEFAULT_METADATA_LIMIT: usize = 8 << 10;

/// Names the metadata items left out for the limit, percent-encoded as a
/// starred name's key, comma-separated.
const OMITTED: HeaderName = HeaderName::from_static("bindery-metadata-omitted");

/// Builds the request for `uri` (the app's URI for the route, see
/// [`App::uri_for`](super::App::uri_for)). Metadata headers take at most
/// `metadata_limit` bytes (name, value and line framing); an item that does
/// not fit is left out, named in `bindery-metadata-omitted`, and the items
/// after it still go if they fit.
pub fn build_request(
    uri: &Uri,
    event: BindingEvent,
    api_token: Option<&HeaderValue>,
    metadata_limit: usize,
) -> Result<Request<Full<Bytes>>, DeliveryError> {
    let mut request = Request::new(Full::new(event.data));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri.clone();
    let headers = request.headers_mut();
    // Sized once: content type, token, traceparent and the metadata.
    *headers = http::HeaderMap::with_capacity(3 + event.metadata.len());
    headers.insert(CONTENT_TYPE, JSON);
    let (mut used, mut omitted) = (0, String::new());
    for (key, value) in event.metadata {
        let name = match SQS_KEYS.iter().find(|(known, _)| *known == key) {
            Some((_, name)) => Some(name.clone()),
            None if skipped(&key) => continue,
            None => header_name(&key),
        };
        let (name, value) = match name {
            Some(name) if carried_as_is(&value) => (name, HeaderValue::from_maybe_shared(Bytes::from(value))),
            _ => starred(&key, &value),
        };
        let value = value.map_err(|_| invalid(format!("metadata {key:?} could not be encoded as a header")))?;
        // `name: value\r\n`, as it goes on the wire.
        let size = name.as_str().len() + value.len() + 4;
        if used + size > metadata_limit {
            if !omitted.is_empty() {
                omitted.push_str(", ");
            }
            omitted.extend(utf8_percent_encode(&key, ATTR_CHAR));
            continue;
        }
        used += size;
        headers.append(name, value);
    }
    if !omitted.is_empty() {
        let list = HeaderValue::try_from(omitted).map_err(|_| invalid("omitted metadata".into()))?;
        headers.insert(OMITTED, list);
    }
    if let Some(token) = api_token {
        headers.insert(HeaderName::from_static(API_TOKEN_HEADER), token.clone());
    }
    if let Some(trace) = event.traceparent.and_then(|t| HeaderValue::try_from(t).ok()) {
        headers.insert(TRACEPARENT, trace);
    }
    Ok(request)
}

/// Whether Dapr leaves the metadata key out of the request.
fn skipped(key: &str) -> bool {
    let starts = |prefix: &str| key.len() >= prefix.len() && key[..prefix.len()].eq_ignore_ascii_case(prefix);
    let ends = |suffix: &str| key.len() >= suffix.len() && key[key.len() - suffix.len()..].eq_ignore_ascii_case(suffix);
    SKIPPED.iter().any(|s| key.eq_ignore_ascii_case(s)) || starts("proxy-") || ends("-bin")
}

/// The header for a metadata key: lower-cased, gRPC-reserved names renamed
/// as daprd renames them; `None` when the key cannot be a header name as it
/// is, ends in the `*` that marks an encoded item, or is the omission mark.
fn header_name(key: &str) -> Option<HeaderName> {
    // The marks of encoded and omitted items are bindery's: an item named
    // so travels encoded, and cannot pass for one.
    if key.ends_with('*') || key.eq_ignore_ascii_case(OMITTED.as_str()) {
        return None;
    }
    let name = if let Some(rest) = key.strip_prefix(':') {
        HeaderName::from_bytes(format!("dapr-{rest}").as_bytes())
    } else if key.len() >= 5 && key[..5].eq_ignore_ascii_case("grpc-") {
        HeaderName::from_bytes(format!("dapr-{key}").as_bytes())
    } else {
        // `from_bytes` lower-cases the name itself.
        HeaderName::from_bytes(key.as_bytes())
    };
    name.ok()
}

/// Whether the app receives `value` exactly when it is sent as it is: no
/// byte a header value cannot hold (controls but the tab, DEL), and no
/// space or tab at either end, which HTTP parsers strip.
fn carried_as_is(value: &str) -> bool {
    let bytes = value.as_bytes();
    let padded = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    !padded(bytes.first()) && !padded(bytes.last()) && bytes.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// RFC 8187's `attr-char`: what an encoded name or value keeps as it is.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// The item under its starred name: `<key percent-encoded>*` and
/// `UTF-8''<value percent-encoded>`. Both are ASCII tokens, so always valid.
fn starred(key: &str, value: &str) -> (HeaderName, Result<HeaderValue, http::header::InvalidHeaderValue>) {
    let name = format!("{}*", utf8_percent_encode(key, ATTR_CHAR));
    // An empty key encodes to a lone `*`, a valid header name too.
    let name = HeaderName::from_bytes(name.as_bytes()).unwrap_or_else(|_| HeaderName::from_static("*"));
    let value = HeaderValue::try_from(format!("UTF-8''{}", utf8_percent_encode(value, ATTR_CHAR)));
    (name, value)
}

fn invalid(message: String) -> DeliveryError {
    DeliveryError::new(DeliveryErrorKind::InvalidEvent, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(metadata: &[(&str, &str)]) -> BindingEvent {
        BindingEvent {
            data: Bytes::from_static(b"{\"a\":1}"),
            metadata: metadata.iter().map(|(k, v)| (k.to_string().into(), v.to_string())).collect(),
            traceparent: Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01".into()),
        }
    }

    #[test]
    fn dapr_input_contract() {
        let token = HeaderValue::from_static("app-secret");
        let req = build_request(
            &Uri::from_static("/cron-binding"),
            event(&[("timeZone", "UTC"), ("readTimeUTC", "2026-08-21 20:12:09 +0000 UTC"), ("attr-Tenant", "acme")]),
            Some(&token),
            DEFAULT_METADATA_LIMIT,
        )
        .unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri(), "/cron-binding");
        let h = req.headers();
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["timezone"], "UTC");
        assert_eq!(h["readtimeutc"], "2026-08-21 20:12:09 +0000 UTC");
        assert_eq!(h["attr-tenant"], "acme");
        assert_eq!(h["dapr-api-token"], "app-secret");
        assert_eq!(h["traceparent"], "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01");
        assert_eq!(h.len(), 6);
    }

    #[test]
    fn skipped_and_renamed_keys() {
        let req = build_request(
            &Uri::from_static("/b"),
            event(&[
                ("Content-Type", "text/plain"),
                ("content-length", "9"),
                ("Connection", "close"),
                ("Proxy-Authorization", "x"),
                ("trace-bin", "x"),
                ("tracestate", "x"),
                ("dapr-api-token", "forged"),
                ("grpc-timeout", "1S"),
                ("baggage", "k=v"),
            ]),
            None,
            DEFAULT_METADATA_LIMIT,
        )
        .unwrap();
        let h = req.headers();
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["dapr-grpc-timeout"], "1S");
        assert_eq!(h["baggage"], "k=v");
        assert!(h.get("dapr-api-token").is_none() && h.get("connection").is_none() && h.get("tracestate").is_none());
        assert_eq!(h.len(), 4);
    }

    #[test]
    fn repeated_keys_and_utf8_values_survive() {
        let req = build_request(
            &Uri::from_static("/b"),
            event(&[("x-tag", "a"), ("X-Tag", "b"), ("city", "Zürich")]),
            None,
            DEFAULT_METADATA_LIMIT,
        )
        .unwrap();
        let tags: Vec<_> = req.headers().get_all("x-tag").iter().collect();
        assert_eq!(tags, ["a", "b"]);
        assert_eq!(req.headers()["city"].as_bytes(), "Zürich".as_bytes());
    }

    /// The app's side of the marker: a header named `<key>*` carries the
    /// key percent-encoded, and the value as `UTF-8''<percent-encoded>`.
    fn decoded(request: &Request<Full<Bytes>>) -> Vec<(String, String)> {
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8().unwrap().into_owned();
        let mut items: Vec<(String, String)> = request
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                let key = name.as_str().strip_suffix('*')?;
                let value = value.to_str().unwrap().strip_prefix("UTF-8''").unwrap();
                Some((decode(key), decode(value)))
            })
            .collect();
        items.sort();
        items
    }

    #[test]
    fn values_http_cannot_carry_are_delivered_percent_encoded_under_a_starred_name() {
        // All of these are values SQS accepts in a String or Number attribute.
        let values = [
            ("note", "line1\r\nInjected: yes"),
            ("attr-lf", "\n"),
            ("attr-del", "a\u{7f}b"),
            ("attr-padded", " both ends "),
            ("attr-tab-end", "x\t"),
        ];
        let req = build_request(&Uri::from_static("/b"), event(&values), None, DEFAULT_METADATA_LIMIT).unwrap();
        let h = req.headers();
        assert_eq!(h["note*"], "UTF-8''line1%0D%0AInjected%3A%20yes");
        assert_eq!(h["attr-padded*"], "UTF-8''%20both%20ends%20");
        for (key, _) in values {
            assert!(h.get(key).is_none(), "{key} is only under its starred name");
        }
        let mut expected: Vec<(String, String)> = values.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        expected.sort();
        assert_eq!(decoded(&req), expected, "the app recovers every value exactly");
    }

    #[test]
    fn keys_that_cannot_be_header_names_or_end_in_a_star_are_encoded_too() {
        let items = [("bad key", "v"), ("x*", "plain"), ("50%", "off")];
        let req = build_request(&Uri::from_static("/b"), event(&items), None, DEFAULT_METADATA_LIMIT).unwrap();
        let h = req.headers();
        assert_eq!(h["bad%20key*"], "UTF-8''v");
        assert_eq!(h["x%2a*"], "UTF-8''plain", "a name ending in '*' always means encoded");
        assert_eq!(h["50%"], "off", "a name without the star is never decoded, so '%' stays as it is");
        assert!(h.get("x*").is_none());
        assert_eq!(decoded(&req), [("bad key".to_owned(), "v".to_owned()), ("x*".to_owned(), "plain".to_owned())]);
    }

    #[test]
    fn a_tab_inside_a_value_and_utf8_travel_as_they_are() {
        let req = build_request(
            &Uri::from_static("/b"),
            event(&[("a", "x\ty"), ("city", "Zürich")]),
            None,
            DEFAULT_METADATA_LIMIT,
        )
        .unwrap();
        assert_eq!(req.headers()["a"], "x\ty");
        assert_eq!(req.headers()["city"].as_bytes(), "Zürich".as_bytes());
        assert!(decoded(&req).is_empty());
    }

    #[test]
    fn items_past_the_metadata_limit_are_left_out_and_named() {
        let big = "b".repeat(100);
        let items = [("messageId", "m-1"), ("attr-big", big.as_str()), ("attr-odd key", &*big), ("attr-small", "kept")];
        // messageid: m-1 (17 bytes with framing) and attr-small: kept (20) fit in 40; the others do not.
        let req = build_request(&Uri::from_static("/b"), event(&items), None, 40).unwrap();
        let h = req.headers();
        assert_eq!(h["messageid"], "m-1");
        assert_eq!(h["attr-small"], "kept");
        assert!(h.get("attr-big").is_none() && h.get("attr-odd%20key*").is_none());
        assert_eq!(h["bindery-metadata-omitted"], "attr-big, attr-odd%20key");
        let all = build_request(&Uri::from_static("/b"), event(&items), None, DEFAULT_METADATA_LIMIT).unwrap();
        assert!(all.headers().get("bindery-metadata-omitted").is_none());
        assert_eq!(all.headers()["attr-big"], big.as_str());
    }

    #[test]
    fn an_item_cannot_pass_for_the_omission_mark() {
        let req = build_request(
            &Uri::from_static("/b"),
            event(&[("Bindery-Metadata-Omitted", "attr-x")]),
            None,
            DEFAULT_METADATA_LIMIT,
        )
        .unwrap();
        assert!(req.headers().get("bindery-metadata-omitted").is_none());
        assert_eq!(req.headers()["bindery-metadata-omitted*"], "UTF-8''attr-x");
    }

    proptest::proptest! {
        /// No metadata makes an event undeliverable, and the app gets every
        /// item back exactly: as it is, or from its starred name.
        #[test]
        fn any_metadata_is_delivered_and_recoverable(
            items in proptest::collection::vec(("[a-fh-z][a-z0-9*% .-]{0,8}", "\\PC*|[\t\n\r\x7f a-z\u{e9}]{0,12}"), 0..6)
        ) {
            let pairs: Vec<(&str, &str)> = items.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let req = build_request(&Uri::from_static("/b"), event(&pairs), None, DEFAULT_METADATA_LIMIT).unwrap();
            let mut plain: Vec<(String, String)> = req
                .headers()
                .iter()
                .filter(|(name, _)| !name.as_str().ends_with('*') && !["content-type", "traceparent"].contains(&name.as_str()))
                .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8(value.as_bytes().to_vec()).unwrap()))
                .collect();
            plain.extend(decoded(&req));
            plain.sort();
            let mut expected: Vec<(String, String)> = items
                .iter()
                .filter(|(k, _)| !SKIPPED.contains(&k.as_str()) && !k.starts_with("proxy-") && !k.ends_with("-bin"))
                .cloned()
                .collect();
            expected.sort();
            proptest::prop_assert_eq!(plain, expected);
        }
    }
}
