//! The request the app gets for an event: Dapr's contract, and metadata
//! HTTP cannot carry, or past the limit.

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
