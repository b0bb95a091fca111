//! The email a `create` on SES or on the local mailbox describes: component
//! metadata merged with request metadata, as Dapr's SES binding merges them.
//! Pure, so both bindings share one reading of the request.
//!
//! As in Dapr (§3.5): `emailFrom`, `emailTo`, `emailCc`, `emailBcc` and
//! `subject`, matched case-insensitively, the request's value winning;
//! addresses `;`-separated; `emailFrom`, `emailTo` and `subject` required.
//! Where bindery differs:
//! - The body may be a quoted JSON string (HTTP API) or raw text (gRPC);
//!   Dapr's SES fails on the latter.
//! - `contentType: text/plain` (or `text`) sends plain text; Dapr only sends HTML.
//! - Addresses are trimmed and empty entries (`a@x;`) dropped.
//! - An empty request value counts as absent, so it falls back on the
//!   component's value instead of blanking it.
//! - Line breaks and control characters in the subject or an address are
//!   refused: in a header they would inject headers of their own.

use crate::component::Metadata;

use super::InvokeRequest;
use super::data::unquote_if_quoted;
use super::error::InvokeError;

/// Request (or component) metadata that asks for a plain-text body instead of
/// HTML: `contentType: text/plain` (or `text`). bindery's addition; Dapr's SES
/// binding only sends HTML.
pub(crate) const CONTENT_TYPE_KEY: &str = "contentType";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EmailMessage {
    pub(crate) from: String,
    pub(crate) to: Vec<String>,
    pub(crate) cc: Vec<String>,
    pub(crate) bcc: Vec<String>,
    pub(crate) subject: String,
    pub(crate) body: String,
    pub(crate) html: bool,
}

/// Reads the email of `request`, falling back on the component's metadata.
/// Keys match case-insensitively (Dapr decodes SES request metadata that way);
/// address lists are `;`-separated. `error_prefix` names the binding in
/// errors, e.g. `SES binding error`.
pub(crate) fn email_from(
    component: &Metadata,
    request: &InvokeRequest,
    error_prefix: &str,
) -> Result<EmailMessage, InvokeError> {
    let field = |name: &str| request.meta_ignore_case(name).or_else(|| component.get(name)).map(str::trim);
    let required = |name: &str| {
        field(name).filter(|v| !v.is_empty()).map(str::to_owned).ok_or_else(|| {
            InvokeError::bad_request(format!(
                "{error_prefix}: {name} property not supplied in configuration- or request-metadata"
            ))
        })
    };
    let from = required("emailFrom")?;
    let to = addresses(&required("emailTo")?);
    let subject = required("subject")?;
    if to.is_empty() {
        return Err(InvokeError::bad_request(format!("{error_prefix}: emailTo holds no address")));
    }
    let body = String::from_utf8(unquote_if_quoted(&request.data).into_owned())
        .map_err(|_| InvokeError::bad_request(format!("{error_prefix}: the email body is not UTF-8 text")))?;
    // `text/plain; charset=utf-8` counts as `text/plain`.
    let content_type = field(CONTENT_TYPE_KEY).map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let html = match content_type.as_deref() {
        None | Some("" | "html" | "text/html") => true,
        Some("text" | "text/plain") => false,
        Some(other) => {
            return Err(InvokeError::bad_request(format!(
                "{error_prefix}: contentType must be text/html or text/plain, got {other:?}"
            )));
        }
    };
    let email = EmailMessage {
        from,
        to,
        cc: field("emailCc").map(addresses).unwrap_or_default(),
        bcc: field("emailBcc").map(addresses).unwrap_or_default(),
        subject,
        body,
        html,
    };
    single_lines(&email, error_prefix)?;
    Ok(email)
}

/// Refuses line breaks and other control characters in the subject and the
/// addresses: in a header they would start a new header (injection), and no
/// address or one-line subject contains them.
fn single_lines(email: &EmailMessage, error_prefix: &str) -> Result<(), InvokeError> {
    let fields: [(&str, &[String]); 5] = [
        ("emailFrom", std::slice::from_ref(&email.from)),
        ("emailTo", &email.to),
        ("emailCc", &email.cc),
        ("emailBcc", &email.bcc),
        ("subject", std::slice::from_ref(&email.subject)),
    ];
    for (name, values) in fields {
        if values.iter().any(|v| v.chars().any(|c| c.is_control() && c != '\t')) {
            return Err(InvokeError::bad_request(format!(
                "{error_prefix}: {name} must not contain line breaks or control characters"
            )));
        }
    }
    Ok(())
}

fn addresses(list: &str) -> Vec<String> {
    list.split(';').map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::ErrorKind;

    const PREFIX: &str = "SES binding error";

    fn component() -> Metadata {
        Metadata::from_pairs([("emailFrom", "app@example.com"), ("emailTo", "ops@example.com"), ("subject", "Hi")])
    }

    fn read(component: &Metadata, request: InvokeRequest) -> Result<EmailMessage, InvokeError> {
        email_from(component, &request, PREFIX)
    }

    #[test]
    fn component_values_apply_alone() {
        let email = read(&component(), InvokeRequest::new("create", "<b>x</b>")).unwrap();
        let expected = EmailMessage {
            from: "app@example.com".into(),
            to: vec!["ops@example.com".into()],
            cc: vec![],
            bcc: vec![],
            subject: "Hi".into(),
            body: "<b>x</b>".into(),
            html: true,
        };
        assert_eq!(email, expected);
    }

    #[test]
    fn request_values_win_whatever_their_case() {
        let component = Metadata::from_pairs([
            ("EmailFrom", "app@example.com"),
            ("EMAILTO", "ops@example.com"),
            ("emailcc", "component-cc@example.com"),
            ("emailBCC", "component-bcc@example.com"),
            ("Subject", "Hi"),
        ]);
        let plain = read(&component, InvokeRequest::new("create", "x")).unwrap();
        assert_eq!(
            (plain.cc.as_slice(), plain.bcc.as_slice()),
            (&["component-cc@example.com".to_owned()][..], &["component-bcc@example.com".to_owned()][..])
        );

        let request = InvokeRequest::new("create", "x")
            .with_metadata("EMAILFROM", "other@example.com")
            .with_metadata("emailto", "to@example.com")
            .with_metadata("EmailCc", "c@example.com")
            .with_metadata("EMAILBCC", "d@example.com")
            .with_metadata("SUBJECT", "Override");
        let email = read(&component, request).unwrap();
        assert_eq!(email.from, "other@example.com");
        assert_eq!(email.to, ["to@example.com"]);
        assert_eq!(email.cc, ["c@example.com"]);
        assert_eq!(email.bcc, ["d@example.com"]);
        assert_eq!(email.subject, "Override");
    }

    #[test]
    fn an_empty_request_value_falls_back_on_the_component() {
        let request = InvokeRequest::new("create", "x").with_metadata("subject", "").with_metadata("emailTo", "");
        let email = read(&component(), request).unwrap();
        assert_eq!((email.subject.as_str(), email.to.as_slice()), ("Hi", &["ops@example.com".to_owned()][..]));
    }

    #[test]
    fn lists_are_split_on_semicolons_and_trimmed() {
        let request = InvokeRequest::new("create", "x")
            .with_metadata("emailTo", " a@example.com ; b@example.com;;")
            .with_metadata("emailCc", "Ann <c@example.com>;d@example.com ")
            .with_metadata("emailBcc", " ; e@example.com");
        let email = read(&component(), request).unwrap();
        assert_eq!(email.to, ["a@example.com", "b@example.com"]);
        assert_eq!(email.cc, ["Ann <c@example.com>", "d@example.com"]);
        assert_eq!(email.bcc, ["e@example.com"]);
        let subject = read(&component(), InvokeRequest::new("create", "x").with_metadata("subject", "  Padded  "));
        assert_eq!(subject.unwrap().subject, "Padded");
    }

    #[test]
    fn each_missing_field_is_named() {
        for field in ["emailFrom", "emailTo", "subject"] {
            let pairs: Vec<(&str, &str)> = [("emailFrom", "a@x"), ("emailTo", "b@x"), ("subject", "s")]
                .into_iter()
                .filter(|(k, _)| *k != field)
                .collect();
            let error = read(&Metadata::from_pairs(pairs), InvokeRequest::new("create", "x")).unwrap_err();
            assert_eq!(error.kind, ErrorKind::BadRequest);
            assert_eq!(
                error.message,
                format!("SES binding error: {field} property not supplied in configuration- or request-metadata")
            );
            // Supplied by the request instead, it is enough.
            let request = InvokeRequest::new("create", "x").with_metadata(field, "z@x");
            let pairs: Vec<(&str, &str)> = [("emailFrom", "a@x"), ("emailTo", "b@x"), ("subject", "s")]
                .into_iter()
                .filter(|(k, _)| *k != field)
                .collect();
            assert!(read(&Metadata::from_pairs(pairs), request).is_ok(), "{field}");
        }
        let blank = read(&Metadata::from_pairs([("emailFrom", "  "), ("emailTo", "b@x"), ("subject", "s")]), {
            InvokeRequest::new("create", "x")
        });
        assert!(blank.unwrap_err().message.contains("emailFrom property not supplied"));
        let error = read(&component(), InvokeRequest::new("create", "x").with_metadata("emailTo", " ; "));
        assert!(error.unwrap_err().message.contains("emailTo holds no address"));
        let prefix = email_from(&Metadata::default(), &InvokeRequest::new("create", "x"), "mailbox binding error");
        assert!(prefix.unwrap_err().message.starts_with("mailbox binding error: emailFrom"));
    }

    #[test]
    fn quoted_and_raw_bodies() {
        let quoted = read(&component(), InvokeRequest::new("create", r#""<p>h\u00e9 \"you\"</p>\n""#)).unwrap();
        assert_eq!(quoted.body, "<p>hé \"you\"</p>\n");
        let raw = read(&component(), InvokeRequest::new("create", "<p>hé</p>")).unwrap();
        assert_eq!(raw.body, "<p>hé</p>");
        let half_quoted = read(&component(), InvokeRequest::new("create", "\"not closed")).unwrap();
        assert_eq!(half_quoted.body, "\"not closed");
        let json = read(&component(), InvokeRequest::new("create", r#"{"a":"b"}"#)).unwrap();
        assert_eq!(json.body, r#"{"a":"b"}"#);
        let empty = read(&component(), InvokeRequest::new("create", "")).unwrap();
        assert_eq!(empty.body, "");
        let binary = read(&component(), InvokeRequest::new("create", vec![0xff, 0xfe])).unwrap_err();
        assert_eq!(binary.kind, ErrorKind::BadRequest);
        assert!(binary.message.contains("not UTF-8"));
    }

    #[test]
    fn html_by_default_text_when_asked() {
        let html =
            |value: &str| read(&component(), InvokeRequest::new("create", "b").with_metadata("contentType", value));
        for value in ["text/html", "HTML", "text/html; charset=utf-8"] {
            assert!(html(value).unwrap().html, "{value}");
        }
        for value in ["text/plain", "TEXT", "Text/Plain; charset=UTF-8"] {
            assert!(!html(value).unwrap().html, "{value}");
        }
        let request = InvokeRequest::new("create", "b").with_metadata("CONTENTTYPE", "text");
        assert!(!read(&component(), request).unwrap().html, "the key matches case-insensitively");

        let text_component = Metadata::from_pairs([
            ("emailFrom", "a@x"),
            ("emailTo", "b@x"),
            ("subject", "s"),
            ("contentType", "text/plain"),
        ]);
        assert!(!read(&text_component, InvokeRequest::new("create", "b")).unwrap().html);
        let back_to_html = InvokeRequest::new("create", "b").with_metadata("contentType", "text/html");
        assert!(read(&text_component, back_to_html).unwrap().html, "the request wins");

        let bad = html("image/png").unwrap_err();
        assert_eq!(bad.kind, ErrorKind::BadRequest);
        assert!(bad.message.contains("contentType must be text/html or text/plain"));
    }

    #[test]
    fn line_breaks_in_headers_are_refused() {
        for (field, value) in [
            ("subject", "Hi\r\nBcc: everyone@example.com"),
            ("subject", "Hi\nthere"),
            ("emailTo", "a@example.com\r\nX-Injected: 1"),
            ("emailFrom", "a@example.com\u{0}"),
            ("emailCc", "c@example.com\nX: y"),
            ("emailBcc", "d@example.com\rX: y"),
        ] {
            let request = InvokeRequest::new("create", "x").with_metadata(field, value);
            let error = read(&component(), request).unwrap_err();
            assert_eq!(error.kind, ErrorKind::BadRequest, "{field}");
            assert!(error.message.contains(&format!("{field} must not contain line breaks")), "{error}");
        }
        let tab = read(&component(), InvokeRequest::new("create", "line 1\r\nline 2").with_metadata("subject", "a\tb"));
        assert_eq!(tab.unwrap().body, "line 1\r\nline 2", "the body may hold any line break");
    }
}
