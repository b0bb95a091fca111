//! Resolving `secretKeyRef` and `envRef`.
//!
//! Secrets are read once, at load, and marked so they are never printed.
//! The default store (no `auth.secretStore`, or a `secretstores.local.env`
//! component) is the process environment, as in Dapr's self-hosted mode.

use super::error::{ConfigErrorKind, FieldError};

/// Where `envRef` and the environment secret store read from; a parameter so
/// tests need not mutate the process environment.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Looks up `secretKeyRef{name, key}` in the environment store: Dapr's env
/// store holds one key per secret, the secret's own name, so `key` must be
/// empty or equal to `name`. The variable read is `prefix` + `name`, and, as
/// in Dapr, never `APP_API_TOKEN` or a `DAPR_*` variable (any case): those
/// are the runtime's own tokens. The error is the message only.
pub(crate) fn env_secret(prefix: &str, name: &str, key: Option<&str>, env: EnvLookup<'_>) -> Result<String, String> {
    if let Some(key) = key.filter(|k| !k.is_empty() && *k != name) {
        return Err(format!(
            "the environment secret store holds one key per secret, named like the secret; key {key:?} is not {name:?}"
        ));
    }
    let var = format!("{prefix}{name}");
    let upper = var.to_ascii_uppercase();
    if upper == "APP_API_TOKEN" || upper.starts_with("DAPR_") {
        return Err(format!("the environment secret store does not read {var:?}: it is the runtime's own"));
    }
    let shown =
        if prefix.is_empty() { format!("secret {name:?}") } else { format!("secret {name:?} (variable {var:?})") };
    env(&var).ok_or_else(|| format!("{shown} is not set in the environment"))
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
        assert_eq!(env_secret("", "GH_SECRET", None, &env).unwrap(), "s3cr3t");
        assert_eq!(env_secret("", "GH_SECRET", Some("GH_SECRET"), &env).unwrap(), "s3cr3t");
        assert_eq!(env_secret("GH_", "SECRET", None, &env).unwrap(), "s3cr3t");
        assert_eq!(env_secret("", "NOPE", None, &env).unwrap_err(), "secret \"NOPE\" is not set in the environment");
        assert_eq!(
            env_secret("X_", "NOPE", None, &env).unwrap_err(),
            "secret \"NOPE\" (variable \"X_NOPE\") is not set in the environment"
        );
        assert!(env_secret("", "GH_SECRET", Some("other"), &env).unwrap_err().contains("one key per secret"));
        for runtime in ["APP_API_TOKEN", "DAPR_API_TOKEN", "dapr_api_token"] {
            assert!(env_secret("", runtime, None, &|_| Some("t".into())).unwrap_err().contains("runtime's own"));
        }
    }

    #[test]
    fn env_ref_denies_runtime_tokens() {
        assert!(resolve_env_ref("x", "APP_API_TOKEN", &env).is_err());
        assert!(resolve_env_ref("x", "DAPR_API_TOKEN", &env).is_err());
        assert_eq!(resolve_env_ref("x", "GH_SECRET", &env).unwrap(), "s3cr3t");
    }
}
