//! Dapr's conventions, through the real `bindery` binary, so a Dapr user
//! changes nothing: `dapr run`'s flags (`-d` twice, `-H`, `-G`, `-a`), a
//! resources folder shared with daprd (the YAML of Dapr's own docs: Kafka,
//! Redis state and pub/sub, Cloudflare Queues) loading with one warning,
//! `auth.secretstore` in lower case, `spec.ignoreErrors`, and
//! `spec.initTimeout` cutting short a secret read that never answers.

use std::path::PathBuf;

use crate::common::{ComponentsDir, SECOND, component, cron_component, http_get, http_post, spawn, value};
use bindery_e2e::{FunctionProcess, debug_bin, unused_port};

/// The YAML of Dapr's docs, kept as fixtures of the shared crate.
fn docs(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/components/dapr-docs").join(rel)
}

/// A local file store and a localstorage binding whose `rootPath` is read
/// from it, through `auth: {secretstore: ...}` spelled as Dapr's
/// component-schema page spells it.
fn files_through_a_lower_case_secretstore(dir: &ComponentsDir, root: &str) {
    let secrets = dir.path().join("secrets.json");
    std::fs::write(&secrets, serde_json::json!({ "files-root": root }).to_string()).unwrap();
    dir.write(
        "store.yaml",
        &component("local-secret-store", "secretstores.local.file", &[value("secretsFile", secrets.to_str().unwrap())]),
    );
    dir.write(
        "files.yaml",
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nauth:\n secretstore: local-secret-store\nmetadata:\n  name: files\n\
         spec:\n  type: bindings.localstorage\n  version: v1\n  metadata:\n  - name: rootPath\n    secretKeyRef:\n      \
         name: files-root\n      key: files-root\n",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bindery_run_takes_dapr_runs_flags_and_a_folder_shared_with_daprd() {
    let mine = ComponentsDir::new();
    let data = mine.path().join("data");
    files_through_a_lower_case_secretstore(&mine, data.to_str().unwrap());
    // Scoped to another app: `-a orders` leaves it out, as daprd does.
    mine.write(
        "scoped.yaml",
        &format!("{}scopes:\n- checkout\n", component("others", "bindings.localstorage", &[value("rootPath", "x")])),
    );
    // Fails to start (its MTLSRootCA file is not here), with ignoreErrors.
    // Its good `notify` is renamed: the shared folder has one.
    let ignored = std::fs::read_to_string(docs("ignore-errors/components.yaml")).unwrap();
    mine.write("ignored.yaml", &ignored.replace("name: notify", "name: notify-too"));

    let shared = docs("shared-folder");
    let (http, grpc) = (unused_port(), unused_port());
    let (http_text, grpc_text, shared_text, mine_text) =
        (http.to_string(), grpc.to_string(), shared.display().to_string(), mine.path_str());
    let args = ["run", "-d", &shared_text, "-d", &mine_text, "-H", &http_text, "-G", &grpc_text, "-a", "orders"];
    let mut bindery = FunctionProcess::command(&debug_bin("bindery"), &args, &[]);
    let ready = format!("output API on http://127.0.0.1:{http} and grpc://127.0.0.1:{grpc}");
    assert!(bindery.wait_for_output(&ready, 30 * SECOND).await, "{}", bindery.logs());

    let (status, body) = http_get(&format!("http://127.0.0.1:{http}/v1.0/metadata")).await;
    assert_eq!(status, 200, "{body}");
    let metadata: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(metadata["id"], "orders", "{metadata}");
    let mut names: Vec<&str> =
        metadata["components"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    // `notify` from the shared folder, the store, `files` and the docs' good
    // HTTP binding from mine; not the unserved, the scoped or the skipped.
    assert_eq!(names, ["files", "local-secret-store", "notify", "notify-too"], "{metadata}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", grpc)).is_ok(), "nothing listens on -G {grpc}");

    // `files` has its rootPath from the store named in lower case.
    let request = r#"{"operation":"create","data":"hello","metadata":{"fileName":"a.txt"}}"#;
    let (status, body) = post(http, "files", request).await;
    assert!(status == 200 || status == 204, "{status} {body}");
    assert_eq!(std::fs::read(data.join("a.txt")).unwrap(), b"hello");

    // Calling an unserved component says why it is not there.
    let (status, body) = post(http, "kafka-binding", r#"{"operation":"create","data":"x"}"#).await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("component kafka-binding is bindings.kafka, a type bindery does not serve"), "{body}");
    let (status, body) = post(http, "secured", r#"{"operation":"post","data":"x"}"#).await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("skipped (spec.ignoreErrors)"), "{body}");

    bindery.interrupt();
    assert!(bindery.wait_exit(10 * SECOND).await.is_some_and(|s| s.success()), "{}", bindery.logs());
    let logs = bindery.logs();
    // One warning names every component of a type bindery does not serve.
    let unserved: Vec<&str> = logs.lines().filter(|l| l.contains("of types bindery does not serve")).collect();
    assert_eq!(unserved.len(), 1, "{logs}");
    assert!(
        unserved[0].contains(&format!(
            "4 component(s) of types bindery does not serve, skipped: cf-queue (bindings.cloudflare.queues, \
             {shared_text}/cloudflare-queues.yaml), kafka-binding (bindings.kafka, {shared_text}/kafka-binding.yaml), \
             redis-pubsub (pubsub.redis, {shared_text}/redis-pubsub.yaml), statestore (state.redis, \
             {shared_text}/statestore.yaml)"
        )),
        "{logs}"
    );
    // Each ignoreErrors skip is its own warning, naming file, component and field.
    let ignored = format!("{mine_text}/ignored.yaml");
    for (component, field) in [("nightly", "schedule"), ("secured", "MTLSRootCA")] {
        let needle = format!(
            "skipped because of spec.ignoreErrors: {ignored}: component \"{component}\" (bindings.{}/v1): field \"{field}\"",
            if component == "nightly" { "cron" } else { "http" }
        );
        assert_eq!(logs.matches(&needle).count(), 1, "{needle}\n{logs}");
    }
}

async fn post(port: u16, binding: &str, body: &str) -> (u16, String) {
    let url = format!("http://127.0.0.1:{port}/v1.0/bindings/{binding}");
    http_post(&url, &[("Content-Type", "application/json")], body).await
}

/// A secret store whose endpoint accepts connections and never answers: the
/// SDK would wait out its own timeouts (5 s per attempt, three attempts);
/// the component's `initTimeout: 1s` fails its load first. With
/// `ignoreErrors` it is skipped with a warning; without, the load fails
/// naming the file, the component and the field.
#[tokio::test(flavor = "multi_thread")]
async fn init_timeout_bounds_a_secret_read_that_never_answers() {
    // The kernel completes connections to a listening socket without an
    // accept, so requests sent here are never answered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let dir = ComponentsDir::new();
    let store_items = [
        value("region", "us-east-1"),
        value("endpoint", &endpoint),
        value("accessKey", "test"),
        value("secretKey", "test"),
    ];
    dir.write("store.yaml", &component("params", "secretstores.aws.parameterstore", &store_items));
    let token_from_params = |ignore: bool| {
        format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nauth:\n  secretStore: params\nmetadata:\n  name: notify\n\
             spec:\n  type: bindings.http\n  version: v1\n  initTimeout: 1s\n  ignoreErrors: {ignore}\n  metadata:\n  \
             - name: url\n    value: http://127.0.0.1:9/hooks\n  - name: securityToken\n    secretKeyRef:\n      \
             name: token\n"
        )
    };
    let file = dir.write("notify.yaml", &token_from_params(true));
    let components = dir.path_str();
    let mut validate = FunctionProcess::command(&debug_bin("bindery"), &["validate", "-d", &components], &[]);
    let status = validate.wait_exit(30 * SECOND).await.expect("validate finishes");
    let logs = validate.logs();
    assert!(status.success(), "{logs}");
    assert!(
        logs.contains(&format!(
            "bindery: warning: skipped because of spec.ignoreErrors: {}: component \"notify\" (bindings.http/v1): \
             field \"securityToken\": reading secret \"token\" from store \"params\" took longer than spec.initTimeout (1s)",
            file.display()
        )),
        "{logs}"
    );
    assert!(logs.contains("notify (bindings.http/v1) [skipped: spec.ignoreErrors]"), "{logs}");

    dir.write("notify.yaml", &token_from_params(false));
    let mut validate = FunctionProcess::command(&debug_bin("bindery"), &["validate", "-d", &components], &[]);
    let status = validate.wait_exit(30 * SECOND).await.expect("validate finishes");
    let logs = validate.logs();
    assert_eq!(status.code(), Some(1), "{logs}");
    assert!(
        logs.contains(&format!(
            "bindery: {}: component \"notify\" (bindings.http/v1): field \"securityToken\": reading secret \"token\" \
             from store \"params\" took longer than spec.initTimeout (1s)",
            file.display()
        )),
        "{logs}"
    );
    drop(silent);
}

/// A function over a folder shared with daprd (and one of its own, comma-
/// separated in `BINDERY_COMPONENTS`): it starts with one warning naming the
/// types it does not serve, and fails its init, saying why, when
/// `BINDERY_BINDING` names one of them.
#[tokio::test]
async fn a_function_loads_a_shared_folder_and_refuses_to_serve_an_unserved_type() {
    let shared = docs("shared-folder").display().to_string();
    let mine = ComponentsDir::new();
    mine.write("nightly.yaml", &cron_component("nightly", "@daily", &[]));
    let both = format!("{shared},{}", mine.path_str());

    let env = [("BINDERY_COMPONENTS", both.as_str()), ("BINDERY_BINDING", "nightly")];
    let (api, mut function, _dir) = spawn("bindery-cron", ComponentsDir::new(), &env).await;
    assert!(api.wait_for_next_poll(10 * SECOND).await.is_some(), "{}", function.logs());
    // The output is read on its own threads: wait for the line, then count.
    assert!(function.wait_for_output("of types bindery does not serve", 10 * SECOND).await, "{}", function.logs());
    let logs = function.logs();
    assert_eq!(logs.matches("of types bindery does not serve").count(), 1, "{logs}");
    assert!(logs.contains("kafka-binding (bindings.kafka, ") && logs.contains("statestore (state.redis, "), "{logs}");
    function.kill();

    let env = [("BINDERY_COMPONENTS", both.as_str()), ("BINDERY_BINDING", "kafka-binding")];
    let (api, mut function, _dir) = spawn("bindery-cron", ComponentsDir::new(), &env).await;
    let status = function.wait_exit(10 * SECOND).await.expect("the function stops at init");
    assert!(!status.success());
    let errors = api.init_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let message = errors[0].error_message().unwrap_or_default().to_owned();
    assert_eq!(
        message,
        format!(
            "BINDERY_BINDING is \"kafka-binding\", which cannot be served: {shared}/kafka-binding.yaml: component \
             \"kafka-binding\" is bindings.kafka, a type bindery does not serve (it serves bindings.cron, \
             bindings.aws.sqs, bindings.http, bindings.aws.s3, bindings.aws.ses, bindings.localstorage, \
             bindings.local.mailbox, bindings.aws.sns, bindings.aws.dynamodb, bindings.aws.kinesis)"
        )
    );
}
