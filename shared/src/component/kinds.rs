//! The component types bindery implements, the directions each serves, and
//! the checks each needs at load time.

use super::direction::Directions;
use super::error::FieldError;
use super::metadata::Metadata;
use crate::input::webhook::WebhookAuth;
use crate::schedule::Schedule;

pub const CRON_TYPE: &str = "bindings.cron";
pub const SQS_TYPE: &str = "bindings.aws.sqs";
pub const HTTP_TYPE: &str = "bindings.http";
pub const S3_TYPE: &str = "bindings.aws.s3";
pub const SES_TYPE: &str = "bindings.aws.ses";
pub const LOCALSTORAGE_TYPE: &str = "bindings.localstorage";
/// bindery's own: each email written to a folder as an `.eml` file, the local
/// stand-in for SES.
pub const MAILBOX_TYPE: &str = "bindings.local.mailbox";
pub const ENV_SECRET_STORE_TYPE: &str = super::stores::ENV_STORE_TYPE;
pub const FILE_SECRET_STORE_TYPE: &str = super::stores::FILE_STORE_TYPE;
pub const SECRETS_MANAGER_TYPE: &str = super::stores::SECRETS_MANAGER_TYPE;
pub const PARAMETER_STORE_TYPE: &str = super::stores::PARAMETER_STORE_TYPE;

/// What bindery knows about one component type.
#[derive(Debug)]
pub struct TypeInfo {
    pub type_: &'static str,
    /// The directions the type can serve at all.
    pub supports: Directions,
    /// The directions used when the component has no `direction` item.
    pub implied: Directions,
    check: fn(&Metadata, Directions) -> Vec<FieldError>,
}

impl TypeInfo {
    /// Every problem with this component's metadata, for the given directions.
    pub fn check(&self, metadata: &Metadata, directions: Directions) -> Vec<FieldError> {
        (self.check)(metadata, directions)
    }
}

const BOTH: Directions = Directions::implied(true, true);
const INPUT: Directions = Directions::implied(true, false);
const OUTPUT: Directions = Directions::implied(false, true);
const NONE: Directions = Directions::implied(false, false);

static TYPES: &[TypeInfo] = &[
    TypeInfo { type_: CRON_TYPE, supports: INPUT, implied: INPUT, check: check_cron },
    TypeInfo { type_: SQS_TYPE, supports: BOTH, implied: BOTH, check: |m, _| required(m, &["queueName"]) },
    // Dapr's http binding is output only; bindery adds the input side (webhooks),
    // which must be asked for with `direction: input`.
    TypeInfo { type_: HTTP_TYPE, supports: BOTH, implied: OUTPUT, check: check_http },
    TypeInfo { type_: S3_TYPE, supports: OUTPUT, implied: OUTPUT, check: |m, _| required(m, &["bucket"]) },
    TypeInfo { type_: SES_TYPE, supports: OUTPUT, implied: OUTPUT, check: |_, _| Vec::new() },
    TypeInfo { type_: LOCALSTORAGE_TYPE, supports: OUTPUT, implied: OUTPUT, check: |m, _| required(m, &["rootPath"]) },
    TypeInfo { type_: MAILBOX_TYPE, supports: OUTPUT, implied: OUTPUT, check: |m, _| required(m, &["rootPath"]) },
    TypeInfo { type_: ENV_SECRET_STORE_TYPE, supports: NONE, implied: NONE, check: |_, _| Vec::new() },
    TypeInfo {
        type_: FILE_SECRET_STORE_TYPE,
        supports: NONE,
        implied: NONE,
        check: |m, _| required(m, &["secretsFile"]),
    },
    TypeInfo { type_: SECRETS_MANAGER_TYPE, supports: NONE, implied: NONE, check: |_, _| Vec::new() },
    TypeInfo { type_: PARAMETER_STORE_TYPE, supports: NONE, implied: NONE, check: |_, _| Vec::new() },
];

/// How a `spec.type` is treated.
#[derive(Debug)]
pub enum Lookup {
    Known(&'static TypeInfo),
    /// Any other type: another binding (`bindings.kafka`), secret store or
    /// building block (`state.redis`, `pubsub.redis`). A resources folder
    /// shared with daprd holds such components; they are set aside with a
    /// warning, and only an attempt to use one is an error.
    NotServed,
}

pub fn lookup(type_: &str) -> Lookup {
    match TYPES.iter().find(|t| t.type_ == type_) {
        Some(info) => Lookup::Known(info),
        None => Lookup::NotServed,
    }
}

/// The types bindery implements, for error messages.
pub fn known_types() -> impl Iterator<Item = &'static str> {
    TYPES.iter().map(|t| t.type_)
}

/// The binding types bindery serves (secret stores left out), for error messages.
pub fn served_types() -> impl Iterator<Item = &'static str> {
    known_types().filter(|t| t.starts_with("bindings."))
}

fn required(metadata: &Metadata, fields: &[&str]) -> Vec<FieldError> {
    fields.iter().filter_map(|f| metadata.required(f).err()).collect()
}

fn check_cron(metadata: &Metadata, _: Directions) -> Vec<FieldError> {
    match metadata.required("schedule") {
        Err(e) => vec![e],
        Ok(text) => match text.parse::<Schedule>() {
            Ok(_) => Vec::new(),
            Err(e) => vec![FieldError::invalid("schedule", format!("invalid schedule format {text:?}: {e}"))],
        },
    }
}

fn check_http(metadata: &Metadata, directions: Directions) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if directions.output {
        match metadata.required("url") {
            Err(e) => errors.push(e),
            Ok(url) => {
                let ok = url
                    .parse::<http::Uri>()
                    .is_ok_and(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some());
                if !ok {
                    // Shown as the binding shows URLs: never with a password.
                    let shown = crate::output::http::redact_url(url);
                    errors.push(FieldError::invalid(
                        "url",
                        format!("expected an http:// or https:// URL, got {shown:?}"),
                    ));
                }
            }
        }
    }
    if directions.input
        && let Err(mut e) = WebhookAuth::from_metadata(metadata)
    {
        errors.append(&mut e);
    }
    errors
}
