use http::{HeaderMap, HeaderName, HeaderValue};

use super::*;
use crate::component::error::ConfigErrorKind;

// GitHub's documented example.
const GH_SECRET: &str = "It's a Secret to Everybody";
const GH_BODY: &[u8] = b"Hello, World!";
const GH_HEX: &str = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
const GH_BASE64: &str = "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc=";

// Computed independently (Python's hmac module).
const STRIPE_SECRET: &str = "whsec_test_secret";
const STRIPE_BODY: &[u8] = br#"{"id":"evt_1"}"#;
const STRIPE_T: i64 = 1_700_000_000;
const STRIPE_V1: &str = "248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9fb1618b9bf8ea9c9a";

const NOW: i64 = 1_700_000_000;

fn try_auth(pairs: &[(&str, &str)]) -> Result<WebhookAuth, Vec<FieldError>> {
    WebhookAuth::from_metadata(&Metadata::from_pairs(pairs.iter().copied()))
}

fn auth(pairs: &[(&str, &str)]) -> WebhookAuth {
    try_auth(pairs).expect("valid configuration")
}

fn config_errors(pairs: &[(&str, &str)]) -> Vec<FieldError> {
    try_auth(pairs).expect_err("configuration should be refused")
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("test header name");
        map.append(name, HeaderValue::from_str(value).expect("test header value"));
    }
    map
}

fn github() -> WebhookAuth {
    auth(&[("signatureScheme", "github"), ("signatureSecret", GH_SECRET)])
}

fn stripe() -> WebhookAuth {
    auth(&[("signatureScheme", "stripe"), ("signatureSecret", STRIPE_SECRET)])
}

fn stripe_sig(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn stripe_header(t: i64, sig: &str) -> HeaderMap {
    headers(&[("Stripe-Signature", &format!("t={t},v1={sig}"))])
}

fn hmac_scheme(extra: &[(&str, &str)]) -> WebhookAuth {
    let mut pairs =
        vec![("signatureScheme", "hmac-sha256"), ("signatureSecret", GH_SECRET), ("signatureHeader", "X-Signature")];
    pairs.extend_from_slice(extra);
    auth(&pairs)
}

fn token(extra: &[(&str, &str)]) -> WebhookAuth {
    let mut pairs = vec![("signatureScheme", "token"), ("signatureSecret", "s3cr3t-t0ken")];
    pairs.extend_from_slice(extra);
    auth(&pairs)
}

fn missing(header: &str) -> Result<(), Rejection> {
    Err(Rejection::MissingProof(header.to_owned()))
}

fn malformed(header: &str) -> Result<(), Rejection> {
    Err(Rejection::Malformed(header.to_owned()))
}

fn ambiguous(header: &str) -> Result<(), Rejection> {
    Err(Rejection::Ambiguous(header.to_owned()))
}

// ---- configuration ----

#[test]
fn missing_scheme_says_how_to_opt_out() {
    let errors = config_errors(&[("signatureSecret", "x")]);
    assert_eq!(
        errors,
        vec![FieldError::missing(
            "signatureScheme",
            "a webhook binding must say how requests are verified: set it to github, stripe, hmac-sha256 or token, \
             or to none to accept unsigned requests",
        )]
    );
}

#[test]
fn unknown_scheme_lists_the_accepted_ones() {
    let errors = config_errors(&[("signatureScheme", "sha1"), ("signatureSecret", "x")]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind, ConfigErrorKind::InvalidValue);
    assert_eq!(errors[0].field, "signatureScheme");
    assert_eq!(
        errors[0].message,
        "unknown scheme \"sha1\": expected one of github, stripe, hmac-sha256, token or none"
    );
}

#[test]
fn every_scheme_but_none_needs_a_secret() {
    for scheme in ["github", "stripe", "hmac-sha256", "token"] {
        let errors =
            config_errors(&[("signatureScheme", scheme), ("signatureHeader", "X-Sig"), ("signatureSecret", " ")]);
        assert_eq!(errors.len(), 1, "{scheme}: {errors:?}");
        assert_eq!(errors[0].kind, ConfigErrorKind::MissingField);
        assert_eq!(errors[0].field, "signatureSecret");
        assert!(errors[0].message.contains(scheme), "{}", errors[0].message);
    }
    assert_eq!(auth(&[("signatureScheme", "none")]).scheme(), "none");
}

#[test]
fn hmac_sha256_needs_a_signature_header() {
    let errors = config_errors(&[("signatureScheme", "hmac-sha256"), ("signatureSecret", "x")]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind, ConfigErrorKind::MissingField);
    assert_eq!(errors[0].field, "signatureHeader");
}

#[test]
fn all_field_errors_are_reported_at_once() {
    let errors =
        config_errors(&[("signatureScheme", "hmac-sha256"), ("signatureEncoding", "base32"), ("maxBodySize", "huge")]);
    let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["maxBodySize", "signatureEncoding", "signatureHeader", "signatureSecret"]);

    let errors = config_errors(&[("maxBodySize", "0")]);
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["maxBodySize", "signatureScheme"]);
}

#[test]
fn invalid_values_are_refused() {
    let errors = config_errors(&[("signatureScheme", "stripe"), ("signatureSecret", "x"), ("toleranceSeconds", "-5")]);
    assert_eq!(errors[0].field, "toleranceSeconds");
    let errors = config_errors(&[("signatureScheme", "token"), ("signatureSecret", "x"), ("tokenHeader", "X Token")]);
    assert_eq!(errors[0].field, "tokenHeader");
    assert_eq!(errors[0].message, "\"X Token\" is not a valid HTTP header name");
    let errors =
        config_errors(&[("signatureScheme", "hmac-sha256"), ("signatureSecret", "x"), ("signatureHeader", "a:b")]);
    assert_eq!(errors[0].field, "signatureHeader");
}

#[test]
fn names_and_scheme_values_are_case_insensitive() {
    let a = auth(&[("SIGNATURESCHEME", " GitHub "), ("signaturesecret", GH_SECRET)]);
    assert_eq!(a.scheme(), "github");
    assert_eq!(a.verify(&headers(&[("X-Hub-Signature-256", &format!("sha256={GH_HEX}"))]), GH_BODY, NOW), Ok(()));
}

#[test]
fn max_body_size_defaults_to_one_mebibyte() {
    assert_eq!(github().max_body_size(), 1_048_576);
    let a = auth(&[("signatureScheme", "none"), ("maxBodySize", "2Mi")]);
    assert_eq!(a.max_body_size(), 2 * 1_048_576);
    assert_eq!(WebhookAuth::none().max_body_size(), 1_048_576);
}

#[test]
fn debug_shows_the_scheme_and_never_the_secret() {
    let shown = format!("{:?} {:?}", github(), token(&[]));
    assert_eq!(shown, "WebhookAuth { scheme: \"github\", .. } WebhookAuth { scheme: \"token\", .. }");
}

#[test]
fn credential_and_proof_headers() {
    assert!(github().credential_headers().is_empty());
    assert_eq!(github().proof_header(), Some(HeaderName::from_static("x-hub-signature-256")));
    assert_eq!(stripe().proof_header(), Some(HeaderName::from_static("stripe-signature")));
    assert_eq!(hmac_scheme(&[]).proof_header(), Some(HeaderName::from_static("x-signature")));
    assert_eq!(token(&[]).credential_headers(), vec![http::header::AUTHORIZATION]);
    assert_eq!(token(&[("tokenHeader", "X-Api-Key")]).credential_headers(), vec![HeaderName::from_static("x-api-key")]);
    assert!(WebhookAuth::none().credential_headers().is_empty());
    assert_eq!(WebhookAuth::none().proof_header(), None);
}

// ---- github ----

#[test]
fn github_known_answer_is_accepted_in_any_hex_case_and_header_case() {
    let a = github();
    let sig = format!("sha256={GH_HEX}");
    assert_eq!(a.verify(&headers(&[("X-Hub-Signature-256", &sig)]), GH_BODY, NOW), Ok(()));
    assert_eq!(a.verify(&headers(&[("x-HUB-signature-256", &sig)]), GH_BODY, NOW), Ok(()));
    let upper = format!("sha256={}", GH_HEX.to_ascii_uppercase());
    assert_eq!(a.verify(&headers(&[("X-Hub-Signature-256", &upper)]), GH_BODY, NOW), Ok(()));
}

#[test]
fn github_rejections() {
    let a = github();
    let h = |v: &str| headers(&[("X-Hub-Signature-256", v)]);
    let good = format!("sha256={GH_HEX}");
    let wrong_secret = auth(&[("signatureScheme", "github"), ("signatureSecret", "It's a Secret to Everybody!")]);
    assert_eq!(wrong_secret.verify(&h(&good), GH_BODY, NOW), Err(Rejection::BadSignature));
    assert_eq!(a.verify(&h(&good), b"Hello, World?", NOW), Err(Rejection::BadSignature));
    assert_eq!(a.verify(&h(&good[..good.len() - 2]), GH_BODY, NOW), Err(Rejection::BadSignature));
    assert_eq!(a.verify(&h(&good[..good.len() - 1]), GH_BODY, NOW), malformed("X-Hub-Signature-256"));
    assert_eq!(a.verify(&h("sha256="), GH_BODY, NOW), Err(Rejection::BadSignature));
    assert_eq!(a.verify(&h(&format!("sha256={}zz", &GH_HEX[2..])), GH_BODY, NOW), malformed("X-Hub-Signature-256"));
    assert_eq!(a.verify(&h(GH_HEX), GH_BODY, NOW), malformed("X-Hub-Signature-256"));
    assert_eq!(a.verify(&h(&format!("sha1={GH_HEX}")), GH_BODY, NOW), malformed("X-Hub-Signature-256"));
    assert_eq!(a.verify(&HeaderMap::new(), GH_BODY, NOW), missing("X-Hub-Signature-256"));
    let twice = headers(&[("X-Hub-Signature-256", &good), ("x-hub-signature-256", &good)]);
    assert_eq!(a.verify(&twice, GH_BODY, NOW), ambiguous("X-Hub-Signature-256"));
}

#[test]
fn rejection_messages_never_carry_signatures() {
    let sig = format!("sha256={}", "00".repeat(32));
    let err = github().verify(&headers(&[("X-Hub-Signature-256", &sig)]), GH_BODY, NOW).expect_err("forged");
    let text = err.to_string();
    assert_eq!(text, "signature does not match");
    assert!(!text.contains(GH_HEX) && !text.contains(GH_SECRET));
}

// ---- stripe ----

#[test]
fn stripe_known_answer_is_accepted_within_tolerance() {
    let a = stripe();
    assert_eq!(stripe_sig(STRIPE_SECRET, STRIPE_T, STRIPE_BODY), STRIPE_V1);
    let h = stripe_header(STRIPE_T, STRIPE_V1);
    for now in [NOW, NOW + 300, NOW - 300] {
        assert_eq!(a.verify(&h, STRIPE_BODY, now), Ok(()), "now = {now}");
    }
    let odd_case = headers(&[("STRIPE-signature", &format!("t={STRIPE_T}, v1={}", STRIPE_V1.to_uppercase()))]);
    assert_eq!(a.verify(&odd_case, STRIPE_BODY, NOW), Ok(()));
}

#[test]
fn stripe_timestamps_beyond_tolerance_are_refused_both_ways() {
    let a = stripe();
    let h = stripe_header(STRIPE_T, STRIPE_V1);
    assert_eq!(a.verify(&h, STRIPE_BODY, NOW + 301), Err(Rejection::Expired(300)));
    assert_eq!(a.verify(&h, STRIPE_BODY, NOW - 301), Err(Rejection::Expired(300)));
    assert_eq!(a.verify(&h, STRIPE_BODY, i64::MIN), Err(Rejection::Expired(300)));

    let exact = auth(&[("signatureScheme", "stripe"), ("signatureSecret", STRIPE_SECRET), ("toleranceSeconds", "0")]);
    assert_eq!(exact.verify(&h, STRIPE_BODY, NOW), Ok(()));
    assert_eq!(exact.verify(&h, STRIPE_BODY, NOW + 1), Err(Rejection::Expired(0)));

    let wide = auth(&[("signatureScheme", "stripe"), ("signatureSecret", STRIPE_SECRET), ("toleranceSeconds", "3600")]);
    assert_eq!(wide.verify(&h, STRIPE_BODY, NOW + 3600), Ok(()));
    assert_eq!(wide.verify(&h, STRIPE_BODY, NOW + 3601), Err(Rejection::Expired(3600)));
}

#[test]
fn stripe_checks_the_signature_before_the_clock() {
    let forged = stripe_header(STRIPE_T, &stripe_sig("whsec_other", STRIPE_T, STRIPE_BODY));
    assert_eq!(stripe().verify(&forged, STRIPE_BODY, NOW + 10_000), Err(Rejection::BadSignature));
}

#[test]
fn stripe_accepts_any_matching_v1() {
    let a = stripe();
    let old = stripe_sig("whsec_old_secret", STRIPE_T, STRIPE_BODY);
    let value = format!("t={STRIPE_T},v1={old},v1={STRIPE_V1},v0={old}");
    assert_eq!(a.verify(&headers(&[("Stripe-Signature", &value)]), STRIPE_BODY, NOW), Ok(()));
    // An undecodable v1 is skipped, as Stripe's libraries do.
    let value = format!("t={STRIPE_T},v1=nothex,v1={STRIPE_V1}");
    assert_eq!(a.verify(&headers(&[("Stripe-Signature", &value)]), STRIPE_BODY, NOW), Ok(()));
    // v0 alone is never enough.
    let value = format!("t={STRIPE_T},v0={STRIPE_V1}");
    assert_eq!(a.verify(&headers(&[("Stripe-Signature", &value)]), STRIPE_BODY, NOW), malformed("Stripe-Signature"));
}

#[test]
fn stripe_rejections() {
    let a = stripe();
    let wrong_secret = stripe_header(STRIPE_T, &stripe_sig("whsec_other", STRIPE_T, STRIPE_BODY));
    assert_eq!(a.verify(&wrong_secret, STRIPE_BODY, NOW), Err(Rejection::BadSignature));
    let h = stripe_header(STRIPE_T, STRIPE_V1);
    assert_eq!(a.verify(&h, br#"{"id":"evt_2"}"#, NOW), Err(Rejection::BadSignature));
    // The timestamp is signed: moving it breaks the signature.
    assert_eq!(a.verify(&stripe_header(STRIPE_T + 1, STRIPE_V1), STRIPE_BODY, NOW), Err(Rejection::BadSignature));
    assert_eq!(a.verify(&stripe_header(STRIPE_T, &STRIPE_V1[..62]), STRIPE_BODY, NOW), Err(Rejection::BadSignature));
    assert_eq!(a.verify(&stripe_header(STRIPE_T, &STRIPE_V1[..63]), STRIPE_BODY, NOW), malformed("Stripe-Signature"));
    assert_eq!(a.verify(&HeaderMap::new(), STRIPE_BODY, NOW), missing("Stripe-Signature"));
    let twice =
        headers(&[("Stripe-Signature", &format!("t={STRIPE_T},v1={STRIPE_V1}")), ("stripe-signature", "t=1,v1=00")]);
    assert_eq!(a.verify(&twice, STRIPE_BODY, NOW), ambiguous("Stripe-Signature"));
    for bad in [
        format!("v1={STRIPE_V1}"),
        format!("t={STRIPE_T}"),
        format!("t=,v1={STRIPE_V1}"),
        format!("t=+{STRIPE_T},v1={STRIPE_V1}"),
        format!("t=-1,v1={STRIPE_V1}"),
        format!("t=soon,v1={STRIPE_V1}"),
        format!("t=99999999999999999999,v1={STRIPE_V1}"),
        format!("t={STRIPE_T},t={STRIPE_T},v1={STRIPE_V1}"),
        format!("t={STRIPE_T},v1={STRIPE_V1},"),
        format!("t={STRIPE_T};v1={STRIPE_V1}"),
        String::new(),
    ] {
        assert_eq!(
            a.verify(&headers(&[("Stripe-Signature", &bad)]), STRIPE_BODY, NOW),
            malformed("Stripe-Signature"),
            "{bad:?}"
        );
    }
}

// ---- hmac-sha256 ----

#[test]
fn hmac_sha256_hex_with_and_without_prefix() {
    let plain = hmac_scheme(&[]);
    assert_eq!(plain.verify(&headers(&[("X-Signature", GH_HEX)]), GH_BODY, NOW), Ok(()));
    assert_eq!(plain.verify(&headers(&[("x-SIGNATURE", &GH_HEX.to_uppercase())]), GH_BODY, NOW), Ok(()));

    let prefixed = hmac_scheme(&[("signaturePrefix", "sha256=")]);
    let with_prefix = format!("sha256={GH_HEX}");
    assert_eq!(prefixed.verify(&headers(&[("X-Signature", &with_prefix)]), GH_BODY, NOW), Ok(()));
    assert_eq!(prefixed.verify(&headers(&[("X-Signature", GH_HEX)]), GH_BODY, NOW), malformed("X-Signature"));
    // Without a configured prefix, one sent anyway is part of the signature.
    assert_eq!(plain.verify(&headers(&[("X-Signature", &with_prefix)]), GH_BODY, NOW), malformed("X-Signature"));
}

#[test]
fn hmac_sha256_base64() {
    let a = hmac_scheme(&[("signatureEncoding", "base64")]);
    assert_eq!(a.verify(&headers(&[("X-Signature", GH_BASE64)]), GH_BODY, NOW), Ok(()));
    let unpadded = GH_BASE64.trim_end_matches('=');
    assert_eq!(a.verify(&headers(&[("X-Signature", unpadded)]), GH_BODY, NOW), Ok(()));
    assert_eq!(a.verify(&headers(&[("X-Signature", "not*base64")]), GH_BODY, NOW), malformed("X-Signature"));
    assert_eq!(a.verify(&headers(&[("X-Signature", GH_HEX)]), GH_BODY, NOW), Err(Rejection::BadSignature));
    assert_eq!(a.verify(&headers(&[("X-Signature", &GH_BASE64[..40])]), GH_BODY, NOW), Err(Rejection::BadSignature));
}

#[test]
fn hmac_sha256_rejections() {
    let a = hmac_scheme(&[]);
    let h = headers(&[("X-Signature", GH_HEX)]);
    let other =
        auth(&[("signatureScheme", "hmac-sha256"), ("signatureSecret", "other"), ("signatureHeader", "X-Signature")]);
    assert_eq!(other.verify(&h, GH_BODY, NOW), Err(Rejection::BadSignature));
    assert_eq!(a.verify(&h, b"Hello, World", NOW), Err(Rejection::BadSignature));
    assert_eq!(a.verify(&headers(&[("X-Signature", &GH_HEX[..60])]), GH_BODY, NOW), Err(Rejection::BadSignature));
    assert_eq!(a.verify(&headers(&[("X-Signature", &GH_HEX[..59])]), GH_BODY, NOW), malformed("X-Signature"));
    assert_eq!(a.verify(&headers(&[("X-Signature", "xyz")]), GH_BODY, NOW), malformed("X-Signature"));
    assert_eq!(a.verify(&headers(&[("X-Other", GH_HEX)]), GH_BODY, NOW), missing("X-Signature"));
    let twice = headers(&[("X-Signature", GH_HEX), ("X-Signature", GH_HEX)]);
    assert_eq!(a.verify(&twice, GH_BODY, NOW), ambiguous("X-Signature"));
}

// ---- token ----

#[test]
fn bearer_tokens_in_authorization() {
    let a = token(&[]);
    for value in ["Bearer s3cr3t-t0ken", "bearer s3cr3t-t0ken", "BEARER  s3cr3t-t0ken "] {
        assert_eq!(a.verify(&headers(&[("Authorization", value)]), b"", NOW), Ok(()), "{value:?}");
    }
    assert_eq!(a.verify(&headers(&[("AUTHORIZATION", "Bearer s3cr3t-t0ken")]), b"", NOW), Ok(()));
    let explicit = token(&[("tokenHeader", "authorization")]);
    assert_eq!(explicit.verify(&headers(&[("Authorization", "Bearer s3cr3t-t0ken")]), b"", NOW), Ok(()));
}

#[test]
fn token_rejections() {
    let a = token(&[]);
    let h = |v: &str| headers(&[("Authorization", v)]);
    assert_eq!(a.verify(&h("Bearer wrong"), b"", NOW), Err(Rejection::BadToken));
    assert_eq!(a.verify(&h("Bearer s3cr3t-t0ke"), b"", NOW), Err(Rejection::BadToken));
    assert_eq!(a.verify(&h("Bearer s3cr3t-t0ken2"), b"", NOW), Err(Rejection::BadToken));
    for bad in ["s3cr3t-t0ken", "Bearers3cr3t-t0ken", "Bearer", "Bearer   ", "Basic s3cr3t-t0ken", ""] {
        assert_eq!(a.verify(&h(bad), b"", NOW), malformed("Authorization"), "{bad:?}");
    }
    assert_eq!(a.verify(&HeaderMap::new(), b"", NOW), missing("Authorization"));
    let twice = headers(&[("Authorization", "Bearer s3cr3t-t0ken"), ("authorization", "Bearer s3cr3t-t0ken")]);
    assert_eq!(a.verify(&twice, b"", NOW), ambiguous("Authorization"));
}

#[test]
fn token_in_a_custom_header_is_the_whole_value() {
    let a = token(&[("tokenHeader", "X-Api-Key")]);
    assert_eq!(a.verify(&headers(&[("x-API-key", "s3cr3t-t0ken")]), b"", NOW), Ok(()));
    assert_eq!(a.verify(&headers(&[("X-Api-Key", "Bearer s3cr3t-t0ken")]), b"", NOW), Err(Rejection::BadToken));
    assert_eq!(a.verify(&headers(&[("X-Api-Key", "")]), b"", NOW), Err(Rejection::BadToken));
    assert_eq!(a.verify(&headers(&[("Authorization", "Bearer s3cr3t-t0ken")]), b"", NOW), missing("X-Api-Key"));
    let twice = headers(&[("X-Api-Key", "s3cr3t-t0ken"), ("X-API-KEY", "other")]);
    assert_eq!(a.verify(&twice, b"", NOW), ambiguous("X-Api-Key"));
}

// ---- none, and hostile input ----

#[test]
fn none_accepts_everything() {
    let a = auth(&[("signatureScheme", "none")]);
    assert_eq!(a.verify(&HeaderMap::new(), b"anything", NOW), Ok(()));
    assert_eq!(a.verify(&headers(&[("X-Hub-Signature-256", "sha256=00")]), b"", i64::MIN), Ok(()));
}

#[test]
fn hostile_header_values_never_panic() {
    let schemes = [github(), stripe(), hmac_scheme(&[("signaturePrefix", "sha256=")]), token(&[])];
    let names = ["X-Hub-Signature-256", "Stripe-Signature", "X-Signature", "Authorization"];
    let values: [&[u8]; 12] = [
        b"",
        b"=",
        b",,,",
        b"t=,v1=",
        b"sha256",
        b"sha2\xc3\xa9",
        b"\xff\xfe\xfd",
        b"Bearer \xc3\xa9",
        b"Bearer\xc3\xa9",
        b"t=1,v1=\xc3\xa9",
        b"t=9223372036854775807,v1=00",
        b"sha256=\xe2\x82\xac",
    ];
    for (auth, name) in schemes.iter().zip(names) {
        for value in values {
            let mut map = HeaderMap::new();
            let value = HeaderValue::from_bytes(value).expect("test header value");
            map.insert(HeaderName::from_bytes(name.as_bytes()).expect("test header name"), value);
            assert!(auth.verify(&map, b"body", i64::MAX).is_err(), "{name}: {map:?}");
        }
    }
}
