//! The secret stores `secretKeyRef` reads from, named by a component's
//! `auth.secretStore`:
//!
//! | type | what a secret is |
//! |---|---|
//! | none, or `secretstores.local.env` | an environment variable (Dapr's self-hosted default) |
//! | `secretstores.local.file` | a value of a JSON file (`secretsFile`, `nestedSeparator`, `multiValued`) |
//! | `secretstores.aws.secretmanager` | a Secrets Manager secret's string; `key` picks a field of a JSON secret |
//! | `secretstores.aws.parameterstore` | an SSM parameter, decrypted (`prefix` is put before the name) |
//!
//! The AWS stores need network calls, which the loader does not make: their
//! values are fetched beforehand ([`PrefetchedSecrets`], filled by
//! `bindery::output::secrets::load_components`) from the references
//! [`super::secret_references`] lists. Each secret is fetched once per load.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::error::{ConfigErrorKind, FieldError};
use super::metadata::Metadata;
use super::secrets::{self, EnvLookup};

pub const ENV_STORE_TYPE: &str = "secretstores.local.env";
pub const FILE_STORE_TYPE: &str = "secretstores.local.file";
pub const SECRETS_MANAGER_TYPE: &str = "secretstores.aws.secretmanager";
pub const PARAMETER_STORE_TYPE: &str = "secretstores.aws.parameterstore";

/// Whether a store type's secrets are fetched from AWS before loading.
pub fn is_remote(type_: &str) -> bool {
    matches!(type_, SECRETS_MANAGER_TYPE | PARAMETER_STORE_TYPE)
}

/// Secret values fetched from remote stores, by (store name, secret name):
/// the raw value, or why it could not be read.
#[derive(Debug, Default)]
pub struct PrefetchedSecrets {
    values: HashMap<(String, String), Result<String, String>>,
}

impl PrefetchedSecrets {
    pub fn insert(&mut self, store: &str, name: &str, value: Result<String, String>) {
        self.values.insert((store.to_owned(), name.to_owned()), value);
    }

    fn get(&self, store: &str, name: &str) -> Option<&Result<String, String>> {
        self.values.get(&(store.to_owned(), name.to_owned()))
    }
}

/// A secret store, ready to answer lookups.
#[derive(Debug)]
pub(crate) enum Store {
    Env,
    File(FileStore),
    Remote {
        type_: String,
    },
    /// The store's own configuration is broken (reported on the store itself).
    Broken,
}

impl Store {
    /// Builds the store of `type_` from its resolved metadata. A file store
    /// reads its file now; the error names the store's field.
    pub(crate) fn open(type_: &str, metadata: &Metadata) -> Result<Store, FieldError> {
        match type_ {
            ENV_STORE_TYPE => Ok(Store::Env),
            FILE_STORE_TYPE => FileStore::open(metadata).map(Store::File),
            t if is_remote(t) => Ok(Store::Remote { type_: t.to_owned() }),
            other => Err(FieldError::invalid("spec.type", format!("{other} is not a secret store bindery can read"))),
        }
    }
}

/// Everything a `secretKeyRef` lookup needs.
pub(crate) struct SecretLookup<'a> {
    pub(crate) env: EnvLookup<'a>,
    pub(crate) prefetched: Option<&'a PrefetchedSecrets>,
}

/// Resolves `secretKeyRef{name, key}` for the metadata item `field` from the
/// store `store_name`.
pub(crate) fn resolve(
    store_name: &str,
    store: &Store,
    field: &str,
    name: &str,
    key: Option<&str>,
    lookup: &SecretLookup<'_>,
) -> Result<String, FieldError> {
    let key = key.filter(|k| !k.is_empty());
    match store {
        Store::Env => secrets::resolve_secret(secrets::SecretStoreKind::Env, field, name, key, lookup.env),
        Store::File(file) => file.get(field, name, key),
        Store::Broken => {
            Err(unresolved(field, format!("secret store {store_name:?} could not be opened (see its own error)")))
        }
        Store::Remote { type_ } => {
            let Some(fetched) = lookup.prefetched.and_then(|p| p.get(store_name, name)) else {
                return Err(unresolved(
                    field,
                    format!(
                        "secret store {store_name:?} ({type_}) is read from AWS, which this build of bindery leaves out"
                    ),
                ));
            };
            let raw = fetched.as_ref().map_err(|why| unresolved(field, why.clone()))?;
            match key.filter(|k| *k != name) {
                None => Ok(raw.clone()),
                Some(key) if type_ == SECRETS_MANAGER_TYPE => json_field(raw, key).ok_or_else(|| {
                    unresolved(
                        field,
                        format!("secret {name:?} in store {store_name:?} is not a JSON object with key {key:?}"),
                    )
                }),
                Some(key) => Err(unresolved(
                    field,
                    format!("a parameter holds one value: key {key:?} must be empty or equal to the name {name:?}"),
                )),
            }
        }
    }
}

/// A field of a JSON-object secret (what AWS's own `{{resolve:secretsmanager:name:SecretString:key}}` does).
fn json_field(raw: &str, key: &str) -> Option<String> {
    match serde_json::from_str::<Value>(raw).ok()?.get(key)? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn unresolved(field: &str, message: String) -> FieldError {
    FieldError { kind: ConfigErrorKind::SecretUnresolved, field: field.to_owned(), message }
}

/// Dapr's `secretstores.local.file`: a JSON file, read once at load.
///
/// With `multiValued: false` (the default) nested objects are flattened with
/// `nestedSeparator` (default `:`), each flattened key is a secret, and
/// `secretKeyRef.key` must be empty or the name. With `multiValued: true`
/// each top-level key is a secret holding several values, and `key` picks one
/// (flattened below that secret). A relative `secretsFile` is relative to the
/// current directory, as in daprd.
#[derive(Debug)]
pub(crate) struct FileStore {
    file: String,
    multi_valued: bool,
    separator: String,
    /// Flattened: `db:password` -> `x`.
    flat: HashMap<String, String>,
}

impl FileStore {
    fn open(metadata: &Metadata) -> Result<FileStore, FieldError> {
        let file = metadata.required("secretsFile")?.to_owned();
        let separator = metadata.get("nestedSeparator").unwrap_or(":").to_owned();
        let multi_valued = metadata.bool("multiValued", false)?;
        let text = std::fs::read_to_string(Path::new(&file))
            .map_err(|e| FieldError::invalid("secretsFile", format!("cannot read {file:?}: {e}")))?;
        let json: Value = serde_json::from_str(&text)
            .map_err(|e| FieldError::invalid("secretsFile", format!("{file:?} is not JSON: {e}")))?;
        if !json.is_object() {
            return Err(FieldError::invalid("secretsFile", format!("{file:?} must hold a JSON object")));
        }
        let mut flat = HashMap::new();
        flatten("", &json, &separator, &mut flat);
        Ok(FileStore { file, multi_valued, separator, flat })
    }

    fn get(&self, field: &str, name: &str, key: Option<&str>) -> Result<String, FieldError> {
        let wanted = match (self.multi_valued, key) {
            (false, Some(key)) if key != name => {
                return Err(unresolved(
                    field,
                    format!(
                        "{} holds one value per secret (multiValued is off): key {key:?} must be empty or {name:?}",
                        self.file
                    ),
                ));
            }
            (false, _) => name.to_owned(),
            (true, Some(key)) => format!("{name}{}{key}", self.separator),
            (true, None) => name.to_owned(),
        };
        self.flat
            .get(&wanted)
            .cloned()
            .ok_or_else(|| unresolved(field, format!("secret {wanted:?} not found in {}", self.file)))
    }
}

fn flatten(prefix: &str, value: &Value, separator: &str, out: &mut HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}{separator}{k}") };
                flatten(&key, v, separator, out);
            }
        }
        Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

#[cfg(test)]
#[path = "stores_tests.rs"]
mod tests;
