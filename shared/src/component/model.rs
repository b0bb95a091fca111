//! The Component manifest as written in YAML, and the validated [`Component`].

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::direction::Directions;
use super::error::ComponentRef;
use super::kind::ComponentKind;
use super::metadata::Metadata;

/// One YAML document, as loosely as serde can read it: every field optional,
/// so that a missing field is reported by name instead of as a parse error.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Manifest {
    pub(crate) api_version: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) metadata: ObjectMeta,
    pub(crate) spec: Spec,
    pub(crate) auth: Auth,
    pub(crate) scopes: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ObjectMeta {
    pub(crate) name: Option<String>,
    pub(crate) namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Spec {
    #[serde(rename = "type")]
    pub(crate) type_: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) metadata: Vec<MetadataItem>,
    /// Dapr's: a component that fails to load is skipped with a warning.
    pub(crate) ignore_errors: bool,
    /// Dapr's: how long the component's start-up may take (a Go duration).
    pub(crate) init_timeout: Option<Scalar>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Auth {
    pub(crate) secret_store: Option<String>,
}

/// A `spec.metadata` entry: `value`, `secretKeyRef` or `envRef`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct MetadataItem {
    pub(crate) name: Option<String>,
    pub(crate) value: Option<Scalar>,
    pub(crate) secret_key_ref: Option<SecretKeyRef>,
    pub(crate) env_ref: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SecretKeyRef {
    pub(crate) name: Option<String>,
    pub(crate) key: Option<String>,
}

/// A metadata `value`: Dapr takes any YAML scalar and uses its text, so
/// `value: 5` and `value: true` mean `"5"` and `"true"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scalar(pub(crate) String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(String::new()))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// A validated component, its metadata resolved.
#[derive(Debug, Clone)]
pub struct Component {
    pub name: String,
    pub namespace: Option<String>,
    /// What `spec.type` names, e.g. [`BindingKind::AwsSqs`](super::BindingKind::AwsSqs)
    /// for `bindings.aws.sqs`.
    pub kind: ComponentKind,
    /// `spec.version`; an absent version reads as `v1`, as in Dapr.
    pub version: String,
    pub metadata: Metadata,
    pub scopes: Vec<String>,
    /// The file it was read from.
    pub file: PathBuf,
    /// The directions it serves: explicit from `direction`, else what the type implements.
    pub directions: Directions,
    /// The path the app receives input events on: `/<name>`, or the `route` item.
    pub route: String,
    /// `spec.ignoreErrors`: when its start-up fails (building its binding,
    /// within `init_timeout`), it is skipped with a warning.
    pub ignore_errors: bool,
    /// `spec.initTimeout`: the most its start-up may take; `None` when unset.
    pub init_timeout: Option<std::time::Duration>,
}

impl Component {
    pub fn reference(&self) -> ComponentRef {
        ComponentRef { name: self.name.clone(), type_: self.kind.type_name().to_owned(), version: self.version.clone() }
    }
}

/// The `direction` item, if any (its name matches case-insensitively).
pub(crate) fn direction_item(items: &[MetadataItem]) -> Option<&MetadataItem> {
    items.iter().find(|i| i.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("direction")))
}
