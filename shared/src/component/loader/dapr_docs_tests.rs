//! Dapr's conventions, tested with the YAML of Dapr's own documentation
//! (fixtures/components/dapr-docs): several folders, field names in any
//! case, `spec.ignoreErrors`, `spec.initTimeout`, and the component types
//! bindery does not serve.

use std::path::PathBuf;
use std::time::Duration;

use super::*;

fn docs(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/components/dapr-docs").join(rel)
}

fn options() -> LoadOptions<'static> {
    LoadOptions { namespace: None, app_id: None, env: &|_| None, prefetched: None, check: crate::kinds::check }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn a_folder_shared_with_daprd_loads_with_one_warning_naming_what_is_not_served() {
    let components = load(&docs("shared-folder"), &options()).unwrap();
    let names: Vec<&str> = components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["notify"]);
    let unserved: Vec<(&str, &str)> =
        components.unserved().iter().map(|u| (u.name.as_str(), u.type_.as_str())).collect();
    assert_eq!(
        unserved,
        [
            ("cf-queue", "bindings.cloudflare.queues"),
            ("kafka-binding", "bindings.kafka"),
            ("redis-pubsub", "pubsub.redis"),
            ("statestore", "state.redis"),
        ]
    );
    let warnings = components.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let folder = docs("shared-folder");
    assert_eq!(
        warnings[0],
        format!(
            "4 component(s) of types bindery does not serve, skipped: cf-queue (bindings.cloudflare.queues, \
             {0}/cloudflare-queues.yaml), kafka-binding (bindings.kafka, {0}/kafka-binding.yaml), redis-pubsub \
             (pubsub.redis, {0}/redis-pubsub.yaml), statestore (state.redis, {0}/statestore.yaml)",
            folder.display()
        )
    );
    // Their secrets are not read: the Kafka binding's saslPassword and the
    // state store's auth.secretStore (a placeholder) never fail the load.
    let why = components.why_missing("kafka-binding").unwrap();
    assert!(why.ends_with("component \"kafka-binding\" is bindings.kafka, a type bindery does not serve (it serves bindings.cron, bindings.aws.sqs, bindings.http, bindings.aws.s3, bindings.aws.ses, bindings.localstorage, bindings.local.mailbox, bindings.aws.sns, bindings.aws.dynamodb, bindings.aws.kinesis)"), "{why}");
    assert_eq!(components.why_missing("nothing-of-that-name"), None);
}

#[test]
fn the_schema_pages_lower_case_secretstore_reads_the_named_store() {
    let components = load(&docs("schema"), &options()).unwrap();
    let notify = components.get("notify").unwrap();
    assert_eq!(notify.metadata.get("securityToken"), Some("token-from-the-file-store"));
    assert_eq!(notify.init_timeout, Some(Duration::from_secs(300)));
    assert!(!notify.ignore_errors);
    assert!(components.warnings().is_empty(), "{:?}", components.warnings());
}

#[test]
fn every_field_name_matches_in_any_case_and_two_spellings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.yaml",
        "APIVersion: dapr.io/v1alpha1\nKIND: Component\nMetadata:\n  Name: nightly\nSpec:\n  Type: bindings.cron\n  \
         Version: v1\n  InitTimeout: 1m\n  MetaData:\n  - Name: schedule\n    Value: \"@daily\"\n",
    );
    let components = load(dir.path(), &options()).unwrap();
    let nightly = components.get("nightly").unwrap();
    assert_eq!(nightly.metadata.get("schedule"), Some("@daily"));
    assert_eq!(nightly.init_timeout, Some(Duration::from_secs(60)));

    write(
        dir.path(),
        "b.yaml",
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: notify\nauth:\n  secretStore: a\n  \
         secretstore: b\nspec:\n  type: bindings.http\n  version: v1\n  metadata:\n  - name: url\n    value: http://x\n",
    );
    let errors = load(dir.path(), &options()).unwrap_err().to_string();
    assert!(
        errors.contains(&format!(
            "{}: component \"notify\" (?/?): field \"auth.secretStore\": given more than once, as auth.secretStore \
             and auth.secretstore (names match in any case, as in Dapr); give it once",
            dir.path().join("b.yaml").display()
        )),
        "{errors}"
    );
}

#[test]
fn ignore_errors_skips_a_failing_component_with_a_warning() {
    let components = load(&docs("ignore-errors"), &options()).unwrap();
    let names: Vec<&str> = components.iter().map(|c| c.name.as_str()).collect();
    // `secured` loads: its MTLSRootCA is read when its binding is built
    // (see output::registry's test); `nightly` fails here and is skipped.
    assert_eq!(names, ["secured", "notify"]);
    assert!(components.get("secured").unwrap().ignore_errors);
    let warnings = components.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let file = docs("ignore-errors/components.yaml");
    assert!(
        warnings[0].starts_with(&format!(
            "skipped because of spec.ignoreErrors: {}: component \"nightly\" (bindings.cron/v1): field \"schedule\": \
             invalid schedule format \"not a schedule\"",
            file.display()
        )),
        "{warnings:#?}"
    );
    let why = components.why_missing("nightly").unwrap();
    assert!(why.starts_with("it failed to load (and spec.ignoreErrors let the rest go on): "), "{why}");
}

#[test]
fn without_ignore_errors_the_same_failure_fails_the_load() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(docs("ignore-errors/components.yaml")).unwrap().replace("IgnoreErrors: true", "");
    write(dir.path(), "c.yaml", &text);
    let errors = load(dir.path(), &options()).unwrap_err();
    assert_eq!(errors.0.len(), 1, "{errors}");
    assert_eq!(errors.0[0].field.as_deref(), Some("schedule"));
}

#[test]
fn an_init_timeout_that_is_not_a_duration_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let component = |name: &str, timeout: &str, ignore: bool| {
        format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: bindings.http\n  \
             version: v1\n  initTimeout: {timeout}\n  ignoreErrors: {ignore}\n  metadata:\n  - name: url\n    value: http://x\n"
        )
    };
    let text = [
        component("five", "\"5 minutes\"", false),
        component("zero", "0s", false),
        component("bare", "5", false),
        component("skipped", "soon", true),
        component("fine", "1h30m", false),
    ]
    .join("---\n");
    write(dir.path(), "t.yaml", &text);
    let (components, errors) = load_partial(&[dir.path().to_owned()], &options()).unwrap();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let file = dir.path().join("t.yaml");
    let expected = |name: &str, got: &str| {
        format!(
            "{}: component \"{name}\" (bindings.http/v1): field \"spec.initTimeout\": expected a positive duration \
             such as \"5s\", \"1m\" or \"1h30m\", got \"{got}\"",
            file.display()
        )
    };
    assert_eq!(text, [expected("five", "5 minutes"), expected("zero", "0s"), expected("bare", "5")]);
    assert_eq!(components.get("fine").unwrap().init_timeout, Some(Duration::from_secs(5400)));
    assert!(components.get("skipped").is_none());
    assert_eq!(components.ignored().len(), 1);
}

#[test]
fn several_folders_load_as_one_set_and_a_name_in_two_is_a_conflict_naming_both_files() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let http = |name: &str| {
        format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: bindings.http\n  \
             version: v1\n  metadata:\n  - name: url\n    value: http://x\n"
        )
    };
    write(a.path(), "one.yaml", &http("one"));
    write(b.path(), "two.yaml", &http("two"));
    let paths = [a.path().to_owned(), b.path().to_owned()];
    let components = load_paths(&paths, &options()).unwrap();
    let names: Vec<&str> = components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["one", "two"]);
    // The same folder twice is read once.
    let twice = [a.path().to_owned(), a.path().join(".")];
    assert_eq!(load_paths(&twice, &options()).unwrap().len(), 1);
    // A file given beside its folder is read once too.
    let file_and_folder = [a.path().join("one.yaml"), a.path().to_owned()];
    assert_eq!(load_paths(&file_and_folder, &options()).unwrap().len(), 1);

    write(b.path(), "again.yaml", &http("one"));
    let errors = load_paths(&paths, &options()).unwrap_err();
    assert_eq!(
        errors.0.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [format!(
            "{}: component \"one\" (bindings.http/v1): field \"metadata.name\": the name is already used by a \
             component in {}",
            b.path().join("again.yaml").display(),
            a.path().join("one.yaml").display()
        )]
    );
}

#[test]
fn a_secret_store_bindery_cannot_read_is_named_with_its_type() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "v.yaml",
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: vault\nspec:\n  type: secretstores.hashicorp.vault\n  \
         version: v1\n---\napiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: notify\nauth:\n  secretstore: vault\n\
         spec:\n  type: bindings.http\n  version: v1\n  metadata:\n  - name: url\n    value: http://x\n  - name: securityToken\n    \
         secretKeyRef:\n      name: token\n",
    );
    let errors = load(dir.path(), &options()).unwrap_err().to_string();
    assert!(
        errors.contains(
            "field \"securityToken\": auth.secretStore names \"vault\", a secretstores.hashicorp.vault component, which \
             bindery cannot read secrets from"
        ),
        "{errors}"
    );
}
