//! The template's shape, in the order a reader expects it, and the
//! CloudFormation intrinsic functions in their long form (`Ref`,
//! `Fn::GetAtt`, `Fn::Sub`), which plain YAML and JSON both carry.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Value, json};

/// A SAM template.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    pub format_version: &'static str,
    pub transform: &'static str,
    pub description: String,
    #[serde(skip_serializing_if = "Entries::is_empty")]
    pub parameters: Entries<Value>,
    pub globals: Value,
    pub resources: Entries<Resource>,
    #[serde(skip_serializing_if = "Entries::is_empty")]
    pub outputs: Entries<Value>,
}

impl Template {
    /// The template as YAML.
    pub fn to_yaml(&self) -> String {
        // Only maps, strings and numbers: serialization cannot fail.
        serde_saphyr::to_string(self).unwrap_or_default()
    }
}

/// One resource: its type first, as templates are read.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    #[serde(rename = "Type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Resources CloudFormation must create first (e.g. a role whose
    /// permissions another resource's creation checks).
    #[serde(rename = "DependsOn", skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    pub properties: Value,
}

impl Resource {
    pub fn new(type_: &'static str, properties: Value) -> Self {
        Self { type_, metadata: None, depends_on: Vec::new(), properties }
    }
}

/// Named entries kept in insertion order (serde_json's map sorts its keys).
#[derive(Debug, Clone)]
pub struct Entries<T>(Vec<(String, T)>);

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> Entries<T> {
    pub fn insert(&mut self, name: impl Into<String>, value: T) {
        self.0.push((name.into(), value));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = &(String, T)> {
        self.0.iter()
    }
}

impl<T: Serialize> Serialize for Entries<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

pub(crate) fn ref_(name: &str) -> Value {
    json!({ "Ref": name })
}

pub(crate) fn arn_of(resource: &str) -> Value {
    get_att(resource, "Arn")
}

pub(crate) fn get_att(resource: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [resource, attribute] })
}

pub(crate) fn sub(text: impl Into<String>) -> Value {
    json!({ "Fn::Sub": text.into() })
}
