//! Where the deployed functions find their secrets: never in the template.
//!
//! A `secretKeyRef` to the default store (the environment) becomes an
//! environment variable whose value is a CloudFormation dynamic reference to
//! a Secrets Manager secret, named by a template parameter (by default the
//! variable's own name); CloudFormation resolves it at deploy time. A
//! reference to an AWS store is read at run time by the code that has AWS
//! support (the output side), with the IAM statements of [`crate::policies`];
//! the input functions have none, so it is refused on an input binding. A
//! local file store would ship its file in plaintext: refused.

use bindery::component::stores::{ENV_STORE_TYPE, FILE_STORE_TYPE, is_remote};
use bindery::component::{Components, SecretKeyRef};
use serde_json::{Value, json};

use crate::Stack;
use crate::names::logical_id;
use crate::template::sub;

/// The environment variables every function gets, `(name, value)`.
pub(crate) fn environment(stack: &mut Stack, components: &Components, refs: &[SecretKeyRef]) -> Vec<(String, Value)> {
    let mut variables: Vec<(String, Value)> = Vec::new();
    for secret in refs {
        let Some(component) = components.get(&secret.component) else { continue };
        let store = secret.store.as_deref().unwrap_or("the environment");
        match secret.store_type.as_str() {
            ENV_STORE_TYPE => {
                let prefix = secret.store_metadata.get("prefix").unwrap_or_default();
                let variable = format!("{prefix}{}", secret.name);
                if variables.iter().any(|(name, _)| *name == variable) {
                    continue;
                }
                let parameter = format!("Secret{}", logical_id(&variable));
                stack.parameters.insert(
                    parameter.clone(),
                    json!({
                        "Type": "String",
                        "Default": variable,
                        "MinLength": 1,
                        "Description": format!(
                            "The Secrets Manager secret (name or ARN) whose string is {variable}, for component {:?}",
                            component.name
                        ),
                    }),
                );
                variables.push((variable, sub(format!("{{{{resolve:secretsmanager:${{{parameter}}}}}}}"))));
            }
            FILE_STORE_TYPE => stack.refuse(
                component,
                &secret.field,
                format!(
                    "secret store {store:?} is a local file, which a deployment would carry in plaintext: \
                     read {:?} from the default store (the environment, filled from Secrets Manager by \
                     bindery infra) or from secretstores.aws.secretmanager",
                    secret.name
                ),
            ),
            remote if is_remote(remote) && component.directions.input => stack.refuse(
                component,
                &secret.field,
                format!(
                    "the input functions read secrets from their environment only, not from {remote} {store:?}: \
                     remove auth.secretStore, and bindery infra fills the environment from Secrets Manager"
                ),
            ),
            _ => {}
        }
    }
    variables
}
