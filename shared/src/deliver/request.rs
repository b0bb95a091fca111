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
mod tests;
