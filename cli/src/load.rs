//! Loading components and building their output bindings, with every
//! problem reported by file, component and field.

use std::path::Path;
use std::sync::Arc;

use bindery::component::{Components, ConfigErrors, LoadOptions};
use bindery::output::Bindings;
use bindery::output::secrets::load_components;

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
    let components = load_components(path, &options).await.map_err(config_failure)?;
    let bindings = Bindings::from_components(&components).await.map_err(config_failure)?;
    Ok(Loaded { components, bindings: Arc::new(bindings) })
}

/// One error on one line; several as daprd-like list, one per line.
pub(crate) fn config_failure(errors: ConfigErrors) -> Failure {
    match errors.0.as_slice() {
        [one] => Failure::new(one.to_string()),
        _ => Failure::new(errors.to_string()),
    }
}
