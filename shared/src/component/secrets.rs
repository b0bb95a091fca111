//! Resolving `secretKeyRef` and `envRef`.
//!
//! Secrets are read once, at load, and marked so they are never printed.
//! The default store (no `auth.secretStore`, or a `secretstores.local.env`
//! component) is the process environment, as in Dapr's self-hosted mode.

use super::error::{ConfigErrorKind, FieldError};

/// Where `envRef` and the environment secret store read from; a parameter so
/// tests need not mutate the process environment.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The kinds of secret store bindery can read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretStoreKind {
    Env,
}

/// Looks up `secretKeyRef{name, key}` in the environment store: Dapr's env
/// store holds one key per secret, the secret's own name, so `key` must be
/// empty or equal to `name`.
pub(crate) fn resolve_secret(
    store: SecretStoreKind,
    field: &str,
    name: &str,
    key: Option<&str>,
    env: EnvLookup<'_>,
) -> Result<String, FieldError> {
    let SecretStoreKind::Env = store;
    if let Some(key) = key.filter(|k| !k.is_empty() && *k != name) {
        return Err(unresolved(
            field,
            format!(
                "the environment secret store holds one key per secret, named like the secret; key {key:?} is not {name:?}"
            ),
        ));
    }
    env(name).ok_or_else(|| unresolved(field, format!("secret {name:?} is not set in the environment")))
}

/// `envRef`: Dapr refuses names that would leak the runtime's own tokens.
pub(crate) fn resolve_env_ref(field: &str, var: &str, env: EnvLookup<'_>) -> Result<String, FieldError> {
    if var == "APP_API_TOKEN" || var.starts_with("DAPR_") || var.contains(char::is_whitespace) {
        return Err(FieldError::invalid(field, format!("envRef {var:?} is not allowed")));
    }
    env(var).ok_or_else(|| unresolved(field, format!("envRef {var:?} is not set in the environment")))
}

fn unresolved(field: &str, message: String) -> FieldError {
    FieldError { kind: ConfigErrorKind::SecretUnresolved, field: field.to_owned(), message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "GH_SECRET").then(|| "s3cr3t".to_owned())
    }

    #[test]
    fn env_store() {
        assert_eq!(resolve_secret(SecretStoreKind::Env, "signatureSecret", "GH_SECRET", None, &env).unwrap(), "s3cr3t");
        assert_eq!(
            resolve_secret(SecretStoreKind::Env, "signatureSecret", "GH_SECRET", Some("GH_SECRET"), &env).unwrap(),
            "s3cr3t"
        );
        let missing = resolve_secret(SecretStoreKind::Env, "signatureSecret", "NOPE", None, &env).unwrap_err();
        assert_eq!(missing.kind, ConfigErrorKind::SecretUnresolved);
        assert_eq!(missing.message, "secret \"NOPE\" is not set in the environment");
        assert!(resolve_secret(SecretStoreKind::Env, "x", "GH_SECRET", Some("other"), &env).is_err());
    }

    #[test]
    fn env_ref_denies_runtime_tokens() {
        assert!(resolve_env_ref("x", "APP_API_TOKEN", &env).is_err());
        assert!(resolve_env_ref("x", "DAPR_API_TOKEN", &env).is_err());
        assert_eq!(resolve_env_ref("x", "GH_SECRET", &env).unwrap(), "s3cr3t");
    }
}
