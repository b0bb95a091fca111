//! Reading component files: the folders and files given, each `*.yaml` /
//! `*.yml` file, each `---`-separated document that is a Component, kept when
//! the namespace and scope filters let it through.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tracing::debug;

use super::error::{ComponentRef, ConfigError, ConfigErrorKind, ConfigErrors};
use super::keys;
use super::model::Manifest;
use super::options::LoadOptions;

const API_VERSION: &str = "dapr.io/v1alpha1";
const KIND: &str = "Component";

/// A document that is a Component, before its metadata is resolved.
pub(crate) struct Parsed {
    pub(crate) file: PathBuf,
    pub(crate) manifest: Manifest,
    pub(crate) name: String,
    pub(crate) reference: ComponentRef,
}

/// What reading found: the Components, the problems, and the problems of
/// documents that asked for them to be ignored (`spec.ignoreErrors`).
#[derive(Default)]
pub(crate) struct Reading {
    pub(crate) parsed: Vec<Parsed>,
    pub(crate) errors: Vec<ConfigError>,
    pub(crate) ignored: Vec<ConfigError>,
}

/// Reads every file under `paths`, in order; a path that cannot be read at
/// all is the only hard error. A name defined twice, in one folder or
/// across two, is a conflict that names both files.
pub(crate) fn read_all(paths: &[PathBuf], options: &LoadOptions<'_>) -> Result<Reading, ConfigErrors> {
    let mut reading = Reading::default();
    let mut seen: Vec<PathBuf> = Vec::new();
    for path in paths {
        for file in component_files(path).map_err(ConfigErrors::from)? {
            // The same folder given twice (`-d a -d ./a`) is read once.
            let key = file.canonicalize().unwrap_or_else(|_| file.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            read_file(&file, options, &mut reading);
        }
    }
    check_duplicates(&mut reading);
    Ok(reading)
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

fn read_file(file: &Path, options: &LoadOptions<'_>, reading: &mut Reading) {
    match std::fs::read_to_string(file) {
        Ok(text) => read_text(file, &text, options, reading),
        Err(e) => reading.errors.push(ConfigError::new(ConfigErrorKind::Io, format!("cannot read: {e}")).in_file(file)),
    }
}

/// The Components of one file's text.
pub(crate) fn read_text(file: &Path, text: &str, options: &LoadOptions<'_>, reading: &mut Reading) {
    let documents: Vec<Value> = match serde_saphyr::from_multiple(text) {
        Ok(docs) => docs,
        Err(e) => {
            return reading.errors.push(ConfigError::new(ConfigErrorKind::Syntax, yaml_error(&e)).in_file(file));
        }
    };
    for (index, mut doc) in documents.into_iter().enumerate() {
        let folded = keys::canonical(&mut doc);
        if doc.get("apiVersion").and_then(Value::as_str) != Some(API_VERSION)
            || doc.get("kind").and_then(Value::as_str) != Some(KIND)
        {
            debug!(file = %file.display(), document = index + 1, "not a dapr.io/v1alpha1 Component; skipped");
            continue;
        }
        let ignore_errors = doc.pointer("/spec/ignoreErrors") == Some(&Value::Bool(true));
        let name = doc.pointer("/metadata/name").and_then(Value::as_str).map(str::to_owned);
        let parsed = folded
            .map_err(|e| in_named(ConfigError::from_field(e), name.as_deref()))
            .and_then(|()| parse_document(doc, name));
        match parsed {
            Ok((manifest, name, reference)) => {
                if keep(&manifest, options) {
                    reading.parsed.push(Parsed { file: file.to_owned(), manifest, name, reference });
                }
            }
            Err(e) if ignore_errors => reading.ignored.push(e.in_file(file)),
            Err(e) => reading.errors.push(e.in_file(file)),
        }
    }
}

/// `error` in the component `name`, when the document has one, before its
/// type is known.
fn in_named(error: ConfigError, name: Option<&str>) -> ConfigError {
    match name {
        Some(n) => error.in_component(ComponentRef { name: n.to_owned(), type_: "?".into(), version: "?".into() }),
        None => error,
    }
}

/// The YAML error's message and position: enough to find it. The message is
/// asked of the formatter, not of `Display`, which renders a multi-line
/// snippet and would bring a renderer of about 100 KB into every function.
fn yaml_error(error: &serde_saphyr::Error) -> String {
    use serde_saphyr::MessageFormatter;
    let error = error.without_snippet();
    let message = serde_saphyr::DefaultMessageFormatter.format_message(error);
    // The message may quote the file's text: no control character reaches a log.
    let mut clean = String::with_capacity(message.len());
    for c in message.chars() {
        if c.is_control() {
            clean.extend(c.escape_debug());
        } else {
            clean.push(c);
        }
    }
    match error.location() {
        Some(loc) if loc.line() > 0 => format!("line {} column {}: {clean}", loc.line(), loc.column()),
        _ => clean,
    }
}

fn parse_document(doc: Value, name: Option<String>) -> Result<(Manifest, String, ComponentRef), ConfigError> {
    let manifest: Manifest = serde_path_to_error::deserialize(doc).map_err(|e| {
        let error = ConfigError::new(ConfigErrorKind::Syntax, e.inner().to_string()).at_field(e.path().to_string());
        in_named(error, name.as_deref())
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

/// A name given twice is an error on the second, naming the first's file.
pub(crate) fn check_duplicates(reading: &mut Reading) {
    for (i, p) in reading.parsed.iter().enumerate() {
        if let Some(first) = reading.parsed[..i].iter().find(|q| q.name == p.name) {
            reading.errors.push(
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
