//! Reading components from disk.
//!
//! Follows Dapr's disk loader: every `*.yaml`/`*.yml` file of a directory (not
//! recursive) or one file; `---`-separated documents; only documents with
//! `apiVersion: dapr.io/v1alpha1` and `kind: Component` count; `NAMESPACE`
//! and `scopes` filter. Unlike Dapr it does not stop at the first problem:
//! it reports them all.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tracing::debug;

use super::direction::{direction_item, parse_direction, route};
use super::error::{ComponentRef, ConfigError, ConfigErrorKind, ConfigErrors, FieldError};
use super::kinds::{self, Lookup};
use super::metadata::{Metadata, MetadataValue};
use super::model::{Component, Manifest};
use super::redact::redact;
use super::secrets::{self, EnvLookup};
use super::stores::{self, PrefetchedSecrets, SecretLookup, Store};

const API_VERSION: &str = "dapr.io/v1alpha1";
const KIND: &str = "Component";

/// What filters and resolves components besides the files themselves.
pub struct LoadOptions<'a> {
    /// Dapr's `NAMESPACE`: components of another namespace are skipped.
    pub namespace: Option<String>,
    /// The app id `scopes` are checked against; `None` loads scoped components too.
    pub app_id: Option<String>,
    /// Environment for `envRef` and the environment secret store.
    pub env: EnvLookup<'a>,
    /// Secrets of remote (AWS) stores, fetched beforehand; see [`secret_references`].
    pub prefetched: Option<&'a PrefetchedSecrets>,
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl LoadOptions<'static> {
    /// `NAMESPACE`, `BINDERY_APP_ID` and the process environment.
    pub fn from_process_env() -> Self {
        Self {
            namespace: process_env("NAMESPACE").filter(|s| !s.is_empty()),
            app_id: process_env("BINDERY_APP_ID").filter(|s| !s.is_empty()),
            env: &process_env,
            prefetched: None,
        }
    }
}

/// The loaded components.
#[derive(Debug, Clone, Default)]
pub struct Components {
    items: Vec<Component>,
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
}

/// A document that is a Component, before its metadata is resolved.
struct Parsed {
    file: PathBuf,
    manifest: Manifest,
    name: String,
    reference: ComponentRef,
}

/// Loads every component under `path` (a directory or one file).
pub fn load(path: &Path, options: &LoadOptions<'_>) -> Result<Components, ConfigErrors> {
    let (parsed, errors) = parse_all(path, options)?;
    build_all(&parsed, errors, options)
}

/// Loads what can be loaded: the components without a problem, and every
/// problem of the others, so a check can go on to build the good ones and
/// report everything in one run (`bindery validate`). Only a path that
/// cannot be read at all is an error.
pub fn load_partial(path: &Path, options: &LoadOptions<'_>) -> Result<(Components, Vec<ConfigError>), ConfigErrors> {
    let (parsed, errors) = parse_all(path, options)?;
    Ok(build_each(&parsed, errors, options))
}

/// [`build_each`], failing on any problem.
fn build_all(
    parsed: &[Parsed],
    errors: Vec<ConfigError>,
    options: &LoadOptions<'_>,
) -> Result<Components, ConfigErrors> {
    let (components, errors) = build_each(parsed, errors, options);
    if errors.is_empty() { Ok(components) } else { Err(ConfigErrors(errors)) }
}

/// Opens the secret stores, then resolves and validates every parsed
/// component; `errors` are those found while parsing. Returns the
/// components that passed, and every problem.
fn build_each(
    parsed: &[Parsed],
    mut errors: Vec<ConfigError>,
    options: &LoadOptions<'_>,
) -> (Components, Vec<ConfigError>) {
    let stores = open_stores(parsed, options, &mut errors);
    let lookup = SecretLookup { env: options.env, prefetched: options.prefetched };
    let mut items = Vec::new();
    for p in parsed {
        let context = |e: ConfigError| e.in_file(&p.file).in_component(p.reference.clone());
        match build(p, &stores, &lookup) {
            Ok(component) => items.push(component),
            Err(field_errors) => {
                errors.extend(field_errors.into_iter().map(|e| context(ConfigError::from_field(e))));
            }
        }
    }
    (Components { items }, errors)
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
}

/// Every secret of a remote store the components under `path` refer to, once each.
pub fn secret_references(path: &Path, options: &LoadOptions<'_>) -> Result<Vec<SecretReference>, ConfigErrors> {
    let mut references: Vec<SecretReference> = Vec::new();
    for used in secret_key_refs(path, options)? {
        let Some(store) = used.store.filter(|_| stores::is_remote(&used.store_type)) else { continue };
        if !references.iter().any(|r| r.store == store && r.name == used.name) {
            references.push(SecretReference {
                store,
                store_type: used.store_type,
                store_metadata: used.store_metadata,
                name: used.name,
            });
        }
    }
    Ok(references)
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
}

/// Every `secretKeyRef` of the components under `path`, unresolved: for
/// tools that must say where a secret comes from without reading it.
pub fn secret_key_refs(path: &Path, options: &LoadOptions<'_>) -> Result<Vec<SecretKeyRef>, ConfigErrors> {
    let (parsed, _) = parse_all(path, options)?;
    let mut refs = Vec::new();
    for p in &parsed {
        let store = p.manifest.auth.secret_store.clone().filter(|s| !s.is_empty());
        let store_component = store.as_ref().and_then(|name| parsed.iter().find(|q| &q.name == name));
        let store_type = match (&store, store_component) {
            (None, _) => stores::ENV_STORE_TYPE.to_owned(),
            (Some(_), Some(q)) => q.reference.type_.clone(),
            (Some(_), None) => String::new(),
        };
        let store_metadata = store_component.map(|q| store_metadata(q, options, &mut Vec::new())).unwrap_or_default();
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
            });
        }
    }
    Ok(refs)
}

/// Reads every file and keeps the Components that pass the namespace and
/// scope filters; a path that cannot be read at all is the only hard error.
fn parse_all(path: &Path, options: &LoadOptions<'_>) -> Result<(Vec<Parsed>, Vec<ConfigError>), ConfigErrors> {
    let mut errors = Vec::new();
    let mut parsed: Vec<Parsed> = Vec::new();
    for file in component_files(path).map_err(ConfigErrors::from)? {
        read_file(&file, options, &mut parsed, &mut errors);
    }
    check_duplicates(&parsed, &mut errors);
    Ok((parsed, errors))
}

/// Opens every secret store component; a broken one is reported on itself.
fn open_stores(parsed: &[Parsed], options: &LoadOptions<'_>, errors: &mut Vec<ConfigError>) -> Vec<(String, Store)> {
    let mut opened = Vec::new();
    for p in parsed.iter().filter(|p| p.reference.type_.starts_with("secretstores.")) {
        let mut field_errors = Vec::new();
        let metadata = store_metadata(p, options, &mut field_errors);
        let store = if field_errors.is_empty() {
            match Store::open(&p.reference.type_, &metadata) {
                Ok(store) => store,
                Err(e) if e.field == "spec.type" => continue, // an unknown type: reported by `build`
                Err(e) => {
                    field_errors.push(e);
                    Store::Broken
                }
            }
        } else {
            Store::Broken
        };
        // Missing required fields are reported by `build`, with the type's checks.
        errors.extend(
            field_errors
                .into_iter()
                .filter(|e| e.kind != ConfigErrorKind::MissingField)
                .map(|e| ConfigError::from_field(e).in_file(&p.file).in_component(p.reference.clone())),
        );
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

fn component_files(path: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let io_error = |e: std::io::Error| ConfigError::new(ConfigErrorKind::Io, format!("cannot read: {e}")).in_file(path);
    let meta = std::fs::metadata(path).map_err(io_error)?;
    if meta.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io_error)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    Ok(files)
}

fn read_file(file: &Path, options: &LoadOptions<'_>, parsed: &mut Vec<Parsed>, errors: &mut Vec<ConfigError>) {
    match std::fs::read_to_string(file) {
        Ok(text) => read_text(file, &text, options, parsed, errors),
        Err(e) => errors.push(ConfigError::new(ConfigErrorKind::Io, format!("cannot read: {e}")).in_file(file)),
    }
}

/// Loads the components of one file's text, as [`load`] does a file: for
/// the fuzzer, which must not touch the disk.
#[cfg(feature = "fuzzing")]
pub fn load_text(file: &Path, text: &str, options: &LoadOptions<'_>) -> Result<Components, ConfigErrors> {
    let (mut parsed, mut errors) = (Vec::new(), Vec::new());
    read_text(file, text, options, &mut parsed, &mut errors);
    check_duplicates(&parsed, &mut errors);
    build_all(&parsed, errors, options)
}

fn read_text(
    file: &Path,
    text: &str,
    options: &LoadOptions<'_>,
    parsed: &mut Vec<Parsed>,
    errors: &mut Vec<ConfigError>,
) {
    let documents: Vec<Value> = match serde_saphyr::from_multiple(text) {
        Ok(docs) => docs,
        Err(e) => return errors.push(ConfigError::new(ConfigErrorKind::Syntax, yaml_error(&e)).in_file(file)),
    };
    for (index, doc) in documents.into_iter().enumerate() {
        if doc.get("apiVersion").and_then(Value::as_str) != Some(API_VERSION)
            || doc.get("kind").and_then(Value::as_str) != Some(KIND)
        {
            debug!(file = %file.display(), document = index + 1, "not a dapr.io/v1alpha1 Component; skipped");
            continue;
        }
        match parse_document(doc) {
            Ok((manifest, name, reference)) => {
                if keep(&manifest, options) {
                    parsed.push(Parsed { file: file.to_owned(), manifest, name, reference });
                }
            }
            Err(e) => errors.push(e.in_file(file)),
        }
    }
}

/// The first line of the YAML error, with its position: enough to find it,
/// without the multi-line snippet.
fn yaml_error(error: &serde_saphyr::Error) -> String {
    let text = error.to_string();
    let first = text.lines().next().unwrap_or("invalid YAML").trim();
    match error.location() {
        Some(loc) if !first.contains("line") => format!("line {} column {}: {first}", loc.line(), loc.column()),
        _ => first.to_owned(),
    }
}

fn parse_document(doc: Value) -> Result<(Manifest, String, ComponentRef), ConfigError> {
    let name = doc.pointer("/metadata/name").and_then(Value::as_str).map(str::to_owned);
    let manifest: Manifest = serde_path_to_error::deserialize(doc).map_err(|e| {
        let error = ConfigError::new(ConfigErrorKind::Syntax, e.inner().to_string()).at_field(e.path().to_string());
        match &name {
            Some(n) => error.in_component(ComponentRef { name: n.clone(), type_: "?".into(), version: "?".into() }),
            None => error,
        }
    })?;
    let name = manifest.metadata.name.clone().filter(|n| !n.trim().is_empty()).ok_or_else(|| {
        ConfigError::new(ConfigErrorKind::MissingField, "every component needs a name").at_field("metadata.name")
    })?;
    let reference = ComponentRef {
        name: name.clone(),
        type_: manifest.spec.type_.clone().unwrap_or_default(),
        version: manifest.spec.version.clone().filter(|v| !v.is_empty()).unwrap_or_else(|| "v1".into()),
    };
    Ok((manifest, name, reference))
}

/// Dapr's namespace and scope filters (reference §4.2).
fn keep(manifest: &Manifest, options: &LoadOptions<'_>) -> bool {
    if let (Some(want), Some(have)) = (&options.namespace, &manifest.metadata.namespace)
        && want != have
    {
        return false;
    }
    match &options.app_id {
        Some(app) if !manifest.scopes.is_empty() => manifest.scopes.iter().any(|s| s == app),
        _ => true,
    }
}

fn check_duplicates(parsed: &[Parsed], errors: &mut Vec<ConfigError>) {
    for (i, p) in parsed.iter().enumerate() {
        if let Some(first) = parsed[..i].iter().find(|q| q.name == p.name) {
            errors.push(
                ConfigError::new(
                    ConfigErrorKind::Conflict,
                    format!("the name is already used by a component in {}", first.file.display()),
                )
                .in_file(&p.file)
                .in_component(p.reference.clone())
                .at_field("metadata.name"),
            );
        }
    }
}

/// Resolves and validates one component; every field problem is returned.
fn build(p: &Parsed, stores: &[(String, Store)], lookup: &SecretLookup<'_>) -> Result<Component, Vec<FieldError>> {
    let spec = &p.manifest.spec;
    let type_ =
        spec.type_.clone().filter(|t| !t.trim().is_empty()).ok_or_else(|| {
            vec![FieldError::missing("spec.type", "every component needs a type, e.g. bindings.cron")]
        })?;
    let info = match kinds::lookup(&type_) {
        Lookup::Known(info) => info,
        Lookup::NotOurs => {
            debug!(component = %p.name, %type_, "not a binding or secret store; skipped");
            return Ok(skeleton(p, type_, Metadata::default()));
        }
        Lookup::Unknown => {
            let known: Vec<_> = kinds::known_types().collect();
            return Err(vec![FieldError {
                kind: ConfigErrorKind::UnknownType,
                field: "spec.type".into(),
                message: format!("{type_:?} is not supported; supported types: {}", known.join(", ")),
            }]);
        }
    };
    if !matches!(p.reference.version.as_str(), "v1") {
        return Err(vec![FieldError::invalid(
            "spec.version",
            format!("{type_} has version v1 only, got {:?}", p.reference.version),
        )]);
    }

    let mut errors = Vec::new();
    let metadata = resolve_metadata(p, stores, lookup, &mut errors);
    let directions = match direction_item(&spec.metadata) {
        None => info.implied,
        Some(_) => match metadata.get("direction").map(parse_direction).unwrap_or(Ok(info.implied)) {
            Ok(d) => d,
            Err(e) => {
                errors.push(e);
                info.implied
            }
        },
    };
    if (directions.input && !info.supports.input) || (directions.output && !info.supports.output) {
        let side = if directions.input && !info.supports.input { "input" } else { "output" };
        errors.push(FieldError::invalid("direction", format!("{type_} has no {side} side")));
    }
    if errors.is_empty() {
        errors.extend(info.check(&metadata, directions));
    }
    let route = route(&p.name, &metadata).map_err(|e| errors.push(e)).unwrap_or_default();
    if !errors.is_empty() {
        return Err(errors.into_iter().map(|e| redact(&metadata, e)).collect());
    }
    let mut component = skeleton(p, type_, metadata);
    component.directions = directions;
    component.route = route;
    Ok(component)
}

fn skeleton(p: &Parsed, type_: String, metadata: Metadata) -> Component {
    Component {
        name: p.name.clone(),
        namespace: p.manifest.metadata.namespace.clone(),
        type_,
        version: p.reference.version.clone(),
        metadata,
        scopes: p.manifest.scopes.clone(),
        file: p.file.clone(),
        directions: super::direction::Directions::implied(false, false),
        route: format!("/{}", p.name),
    }
}

fn resolve_metadata(
    p: &Parsed,
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
            secret_store(p, stores, &name)
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
    stores: &'s [(String, Store)],
    field: &str,
) -> Result<(&'s str, &'s Store), FieldError> {
    let Some(store) = p.manifest.auth.secret_store.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(("environment", &stores::DEFAULT_STORE));
    };
    stores.iter().find(|(name, _)| name == store).map(|(name, s)| (name.as_str(), s)).ok_or_else(|| FieldError {
        kind: ConfigErrorKind::SecretUnresolved,
        field: field.to_owned(),
        message: format!("auth.secretStore names {store:?}, but no secret store component has that name"),
    })
}

#[cfg(test)]
#[path = "loader_tests.rs"]
mod tests;
