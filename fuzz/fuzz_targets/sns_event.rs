//! bindery-sns's parsers, of a direct invocation's records and of the body
//! SNS posts over HTTP, then each message's event, the text its signature
//! covers and the request the app gets: a message that cannot be read is
//! refused alone, never a panic; one that can is always deliverable.
#![no_main]

use bindery::deliver::{DEFAULT_METADATA_LIMIT, build_request};
use bindery::input::sns::{SnsNotification, check_cert_url, check_subscribe_url, parse_event};
use libfuzzer_sys::fuzz_target;

fn check(notification: &SnsNotification<'_>) {
    // The message is signed whole, so it is in the text.
    assert!(notification.string_to_sign().contains(notification.message.as_ref()));
    if let Some(signature) = &notification.signature {
        // A URL accepted is https on an SNS host, whatever its text.
        if let Ok(url) = check_cert_url(&signature.cert_url) {
            assert_eq!(url.scheme(), "https");
            assert!(url.host_str().is_some_and(|h| h.starts_with("sns.")));
        }
    }
    if let Some(Ok(url)) = notification.subscribe_url.as_deref().map(check_subscribe_url) {
        assert!(url.scheme() == "https" && url.host_str().is_some_and(|h| h.starts_with("sns.")));
    }
    let event = notification.event();
    let request = build_request(&http::Uri::from_static("/notices"), event, None, DEFAULT_METADATA_LIMIT);
    assert!(request.is_ok(), "a readable message could not become a request: {:?}", request.err());
}

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = SnsNotification::from_http_body(data) {
        check(&message);
    }
    let Ok(records) = parse_event(data) else { return };
    for record in records {
        if let Ok(notification) = SnsNotification::from_record(record) {
            check(&notification);
        }
    }
});
