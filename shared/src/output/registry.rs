//! [`Bindings`]: every output binding of a set of components, by name, each
//! wrapped in the layers.

use std::collections::BTreeMap;

use super::error::{ErrorKind, InvokeError};
use super::layer::{self, LayerSettings};
use super::{InvokeRequest, InvokeResult, OutputBinding};
use super::{http, localstorage, mailbox};
use crate::component::{
    BindingKind, Component, ComponentKind, Components, ConfigError, ConfigErrors, FieldError, OutputKind, redact,
    skipped_warning, within_init_timeout,
};

struct Entry {
    binding: Box<dyn OutputBinding>,
    /// The component type, as Dapr names it (a binding of your own may
    /// have a type of its own).
    type_: String,
    /// Which of bindery's outputs it is, if it is one.
    kind: Option<OutputKind>,
}

/// The output bindings, by component name.
#[derive(Default)]
pub struct Bindings {
    entries: BTreeMap<String, Entry>,
    /// Why a component of that name has no binding, when it was set aside
    /// at load (a type bindery does not serve, or `spec.ignoreErrors`).
    missing: BTreeMap<String, String>,
    /// The build failures that `spec.ignoreErrors` let pass.
    skipped: Vec<ConfigError>,
}

impl std::fmt::Debug for Bindings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.entries.iter().map(|(name, e)| (name, &e.type_))).finish()
    }
}

impl Bindings {
    /// Builds every component that serves the output direction; the rest
    /// (input-only bindings, secret stores) are left out. Each is built
    /// within its `spec.initTimeout`; one that fails, or takes longer, is
    /// an error, or skipped with a warning when it has `spec.ignoreErrors`.
    pub async fn from_components(components: &Components) -> Result<Self, ConfigErrors> {
        let mut bindings = Self::default();
        for u in components.unserved() {
            bindings
                .missing
                .insert(u.name.clone(), format!("component {} is {}, a type bindery does not serve", u.name, u.type_));
        }
        for e in components.ignored() {
            if let Some(c) = &e.component {
                bindings.missing.insert(
                    c.name.clone(),
                    format!("component {} failed to load and was skipped (spec.ignoreErrors)", c.name),
                );
            }
        }
        let mut errors = Vec::new();
        for component in components.iter().filter(|c| c.directions.output) {
            let context = |e: FieldError| {
                ConfigError::from_field(redact(&component.metadata, e))
                    .in_file(&component.file)
                    .in_component(component.reference())
            };
            let built = within_init_timeout(component.init_timeout, build(component), |limit| {
                vec![FieldError::invalid(
                    "spec.initTimeout",
                    format!("building the binding took longer than {limit:?}"),
                )]
            })
            .await;
            match built {
                Ok(Some(binding)) => bindings.insert(&component.name, component.kind.type_name(), binding),
                Ok(None) => {}
                Err(field_errors) if component.ignore_errors => {
                    bindings.missing.insert(
                        component.name.clone(),
                        format!("component {} failed to start and was skipped (spec.ignoreErrors)", component.name),
                    );
                    bindings.skipped.extend(field_errors.into_iter().map(context));
                }
                Err(field_errors) => errors.extend(field_errors.into_iter().map(context)),
            }
        }
        if errors.is_empty() { Ok(bindings) } else { Err(ConfigErrors(errors)) }
    }

    /// The build failures that `spec.ignoreErrors` let pass.
    pub fn skipped(&self) -> &[ConfigError] {
        &self.skipped
    }

    /// The warnings of [`Bindings::skipped`], one line each.
    pub fn warnings(&self) -> Vec<String> {
        self.skipped.iter().map(skipped_warning).collect()
    }

    /// Logs [`Bindings::warnings`] at warn level.
    pub fn log_warnings(&self) {
        for line in self.warnings() {
            tracing::warn!("{line}");
        }
    }

    /// Adds a binding of your own (or replaces one), without layers.
    pub fn insert(&mut self, name: &str, type_: &str, binding: Box<dyn OutputBinding>) {
        let kind = ComponentKind::from_type_name(type_).and_then(ComponentKind::binding).and_then(BindingKind::output);
        self.entries.insert(name.to_owned(), Entry { binding, type_: type_.to_owned(), kind });
    }

    /// The binding names with their types, in name order.
    pub fn list(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(name, e)| (name.as_str(), e.type_.as_str()))
    }

    /// The component type of the binding called `name`.
    pub fn type_of(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(|e| e.type_.as_str())
    }

    /// Which of bindery's outputs the binding called `name` is: `None` when
    /// there is no such binding, `Some(None)` for a binding of your own.
    pub fn kind_of(&self, name: &str) -> Option<Option<OutputKind>> {
        self.entries.get(name).map(|e| e.kind)
    }

    pub fn get(&self, name: &str) -> Option<&dyn OutputBinding> {
        self.entries.get(name).map(|e| e.binding.as_ref())
    }

    /// `invoke(binding, operation, data, metadata)`: refuses unknown bindings
    /// and operations with daprd's messages, then runs the binding's layers.
    pub async fn invoke(&self, name: &str, request: InvokeRequest) -> InvokeResult {
        let Some(entry) = self.entries.get(name) else {
            // daprd's message, and why, when the name is a component set aside.
            let message = match self.missing.get(name) {
                Some(why) => format!("couldn't find output binding {name}: {why}"),
                None => format!("couldn't find output binding {name}"),
            };
            return Err(InvokeError::new(ErrorKind::UnknownBinding, message));
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
    let Some(kind) = component.kind.binding().and_then(BindingKind::output) else { return Ok(None) };
    let (binding, timeout_field): (Box<dyn OutputBinding>, &str) = match kind {
        OutputKind::Http => (Box::new(http::HttpBinding::from_metadata(metadata)?), "responseTimeout"),
        OutputKind::LocalStorage => (Box::new(localstorage::LocalStorageBinding::from_metadata(metadata)?), "timeout"),
        OutputKind::Mailbox => (Box::new(mailbox::MailboxBinding::from_metadata(metadata)?), "timeout"),
        #[cfg(feature = "aws")]
        OutputKind::S3 => {
            let config = super::aws::sdk_config(metadata).await?;
            (Box::new(super::s3::S3Binding::from_metadata(metadata, &config)?), "timeout")
        }
        #[cfg(feature = "aws")]
        OutputKind::Ses => {
            let config = super::aws::sdk_config(metadata).await?;
            (Box::new(super::ses::SesBinding::from_metadata(metadata, &config)?), "timeout")
        }
        #[cfg(feature = "aws")]
        OutputKind::Sqs => {
            let config = super::aws::sdk_config(metadata).await?;
            (Box::new(super::sqs::SqsBinding::from_metadata(metadata, &config)?), "timeout")
        }
        #[cfg(feature = "aws")]
        OutputKind::Sns => {
            let config = super::aws::sdk_config(metadata).await?;
            (Box::new(super::sns::SnsBinding::from_metadata(metadata, &config)?), "timeout")
        }
        #[cfg(feature = "aws")]
        OutputKind::DynamoDb => {
            let config = super::aws::sdk_config(metadata).await?;
            (Box::new(super::dynamodb::DynamoDbBinding::from_metadata(metadata, &config)?), "timeout")
        }
        #[cfg(feature = "aws")]
        OutputKind::Kinesis => {
            let config = super::aws::sdk_config(metadata).await?;
            (Box::new(super::kinesis::KinesisBinding::from_metadata(metadata, &config)?), "timeout")
        }
        #[cfg(not(feature = "aws"))]
        OutputKind::S3
        | OutputKind::Ses
        | OutputKind::Sqs
        | OutputKind::Sns
        | OutputKind::DynamoDb
        | OutputKind::Kinesis => {
            return Err(vec![FieldError::invalid(
                "spec.type",
                format!(
                    "{} needs bindery's AWS support, which this build leaves out (cargo feature `aws`)",
                    component.kind
                ),
            )]);
        }
    };
    let settings = LayerSettings::from_metadata(metadata, timeout_field)?;
    Ok(Some(layer::stack(binding, &component.name, component.kind.type_name(), &settings)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::LoadOptions;

    /// A `bindings.http` component; an input-only one has no `url`, so
    /// building its output side would fail the whole load.
    fn http(name: &str, direction: Option<&str>) -> String {
        let mut items = String::new();
        if let Some(direction) = direction {
            items.push_str(&format!("  - name: direction\n    value: \"{direction}\"\n"));
        }
        if direction.is_none_or(|d| d.contains("output")) {
            items.push_str("  - name: url\n    value: http://127.0.0.1:9/hooks\n");
        }
        if direction.is_some_and(|d| d.contains("input")) {
            items.push_str("  - name: signatureScheme\n    value: none\n");
        }
        format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  \
             type: bindings.http\n  version: v1\n  metadata:\n{items}"
        )
    }

    #[tokio::test]
    async fn input_only_components_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let documents = [
            http("webhook", Some("input")),
            http("notify", Some("output")),
            http("plain", None),
            http("both", Some("input, output")),
        ];
        std::fs::write(dir.path().join("components.yaml"), documents.join("---\n")).unwrap();
        let options =
            LoadOptions { namespace: None, app_id: None, env: &|_| None, prefetched: None, check: crate::kinds::check };
        let components = crate::component::load(dir.path(), &options).unwrap();
        assert_eq!(components.len(), 4, "the input-only component is loaded, for the input side");

        let bindings = Bindings::from_components(&components).await.unwrap();
        let names: Vec<&str> = bindings.list().map(|(name, _)| name).collect();
        assert_eq!(names, ["both", "notify", "plain"]);
        assert!(bindings.get("webhook").is_none());
        let error = bindings.invoke("webhook", InvokeRequest::new("post", "{}")).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::UnknownBinding);
    }

    /// A binding that fails to build is skipped when its component has
    /// `spec.ignoreErrors` (Dapr's docs' HTTP binding, with a missing
    /// MTLSRootCA file), and calling it says why it is not there; a type
    /// bindery does not serve says so too.
    #[tokio::test]
    async fn ignore_errors_skips_a_binding_that_fails_to_build() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/components/dapr-docs");
        let options =
            LoadOptions { namespace: None, app_id: None, env: &|_| None, prefetched: None, check: crate::kinds::check };
        let paths = [folder.join("ignore-errors"), folder.join("shared-folder/kafka-binding.yaml")];
        let components = crate::component::load_paths(&paths, &options).unwrap();
        let bindings = Bindings::from_components(&components).await.unwrap();
        let names: Vec<&str> = bindings.list().map(|(name, _)| name).collect();
        assert_eq!(names, ["notify"]);
        let warnings = bindings.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:#?}");
        assert!(
            warnings[0].starts_with(&format!(
                "skipped because of spec.ignoreErrors: {}: component \"secured\" (bindings.http/v1): field \"MTLSRootCA\": ",
                folder.join("ignore-errors/components.yaml").display()
            )),
            "{warnings:#?}"
        );
        let error = bindings.invoke("secured", InvokeRequest::new("post", "{}")).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::UnknownBinding);
        assert_eq!(
            error.message,
            "couldn't find output binding secured: component secured failed to start and was skipped (spec.ignoreErrors)"
        );
        let error = bindings.invoke("kafka-binding", InvokeRequest::new("create", "{}")).await.unwrap_err();
        assert_eq!(
            error.message,
            "couldn't find output binding kafka-binding: component kafka-binding is bindings.kafka, a type bindery does not serve"
        );
        let error = bindings.invoke("nightly", InvokeRequest::new("create", "{}")).await.unwrap_err();
        assert_eq!(
            error.message,
            "couldn't find output binding nightly: component nightly failed to load and was skipped (spec.ignoreErrors)"
        );

        // Without ignoreErrors, the same failure fails the build.
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(folder.join("ignore-errors/components.yaml")).unwrap();
        std::fs::write(dir.path().join("c.yaml"), text.replacen("ignoreErrors: true", "", 1)).unwrap();
        let components = crate::component::load(dir.path(), &options).unwrap();
        let errors = Bindings::from_components(&components).await.unwrap_err().to_string();
        assert!(errors.contains("component \"secured\" (bindings.http/v1): field \"MTLSRootCA\""), "{errors}");
    }

    /// The bindings' own checks quote the values they refuse; a value from a
    /// secret store must not be shown, even without its user information.
    /// The loader's check is left out, so that the failures are the build's
    /// (the loader's own redaction is tested with it, in component/).
    #[tokio::test]
    async fn a_value_from_a_secret_is_never_quoted_in_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("files");
        let text = format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: notify\nspec:\n  type: bindings.http\n  \
             version: v1\n  metadata:\n  - name: url\n    secretKeyRef:\n      name: HOOK_URL\n---\n\
             apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: files\nspec:\n  type: bindings.localstorage\n  \
             version: v1\n  metadata:\n  - name: rootPath\n    value: {}\n  - name: maxReadSize\n    secretKeyRef:\n      name: SIZE\n",
            root.display()
        );
        std::fs::write(dir.path().join("components.yaml"), text).unwrap();
        let env = |name: &str| match name {
            "HOOK_URL" => Some("https://bot:SeCrEt-1@hooks.example.com:99999/services/SeCrEt-2".to_owned()),
            "SIZE" => Some("SeCrEt-3".to_owned()),
            _ => None,
        };
        let options =
            LoadOptions { namespace: None, app_id: None, env: &env, prefetched: None, check: |_, _, _| Vec::new() };
        let components = crate::component::load(dir.path(), &options).unwrap();
        let errors = Bindings::from_components(&components).await.unwrap_err().to_string();
        assert!(!errors.to_ascii_lowercase().contains("secret-"), "{errors}");
        assert!(errors.contains("field \"url\"") && errors.contains("field \"maxReadSize\""), "{errors}");
    }
}
