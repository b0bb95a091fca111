//! Loading components: read ([`super::read`]), open the secret stores,
//! resolve and check every component.
//!
//! Follows Dapr's disk loader: every `*.yaml`/`*.yml` file of each folder
//! given (not recursive) or each file; `---`-separated documents; only
//! documents with `apiVersion: dapr.io/v1alpha1` and `kind: Component`
//! count; `NAMESPACE` and `scopes` filter; field names match in any case.
//! Components of types bindery does not serve (`state.redis`,
//! `bindings.kafka`, ...) are set aside, named in one warning, so a folder
//! shared with daprd loads. A component with `spec.ignoreErrors: true` that
//! fails is skipped with a warning, as in daprd. Unlike daprd, the loader
//! does not stop at the first problem: it reports them all.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tracing::{debug, warn};

use super::direction::{parse_direction, route};
use super::error::{ConfigError, ConfigErrorKind, ConfigErrors, FieldError};
use super::kind::{BindingKind, ComponentKind};
use super::metadata::{Metadata, MetadataValue, parse_go_duration};
use super::model::{Component, direction_item};
use super::options::{Check, LoadOptions};
use super::read::{Parsed, Reading, read_all};
use super::redact::redact;
use super::secrets;
use super::stores::{self, SecretLookup, Store};

/// A component of a type bindery does not serve (`state.redis`,
/// `bindings.kafka`, `pubsub.*`, ...): set aside, not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unserved {
    pub name: String,
    pub type_: String,
    pub file: PathBuf,
}

/// The loaded components, and what was set aside: the components of types
/// bindery does not serve, and those skipped by `spec.ignoreErrors`.
#[derive(Debug, Clone, Default)]
pub struct Components {
    items: Vec<Component>,
    unserved: Vec<Unserved>,
    ignored: Vec<ConfigError>,
}

impl Components {
    pub fn get(&self, name: &str) -> Option<&Component> {
        self.items.iter().find(|c| c.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Component> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The components of types bindery does not serve, in file order.
    pub fn unserved(&self) -> &[Unserved] {
        &self.unserved
    }

    /// The problems of the components skipped because of `spec.ignoreErrors`.
    pub fn ignored(&self) -> &[ConfigError] {
        &self.ignored
    }

    /// Why the component `name` is not among the loaded ones, when it was
    /// set aside: its type is not served, or it failed and was skipped.
    pub fn why_missing(&self, name: &str) -> Option<String> {
        if let Some(u) = self.unserved.iter().find(|u| u.name == name) {
            return Some(format!(
                "{}: component {name:?} is {}, a type bindery does not serve (it serves {})",
                u.file.display(),
                u.type_,
                BindingKind::ALL.map(BindingKind::type_name).join(", ")
            ));
        }
        let ignored = self.ignored.iter().filter(|e| e.component.as_ref().is_some_and(|c| c.name == name));
        let reasons: Vec<String> = ignored.map(ToString::to_string).collect();
        (!reasons.is_empty())
            .then(|| format!("it failed to load (and spec.ignoreErrors let the rest go on): {}", reasons.join("; ")))
    }

    /// The warnings of this load, one line each: the unserved components all
    /// in one, then each skipped component.
    pub fn warnings(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.unserved.is_empty() {
            let named: Vec<String> =
                self.unserved.iter().map(|u| format!("{} ({}, {})", u.name, u.type_, u.file.display())).collect();
            lines.push(format!(
                "{} component(s) of types bindery does not serve, skipped: {}",
                named.len(),
                named.join(", ")
            ));
        }
        lines.extend(self.ignored.iter().map(skipped_warning));
        lines
    }

    /// Logs [`Components::warnings`] at warn level.
    pub fn log_warnings(&self) {
        for line in self.warnings() {
            warn!("{line}");
        }
    }

    /// Drops the component `name` after a start-up failure that its
    /// `spec.ignoreErrors` lets pass, keeping the failure for the warnings.
    pub fn skip(&mut self, name: &str, error: ConfigError) {
        self.items.retain(|c| c.name != name);
        self.ignored.push(error);
    }
}

/// The warning for a component that failed and was skipped because of its
/// `spec.ignoreErrors`, at load or when its binding was built.
pub fn skipped_warning(error: &ConfigError) -> String {
    format!("skipped because of spec.ignoreErrors: {error}")
}

/// Loads every component under `path` (a directory or one file).
pub fn load(path: &Path, options: &LoadOptions<'_>) -> Result<Components, ConfigErrors> {
    load_paths(&[path.to_owned()], options)
}

/// Loads every component under `paths` (directories or files) as one set,
/// as daprd does with several `--resources-path` folders.
pub fn load_paths(paths: &[PathBuf], options: &LoadOptions<'_>) -> Result<Components, ConfigErrors> {
    let reading = read_all(paths, options)?;
    build_all(reading, options, Selection::All)
}

/// Loads the components under `paths` that serve an output (and the secret
/// stores): what an app's output bindings need. The input-only ones are
/// read, not built, as [`load_one`] leaves the others.
pub fn load_outputs(paths: &[PathBuf], options: &LoadOptions<'_>) -> Result<Components, ConfigErrors> {
    let reading = read_all(paths, options)?;
    build_all(reading, options, Selection::Outputs)
}

/// Loads the one component `name` under `paths`, with the secret stores it
/// may read: what a function serving one binding needs. The others are
/// read, not built: their secrets are not resolved and their problems are
/// not this one's (an unset secret of another binding does not stop the
/// function). Those of types bindery does not serve are still named, as
/// [`load_paths`] names them.
pub fn load_one(paths: &[PathBuf], name: &str, options: &LoadOptions<'_>) -> Result<Components, ConfigErrors> {
    let reading = read_all(paths, options)?;
    build_all(reading, options, Selection::One(name))
}

/// Loads what can be loaded: the components without a problem, and every
/// problem of the others, so a check can go on to build the good ones and
/// report everything in one run (`bindery validate`). Only a path that
/// cannot be read at all is an error.
pub fn load_partial(
    paths: &[PathBuf],
    options: &LoadOptions<'_>,
) -> Result<(Components, Vec<ConfigError>), ConfigErrors> {
    let reading = read_all(paths, options)?;
    Ok(build_each(reading, options, Selection::All))
}

/// Which components a load builds; the secret stores always.
#[derive(Debug, Clone, Copy)]
enum Selection<'a> {
    All,
    One(&'a str),
    Outputs,
}

impl Selection<'_> {
    fn builds(self, p: &Parsed, kind: Option<ComponentKind>) -> bool {
        match (self, kind) {
            (_, Some(ComponentKind::SecretStore(_))) | (Selection::All, _) => true,
            (Selection::One(name), _) => p.name == name,
            (Selection::Outputs, Some(kind)) => serves_output(p, kind),
            (Selection::Outputs, None) => false,
        }
    }
}

/// Whether `p`, of `kind`, serves an output, as its plain `direction` item
/// (or the kind's default) says; one given by a secret or a reference is
/// built, to be sure.
fn serves_output(p: &Parsed, kind: ComponentKind) -> bool {
    match direction_item(&p.manifest.spec.metadata) {
        None => kind.implied().output,
        Some(item) => match &item.value {
            Some(value) if item.secret_key_ref.is_none() && item.env_ref.is_none() => {
                parse_direction(&value.0).map_or(true, |d| d.output)
            }
            _ => true,
        },
    }
}

/// [`build_each`], failing on any problem.
fn build_all(reading: Reading, options: &LoadOptions<'_>, only: Selection<'_>) -> Result<Components, ConfigErrors> {
    let (components, errors) = build_each(reading, options, only);
    if errors.is_empty() { Ok(components) } else { Err(ConfigErrors(errors)) }
}

/// Opens the secret stores, then resolves and validates every parsed
/// component that `only` selects. Returns the components that passed, and
/// every problem.
fn build_each(reading: Reading, options: &LoadOptions<'_>, only: Selection<'_>) -> (Components, Vec<ConfigError>) {
    let Reading { parsed, mut errors, ignored } = reading;
    let mut components = Components { ignored, ..Components::default() };
    let stores = open_stores(&parsed, options, &mut errors, &mut components.ignored);
    let lookup = SecretLookup { env: options.env, prefetched: options.prefetched };
    for p in &parsed {
        let kind = ComponentKind::from_type_name(&p.reference.type_);
        if !only.builds(p, kind) {
            if kind.is_none() && !p.reference.type_.trim().is_empty() {
                components.unserved.push(Unserved {
                    name: p.name.clone(),
                    type_: p.reference.type_.clone(),
                    file: p.file.clone(),
                });
            }
            continue;
        }
        let context = |e: ConfigError| e.in_file(&p.file).in_component(p.reference.clone());
        match build(p, &parsed, &stores, &lookup, options.check) {
            Ok(Some(component)) => components.items.push(component),
            Ok(None) => components.unserved.push(Unserved {
                name: p.name.clone(),
                type_: p.reference.type_.clone(),
                file: p.file.clone(),
            }),
            Err(field_errors) => {
                let failed = field_errors.into_iter().map(|e| context(ConfigError::from_field(e)));
                if p.manifest.spec.ignore_errors {
                    components.ignored.extend(failed);
                } else {
                    errors.extend(failed);
                }
            }
        }
    }
    (components, errors)
}

/// A `secretKeyRef` that names a remote (AWS) store: what must be fetched
/// before [`load`] can resolve it.
#[derive(Debug, Clone)]
pub struct SecretReference {
    pub store: String,
    pub store_type: String,
    /// The store's own settings (region, endpoint, prefix, ...).
    pub store_metadata: Metadata,
    pub name: String,
    /// The shortest `spec.initTimeout` of the store and of the components
    /// that read this secret: the read must be done within it.
    pub init_timeout: Option<Duration>,
}

/// Every secret of a remote store the components under `paths` refer to, once each.
pub fn secret_references(paths: &[PathBuf], options: &LoadOptions<'_>) -> Result<Vec<SecretReference>, ConfigErrors> {
    let mut references: Vec<SecretReference> = Vec::new();
    for used in secret_key_refs(paths, options)? {
        let Some(store) = used.store.filter(|_| stores::is_remote(&used.store_type)) else { continue };
        let timeout = used.init_timeout;
        match references.iter_mut().find(|r| r.store == store && r.name == used.name) {
            Some(known) => known.init_timeout = shortest(known.init_timeout, timeout),
            None => references.push(SecretReference {
                store,
                store_type: used.store_type,
                store_metadata: used.store_metadata,
                name: used.name,
                init_timeout: timeout,
            }),
        }
    }
    Ok(references)
}

fn shortest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    a.into_iter().chain(b).min()
}

/// One `secretKeyRef` as written: which field of which component reads
/// which secret, from which store.
#[derive(Debug, Clone)]
pub struct SecretKeyRef {
    pub component: String,
    /// The metadata item's name.
    pub field: String,
    /// `auth.secretStore`; `None` for the default store, the environment.
    pub store: Option<String>,
    /// The store's type: `secretstores.local.env` for the default, empty
    /// when no component has the store's name ([`load`] reports that).
    pub store_type: String,
    /// The store's own settings (region, prefix, ...).
    pub store_metadata: Metadata,
    pub name: String,
    pub key: Option<String>,
    /// The shortest valid `spec.initTimeout` of the component and its store.
    pub init_timeout: Option<Duration>,
}

/// Every `secretKeyRef` of the components under `paths` that bindery
/// serves, unresolved: for tools that must say where a secret comes from
/// without reading it.
pub fn secret_key_refs(paths: &[PathBuf], options: &LoadOptions<'_>) -> Result<Vec<SecretKeyRef>, ConfigErrors> {
    let parsed = read_all(paths, options)?.parsed;
    let mut refs = Vec::new();
    for p in parsed.iter().filter(|p| served(p)) {
        let store = p.manifest.auth.secret_store.clone().filter(|s| !s.is_empty());
        let store_component = store.as_ref().and_then(|name| parsed.iter().find(|q| &q.name == name));
        let store_type = match (&store, store_component) {
            (None, _) => stores::ENV_STORE_TYPE.to_owned(),
            (Some(_), Some(q)) => q.reference.type_.clone(),
            (Some(_), None) => String::new(),
        };
        let store_metadata = store_component.map(|q| store_metadata(q, options, &mut Vec::new())).unwrap_or_default();
        let init_timeout =
            shortest(init_timeout(p).ok().flatten(), store_component.and_then(|q| init_timeout(q).ok().flatten()));
        for item in &p.manifest.spec.metadata {
            let (Some(field), Some(reference)) = (&item.name, &item.secret_key_ref) else { continue };
            let Some(name) = reference.name.clone() else { continue };
            refs.push(SecretKeyRef {
                component: p.name.clone(),
                field: field.clone(),
                store: store.clone(),
                store_type: store_type.clone(),
                store_metadata: store_metadata.clone(),
                name,
                key: reference.key.clone().filter(|k| !k.is_empty()),
                init_timeout,
            });
        }
    }
    Ok(refs)
}

/// Whether bindery serves the component's type (an absent type is served:
/// the loader reports it missing).
fn served(p: &Parsed) -> bool {
    p.manifest.spec.type_.as_deref().is_none_or(|t| ComponentKind::from_type_name(t).is_some())
}

/// `spec.initTimeout`: Go's duration format (`5s`, `1m`, `1h30m`), positive.
fn init_timeout(p: &Parsed) -> Result<Option<Duration>, FieldError> {
    let Some(text) = p.manifest.spec.init_timeout.as_ref().map(|s| s.0.trim()).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    match parse_go_duration(text) {
        Some(d) if !d.is_zero() => Ok(Some(d)),
        _ => Err(FieldError::invalid(
            "spec.initTimeout",
            format!("expected a positive duration such as \"5s\", \"1m\" or \"1h30m\", got {text:?}"),
        )),
    }
}

/// Opens every secret store component; a broken one is reported on itself
/// (among the `ignored` when it has `spec.ignoreErrors`).
fn open_stores(
    parsed: &[Parsed],
    options: &LoadOptions<'_>,
    errors: &mut Vec<ConfigError>,
    ignored: &mut Vec<ConfigError>,
) -> Vec<(String, Store)> {
    let mut opened = Vec::new();
    for p in parsed {
        let Some(ComponentKind::SecretStore(kind)) = ComponentKind::from_type_name(&p.reference.type_) else {
            continue;
        };
        let mut field_errors = Vec::new();
        let metadata = store_metadata(p, options, &mut field_errors);
        let store = if field_errors.is_empty() {
            match Store::open(kind, &metadata) {
                Ok(store) => store,
                Err(e) => {
                    field_errors.push(e);
                    Store::Broken
                }
            }
        } else {
            Store::Broken
        };
        // Missing required fields are reported by `build`, with the type's checks.
        let failed = field_errors
            .into_iter()
            .filter(|e| e.kind != ConfigErrorKind::MissingField)
            .map(|e| ConfigError::from_field(e).in_file(&p.file).in_component(p.reference.clone()));
        if p.manifest.spec.ignore_errors {
            ignored.extend(failed)
        } else {
            errors.extend(failed)
        }
        opened.push((p.name.clone(), store));
    }
    opened
}

/// A secret store's own settings: `value` and `envRef` only, since a store
/// cannot read its settings from a secret store.
fn store_metadata(p: &Parsed, options: &LoadOptions<'_>, errors: &mut Vec<FieldError>) -> Metadata {
    let mut values = Vec::new();
    for item in &p.manifest.spec.metadata {
        let Some(name) = item.name.clone().filter(|n| !n.trim().is_empty()) else { continue };
        if item.secret_key_ref.as_ref().is_some_and(|r| r.name.is_some()) {
            errors.push(FieldError::invalid(&name, "a secret store cannot take its settings from a secretKeyRef"));
        } else if let Some(value) = &item.value {
            values.push(MetadataValue { name, value: value.0.clone(), secret: false });
        } else if let Some(var) = &item.env_ref {
            match secrets::resolve_env_ref(&name, var, options.env) {
                Ok(value) => values.push(MetadataValue { name, value, secret: false }),
                Err(e) => errors.push(e),
            }
        }
    }
    Metadata::new(values)
}

/// Loads the components of one file's text, as [`load`] does a file: for
/// the fuzzer, which must not touch the disk.
#[cfg(feature = "fuzzing")]
pub fn load_text(file: &Path, text: &str, options: &LoadOptions<'_>) -> Result<Components, ConfigErrors> {
    let mut reading = Reading::default();
    super::read::read_text(file, text, options, &mut reading);
    super::read::check_duplicates(&mut reading);
    build_all(reading, options, Selection::All)
}

/// Resolves and validates one component; every field problem is returned.
/// `None` for a type bindery does not serve.
fn build(
    p: &Parsed,
    parsed: &[Parsed],
    stores: &[(String, Store)],
    lookup: &SecretLookup<'_>,
    check: Check,
) -> Result<Option<Component>, Vec<FieldError>> {
    let spec = &p.manifest.spec;
    let type_ =
        spec.type_.clone().filter(|t| !t.trim().is_empty()).ok_or_else(|| {
            vec![FieldError::missing("spec.type", "every component needs a type, e.g. bindings.cron")]
        })?;
    let Some(kind) = ComponentKind::from_type_name(&type_) else {
        debug!(component = %p.name, %type_, "a type bindery does not serve; set aside");
        return Ok(None);
    };
    if !matches!(p.reference.version.as_str(), "v1") {
        return Err(vec![FieldError::invalid(
            "spec.version",
            format!("{type_} has version v1 only, got {:?}", p.reference.version),
        )]);
    }

    let mut errors = Vec::new();
    let init_timeout = init_timeout(p).map_err(|e| errors.push(e)).unwrap_or_default();
    let metadata = resolve_metadata(p, parsed, stores, lookup, &mut errors);
    let directions = match direction_item(&spec.metadata) {
        None => kind.implied(),
        Some(_) => match metadata.get("direction").map(parse_direction).unwrap_or(Ok(kind.implied())) {
            Ok(d) => d,
            Err(e) => {
                errors.push(e);
                kind.implied()
            }
        },
    };
    if (directions.input && !kind.supports().input) || (directions.output && !kind.supports().output) {
        let side = if directions.input && !kind.supports().input { "input" } else { "output" };
        errors.push(FieldError::invalid("direction", format!("{type_} has no {side} side")));
    }
    if errors.is_empty() {
        errors.extend(check(kind, &metadata, directions));
    }
    let route = route(&p.name, &metadata).map_err(|e| errors.push(e)).unwrap_or_default();
    if !errors.is_empty() {
        return Err(errors.into_iter().map(|e| redact(&metadata, e)).collect());
    }
    Ok(Some(Component {
        name: p.name.clone(),
        namespace: p.manifest.metadata.namespace.clone(),
        kind,
        version: p.reference.version.clone(),
        metadata,
        scopes: p.manifest.scopes.clone(),
        file: p.file.clone(),
        directions,
        route,
        ignore_errors: spec.ignore_errors,
        init_timeout,
    }))
}

fn resolve_metadata(
    p: &Parsed,
    parsed: &[Parsed],
    stores: &[(String, Store)],
    lookup: &SecretLookup<'_>,
    errors: &mut Vec<FieldError>,
) -> Metadata {
    let mut values = Vec::new();
    // Each name's first index, lower-cased: names match in any case.
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (index, item) in p.manifest.spec.metadata.iter().enumerate() {
        let Some(name) = item.name.clone().filter(|n| !n.trim().is_empty()) else {
            errors
                .push(FieldError::missing(&format!("spec.metadata[{index}].name"), "every metadata item needs a name"));
            continue;
        };
        // Dapr keeps the last of two items of one name, and bindery would
        // read the first: refused, so a repeated `signatureScheme` can never
        // mean something other than what its author read.
        let key = name.to_ascii_lowercase();
        if let Some((_, first)) = seen.iter().find(|(seen, _)| *seen == key) {
            errors.push(FieldError {
                kind: ConfigErrorKind::Conflict,
                field: format!("spec.metadata[{index}].name"),
                message: format!(
                    "{name:?} is already set by spec.metadata[{first}] (names match in any case); set it once"
                ),
            });
            continue;
        }
        seen.push((key, index));
        let resolved = if let Some(reference) = item.secret_key_ref.as_ref().filter(|r| r.name.is_some()) {
            let secret_name = reference.name.as_deref().unwrap_or_default();
            secret_store(p, parsed, stores, &name)
                .and_then(|(store_name, store)| {
                    stores::resolve(store_name, store, &name, secret_name, reference.key.as_deref(), lookup)
                })
                .map(|value| (value, true))
        } else if let Some(value) = &item.value {
            Ok((value.0.clone(), false))
        } else if let Some(var) = &item.env_ref {
            secrets::resolve_env_ref(&name, var, lookup.env).map(|v| (v, false))
        } else {
            Ok((String::new(), false))
        };
        match resolved {
            Ok((value, secret)) => values.push(MetadataValue { name, value, secret }),
            Err(e) => errors.push(e),
        }
    }
    Metadata::new(values)
}

/// The store named by `auth.secretStore`: the environment when unset, as in
/// Dapr's self-hosted mode.
fn secret_store<'s>(
    p: &Parsed,
    parsed: &[Parsed],
    stores: &'s [(String, Store)],
    field: &str,
) -> Result<(&'s str, &'s Store), FieldError> {
    let Some(store) = p.manifest.auth.secret_store.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(("environment", &stores::DEFAULT_STORE));
    };
    if let Some(found) = stores.iter().find(|(name, _)| name == store) {
        return Ok((found.0.as_str(), &found.1));
    }
    let message = match parsed.iter().find(|q| q.name == store) {
        Some(q) => format!(
            "auth.secretStore names {store:?}, a {} component, which bindery cannot read secrets from \
             (it reads {}, {}, {} and {})",
            q.reference.type_,
            stores::ENV_STORE_TYPE,
            stores::FILE_STORE_TYPE,
            stores::SECRETS_MANAGER_TYPE,
            stores::PARAMETER_STORE_TYPE
        ),
        None => format!("auth.secretStore names {store:?}, but no secret store component has that name"),
    };
    Err(FieldError { kind: ConfigErrorKind::SecretUnresolved, field: field.to_owned(), message })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod dapr_docs_tests;
