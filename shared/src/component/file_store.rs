//! Dapr's `secretstores.local.file`: secrets from a JSON file, read once at load.
//!
//! Dapr's rules (components-contrib `secretstores/local/file`), kept so that
//! the same file and the same `secretKeyRef`s work under daprd and bindery:
//!
//! - `multiValued: false` (the default): the whole document is flattened, keys
//!   joined by `nestedSeparator` (default `:`), array items by their index;
//!   each flattened key is a secret with one value, so `secretKeyRef.key` must
//!   be empty or the name (`{"db":{"password":"x"}}` is `name: db:password`).
//! - `multiValued: true`: each top-level key is a secret; an object (flattened
//!   below it) holds several values and `key` picks one
//!   (`name: db, key: password`); a string holds one value, under its name.
//!
//! As in daprd, a relative `secretsFile` is relative to the current
//! directory, not to the component file: daprd never knew where its
//! components came from, and users' paths are written that way. The error
//! names the directory it was looked up in.
//!
//! Where Dapr is loose, bindery reports instead: a key that flattens twice
//! (`"a:b"` and `{"a":{"b"}}`) is an error rather than "first one wins", and a
//! missing key is an error rather than an empty value. Numbers and booleans
//! are their JSON text (Dapr prints Go's `%!s(float64=1)`), `null` is no
//! value, and in multi-valued mode a top-level number is a one-value secret
//! and a top-level array a many-value one, where Dapr drops both.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use serde_json::Value;

use super::error::FieldError;
use super::metadata::Metadata;

const FILE_FIELD: &str = "secretsFile";

/// An opened local file store.
pub(crate) struct FileStore {
    /// `secretsFile` as written, for messages.
    file: String,
    separator: String,
    multi_valued: bool,
    secrets: HashMap<String, Secret>,
}

/// What Dapr's `GetSecret(name)` returns: one value (under the secret's own
/// name) or several, by key.
enum Secret {
    One(String),
    Many(BTreeMap<String, String>),
}

/// Secret names only: the values never reach Debug output.
impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.secrets.keys().collect();
        names.sort();
        f.debug_struct("FileStore")
            .field("file", &self.file)
            .field("multi_valued", &self.multi_valued)
            .field("secrets", &names)
            .finish()
    }
}

impl FileStore {
    /// Reads and flattens the file; every error is on one of the store's fields.
    pub(crate) fn open(metadata: &Metadata) -> Result<FileStore, FieldError> {
        let file = metadata.required(FILE_FIELD)?.to_owned();
        let separator = metadata.get("nestedSeparator").unwrap_or(":").to_owned();
        let multi_valued = metadata.bool("multiValued", false)?;
        let text =
            std::fs::read_to_string(&file).map_err(|e| invalid(format!("cannot read {}: {e}", located(&file))))?;
        let json: Value =
            serde_json::from_str(&text).map_err(|e| invalid(format!("{file:?} is not valid JSON: {e}")))?;
        let Value::Object(top) = json else {
            return Err(invalid(format!("{file:?} must hold a JSON object of secrets")));
        };
        let duplicate = |key: String| invalid(format!("{file:?} defines {key:?} twice once nested keys are joined"));
        let mut secrets = HashMap::new();
        if multi_valued {
            for (name, value) in top {
                let secret = match value {
                    Value::Null => continue,
                    Value::String(s) => Secret::One(s),
                    nested @ (Value::Object(_) | Value::Array(_)) => {
                        let mut values = BTreeMap::new();
                        flatten(String::new(), nested, &separator, &mut values).map_err(duplicate)?;
                        Secret::Many(values)
                    }
                    other => Secret::One(other.to_string()),
                };
                secrets.insert(name, secret);
            }
        } else {
            let mut values = BTreeMap::new();
            flatten(String::new(), Value::Object(top), &separator, &mut values).map_err(duplicate)?;
            secrets.extend(values.into_iter().map(|(k, v)| (k, Secret::One(v))));
        }
        Ok(FileStore { file, separator, multi_valued, secrets })
    }

    /// Dapr's lookup: `GetSecret(name)`, then the value under `key`, or under
    /// `name` when `key` is empty. The error is the message only.
    pub(crate) fn get(&self, name: &str, key: Option<&str>) -> Result<String, String> {
        let file = &self.file;
        let Some(secret) = self.secrets.get(name) else {
            return Err(format!("secret {name:?} not found in {file}{}", self.hint_for_missing(name)));
        };
        let key = key.unwrap_or(name);
        match secret {
            Secret::One(value) if key == name => Ok(value.clone()),
            Secret::One(_) if self.multi_valued => {
                Err(format!("secret {name:?} in {file} holds one value: key {key:?} must be empty or {name:?}"))
            }
            Secret::One(_) => Err(format!(
                "{file} holds one value per secret (multiValued is off): key {key:?} must be empty or {name:?}"
            )),
            Secret::Many(values) => values.get(key).cloned().ok_or_else(|| {
                let keys: Vec<&str> = values.keys().map(String::as_str).collect();
                format!("secret {name:?} in {file} has no key {key:?} (its keys: {})", keys.join(", "))
            }),
        }
    }

    /// With `multiValued` off, `name: db` for `{"db": {...}}` is a common slip.
    fn hint_for_missing(&self, name: &str) -> String {
        if self.multi_valued {
            return String::new();
        }
        let below = format!("{name}{}", self.separator);
        let mut inner: Vec<&String> = self.secrets.keys().filter(|k| k.starts_with(&below)).collect();
        inner.sort();
        match inner.first() {
            Some(first) => {
                format!(" (it is an object: name one of its values, such as {first:?}, or set multiValued to \"true\")")
            }
            None => String::new(),
        }
    }
}

/// Dapr's flattening: object keys and array indexes joined by `separator`.
/// A key produced twice is returned as the error.
fn flatten(prefix: String, value: Value, separator: &str, out: &mut BTreeMap<String, String>) -> Result<(), String> {
    let join = |k: &str| if prefix.is_empty() { k.to_owned() } else { format!("{prefix}{separator}{k}") };
    let text = match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(join(&k), v, separator, out)?;
            }
            return Ok(());
        }
        Value::Array(items) => {
            for (i, v) in items.into_iter().enumerate() {
                flatten(join(&i.to_string()), v, separator, out)?;
            }
            return Ok(());
        }
        Value::Null => return Ok(()),
        Value::String(s) => s,
        other => other.to_string(),
    };
    if out.contains_key(&prefix) {
        return Err(prefix);
    }
    out.insert(prefix, text);
    Ok(())
}

/// The path as written, with the directory a relative one is looked up in.
fn located(file: &str) -> String {
    if Path::new(file).is_absolute() {
        return format!("{file:?}");
    }
    match std::env::current_dir() {
        Ok(dir) => format!("{file:?} (relative to the current directory, {})", dir.display()),
        Err(_) => format!("{file:?} (relative to the current directory)"),
    }
}

fn invalid(message: String) -> FieldError {
    FieldError::invalid(FILE_FIELD, message)
}

#[cfg(test)]
mod tests;
