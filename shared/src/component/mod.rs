//! Dapr Component YAML: load a directory or file (multi-document), resolve
//! secrets, validate every component, and report every problem at once with
//! the file, the component and the field named.

mod direction;
pub mod error;
mod file_store;
mod init_timeout;
mod keys;
mod kind;
mod loader;
pub mod metadata;
mod model;
mod options;
mod read;
mod redact;
mod secrets;
pub mod stores;

pub use direction::{Directions, parse_direction};
pub use error::{ComponentRef, ConfigError, ConfigErrorKind, ConfigErrors, FieldError};
pub use init_timeout::within_init_timeout;
pub use kind::{BindingKind, ComponentKind, InputKind, OutputKind, SecretStoreKind};
#[cfg(feature = "fuzzing")]
pub use loader::load_text;
pub use loader::{
    Components, SecretKeyRef, SecretReference, Unserved, load, load_one, load_outputs, load_partial, load_paths,
    secret_key_refs, secret_references, skipped_warning,
};
pub use metadata::{Metadata, MetadataValue};
pub use model::Component;
pub use options::{Check, LoadOptions};
pub(crate) use redact::redact;
pub use secrets::EnvLookup;
pub use stores::PrefetchedSecrets;
