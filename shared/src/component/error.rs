//! Configuration errors: every one names the file, the component and the field.

use std::fmt;
use std::path::PathBuf;

/// What went wrong with a component, broadly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The file or directory could not be read.
    Io,
    /// The YAML does not parse, or a document does not have the Component shape.
    Syntax,
    /// `spec.type` (or its version) is not one bindery implements.
    UnknownType,
    /// A required field is absent or empty.
    MissingField,
    /// A field is present but its value is not acceptable.
    InvalidValue,
    /// A `secretKeyRef` or `envRef` could not be resolved.
    SecretUnresolved,
    /// Two components share a name, or the requested binding does not exist.
    Conflict,
}

/// A problem with one field, before it is placed in its file and component.
///
/// Pure validators (schedules, webhook settings) return this; the loader adds
/// the file and component to make a [`ConfigError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub kind: ConfigErrorKind,
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// A component's field errors as one line: `field: message; …`.
    pub fn summary(errors: &[FieldError]) -> String {
        errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
    }

    pub fn missing(field: &str, message: impl Into<String>) -> Self {
        Self { kind: ConfigErrorKind::MissingField, field: field.to_owned(), message: message.into() }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self { kind: ConfigErrorKind::InvalidValue, field: field.to_owned(), message: message.into() }
    }
}

/// The component an error belongs to: its name, type and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRef {
    pub name: String,
    pub type_: String,
    pub version: String,
}

/// One configuration error, with as much location as is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub kind: ConfigErrorKind,
    pub file: Option<PathBuf>,
    pub component: Option<Box<ComponentRef>>,
    pub field: Option<String>,
    pub message: String,
}

impl ConfigError {
    pub fn new(kind: ConfigErrorKind, message: impl Into<String>) -> Self {
        Self { kind, file: None, component: None, field: None, message: message.into() }
    }

    pub fn in_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn in_component(mut self, component: ComponentRef) -> Self {
        self.component = Some(Box::new(component));
        self
    }

    pub fn at_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn from_field(error: FieldError) -> Self {
        Self::new(error.kind, error.message).at_field(error.field)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}: ", file.display())?;
        }
        if let Some(c) = &self.component {
            write!(f, "component {:?} ({}/{}): ", c.name, c.type_, c.version)?;
        }
        if let Some(field) = &self.field {
            write!(f, "field {field:?}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Every error found while loading, so a user fixes them all in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn iter(&self) -> impl Iterator<Item = &ConfigError> {
        self.0.iter()
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(f, "{n} configuration error{}:", if n == 1 { "" } else { "s" })?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_file_component_and_field() {
        let e = ConfigError::new(ConfigErrorKind::InvalidValue, "expected \"true\" or \"false\", got \"maybe\"")
            .in_file("components/orders.yaml")
            .in_component(ComponentRef { name: "orders".into(), type_: "bindings.aws.s3".into(), version: "v1".into() })
            .at_field("forcePathStyle");
        assert_eq!(
            e.to_string(),
            "components/orders.yaml: component \"orders\" (bindings.aws.s3/v1): field \"forcePathStyle\": \
             expected \"true\" or \"false\", got \"maybe\""
        );
    }
}
