//! Loading components whose `secretKeyRef`s point at AWS secret stores
//! (Secrets Manager, SSM Parameter Store): each referenced secret is fetched
//! once, concurrently, before the loader resolves the references. Values are
//! never logged.
//!
//! Without the `aws` feature this is [`crate::component::load`], and a
//! reference to an AWS store is a configuration error that says so.

use std::path::{Path, PathBuf};

use crate::component::{Components, ConfigError, ConfigErrors, LoadOptions};

/// Loads the components under `path`, resolving every `secretKeyRef` through
/// its store, AWS stores included.
pub async fn load_components(path: &Path, options: &LoadOptions<'_>) -> Result<Components, ConfigErrors> {
    load_components_from(&[path.to_owned()], options).await
}

/// [`load_components`] of several folders or files, as one set.
pub async fn load_components_from(paths: &[PathBuf], options: &LoadOptions<'_>) -> Result<Components, ConfigErrors> {
    with_remote_secrets(paths, options, crate::component::load_paths).await
}

/// [`load_components_from`] of the components that serve an output (and
/// the secret stores): the input-only ones are read, not built, so their
/// secrets need not be there (see [`crate::component::load_outputs`]).
pub async fn load_output_components_from(
    paths: &[PathBuf],
    options: &LoadOptions<'_>,
) -> Result<Components, ConfigErrors> {
    with_remote_secrets(paths, options, crate::component::load_outputs).await
}

/// [`load_components_from`] that goes on past problems: the components that
/// loaded, and every problem of the others (see [`crate::component::load_partial`]).
pub async fn load_components_partial(
    paths: &[PathBuf],
    options: &LoadOptions<'_>,
) -> Result<(Components, Vec<ConfigError>), ConfigErrors> {
    with_remote_secrets(paths, options, crate::component::load_partial).await
}

/// Runs `load` once the secrets of the AWS stores the components refer to
/// are fetched, each within the `spec.initTimeout` of the components that
/// read it (a read that takes longer fails those components' load).
async fn with_remote_secrets<T>(
    paths: &[PathBuf],
    options: &LoadOptions<'_>,
    load: impl FnOnce(&[PathBuf], &LoadOptions<'_>) -> Result<T, ConfigErrors>,
) -> Result<T, ConfigErrors> {
    #[cfg(feature = "aws")]
    {
        let references = crate::component::secret_references(paths, options)?;
        if !references.is_empty() {
            let prefetched = aws_stores::fetch(&references).await;
            let options = LoadOptions {
                namespace: options.namespace.clone(),
                app_id: options.app_id.clone(),
                env: options.env,
                prefetched: Some(&prefetched),
                check: options.check,
            };
            return load(paths, &options);
        }
    }
    load(paths, options)
}

#[cfg(feature = "aws")]
mod aws_stores {
    use std::time::Duration;

    use aws_config::SdkConfig;
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    use futures_util::future::join_all;
    use tracing::debug;

    use crate::component::stores::{PARAMETER_STORE_TYPE, SECRETS_MANAGER_TYPE};
    use crate::component::{PrefetchedSecrets, SecretReference, within_init_timeout};
    use crate::error_chain::error_chain;
    use crate::output::aws::sdk_config;

    /// Start-up reads are not behind the output retry layer, so the SDK's
    /// standard retries apply (throttling, 5xx); the timeouts make a wrong
    /// endpoint fail start-up within seconds instead of hanging it.
    const ATTEMPTS: u32 = 3;
    const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
    const TIMEOUT: Duration = Duration::from_secs(15);

    /// Fetches every referenced secret; stores are configured once each and
    /// all secrets are read concurrently.
    pub(super) async fn fetch(references: &[SecretReference]) -> PrefetchedSecrets {
        let mut stores: Vec<(&SecretReference, Vec<&SecretReference>)> = Vec::new();
        for reference in references {
            match stores.iter_mut().find(|(first, _)| first.store == reference.store) {
                Some((_, secrets)) => secrets.push(reference),
                None => stores.push((reference, vec![reference])),
            }
        }
        let fetched = join_all(stores.iter().map(|(store, secrets)| fetch_store(store, secrets))).await;
        let mut prefetched = PrefetchedSecrets::default();
        for (reference, value) in fetched.into_iter().flatten() {
            prefetched.insert(&reference.store, &reference.name, value);
        }
        prefetched
    }

    async fn fetch_store<'r>(
        store: &SecretReference,
        secrets: &[&'r SecretReference],
    ) -> Vec<(&'r SecretReference, Result<String, String>)> {
        // Configuring the store waits on no secret in particular: it is bounded
        // only when every secret read through it is, by the longest bound.
        let limit =
            secrets.iter().map(|r| r.init_timeout).collect::<Option<Vec<_>>>().and_then(|l| l.into_iter().max());
        let configured = within_init_timeout(limit, config(store), |limit| {
            format!("configuring secret store {:?} took longer than spec.initTimeout ({limit:?})", store.store)
        })
        .await;
        let config = match configured {
            Ok(config) => config,
            Err(why) => return secrets.iter().map(|r| (*r, Err(why.clone()))).collect(),
        };
        let values = join_all(secrets.iter().map(|reference| async {
            let read = async {
                match reference.store_type.as_str() {
                    SECRETS_MANAGER_TYPE => secrets_manager(&config, reference).await,
                    PARAMETER_STORE_TYPE => parameter(&config, reference).await,
                    other => Err(format!("{other} is not an AWS secret store")),
                }
            };
            let value = within_init_timeout(reference.init_timeout, read, |limit| {
                format!(
                    "reading secret {:?} from store {:?} took longer than spec.initTimeout ({limit:?})",
                    reference.name, reference.store
                )
            })
            .await;
            debug!(store = %reference.store, secret = %reference.name, ok = value.is_ok(), "secret fetched");
            value
        }))
        .await;
        secrets.iter().copied().zip(values).collect()
    }

    /// The store's SDK configuration, with start-up retries and timeouts.
    async fn config(store: &SecretReference) -> Result<SdkConfig, String> {
        let config = sdk_config(&store.store_metadata).await.map_err(|errors| {
            format!(
                "secret store {:?} is misconfigured: {}",
                store.store,
                crate::component::FieldError::summary(&errors)
            )
        })?;
        let timeouts = TimeoutConfig::builder().operation_attempt_timeout(ATTEMPT_TIMEOUT).operation_timeout(TIMEOUT);
        Ok(config
            .into_builder()
            .retry_config(RetryConfig::standard().with_max_attempts(ATTEMPTS))
            .timeout_config(timeouts.build())
            .build())
    }

    /// The message for a failed read: "not found" for the codes that mean it,
    /// otherwise the service's code and message (or the transport error).
    /// `aka` names what was actually asked for when it differs from the secret name.
    fn failure(reference: &SecretReference, aka: &str, code: Option<&str>, detail: String) -> String {
        let (name, store) = (&reference.name, &reference.store);
        match code {
            Some("ResourceNotFoundException" | "ParameterNotFound") => {
                format!("secret {name:?}{aka} not found in store {store:?}")
            }
            _ => format!("cannot read secret {name:?} from store {store:?}: {detail}"),
        }
    }

    async fn secrets_manager(config: &SdkConfig, reference: &SecretReference) -> Result<String, String> {
        use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
        let client = aws_sdk_secretsmanager::Client::new(config);
        let name = &reference.name;
        let output = client
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .map_err(|e| failure(reference, "", e.code(), error_chain(&e)))?;
        output.secret_string.ok_or_else(|| {
            format!("secret {name:?} in store {:?} is binary; only string secrets are read", reference.store)
        })
    }

    /// Dapr's parameter store: `prefix` + name, decrypted.
    async fn parameter(config: &SdkConfig, reference: &SecretReference) -> Result<String, String> {
        use aws_sdk_ssm::error::ProvideErrorMetadata;
        let client = aws_sdk_ssm::Client::new(config);
        let full = format!("{}{}", reference.store_metadata.get("prefix").unwrap_or_default(), reference.name);
        let aka = if full == *reference.name { String::new() } else { format!(" (parameter {full:?})") };
        let output = client
            .get_parameter()
            .name(&full)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| failure(reference, &aka, e.code(), error_chain(&e)))?;
        output
            .parameter
            .and_then(|p| p.value)
            .ok_or_else(|| format!("parameter {full:?} in store {:?} has no value", reference.store))
    }
}
