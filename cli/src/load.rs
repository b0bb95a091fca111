//! Loading components and building their output bindings, with every
//! problem, of loading and of building, reported by file, component and
//! field in one run.

use std::path::PathBuf;
use std::sync::Arc;

use bindery::component::{Components, ConfigErrors, LoadOptions};
use bindery::output::Bindings;
use bindery::output::secrets::load_components_partial;

use crate::Failure;

/// Components and the output bindings built from them.
pub(crate) struct Loaded {
    pub(crate) components: Components,
    pub(crate) bindings: Arc<Bindings>,
    /// What was set aside, one line each: the types bindery does not serve
    /// (in one line), and each component `spec.ignoreErrors` let fail.
    pub(crate) warnings: Vec<String>,
}

impl Loaded {
    /// Prints the warnings on stderr, for the commands without a console.
    pub(crate) fn print_warnings(&self) {
        for line in &self.warnings {
            crate::stderr_line(format_args!("bindery: warning: {line}"));
        }
    }
}

/// Loads `paths` (one set) for `app_id` (scopes), resolving secrets from every store.
pub(crate) async fn load(paths: &[PathBuf], app_id: Option<&str>) -> Result<Loaded, Failure> {
    if let Some(missing) = paths.iter().find(|p| !p.exists()) {
        return Err(Failure::new(format!(
            "no components at {}: pass the folder with --resources-path DIR (-d DIR)",
            missing.display()
        )));
    }
    let mut options = LoadOptions::from_process_env(bindery::kinds::check);
    if let Some(id) = app_id.filter(|id| !id.is_empty()) {
        options.app_id = Some(id.to_owned());
    }
    // Every problem in one run: the components that loaded are built even
    // when others did not, so a build problem is not hidden behind a load one.
    let (components, mut errors) = load_components_partial(paths, &options).await.map_err(config_failure)?;
    let bindings = match Bindings::from_components(&components).await {
        Ok(bindings) => Some(bindings),
        Err(build) => {
            errors.extend(build.0);
            None
        }
    };
    match bindings {
        Some(bindings) if errors.is_empty() => {
            // A binding skipped at build is skipped as a component too: not
            // listed, its input side not started.
            let mut components = components;
            for skipped in bindings.skipped() {
                if let Some(c) = &skipped.component {
                    components.skip(&c.name.clone(), skipped.clone());
                }
            }
            let warnings = components.warnings();
            Ok(Loaded { components, bindings: Arc::new(bindings), warnings })
        }
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
