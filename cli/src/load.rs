//! Loading components and building their output bindings, with every
//! problem, of loading and of building, reported by file, component and
//! field in one run.

use std::path::Path;
use std::sync::Arc;

use bindery::component::{Components, ConfigErrors, LoadOptions};
use bindery::output::Bindings;
use bindery::output::secrets::load_components_partial;

use crate::Failure;

/// Components and the output bindings built from them.
pub(crate) struct Loaded {
    pub(crate) components: Components,
    pub(crate) bindings: Arc<Bindings>,
}

/// Loads `path` for `app_id` (scopes), resolving secrets from every store.
pub(crate) async fn load(path: &Path, app_id: Option<&str>) -> Result<Loaded, Failure> {
    if !path.exists() {
        return Err(Failure::new(format!("no components at {}: pass --components DIR", path.display())));
    }
    let mut options = LoadOptions::from_process_env();
    if let Some(id) = app_id.filter(|id| !id.is_empty()) {
        options.app_id = Some(id.to_owned());
    }
    // Every problem in one run: the components that loaded are built even
    // when others did not, so a build problem is not hidden behind a load one.
    let (components, mut errors) = load_components_partial(path, &options).await.map_err(config_failure)?;
    let bindings = match Bindings::from_components(&components).await {
        Ok(bindings) => Some(bindings),
        Err(build) => {
            errors.extend(build.0);
            None
        }
    };
    match bindings {
        Some(bindings) if errors.is_empty() => Ok(Loaded { components, bindings: Arc::new(bindings) }),
        _ => Err(config_failure(ConfigErrors(errors))),
    }
}

/// One error on one line; several as daprd-like list, one per line.
pub(crate) fn config_failure(errors: ConfigErrors) -> Failure {
    match errors.0.as_slice() {
        [one] => Failure::new(one.to_string()),
        _ => Failure::new(errors.to_string()),
    }
}
