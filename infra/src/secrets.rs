//! Where the deployed functions find their secrets: never in the template,
//! nor in their configuration.
//!
//! A `secretKeyRef` to the default store (the environment) names a
//! variable; the secret behind it is a Secrets Manager secret, named by a
//! template parameter (by default the variable's own name). A function gets
//! the secret's name, not its value, in `BINDERY_SECRET_IDS` (a JSON object
//! of variables and secret names), reads the value at init, and may read
//! that secret and no other. It gets the secrets of its own binding and of
//! the output bindings (and secret stores) its app may use; another input
//! binding's secrets, never. A reference to an AWS store is read at run
//! time by the code that has AWS support (the output side), with the IAM
//! statements of [`crate::policies`]; the input functions have none, so it
//! is refused on an input binding. A local file store would ship its file
//! in plaintext: refused.

use bindery::component::stores::{ENV_STORE_TYPE, FILE_STORE_TYPE, is_remote};
use bindery::component::{Component, Components, SecretKeyRef};
use serde_json::{Value, json};

use crate::Stack;
use crate::names::logical_id;
use crate::template::sub;

/// A variable of the environment store, and the parameter naming its secret.
#[derive(Debug)]
pub(crate) struct EnvSecret {
    /// The component whose `secretKeyRef` names it.
    component: String,
    /// Whether every function may need it: an output binding's, or a
    /// secret store's.
    shared: bool,
    variable: String,
    parameter: String,
}

/// What a function gets to read its secrets: `BINDERY_SECRET_IDS`, and the
/// IAM statement that lets it read those secrets. `None` when it has none.
pub(crate) fn for_function(secrets: &[EnvSecret], component: &Component) -> Option<(Value, Value)> {
    let mut mine: Vec<&EnvSecret> = secrets.iter().filter(|s| s.shared || s.component == component.name).collect();
    mine.sort_by(|a, b| a.variable.cmp(&b.variable));
    mine.dedup_by(|a, b| a.variable == b.variable);
    if mine.is_empty() {
        return None;
    }
    let ids: Vec<String> = mine.iter().map(|s| format!("\"{}\":\"${{{}}}\"", s.variable, s.parameter)).collect();
    let arns: Vec<Value> = mine
        .iter()
        .map(|s| {
            // Secrets Manager ends a secret's ARN with a dash and six characters of its own.
            sub(format!(
                "arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:${{{}}}-??????",
                s.parameter
            ))
        })
        .collect();
    let statement = json!({ "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arns });
    Some((sub(format!("{{{}}}", ids.join(","))), statement))
}

/// The variables of the environment store the components read, each with
/// its template parameter; the refusals of what cannot be deployed.
pub(crate) fn environment(stack: &mut Stack, components: &Components, refs: &[SecretKeyRef]) -> Vec<EnvSecret> {
    let mut variables: Vec<EnvSecret> = Vec::new();
    for secret in refs {
        let Some(component) = components.get(&secret.component) else { continue };
        let store = secret.store.as_deref().unwrap_or("the environment");
        match secret.store_type.as_str() {
            ENV_STORE_TYPE => {
                let prefix = secret.store_metadata.get("prefix").unwrap_or_default();
                let variable = format!("{prefix}{}", secret.name);
                let parameter = format!("Secret{}", logical_id(&variable));
                let shared = component.directions.output || component.kind.binding().is_none();
                let known = stack.parameters.contains(&parameter);
                variables.push(EnvSecret {
                    component: component.name.clone(),
                    shared,
                    variable: variable.clone(),
                    parameter: parameter.clone(),
                });
                if known {
                    continue;
                }
                stack.parameters.insert(
                    parameter.clone(),
                    json!({
                        "Type": "String",
                        "Default": variable,
                        "MinLength": 1,
                        "Description": format!(
                            "The name of the Secrets Manager secret whose string is {variable}, for component {:?}",
                            component.name
                        ),
                    }),
                );
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
