//! The secret stores `secretKeyRef` reads from, named by a component's
//! `auth.secretStore`:
//!
//! | type | what a secret is |
//! |---|---|
//! | none, or `secretstores.local.env` | an environment variable (Dapr's self-hosted default); `prefix` is put before the name |
//! | `secretstores.local.file` | a value of a JSON file ([`super::file_store`]) |
//! | `secretstores.aws.secretmanager` | a Secrets Manager secret's string; `key` picks a field of a JSON secret |
//! | `secretstores.aws.parameterstore` | an SSM parameter, decrypted (`prefix` is put before the name) |
//!
//! Every lookup is Dapr's: the store's `GetSecret(name)` gives a map, and the
//! value is the map's entry for `key`, or for `name` when `key` is empty. A
//! store with one value per secret therefore wants `key` empty or equal to
//! the name. One addition, because it is what AWS users expect (it is what
//! CloudFormation's `{{resolve:secretsmanager:name:SecretString:key}}` does):
//! a Secrets Manager `key` that is not the name picks that field of a
//! JSON-object secret, as Dapr does only with `multipleKeyValuesPerSecret`.
//!
//! The AWS stores need network calls, which the loader does not make: their
//! values are fetched beforehand ([`PrefetchedSecrets`], filled by
//! `bindery::output::secrets::load_components`) from the references
//! [`super::secret_references`] lists. Each secret is fetched once per load.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use super::error::{ConfigErrorKind, FieldError};
use super::file_store::FileStore;
use super::kind::SecretStoreKind;
use super::metadata::Metadata;
use super::secrets::{self, EnvLookup};

pub const ENV_STORE_TYPE: &str = SecretStoreKind::Env.type_name();
pub const FILE_STORE_TYPE: &str = SecretStoreKind::LocalFile.type_name();
pub const SECRETS_MANAGER_TYPE: &str = SecretStoreKind::AwsSecretsManager.type_name();
pub const PARAMETER_STORE_TYPE: &str = SecretStoreKind::AwsParameterStore.type_name();

/// Whether a store type's secrets are fetched from AWS before loading.
pub fn is_remote(type_: &str) -> bool {
    matches!(type_, SECRETS_MANAGER_TYPE | PARAMETER_STORE_TYPE)
}

/// Secret values fetched from remote stores, by (store name, secret name):
/// the raw value, or why it could not be read. Debug shows the names only.
#[derive(Default)]
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

impl fmt::Debug for PrefetchedSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut entries: Vec<(&str, &str, &str)> = self
            .values
            .iter()
            .map(|((store, name), value)| {
                (store.as_str(), name.as_str(), if value.is_ok() { "fetched" } else { "failed" })
            })
            .collect();
        entries.sort_unstable();
        f.debug_struct("PrefetchedSecrets").field("values", &entries).finish()
    }
}

/// A secret store, ready to answer lookups.
#[derive(Debug)]
pub(crate) enum Store {
    /// The process environment; `prefix` is put before every name.
    Env {
        prefix: String,
    },
    File(FileStore),
    /// `multi_valued`: Dapr's `multipleKeyValuesPerSecret`.
    SecretsManager {
        multi_valued: bool,
    },
    Parameters,
    /// The store's own configuration is broken (reported on the store itself).
    Broken,
}

/// The store used when a component names none: the environment, unprefixed.
pub(crate) static DEFAULT_STORE: Store = Store::Env { prefix: String::new() };

impl Store {
    /// Builds the store of `kind` from its resolved metadata. A file store
    /// reads its file now; the error names the store's field.
    pub(crate) fn open(kind: SecretStoreKind, metadata: &Metadata) -> Result<Store, FieldError> {
        match kind {
            SecretStoreKind::Env => Ok(Store::Env { prefix: metadata.get("prefix").unwrap_or_default().to_owned() }),
            SecretStoreKind::LocalFile => FileStore::open(metadata).map(Store::File),
            SecretStoreKind::AwsSecretsManager => {
                Ok(Store::SecretsManager { multi_valued: metadata.bool("multipleKeyValuesPerSecret", false)? })
            }
            SecretStoreKind::AwsParameterStore => Ok(Store::Parameters),
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
    let value = match store {
        Store::Env { prefix } => secrets::env_secret(prefix, name, key, lookup.env),
        Store::File(file) => file.get(name, key),
        Store::Broken => Err(format!("secret store {store_name:?} could not be opened (see its own error)")),
        Store::SecretsManager { multi_valued } => prefetched(store_name, SECRETS_MANAGER_TYPE, name, lookup.prefetched)
            .and_then(|raw| json_value(store_name, name, key, raw, *multi_valued)),
        Store::Parameters => prefetched(store_name, PARAMETER_STORE_TYPE, name, lookup.prefetched)
            .and_then(|raw| one_value(store_name, name, key, raw)),
    };
    value.map_err(|message| FieldError { kind: ConfigErrorKind::SecretUnresolved, field: field.to_owned(), message })
}

/// The fetched value of a remote secret, or why there is none.
fn prefetched<'p>(
    store_name: &str,
    type_: &str,
    name: &str,
    prefetched: Option<&'p PrefetchedSecrets>,
) -> Result<&'p String, String> {
    let Some(prefetched) = prefetched else {
        return Err(format!(
            "secret store {store_name:?} ({type_}) is read from AWS, which needs bindery's AWS support; \
             this program loads components without it (the input functions do): read this secret from the \
             environment or a secretstores.local.file store"
        ));
    };
    match prefetched.get(store_name, name) {
        Some(fetched) => fetched.as_ref().map_err(Clone::clone),
        None => Err(format!("secret {name:?} of store {store_name:?} was not fetched before loading")),
    }
}

/// A store with one value per secret (SSM): `key` must be empty or the name.
fn one_value(store_name: &str, name: &str, key: Option<&str>, raw: &str) -> Result<String, String> {
    match key {
        Some(key) if key != name => Err(format!(
            "store {store_name:?} holds one value per secret: key {key:?} must be empty or equal to the name {name:?}"
        )),
        _ => Ok(raw.to_owned()),
    }
}

/// Secrets Manager: the whole string, or a field of a JSON-object secret.
///
/// Without `multipleKeyValuesPerSecret`, an empty `key` (or the name) is the
/// whole string and another `key` a field. With it, as in Dapr, a JSON object
/// is the secret's map and the field is `key`, or `name` when `key` is empty;
/// a string that is not a JSON object stays one value under the name.
fn json_value(
    store_name: &str,
    name: &str,
    key: Option<&str>,
    raw: &str,
    multi_valued: bool,
) -> Result<String, String> {
    let whole = key.is_none_or(|k| k == name);
    if whole && !multi_valued {
        return Ok(raw.to_owned());
    }
    let wanted = key.unwrap_or(name);
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(fields)) => match fields.get(wanted) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Null) | None => {
                let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
                let why = if key.is_none() {
                    " (multipleKeyValuesPerSecret is on, so an empty key means the secret's name)"
                } else {
                    ""
                };
                Err(format!(
                    "secret {name:?} in store {store_name:?} has no key {wanted:?}{why}; its keys: {}",
                    keys.join(", ")
                ))
            }
            Some(other) => Ok(other.to_string()),
        },
        _ if whole => Ok(raw.to_owned()),
        _ => Err(format!(
            "secret {name:?} in store {store_name:?} is not a JSON object, so key {wanted:?} cannot be picked from it"
        )),
    }
}

#[cfg(test)]
mod tests;
