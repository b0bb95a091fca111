//! Loading components to describe a deployment, without reading a secret:
//! every secret resolves to a placeholder, and only where it comes from is
//! kept ([`SecretKeyRef`]), so no secret value can reach a template.

use std::path::Path;

use bindery::component::stores::is_remote;
use bindery::component::{
    ComponentKind, Components, ConfigErrors, Directions, FieldError, LoadOptions, Metadata, PrefetchedSecrets,
    SecretKeyRef,
};
use bindery::component::{load, secret_key_refs};

const PLACEHOLDER: &str = "(resolved in AWS)";

/// [`bindery::kinds::check`], less the problems of values read from
/// secrets: here they are placeholders, and the deployed function checks
/// the real values when it loads them.
fn check_known_values(kind: ComponentKind, metadata: &Metadata, directions: Directions) -> Vec<FieldError> {
    let secret = |field: &str| metadata.iter().any(|i| i.secret && i.name.eq_ignore_ascii_case(field));
    bindery::kinds::check(kind, metadata, directions).into_iter().filter(|e| !secret(&e.field)).collect()
}

/// The components under `path` as the deployed functions will see them
/// (`app_id` and `namespace` filter as `BINDERY_APP_ID` and `NAMESPACE` do),
/// and their `secretKeyRef`s. `envRef` items read this process's environment.
pub fn load_components(
    path: &Path,
    app_id: Option<String>,
    namespace: Option<String>,
) -> Result<(Components, Vec<SecretKeyRef>), ConfigErrors> {
    let env_or_placeholder = |name: &str| Some(std::env::var(name).unwrap_or_else(|_| PLACEHOLDER.to_owned()));
    let mut options =
        LoadOptions { namespace, app_id, env: &env_or_placeholder, prefetched: None, check: check_known_values };
    let refs = secret_key_refs(&[path.to_owned()], &options)?;
    let mut placeholders = PrefetchedSecrets::default();
    for secret in refs.iter().filter(|r| is_remote(&r.store_type)) {
        if let Some(store) = &secret.store {
            placeholders.insert(store, &secret.name, Ok(PLACEHOLDER.to_owned()));
        }
    }
    options.prefetched = Some(&placeholders);
    Ok((load(path, &options)?, refs))
}
