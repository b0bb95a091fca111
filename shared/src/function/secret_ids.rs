//! Secrets by reference. On Lambda, `bindery infra` gives a function the
//! Secrets Manager ids of the secrets its components read from the
//! environment, never their values: `BINDERY_SECRET_IDS`, a JSON object
//! `{"VARIABLE": "secret name or ARN"}`. The function reads each at init,
//! with its role's credentials (the template grants it those secrets and no
//! other), and its components see the value as that variable.
//! A secret that cannot be read is an init error naming the variable and
//! the secret, never the value.

use serde_json::{Value, json};

use super::startup::StartupError;
use crate::aws_json::{AwsJsonClient, Protocol, error_text};
use crate::component::EnvLookup;
use crate::output::config::AwsConfig;

const SECRET_IDS_VAR: &str = "BINDERY_SECRET_IDS";

const SECRETS_MANAGER: Protocol = Protocol {
    name: "Secrets Manager",
    service: "secretsmanager",
    endpoint_variable: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    target_prefix: "secretsmanager",
    content_type: "application/x-amz-json-1.1",
};

/// The process's environment, with the secrets of `BINDERY_SECRET_IDS` read.
pub(crate) struct FunctionEnvironment {
    secrets: Vec<(String, String)>,
}

impl std::fmt::Debug for FunctionEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.secrets.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("FunctionEnvironment").field("secrets", &names).finish()
    }
}

/// Read once a process: a function that runs its app in-process reads its
/// environment both to find its binding and to set it up.
static READ: tokio::sync::OnceCell<FunctionEnvironment> = tokio::sync::OnceCell::const_new();

impl FunctionEnvironment {
    /// The process's environment, with the secrets `BINDERY_SECRET_IDS`
    /// names read (on the first call; later calls have them).
    pub(crate) async fn read() -> Result<&'static Self, StartupError> {
        let env = |name: &str| std::env::var(name).ok();
        READ.get_or_try_init(|| async { Ok(Self { secrets: fetch(&env).await? }) }).await
    }

    /// A variable: a secret read at init, else the process's own.
    pub(crate) fn var(&self, name: &str) -> Option<String> {
        match self.secrets.iter().find(|(secret, _)| secret == name) {
            Some((_, value)) => Some(value.clone()),
            None => std::env::var(name).ok(),
        }
    }
}

/// Each variable of `BINDERY_SECRET_IDS` and its secret's value.
async fn fetch(env: EnvLookup<'_>) -> Result<Vec<(String, String)>, StartupError> {
    let Some(ids) = env(SECRET_IDS_VAR).filter(|v| !v.trim().is_empty()) else { return Ok(Vec::new()) };
    let ids = parse_ids(&ids)?;
    let client = AwsJsonClient::new(&SECRETS_MANAGER, &AwsConfig::default(), env)
        .map_err(|e| StartupError(format!("reading the secrets of {SECRET_IDS_VAR}: Secrets Manager {e}")))?;
    let mut secrets = Vec::with_capacity(ids.len());
    for (variable, id) in ids {
        let cannot =
            |why: String| StartupError(format!("{variable}: cannot read secret {id:?} from Secrets Manager: {why}"));
        let answer = client.call("GetSecretValue", &json!({ "SecretId": id })).await.map_err(cannot)?;
        let secret = answer.map_err(|error| cannot(error_text(&error)))?;
        let value = secret["SecretString"].as_str().ok_or_else(|| cannot("it holds no SecretString".into()))?;
        secrets.push((variable, value.to_owned()));
    }
    Ok(secrets)
}

/// `{"VARIABLE": "secret id", …}`, each id a non-empty string.
fn parse_ids(text: &str) -> Result<Vec<(String, String)>, StartupError> {
    let invalid = |why: &str| StartupError(format!("{SECRET_IDS_VAR} {why}"));
    let Ok(Value::Object(ids)) = serde_json::from_str::<Value>(text) else {
        return Err(invalid("is not a JSON object of variable names and Secrets Manager secret ids"));
    };
    ids.into_iter()
        .map(|(variable, id)| match id {
            Value::String(id) if !id.is_empty() => Ok((variable, id)),
            _ => Err(invalid(&format!("gives {variable} no secret id (a non-empty string)"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ids_are_a_json_object_of_variables_and_secret_ids() {
        let ids = parse_ids(
            r#"{"GITHUB_SECRET": "prod/github", "TOKEN": "arn:aws:secretsmanager:us-east-1:1:secret:t-AbCdEf"}"#,
        );
        let ids = ids.unwrap();
        assert_eq!(ids[0], ("GITHUB_SECRET".to_owned(), "prod/github".to_owned()));
        assert_eq!(ids[1].1, "arn:aws:secretsmanager:us-east-1:1:secret:t-AbCdEf");
        let error = |text: &str| parse_ids(text).unwrap_err().0;
        assert_eq!(
            error("GITHUB_SECRET=x"),
            "BINDERY_SECRET_IDS is not a JSON object of variable names and Secrets Manager secret ids"
        );
        assert_eq!(error(r#"{"A": ""}"#), "BINDERY_SECRET_IDS gives A no secret id (a non-empty string)");
        assert_eq!(error(r#"{"A": 1}"#), "BINDERY_SECRET_IDS gives A no secret id (a non-empty string)");
    }
}
