//! What filters, resolves and checks components besides the files themselves.

use super::direction::Directions;
use super::error::FieldError;
use super::kind::ComponentKind;
use super::metadata::Metadata;
use super::secrets::EnvLookup;
use super::stores::PrefetchedSecrets;

/// What filters and resolves components besides the files themselves.
pub struct LoadOptions<'a> {
    /// Dapr's `NAMESPACE`: components of another namespace are skipped.
    pub namespace: Option<String>,
    /// The app id `scopes` are checked against; `None` loads scoped components too.
    pub app_id: Option<String>,
    /// Environment for `envRef` and the environment secret store.
    pub env: EnvLookup<'a>,
    /// Secrets of remote (AWS) stores, fetched beforehand; see [`secret_references`](super::secret_references).
    pub prefetched: Option<&'a PrefetchedSecrets>,
    /// What each kind requires of its metadata: [`crate::kinds::check`].
    /// Given here so that this module, below the bindings, knows none of
    /// their fields.
    pub check: Check,
}

/// Every problem with a component's metadata, for the directions it serves.
pub type Check = fn(ComponentKind, &Metadata, Directions) -> Vec<FieldError>;

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl LoadOptions<'static> {
    /// `NAMESPACE`, `BINDERY_APP_ID` and the process environment.
    pub fn from_process_env(check: Check) -> Self {
        Self {
            namespace: process_env("NAMESPACE").filter(|s| !s.is_empty()),
            app_id: process_env("BINDERY_APP_ID").filter(|s| !s.is_empty()),
            env: &process_env,
            prefetched: None,
            check,
        }
    }
}
