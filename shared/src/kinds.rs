//! What each component kind requires of its metadata: its typed config,
//! checked by the loader at start-up ([`check`], given to it as
//! [`LoadOptions::check`]), so that a wrong field is reported with its file,
//! component and field before anything runs. The configs live with their
//! bindings and sources, above `component/`, which only reads components
//! and knows no kind's fields; so loading with the checks is done here.

use std::path::{Path, PathBuf};

use crate::component::{
    BindingKind, ComponentKind, ConfigErrors, Directions, EnvLookup, FieldError, LoadOptions, Metadata, SecretStoreKind,
};
use crate::idempotency::IdempotencyConfig;
use crate::input::dynamodb_streams::DynamoDbStreamConfig;
use crate::input::kinesis::KinesisSourceConfig;
use crate::input::s3_events::S3EventsConfig;
use crate::input::schedule::CronConfig;
use crate::input::sns::SnsSourceConfig;
use crate::input::webhook::WebhookAuth;
use crate::output::Bindings;
use crate::output::config::{DynamoDbConfig, KinesisConfig, S3Config, SesConfig, SnsConfig, SqsConfig};
use crate::output::http::HttpConfig;
use crate::output::localstorage::LocalStorageConfig;
use crate::output::mailbox::MailboxConfig;

/// `NAMESPACE`, `BINDERY_APP_ID` and the process environment, with [`check`].
pub fn options_from_process_env() -> LoadOptions<'static> {
    LoadOptions::from_process_env(check)
}

impl Bindings {
    /// Loads the components under `path` (a directory or a file) with the
    /// process environment (`NAMESPACE`, `BINDERY_APP_ID`, secrets) and builds
    /// every output binding. Every problem is reported, naming the file, the
    /// component and the field.
    ///
    /// What was set aside (types bindery does not serve, components skipped
    /// by `spec.ignoreErrors`) is logged as warnings.
    pub async fn load(path: &Path) -> Result<Self, ConfigErrors> {
        Self::load_from(&[path.to_owned()]).await
    }

    /// [`Bindings::load`] of several folders or files, as one set.
    pub async fn load_from(paths: &[PathBuf]) -> Result<Self, ConfigErrors> {
        let components = crate::output::secrets::load_components_from(paths, &options_from_process_env()).await?;
        Self::built(components).await
    }

    /// What a function's app may call: the output bindings of the components
    /// under `paths`, with the variables (the environment store's secrets
    /// included) read from `env`. The input-only components are read, not
    /// built: their secrets are another function's, and need not be there.
    pub async fn load_outputs_with(paths: &[PathBuf], env: EnvLookup<'_>) -> Result<Self, ConfigErrors> {
        let options = LoadOptions { env, ..options_from_process_env() };
        let components = crate::output::secrets::load_output_components_from(paths, &options).await?;
        Self::built(components).await
    }

    async fn built(components: crate::component::Components) -> Result<Self, ConfigErrors> {
        components.log_warnings();
        let bindings = Self::from_components(&components).await?;
        bindings.log_warnings();
        Ok(bindings)
    }
}

/// Every problem with a component's metadata, for the directions it serves.
pub fn check(kind: ComponentKind, metadata: &Metadata, directions: Directions) -> Vec<FieldError> {
    match kind {
        ComponentKind::Binding(kind) => {
            let mut errors = check_binding(kind, metadata, directions);
            // Any input binding may ask for idempotent delivery.
            if directions.input {
                errors.extend(problems(IdempotencyConfig::from_metadata(metadata)));
            }
            errors
        }
        ComponentKind::SecretStore(SecretStoreKind::LocalFile) => required(metadata, &["secretsFile"]),
        ComponentKind::SecretStore(
            SecretStoreKind::Env | SecretStoreKind::AwsSecretsManager | SecretStoreKind::AwsParameterStore,
        ) => Vec::new(),
    }
}

fn check_binding(kind: BindingKind, metadata: &Metadata, directions: Directions) -> Vec<FieldError> {
    match kind {
        BindingKind::Cron => problems(CronConfig::from_metadata(metadata)),
        // One config for both sides: each needs the queue, and only the queue.
        BindingKind::AwsSqs => problems(SqsConfig::from_metadata(metadata)),
        BindingKind::Http => sides(
            directions,
            || problems(HttpConfig::from_metadata(metadata)),
            || problems(WebhookAuth::from_metadata(metadata)),
        ),
        BindingKind::AwsS3 => sides(
            directions,
            || problems(S3Config::from_metadata(metadata)),
            || problems(S3EventsConfig::from_metadata(metadata)),
        ),
        BindingKind::AwsSes => problems(SesConfig::from_metadata(metadata)),
        BindingKind::LocalStorage => problems(LocalStorageConfig::from_metadata(metadata)),
        BindingKind::LocalMailbox => problems(MailboxConfig::from_metadata(metadata)),
        BindingKind::AwsSns => sides(
            directions,
            || problems(SnsConfig::from_metadata(metadata)),
            || problems(SnsSourceConfig::from_metadata(metadata)),
        ),
        BindingKind::AwsKinesis => sides(
            directions,
            || problems(KinesisConfig::from_metadata(metadata)),
            || problems(KinesisSourceConfig::from_metadata(metadata)),
        ),
        BindingKind::AwsDynamoDb => sides(
            directions,
            || problems(DynamoDbConfig::from_metadata(metadata)),
            || problems(DynamoDbStreamConfig::from_metadata(metadata)),
        ),
    }
}

/// For a kind with one config per side: the problems of each side the
/// component serves.
fn sides(
    directions: Directions,
    output: impl FnOnce() -> Vec<FieldError>,
    input: impl FnOnce() -> Vec<FieldError>,
) -> Vec<FieldError> {
    let mut errors = if directions.output { output() } else { Vec::new() };
    if directions.input {
        errors.extend(input());
    }
    errors
}

/// A config's problems; none when it reads.
fn problems<T>(config: Result<T, Vec<FieldError>>) -> Vec<FieldError> {
    config.err().unwrap_or_default()
}

fn required(metadata: &Metadata, fields: &[&str]) -> Vec<FieldError> {
    fields.iter().filter_map(|f| metadata.required(f).err()).collect()
}
