//! PLACEHOLDER: secret stores that need I/O at load (AWS) are being written.

use std::path::Path;

use crate::component::{Components, ConfigErrors, LoadOptions};

/// Loads components, resolving every `secretKeyRef` through its store.
pub async fn load_components(path: &Path, options: &LoadOptions<'_>) -> Result<Components, ConfigErrors> {
    crate::component::load(path, options)
}
