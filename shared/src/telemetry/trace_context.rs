//! W3C `traceparent` from an X-Ray trace header.
//!
//! Lambda gives `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`
//! (`Lambda-Runtime-Trace-Id`, `_X_AMZN_TRACE_ID`, SQS's `AWSTraceHeader`).
//! The X-Ray root's two hex parts make the 32-hex W3C trace id, `Parent` the
//! parent id and `Sampled` the flags; the format is documented by AWS as
//! interchangeable with W3C trace context.

/// The `traceparent` for an X-Ray header, or `None` when it has no usable root.
/// Without a `Parent`, the root alone cannot name a span, so there is none.
pub fn traceparent_from_xray(header: &str) -> Option<String> {
    let mut root = None;
    let mut parent = None;
    let mut sampled = false;
    for part in header.split(';') {
        let (key, value) = part.trim().split_once('=')?;
        match key {
            "Root" => root = Some(value),
            "Parent" => parent = Some(value),
            "Sampled" => sampled = value == "1",
            _ => {}
        }
    }
    let mut pieces = root?.split('-');
    let (version, epoch, unique) = (pieces.next()?, pieces.next()?, pieces.next()?);
    let parent = parent?;
    let trace_id = format!("{epoch}{unique}").to_ascii_lowercase();
    let parent = parent.to_ascii_lowercase();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let all_zero = |s: &str| s.bytes().all(|b| b == b'0');
    if version != "1" || pieces.next().is_some() || !hex(&trace_id, 32) || !hex(&parent, 16) {
        return None;
    }
    if all_zero(&trace_id) || all_zero(&parent) {
        return None;
    }
    Some(format!("00-{trace_id}-{parent}-{}", if sampled { "01" } else { "00" }))
}

/// A `traceparent` header value passed on as is, when it is well formed.
pub fn valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    parts.len() >= 4
        && hex(parts[0], 2)
        && parts[0] != "ff"
        && hex(parts[1], 32)
        && hex(parts[2], 16)
        && hex(parts[3], 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_lambda_trace_ids() {
        assert_eq!(
            traceparent_from_xray("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
                .as_deref(),
            Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01")
        );
        assert_eq!(
            traceparent_from_xray("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")
                .as_deref(),
            Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-00")
        );
    }

    #[test]
    fn refuses_what_it_cannot_convert() {
        for bad in [
            "",
            "Root=1-5759e988-bd862e3fe1be46a994272793",
            "Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
            "Root=1-5759e988-bd86;Parent=53995c3f42cd8ad8",
            "Root=1-zzzze988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
            "garbage",
        ] {
            assert_eq!(traceparent_from_xray(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn validates_traceparent() {
        assert!(valid_traceparent("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"));
        assert!(!valid_traceparent("00-XYZ-53995c3f42cd8ad8-01"));
        assert!(!valid_traceparent("ff-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"));
    }
}
