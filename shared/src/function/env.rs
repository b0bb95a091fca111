//! The function's environment variables (the table in [`super`]), read and
//! checked at init: a wrong value is a [`StartupError`] that names the
//! variable.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::deadline::DeadlineRule;
use super::startup::StartupError;
use crate::component::EnvLookup;
use crate::deliver::DEFAULT_METADATA_LIMIT;

const DEFAULT_APP_URL: &str = "http://127.0.0.1:8080";
const DEFAULT_MARGIN_MS: u64 = 250;
const DEFAULT_FALLBACK_DEADLINE_MS: u64 = 60_000;

/// What every input function reads from its environment besides its components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FunctionEnv {
    /// `BINDERY_APP_URL`.
    pub(crate) app_url: String,
    /// `APP_API_TOKEN`, sent to the app as `dapr-api-token`.
    pub(crate) app_token: Option<String>,
    /// `BINDERY_MAX_METADATA_BYTES`.
    pub(crate) metadata_limit: usize,
    /// `BINDERY_DEADLINE_MARGIN_MS` and `BINDERY_FALLBACK_DEADLINE_MS`.
    pub(crate) deadline: DeadlineRule,
}

impl FunctionEnv {
    pub(crate) fn read(env: EnvLookup<'_>) -> Result<Self, StartupError> {
        let app_url = env("BINDERY_APP_URL").unwrap_or_else(|| DEFAULT_APP_URL.to_owned());
        let metadata_limit = number(env, "BINDERY_MAX_METADATA_BYTES", DEFAULT_METADATA_LIMIT as u64, 1024..=1 << 20)?;
        let margin = number(env, "BINDERY_DEADLINE_MARGIN_MS", DEFAULT_MARGIN_MS, 0..=60_000)?;
        let fallback = number(env, "BINDERY_FALLBACK_DEADLINE_MS", DEFAULT_FALLBACK_DEADLINE_MS, 1_000..=900_000)?;
        Ok(Self {
            app_url,
            app_token: env("APP_API_TOKEN"),
            metadata_limit: metadata_limit as usize,
            deadline: DeadlineRule { margin: Duration::from_millis(margin), fallback: Duration::from_millis(fallback) },
        })
    }
}

/// `BINDERY_BINDING`: the component this function serves; `what` says what
/// it should name.
pub(crate) fn binding(env: EnvLookup<'_>, what: &str) -> Result<String, StartupError> {
    env("BINDERY_BINDING")
        .filter(|b| !b.is_empty())
        .ok_or_else(|| StartupError(format!("BINDERY_BINDING is not set: name {what}")))
}

/// A whole number from the environment, within `range`, or `default`.
pub(crate) fn number(
    env: EnvLookup<'_>,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, StartupError> {
    match env(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v.trim().parse::<u64>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
            StartupError(format!("{name} must be a whole number from {} to {}, got {v:?}", range.start(), range.end()))
        }),
    }
}

/// `BINDERY_COMPONENTS`: a folder or file, or several, comma-separated (as
/// `bindery run` reads it), loaded as one set; else the defaults.
pub(crate) fn components_paths(env: EnvLookup<'_>) -> Result<Vec<PathBuf>, StartupError> {
    if let Some(paths) = env("BINDERY_COMPONENTS").filter(|p| !p.is_empty()) {
        return Ok(paths.split(',').filter(|p| !p.is_empty()).map(PathBuf::from).collect());
    }
    let mut tried = vec![PathBuf::from("./components")];
    if let Some(root) = env("LAMBDA_TASK_ROOT") {
        tried.push(Path::new(&root).join("components"));
    }
    tried.iter().find(|p| p.exists()).map(|p| vec![p.clone()]).ok_or_else(|| {
        let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
        StartupError(format!("no components found: set BINDERY_COMPONENTS (tried {})", tried.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<FunctionEnv, String> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        FunctionEnv::read(&move |name: &str| map.get(name).cloned()).map_err(|e| e.0)
    }

    #[test]
    fn defaults_and_set_values() {
        let defaults = read(&[]).unwrap();
        assert_eq!(defaults.app_url, DEFAULT_APP_URL);
        assert_eq!(defaults.app_token, None);
        assert_eq!(defaults.metadata_limit, DEFAULT_METADATA_LIMIT);
        assert_eq!(defaults.deadline.margin, Duration::from_millis(250));
        assert_eq!(defaults.deadline.fallback, Duration::from_secs(60));
        let set = read(&[("BINDERY_DEADLINE_MARGIN_MS", " 900 "), ("APP_API_TOKEN", "t")]).unwrap();
        assert_eq!(set.deadline.margin, Duration::from_millis(900));
        assert_eq!(set.app_token.as_deref(), Some("t"));
    }

    #[test]
    fn a_wrong_number_names_its_variable_and_range() {
        assert_eq!(
            read(&[("BINDERY_DEADLINE_MARGIN_MS", "soon")]).unwrap_err(),
            "BINDERY_DEADLINE_MARGIN_MS must be a whole number from 0 to 60000, got \"soon\""
        );
        assert_eq!(
            read(&[("BINDERY_FALLBACK_DEADLINE_MS", "0")]).unwrap_err(),
            "BINDERY_FALLBACK_DEADLINE_MS must be a whole number from 1000 to 900000, got \"0\""
        );
    }

    #[test]
    fn falls_back_to_the_lambda_task_root() {
        let root = format!("{}/fixtures/missing", env!("CARGO_MANIFEST_DIR"));
        let env = |name: &str| (name == "LAMBDA_TASK_ROOT").then(|| root.clone());
        let err = components_paths(&env).unwrap_err().0;
        assert!(err.starts_with("no components found: set BINDERY_COMPONENTS (tried ./components, "), "{err}");
    }
}
