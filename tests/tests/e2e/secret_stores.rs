//! `secretKeyRef`s resolved from Secrets Manager and SSM Parameter Store on
//! the emulator, through `bindery::output::secrets::load_components`.

use aws_sdk_ssm::types::ParameterType;
use bindery::component::{Components, ConfigErrors, LoadOptions};
use bindery_e2e::aws::Emulator;

fn env(_: &str) -> Option<String> {
    None
}

/// An HTTP output binding whose `securityToken` comes from `store`.
fn user(name: &str, store: &str, secret: &str, key: Option<&str>) -> String {
    let key = key.map(|k| format!("\n      key: {k}")).unwrap_or_default();
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: bindings.http\n  version: v1\n  \
         metadata:\n  - name: url\n    value: http://127.0.0.1:9\n  - name: securityToken\n    secretKeyRef:\n      \
         name: {secret}{key}\nauth:\n  secretStore: {store}\n---\n"
    )
}

async fn load(documents: &[String]) -> Result<Components, ConfigErrors> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), documents.concat()).unwrap();
    let options =
        LoadOptions { namespace: None, app_id: None, env: &env, prefetched: None, check: bindery::kinds::check };
    bindery::output::secrets::load_components(dir.path(), &options).await
}

fn token(components: &Components, name: &str) -> String {
    components.get(name).unwrap().metadata.get("securityToken").unwrap().to_owned()
}

#[tokio::test]
async fn secrets_manager_whole_strings_and_json_keys() {
    let emulator = Emulator::from_env();
    let client = aws_sdk_secretsmanager::Client::new(&emulator.sdk_config().await);
    let plain = emulator.unique("plain");
    let json = emulator.unique("json");
    client.create_secret().name(&plain).secret_string("s3cr3t").send().await.unwrap();
    client.create_secret().name(&json).secret_string(r#"{"token":"from-json","port":5432}"#).send().await.unwrap();

    let store = emulator.component("aws-secrets", "secretstores.aws.secretmanager", &[]) + "---\n";
    let components = load(&[
        store.clone(),
        user("plain", "aws-secrets", &plain, None),
        user("keyed", "aws-secrets", &json, Some("token")),
        user("number", "aws-secrets", &json, Some("port")),
    ])
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(token(&components, "plain"), "s3cr3t");
    assert_eq!(token(&components, "keyed"), "from-json");
    assert_eq!(token(&components, "number"), "5432");
    assert!(!format!("{:?}", components.get("plain").unwrap()).contains("s3cr3t"));

    let missing = load(&[store, user("missing", "aws-secrets", "no-such-secret", None)]).await.unwrap_err();
    let text = missing.to_string();
    assert!(text.contains("component \"missing\"") && text.contains("securityToken"), "{text}");
    assert!(text.contains("secret \"no-such-secret\" not found in store \"aws-secrets\""), "{text}");
}

#[tokio::test]
async fn parameter_store_with_a_prefix_and_decryption() {
    let emulator = Emulator::from_env();
    let client = aws_sdk_ssm::Client::new(&emulator.sdk_config().await);
    let prefix = format!("/{}/", emulator.unique("app"));
    client
        .put_parameter()
        .name(format!("{prefix}api-token"))
        .value("from-ssm")
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .unwrap();

    let store =
        emulator.component("params", "secretstores.aws.parameterstore", &[("prefix", prefix.as_str())]) + "---\n";
    let components =
        load(&[store.clone(), user("api", "params", "api-token", None)]).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(token(&components, "api"), "from-ssm");

    let missing = load(&[store, user("api", "params", "other", None)]).await.unwrap_err().to_string();
    let full = format!("{prefix}other");
    assert!(
        missing.contains(&format!("secret \"other\" (parameter {full:?}) not found in store \"params\"")),
        "{missing}"
    );
}

#[tokio::test]
async fn multiple_key_values_per_secret_as_in_dapr() {
    let emulator = Emulator::from_env();
    let client = aws_sdk_secretsmanager::Client::new(&emulator.sdk_config().await);
    let name = emulator.unique("db");
    client.create_secret().name(&name).secret_string(r#"{"password":"pw-value"}"#).send().await.unwrap();

    let store =
        emulator.component("multi", "secretstores.aws.secretmanager", &[("multipleKeyValuesPerSecret", "true")])
            + "---\n";
    let components =
        load(&[store.clone(), user("keyed", "multi", &name, Some("password"))]).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(token(&components, "keyed"), "pw-value");
    // As in Dapr, an empty key then means a field named like the secret.
    let unkeyed = load(&[store, user("unkeyed", "multi", &name, None)]).await.unwrap_err().to_string();
    assert!(unkeyed.contains(&format!("has no key {name:?}")), "{unkeyed}");
}

#[tokio::test]
async fn store_problems_name_the_store() {
    let emulator = Emulator::from_env();
    let keyless = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: half\nspec:\n  \
                   type: secretstores.aws.parameterstore\n  version: v1\n  metadata:\n  - name: region\n    \
                   value: us-east-1\n  - name: endpoint\n    value: ENDPOINT\n  - name: accessKey\n    value: test\n---\n"
        .replace("ENDPOINT", &emulator.endpoint);
    let half = load(&[keyless, user("api", "half", "x", None)]).await.unwrap_err().to_string();
    assert!(half.contains("component \"api\"") && half.contains("field \"securityToken\""), "{half}");
    assert!(half.contains("secret store \"half\" is misconfigured: secretKey: accessKey is set"), "{half}");

    // Nothing listens on the discard port: the error says which store could not be reached.
    let closed = emulator
        .component("closed", "secretstores.aws.secretmanager", &[])
        .replace(&emulator.endpoint, "http://127.0.0.1:9")
        + "---\n";
    let unreachable = load(&[closed, user("api", "closed", "x", None)]).await.unwrap_err().to_string();
    assert!(unreachable.contains("cannot read secret \"x\" from store \"closed\": "), "{unreachable}");
}
