//! Secrets by reference: a function given the Secrets Manager names of its
//! secrets (`BINDERY_SECRET_IDS`, as `bindery infra` writes it) reads them
//! at init from the emulator, never from its configuration; one it cannot
//! read stops it at init, the variable and the secret named.

use bindery_e2e::InvokeOptions;
use bindery_e2e::RecordingApp;
use bindery_e2e::aws::Emulator;
use serde_json::json;

use crate::common::webhook::{BIN, BODY, SECRET, accepted, github_event, github_signature};
use crate::common::{ComponentsDir, Running, component, secret, value};
use crate::startup::init_error;

/// The GitHub webhook component, its secret read from `GITHUB_SECRET`.
fn webhook_components() -> ComponentsDir {
    let items =
        [value("direction", "input"), value("signatureScheme", "github"), secret("signatureSecret", "GITHUB_SECRET")];
    ComponentsDir::with("github-webhook.yaml", &component("github-webhook", "bindings.http", &items))
}

#[tokio::test]
async fn a_function_reads_its_secret_from_secrets_manager_at_init() {
    let emulator = Emulator::from_env();
    let client = aws_sdk_secretsmanager::Client::new(&emulator.sdk_config().await);
    let name = emulator.unique("github-webhook-secret");
    client.create_secret().name(&name).secret_string(SECRET).send().await.unwrap();
    let app = RecordingApp::start().await;
    app.set_reply(|_| accepted());

    let home = tempfile::tempdir().unwrap();
    let aws = emulator.default_chain_env(home.path());
    let ids = json!({ "GITHUB_SECRET": name }).to_string();
    let url = app.url();
    let mut env: Vec<(&str, &str)> = aws.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend([
        ("BINDERY_BINDING", "github-webhook"),
        ("BINDERY_APP_URL", url.as_str()),
        ("BINDERY_SECRET_IDS", &ids),
    ]);
    let f = Running::start(BIN, webhook_components(), &env).await;

    let signed = f.invoke(&github_event(BODY.as_bytes()), InvokeOptions::default()).await.response();
    assert_eq!(signed["statusCode"], 202, "signed with the secret from Secrets Manager: {signed}");
    let mut forged = github_event(BODY.as_bytes());
    forged["headers"]["x-hub-signature-256"] = json!(github_signature(b"another body"));
    assert_eq!(f.invoke(&forged, InvokeOptions::default()).await.response()["statusCode"], 401);
    assert_eq!(app.requests().len(), 1);
    assert!(!f.function.logs().contains(SECRET), "{}", f.function.logs());
}

#[tokio::test]
async fn a_secret_it_cannot_read_is_an_init_error_naming_the_variable_and_the_secret() {
    let emulator = Emulator::from_env();
    let home = tempfile::tempdir().unwrap();
    let aws = emulator.default_chain_env(home.path());
    let missing = emulator.unique("no-such-secret");
    let ids = json!({ "GITHUB_SECRET": missing }).to_string();
    let mut env: Vec<(&str, &str)> = aws.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend([("BINDERY_BINDING", "github-webhook"), ("BINDERY_SECRET_IDS", &ids)]);
    let message = init_error(BIN, webhook_components(), &env).await;
    assert!(message.contains("GITHUB_SECRET: cannot read secret"), "{message}");
    assert!(message.contains(&missing) && message.contains("ResourceNotFoundException"), "{message}");
}

/// An app in the function's process loads its output bindings without the
/// other input bindings' secrets: deployed, the cron function is not given
/// the webhook's, and starts all the same.
#[tokio::test]
async fn an_in_process_app_starts_without_another_input_binding_s_secret() {
    let components = ComponentsDir::new();
    let example = bindery_e2e::workspace().join("examples/task-api/components/aws");
    for entry in std::fs::read_dir(example).unwrap() {
        let path = entry.unwrap().path();
        components.write(path.file_name().unwrap().to_str().unwrap(), &std::fs::read_to_string(&path).unwrap());
    }
    let env = [("BINDERY_BINDING", "cron-binding"), ("AWS_REGION", "us-east-1")];
    // Panics, with the init error, unless the function asks for an invocation.
    let f = Running::start("task-api-lambda", components, &env).await;
    assert!(!f.function.logs().contains("GITHUB_WEBHOOK_SECRET"), "{}", f.function.logs());
}
