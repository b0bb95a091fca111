//! What every function does at init: find its component, check that it is
//! the right type and an input binding, and build the delivery to the app.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::component::{Component, EnvLookup, LoadOptions, load};
use crate::deliver::{App, Deliverer};

/// A function cannot start; the message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);

/// Everything a function needs, resolved at init.
#[derive(Debug)]
pub struct FunctionSetup {
    pub component: Component,
    pub deliverer: Deliverer,
    /// How long before the invocation deadline the function answers.
    pub margin: Duration,
}

const DEFAULT_APP_URL: &str = "http://127.0.0.1:8080";
const DEFAULT_MARGIN_MS: u64 = 250;

/// Builds the setup of a function serving `expected_type`. `app` replaces the
/// HTTP app (`BINDERY_APP_URL`) with, e.g., an in-process router.
pub fn setup(
    function: &str,
    expected_type: &str,
    env: EnvLookup<'_>,
    app: Option<App>,
) -> Result<FunctionSetup, StartupError> {
    let binding = env("BINDERY_BINDING").filter(|b| !b.is_empty()).ok_or_else(|| {
        StartupError(format!("BINDERY_BINDING is not set: name the {expected_type} component {function} serves"))
    })?;
    let path = components_path(env)?;
    let options = LoadOptions {
        namespace: env("NAMESPACE").filter(|s| !s.is_empty()),
        app_id: env("BINDERY_APP_ID").filter(|s| !s.is_empty()),
        env,
    };
    let components = load(&path, &options).map_err(|e| StartupError(e.to_string().trim_end().to_owned()))?;
    let component = components.get(&binding).cloned().ok_or_else(|| {
        let names: Vec<&str> = components.iter().map(|c| c.name.as_str()).collect();
        StartupError(format!(
            "BINDERY_BINDING is {binding:?}, but no component in {} has that name (found: {})",
            path.display(),
            if names.is_empty() { "none".to_owned() } else { names.join(", ") }
        ))
    })?;
    if component.type_ != expected_type {
        return Err(StartupError(format!(
            "{}: component {binding:?} is {}, but {function} serves {expected_type}",
            component.file.display(),
            component.type_
        )));
    }
    if !component.directions.input {
        return Err(StartupError(format!(
            "{}: component {binding:?} is not an input binding (its direction is output only); \
             add \"input\" to its direction",
            component.file.display()
        )));
    }
    let app = match app {
        Some(app) => app,
        None => App::http(&env("BINDERY_APP_URL").unwrap_or_else(|| DEFAULT_APP_URL.to_owned()))
            .map_err(|e| StartupError(format!("BINDERY_APP_URL: {e}")))?,
    };
    let token = env("APP_API_TOKEN");
    let deliverer =
        Deliverer::new(app, component.route.clone(), token.as_deref()).map_err(|e| StartupError(e.message))?;
    let margin = Duration::from_millis(number(env, "BINDERY_DEADLINE_MARGIN_MS", DEFAULT_MARGIN_MS, 0..=60_000)?);
    Ok(FunctionSetup { component, deliverer, margin })
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

fn components_path(env: EnvLookup<'_>) -> Result<PathBuf, StartupError> {
    if let Some(path) = env("BINDERY_COMPONENTS").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let mut tried = vec![PathBuf::from("./components")];
    if let Some(root) = env("LAMBDA_TASK_ROOT") {
        tried.push(Path::new(&root).join("components"));
    }
    tried.iter().find(|p| p.exists()).cloned().ok_or_else(|| {
        let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
        StartupError(format!("no components found: set BINDERY_COMPONENTS (tried {})", tried.join(", ")))
    })
}

