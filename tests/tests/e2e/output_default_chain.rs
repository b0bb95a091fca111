//! The AWS output bindings find AWS the way an app on Lambda does: components
//! with no `endpoint`, `region` or keys, run by the real `bindery` CLI, get
//! all three from the SDK's default chain: `AWS_ENDPOINT_URL` (the emulator,
//! checked to be loopback) and the standard key and region variables. The
//! CLI runs in a cleared environment with an empty `HOME`, so no profile,
//! `AWS_PROFILE` or instance role can steer it anywhere else.

use std::process::{Command, Output};

use bindery_e2e::aws::Emulator;
use bindery_e2e::debug_bin;

use crate::common::{ComponentsDir, component, value};

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

    // Nothing about where AWS is or who is calling it.
    let dir = ComponentsDir::new();
    dir.write(
        "objects.yaml",
        &component("objects", "bindings.aws.s3", &[value("bucket", &bucket), value("forcePathStyle", "true")]),
    );
    dir.write("outbox.yaml", &component("outbox", "bindings.aws.sqs", &[value("queueName", &queue)]));
    let components = dir.path_str();
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
