//! The email a `create` on SES or on the local mailbox describes: component
//! metadata merged with request metadata, as Dapr's SES binding merges them.
//! Pure, so both bindings share one reading of the request.

use crate::component::Metadata;

use super::binding::InvokeRequest;
use super::data::unquote_if_quoted;
use super::error::InvokeError;

/// Request (or component) metadata that asks for a plain-text body instead of
/// HTML: `contentType: text/plain` (or `text`). bindery's addition; Dapr's SES
/// binding only sends HTML.
pub(crate) const CONTENT_TYPE_KEY: &str = "contentType";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Email {
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
) -> Result<Email, InvokeError> {
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
    let html = match field(CONTENT_TYPE_KEY).map(str::to_ascii_lowercase).as_deref() {
        None | Some("" | "html" | "text/html") => true,
        Some("text" | "text/plain") => false,
        Some(other) => {
            return Err(InvokeError::bad_request(format!(
                "{error_prefix}: contentType must be text/html or text/plain, got {other:?}"
            )));
        }
    };
    Ok(Email {
        from,
        to,
        cc: field("emailCc").map(addresses).unwrap_or_default(),
        bcc: field("emailBcc").map(addresses).unwrap_or_default(),
        subject,
        body,
        html,
    })
}

fn addresses(list: &str) -> Vec<String> {
    list.split(';').map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "SES binding error";

    fn component() -> Metadata {
        Metadata::from_pairs([("emailFrom", "app@example.com"), ("emailTo", "ops@example.com"), ("subject", "Hi")])
    }

    #[test]
    fn component_values_apply_and_request_values_win() {
        let plain = email_from(&component(), &InvokeRequest::new("create", "<b>x</b>"), PREFIX).unwrap();
        assert_eq!(plain.from, "app@example.com");
        assert_eq!(plain.to, ["ops@example.com"]);
        assert_eq!(plain.subject, "Hi");
        assert!(plain.html);

        let request = InvokeRequest::new("create", "x")
            .with_metadata("EMAILTO", " a@example.com ; b@example.com;")
            .with_metadata("emailcc", "c@example.com")
            .with_metadata("EmailBcc", "d@example.com;e@example.com")
            .with_metadata("Subject", "Override");
        let email = email_from(&component(), &request, PREFIX).unwrap();
        assert_eq!(email.to, ["a@example.com", "b@example.com"]);
        assert_eq!(email.cc, ["c@example.com"]);
        assert_eq!(email.bcc, ["d@example.com", "e@example.com"]);
        assert_eq!(email.subject, "Override");
    }

    #[test]
    fn each_missing_field_is_named() {
        for field in ["emailFrom", "emailTo", "subject"] {
            let pairs: Vec<(&str, &str)> = [("emailFrom", "a@x"), ("emailTo", "b@x"), ("subject", "s")]
                .into_iter()
                .filter(|(k, _)| *k != field)
                .collect();
            let error =
                email_from(&Metadata::from_pairs(pairs), &InvokeRequest::new("create", "x"), PREFIX).unwrap_err();
            assert_eq!(
                error.message,
                format!("SES binding error: {field} property not supplied in configuration- or request-metadata")
            );
        }
        let error =
            email_from(&component(), &InvokeRequest::new("create", "x").with_metadata("emailTo", " ; "), PREFIX);
        assert!(error.unwrap_err().message.contains("emailTo holds no address"));
    }

    #[test]
    fn quoted_and_raw_bodies_and_text_or_html() {
        let quoted = email_from(&component(), &InvokeRequest::new("create", r#""<p>hé</p>\n""#), PREFIX).unwrap();
        assert_eq!(quoted.body, "<p>hé</p>\n");
        let raw = email_from(&component(), &InvokeRequest::new("create", "<p>hé</p>"), PREFIX).unwrap();
        assert_eq!(raw.body, "<p>hé</p>");

        let text = InvokeRequest::new("create", "plain").with_metadata("contentType", "text/plain");
        assert!(!email_from(&component(), &text, PREFIX).unwrap().html);
        let bad = InvokeRequest::new("create", "x").with_metadata("contentType", "image/png");
        assert!(email_from(&component(), &bad, PREFIX).is_err());
        let binary = InvokeRequest::new("create", vec![0xff, 0xfe]);
        assert!(email_from(&component(), &binary, PREFIX).unwrap_err().message.contains("not UTF-8"));
    }
}
