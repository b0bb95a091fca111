//! Webhook verification must not take longer the more of a wrong signature
//! matches: compare a GitHub signature wrong in its first byte, wrong in its
//! last byte, and right, over the same 4 KiB body (issue 6, RELIABILITY.md).
//! The three medians should agree within noise; a byte-by-byte comparison
//! would make the last-byte case measurably slower than the first-byte one.
//! Run with `cargo bench -p bindery --bench webhook_verify`.

use std::hint::black_box;

use bindery::component::Metadata;
use bindery::input::webhook::WebhookAuth;
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderValue};
use sha2::Sha256;

const SECRET: &str = "It's a Secret to Everybody";

fn signature_header(signature: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let value = format!("sha256={}", hex::encode(signature));
    headers.insert("x-hub-signature-256", HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("")));
    headers
}

fn bench(c: &mut Criterion) {
    let auth =
        WebhookAuth::from_metadata(&Metadata::from_pairs([("signatureScheme", "github"), ("signatureSecret", SECRET)]))
            .unwrap_or_else(|e| panic!("{e:?}"));
    let body = vec![b'x'; 4096];
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    mac.update(&body);
    let right: Vec<u8> = mac.finalize().into_bytes().to_vec();
    let mut wrong_first = right.clone();
    wrong_first[0] ^= 0xff;
    let mut wrong_last = right.clone();
    wrong_last[31] ^= 0xff;
    let mut group = c.benchmark_group("github verification, 4 KiB body");
    for (name, signature) in [("wrong first byte", &wrong_first), ("wrong last byte", &wrong_last), ("right", &right)] {
        let headers = signature_header(signature);
        group.bench_function(name, |b| b.iter(|| black_box(auth.verify(black_box(&headers), black_box(&body), 0))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
