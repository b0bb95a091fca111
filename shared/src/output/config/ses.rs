//! `bindings.aws.ses`'s component metadata: the defaults of every email
//! field, each of which a request may give instead.

use super::AwsConfig;
use crate::component::{FieldError, Metadata};
use crate::output::email::email_from;
use crate::output::{InvokeRequest, operation};

/// Dapr's prefix for this binding's errors.
pub(crate) const PREFIX: &str = "SES binding error";
/// The component fields [`email_from`] reads, checked at load.
const DEFAULT_FIELDS: &[&str] = &["emailFrom", "emailTo", "emailCc", "emailBcc", "subject", "contentType"];
/// The fields a send cannot do without.
const REQUIRED_FIELDS: &[&str] = &["emailFrom", "emailTo", "subject"];

/// The component's email defaults, checked as a send would check them.
#[derive(Debug, Clone)]
pub struct SesConfig {
    pub aws: AwsConfig,
    /// The component's metadata: the default of every email field.
    pub(crate) defaults: Metadata,
}

impl SesConfig {
    /// Checks the component's email defaults; none is required, since each
    /// may come with the request.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let mut errors: Vec<FieldError> =
            DEFAULT_FIELDS.iter().filter_map(|field| check_default(metadata, field)).collect();
        let aws = AwsConfig::from_metadata(metadata).map_err(|e| errors.extend(e)).unwrap_or_default();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self { aws, defaults: metadata.clone() })
    }

    /// `emailFrom`, the default sender, as written (`Name <address>` or an address).
    pub fn email_from(&self) -> Option<&str> {
        self.defaults.get("emailFrom").filter(|from| !from.is_empty())
    }
}

/// The problem with the component's value of `field`, if any, as a send
/// would find it: the field alone in the component, the other required
/// fields supplied by a probe request, so that any error is this field's.
fn check_default(metadata: &Metadata, field: &str) -> Option<FieldError> {
    let value = metadata.get(field)?;
    let component = Metadata::from_pairs([(field, value)]);
    let probe = REQUIRED_FIELDS
        .iter()
        .filter(|f| **f != field)
        .fold(InvokeRequest::new(operation::CREATE, ""), |r, f| r.with_metadata(*f, "probe@example.com"));
    let error = email_from(&component, &probe, PREFIX).err()?;
    let message = error.message.strip_prefix(PREFIX).map_or(&*error.message, |m| m.trim_start_matches(": "));
    Some(FieldError::invalid(field, message))
}
