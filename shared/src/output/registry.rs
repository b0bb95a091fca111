//! [`Bindings`]: every output binding of a set of components, by name, each
//! wrapped in the layers.

use std::collections::BTreeMap;
use std::path::Path;

use super::binding::{InvokeRequest, InvokeResult, OutputBinding};
use super::error::{ErrorKind, InvokeError};
use super::layer::{self, LayerSettings};
use super::{http, localstorage, mailbox};
use crate::component::kinds;
use crate::component::{Component, Components, ConfigError, ConfigErrors, FieldError, LoadOptions};

struct Entry {
    binding: Box<dyn OutputBinding>,
    type_: String,
}

/// The output bindings, by component name.
#[derive(Default)]
pub struct Bindings {
    entries: BTreeMap<String, Entry>,
}

impl std::fmt::Debug for Bindings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.entries.iter().map(|(name, e)| (name, &e.type_))).finish()
    }
}

impl Bindings {
    /// Loads the components under `path` (a directory or a file) with the
    /// process environment (`NAMESPACE`, `BINDERY_APP_ID`, secrets) and builds
    /// every output binding. Every problem is reported, naming the file, the
    /// component and the field.
    pub async fn load(path: &Path) -> Result<Self, ConfigErrors> {
        let components = super::secrets::load_components(path, &LoadOptions::from_process_env()).await?;
        Self::from_components(&components).await
    }

    /// Builds every component that serves the output direction; the rest
    /// (input-only bindings, secret stores) are left out.
    pub async fn from_components(components: &Components) -> Result<Self, ConfigErrors> {
        let mut bindings = Self::default();
        let mut errors = Vec::new();
        for component in components.iter().filter(|c| c.directions.output) {
            match build(component).await {
                Ok(Some(binding)) => bindings.insert(&component.name, &component.type_, binding),
                Ok(None) => {}
                Err(field_errors) => {
                    errors.extend(field_errors.into_iter().map(|e| {
                        ConfigError::from_field(e).in_file(&component.file).in_component(component.reference())
                    }))
                }
            }
        }
        if errors.is_empty() { Ok(bindings) } else { Err(ConfigErrors(errors)) }
    }

    /// Adds a binding of your own (or replaces one), without layers.
    pub fn insert(&mut self, name: &str, type_: &str, binding: Box<dyn OutputBinding>) {
        self.entries.insert(name.to_owned(), Entry { binding, type_: type_.to_owned() });
    }

    /// The binding names with their types, in name order.
    pub fn list(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(name, e)| (name.as_str(), e.type_.as_str()))
    }

    /// The component type of the binding called `name`.
    pub fn type_of(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(|e| e.type_.as_str())
    }

    pub fn get(&self, name: &str) -> Option<&dyn OutputBinding> {
        self.entries.get(name).map(|e| e.binding.as_ref())
    }

    /// `invoke(binding, operation, data, metadata)`: refuses unknown bindings
    /// and operations with daprd's messages, then runs the binding's layers.
    pub async fn invoke(&self, name: &str, request: InvokeRequest) -> InvokeResult {
        let Some(entry) = self.entries.get(name) else {
            return Err(InvokeError::new(ErrorKind::UnknownBinding, format!("couldn't find output binding {name}")));
        };
        let operations = entry.binding.operations();
        if !operations.contains(&request.operation.as_str()) {
            return Err(InvokeError::unsupported(name, &request.operation, operations));
        }
        entry.binding.invoke(request).await
    }
}

/// One component's binding in its layers; `None` for types with no output side.
async fn build(component: &Component) -> Result<Option<Box<dyn OutputBinding>>, Vec<FieldError>> {
    let metadata = &component.metadata;
    let (binding, timeout_field): (Box<dyn OutputBinding>, &str) = match component.type_.as_str() {
        kinds::HTTP_TYPE => (Box::new(http::HttpBinding::from_metadata(metadata)?), "responseTimeout"),
        kinds::LOCALSTORAGE_TYPE => (Box::new(localstorage::LocalStorage::from_metadata(metadata)?), "timeout"),
        kinds::MAILBOX_TYPE => (Box::new(mailbox::Mailbox::from_metadata(metadata)?), "timeout"),
        #[cfg(feature = "aws")]
        kinds::S3_TYPE => {
            let config = super::aws::sdk_config(metadata).await?;
            (Box::new(super::s3::S3Binding::from_metadata(metadata, &config)?), "timeout")
        }
        #[cfg(feature = "aws")]
        kinds::SES_TYPE => {
            let config = super::aws::sdk_config(metadata).await?;
            (Box::new(super::ses::SesBinding::from_metadata(metadata, &config)?), "timeout")
        }
        #[cfg(feature = "aws")]
        kinds::SQS_TYPE => {
            let config = super::aws::sdk_config(metadata).await?;
            (Box::new(super::sqs::SqsBinding::from_metadata(metadata, &config)?), "timeout")
        }
        #[cfg(not(feature = "aws"))]
        kinds::S3_TYPE | kinds::SES_TYPE | kinds::SQS_TYPE => {
            return Err(vec![FieldError::invalid(
                "spec.type",
                format!(
                    "{} needs bindery's AWS support, which this build leaves out (cargo feature `aws`)",
                    component.type_
                ),
            )]);
        }
        _ => return Ok(None),
    };
    let settings = LayerSettings::from_metadata(metadata, timeout_field)?;
    Ok(Some(layer::stack(binding, &component.name, &component.type_, &settings)))
}
