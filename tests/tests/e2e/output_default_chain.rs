//! The AWS output bindings find AWS the way an app on Lambda does: components
//! with no `endpoint`, `region` or keys, run by the real `bindery` CLI, get
//! all three from the SDK's default chain: `AWS_ENDPOINT_URL` (the emulator,
//! checked to be loopback) and the standard key and region variables. The
//! CLI runs in a cleared environment with an empty `HOME`, so no profile,
//! `AWS_PROFILE` or instance role can steer it anywhere else.

use std::process::{Command, Output};

use bindery_e2e::aws::Emulator;
use bindery_e2e::debug_bin;

/// A component of `type_` with `items`, and nothing about where AWS is or
/// who is calling it.
fn component(name: &str, type_: &str, items: &[(&str, &str)]) -> String {
    let items: String = items.iter().map(|(k, v)| format!("    - name: {k}\n      value: \"{v}\"\n")).collect();
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {type_}\n  \
         version: v1\n  metadata:\n{items}"
    )
}

/// `bindery invoke --components <components> args...` with exactly `env`
/// as its environment.
async fn bindery_invoke(env: &[(&'static str, String)], components: &str, args: &[&str]) -> Output {
    let mut command = Command::new(debug_bin("bindery"));
    command.env_clear().envs(env.iter().map(|(k, v)| (k, v))).args(["invoke", "--components", components]).args(args);
    tokio::task::spawn_blocking(move || command.output().expect("run bindery invoke")).await.unwrap()
}

fn succeeded(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "bindery invoke failed ({}): {stderr}", output.status);
    stderr
}

#[tokio::test]
async fn s3_and_sqs_without_endpoint_or_keys_use_the_default_chain() {
    let emulator = Emulator::from_env();
    let bucket = emulator.bucket("chain").await;
    let queue = emulator.unique("chain");
    let sqs = emulator.sqs().await;
    let queue_url = sqs.create_queue().queue_name(&queue).send().await.unwrap().queue_url.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let documents = [
        component("objects", "bindings.aws.s3", &[("bucket", &bucket), ("forcePathStyle", "true")]),
        component("outbox", "bindings.aws.sqs", &[("queueName", &queue)]),
    ];
    std::fs::write(dir.path().join("components.yaml"), documents.join("---\n")).unwrap();
    let components = dir.path().display().to_string();
    let home = tempfile::tempdir().unwrap();
    let env = emulator.default_chain_env(home.path());

    let args = ["objects", "--operation", "create", "--data", "stored through the chain", "--metadata", "key=c.txt"];
    succeeded(&bindery_invoke(&env, &components, &args).await);
    let object = emulator.s3().await.get_object().bucket(&bucket).key("c.txt").send().await.expect("the object");
    assert_eq!(object.body.collect().await.unwrap().into_bytes(), "stored through the chain");

    let args = ["outbox", "--operation", "create", "--data", "queued through the chain"];
    let stderr = succeeded(&bindery_invoke(&env, &components, &args).await);
    let received = sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.unwrap();
    let messages = received.messages.unwrap_or_default();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].body.as_deref(), Some("queued through the chain"));
    let id = messages[0].message_id.as_deref().unwrap();
    assert!(stderr.contains(&format!("messageId: {id}")), "{stderr}");

    // Without the key variables the chain has nothing left to offer: the
    // call fails and nothing is stored.
    let keyless: Vec<_> =
        env.iter().filter(|(k, _)| !matches!(*k, "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY")).cloned().collect();
    let args = ["objects", "--operation", "create", "--data", "unsigned", "--metadata", "key=keyless.txt"];
    let output = bindery_invoke(&keyless, &components, &args).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a call with no credentials succeeded: {stderr}");
    assert!(stderr.to_lowercase().contains("credentials"), "{stderr}");
    let head = emulator.s3().await.head_object().bucket(&bucket).key("keyless.txt").send().await;
    assert!(head.is_err(), "nothing was stored without credentials");
}
