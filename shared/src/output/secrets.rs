//! Loading components whose `secretKeyRef`s point at AWS secret stores
//! (Secrets Manager, SSM Parameter Store): each referenced secret is fetched
//! once, concurrently, before the loader resolves the references. Values are
//! never logged.

use std::path::Path;

use crate::component::{Components, ConfigErrors, LoadOptions};

/// Loads the components under `path`, resolving every `secretKeyRef` through
/// its store, AWS stores included.
pub async fn load_components(path: &Path, options: &LoadOptions<'_>) -> Result<Components, ConfigErrors> {
    #[cfg(feature = "aws")]
    {
        let references = crate::component::secret_references(path, options)?;
        if !references.is_empty() {
            let prefetched = aws_stores::fetch(&references).await;
            let options = LoadOptions {
                namespace: options.namespace.clone(),
                app_id: options.app_id.clone(),
                env: options.env,
                prefetched: Some(&prefetched),
            };
            return crate::component::load(path, &options);
        }
    }
    crate::component::load(path, options)
}

#[cfg(feature = "aws")]
mod aws_stores {
    use futures_util::future::join_all;

    use crate::component::stores::{PARAMETER_STORE_TYPE, SECRETS_MANAGER_TYPE};
    use crate::component::{PrefetchedSecrets, SecretReference};
    use crate::output::aws::sdk_config;

    pub(super) async fn fetch(references: &[SecretReference]) -> PrefetchedSecrets {
        let values = join_all(references.iter().map(fetch_one)).await;
        let mut prefetched = PrefetchedSecrets::default();
        for (reference, value) in references.iter().zip(values) {
            prefetched.insert(&reference.store, &reference.name, value);
        }
        prefetched
    }

    async fn fetch_one(reference: &SecretReference) -> Result<String, String> {
        let store = &reference.store;
        let config = sdk_config(&reference.store_metadata).await.map_err(|errors| {
            let reasons: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            format!("secret store {store:?} is misconfigured: {}", reasons.join("; "))
        })?;
        let name = &reference.name;
        let failed = |e: &dyn std::fmt::Display, code: Option<&str>| match code {
            Some("ResourceNotFoundException" | "ParameterNotFound") => {
                format!("secret {name:?} not found in store {store:?}")
            }
            _ => format!("cannot read secret {name:?} from store {store:?}: {e}"),
        };
        match reference.store_type.as_str() {
            SECRETS_MANAGER_TYPE => {
                use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
                let client = aws_sdk_secretsmanager::Client::new(&config);
                let output = client.get_secret_value().secret_id(name).send().await.map_err(|e| {
                    let code = e.code().map(str::to_owned);
                    failed(&aws_sdk_secretsmanager::error::DisplayErrorContext(&e), code.as_deref())
                })?;
                output.secret_string.ok_or_else(|| {
                    format!("secret {name:?} in store {store:?} is binary; only string secrets are read")
                })
            }
            PARAMETER_STORE_TYPE => {
                use aws_sdk_ssm::error::ProvideErrorMetadata;
                let client = aws_sdk_ssm::Client::new(&config);
                let full = format!("{}{name}", reference.store_metadata.get("prefix").unwrap_or(""));
                let output = client.get_parameter().name(&full).with_decryption(true).send().await.map_err(|e| {
                    let code = e.code().map(str::to_owned);
                    failed(&aws_sdk_ssm::error::DisplayErrorContext(&e), code.as_deref())
                })?;
                output
                    .parameter
                    .and_then(|p| p.value)
                    .ok_or_else(|| format!("parameter {full:?} in store {store:?} has no value"))
            }
            other => Err(format!("{other} is not an AWS secret store")),
        }
    }
}
