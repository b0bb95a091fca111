//! Webhook verification, every scheme, on any headers and body: a forged
//! request is refused, never accepted and never a panic.
#![no_main]

use bindery::component::Metadata;
use bindery::input::webhook::WebhookAuth;
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

const SCHEMES: [&[(&str, &str)]; 4] = [
    &[("signatureScheme", "github"), ("signatureSecret", "secret")],
    &[("signatureScheme", "stripe"), ("signatureSecret", "whsec_secret")],
    &[
        ("signatureScheme", "hmac-sha256"),
        ("signatureSecret", "secret"),
        ("signatureHeader", "x-signature"),
        ("signaturePrefix", "sha256="),
    ],
    &[("signatureScheme", "token"), ("signatureSecret", "secret"), ("tokenHeader", "x-token")],
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let metadata = Metadata::from_pairs(SCHEMES[usize::from(selector) % SCHEMES.len()].iter().copied());
    let Ok(auth) = WebhookAuth::from_metadata(&metadata) else { return };
    // Input: header lines `name: value`, a blank line, then the body.
    let split = rest.windows(2).position(|w| w == b"\n\n").unwrap_or(rest.len());
    let (head, body) = (&rest[..split], rest.get(split + 2..).unwrap_or_default());
    let mut headers = HeaderMap::new();
    for line in head.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
        let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(&line[..colon]), HeaderValue::from_bytes(line[colon + 1..].trim_ascii()))
        else {
            continue;
        };
        headers.append(name, value);
    }
    let _ = auth.verify(&headers, body, 1_795_000_000);
});
