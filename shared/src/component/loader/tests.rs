use std::path::PathBuf;

use super::*;
use crate::component::ConfigErrorKind;

fn fixtures(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/components").join(rel)
}

fn env(name: &str) -> Option<String> {
    match name {
        "GITHUB_WEBHOOK_SECRET" => Some("It's a Secret to Everybody".into()),
        "TEST_REGION" => Some("eu-west-1".into()),
        _ => None,
    }
}

fn options() -> LoadOptions<'static> {
    LoadOptions { namespace: None, app_id: None, env: &env, prefetched: None, check: crate::kinds::check }
}

fn errors(rel: &str) -> Vec<String> {
    load(&fixtures(rel), &options()).unwrap_err().iter().map(ToString::to_string).collect()
}

#[test]
fn tutorial_components_load_unchanged() {
    let components = load(&fixtures("valid"), &options()).unwrap();
    let cron = components.get("cron-binding").unwrap();
    assert_eq!(cron.kind.type_name(), "bindings.cron");
    assert_eq!(cron.namespace.as_deref(), Some("default"));
    assert_eq!(cron.metadata.get("schedule"), Some("*/5 * * * *"));
    assert!(cron.directions.input && cron.directions.explicit && !cron.directions.output);
    assert_eq!(cron.route, "/cron-binding");

    let http = components.get("http-binding").unwrap();
    assert!(http.directions.output && !http.directions.input);
    assert_eq!(http.metadata.get("url"), Some("https://monitoring.example.com/webhooks"));
}

#[test]
fn multi_document_files_with_routes_env_refs_and_secrets() {
    let components = load(&fixtures("valid/inputs.yaml"), &options()).unwrap();
    let names: Vec<&str> = components.iter().map(|c| c.name.as_str()).collect();
    // The Configuration is not a Component; the state store is not bindery's:
    // set aside, and named, so that `validate` and the warning can list it.
    assert_eq!(names, ["task-events", "github-webhook"]);
    let unserved: Vec<(&str, &str)> =
        components.unserved().iter().map(|u| (u.name.as_str(), u.type_.as_str())).collect();
    assert_eq!(unserved, [("statestore", "state.redis")]);
    let sqs = components.get("task-events").unwrap();
    assert_eq!(sqs.route, "/events/tasks");
    assert_eq!(sqs.metadata.get("region"), Some("eu-west-1"));
    let hook = components.get("github-webhook").unwrap();
    assert_eq!(hook.metadata.get("signatureSecret"), Some("It's a Secret to Everybody"));
    assert!(!format!("{hook:?}").contains("Secret to Everybody"), "secrets never reach Debug output");
}

#[test]
fn bad_schedule_names_file_component_and_field() {
    let errors = errors("invalid/bad-schedule.yaml");
    assert_eq!(errors.len(), 1);
    let file = fixtures("invalid/bad-schedule.yaml");
    assert!(
        errors[0].starts_with(&format!(
            "{}: component \"nightly\" (bindings.cron/v1): field \"schedule\": invalid schedule format \"0 0 * * 7\": ",
            file.display()
        )),
        "{}",
        errors[0]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let all = load(&fixtures("invalid/many-problems.yaml"), &options()).unwrap_err();
    let text: Vec<String> = all.iter().map(ToString::to_string).collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    assert!(
        has(
            "component \"no-queue\" (bindings.aws.sqs/v1): field \"direction\": expected \"input\", \"output\" or \"input, output\", got \"inptu\""
        ),
        "{text:#?}"
    );
    // A binding type bindery does not serve is set aside, not an error.
    assert!(!has("mystery"), "{text:#?}");
    assert!(
        has(
            "component \"hook\" (bindings.http/v1): field \"signatureScheme\": a webhook binding must say how requests are verified"
        ),
        "{text:#?}"
    );
    assert!(
        has(
            "component \"secretive\" (bindings.http/v1): field \"signatureSecret\": secret \"NOT_SET_ANYWHERE\" is not set in the environment"
        ),
        "{text:#?}"
    );
    assert_eq!(all.iter().filter(|e| e.kind == ConfigErrorKind::UnknownType).count(), 0);
    assert_eq!(all.iter().filter(|e| e.kind == ConfigErrorKind::SecretUnresolved).count(), 1);
}

/// `load_partial` keeps what `load` would drop on the first bad file: the
/// good components, beside exactly the problems `load` reports.
#[test]
fn load_partial_returns_the_good_components_and_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "valid/cron-binding.yaml",
        "valid/http-binding.yaml",
        "invalid/bad-schedule.yaml",
        "invalid/many-problems.yaml",
    ] {
        let name = file.replace('/', "-");
        std::fs::copy(fixtures(file), dir.path().join(name)).unwrap();
    }
    let strict: Vec<String> = load(dir.path(), &options()).unwrap_err().iter().map(ToString::to_string).collect();

    let (components, problems) = load_partial(&[dir.path().to_owned()], &options()).unwrap();

    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems, strict);
    assert!(problems.iter().any(|p| p.contains("component \"nightly\"")), "{problems:#?}");
    let names: Vec<&str> = components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["cron-binding", "http-binding"]);
    assert!(load_partial(&[fixtures("missing")], &options()).is_err(), "an unreadable path is still an error");
}

#[test]
fn yaml_syntax_errors_name_the_file_and_line() {
    let errors = errors("invalid/syntax.yaml");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with(&fixtures("invalid/syntax.yaml").display().to_string()), "{}", errors[0]);
    // One line, the position then the parser's message: no snippet, no "error:".
    let file = fixtures("invalid/syntax.yaml");
    assert_eq!(errors[0], format!("{}: line 6 column 9: unclosed bracket '['", file.display()));
}

#[test]
fn missing_path_is_an_io_error() {
    let errors = load(&fixtures("nowhere"), &options()).unwrap_err();
    assert_eq!(errors.0[0].kind, ConfigErrorKind::Io);
}

fn write(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bindery-loader-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const CRON: &str = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  type: bindings.cron\n  version: v1\n  metadata:\n  - name: schedule\n    value: \"@every 1m\"\n{scopes}";

fn cron(name: &str, ns: &str, scopes: &str) -> String {
    CRON.replace("{name}", name).replace("{ns}", ns).replace("{scopes}", scopes)
}

#[test]
fn namespace_and_scopes_filter_like_dapr() {
    let dir = temp_dir("filter");
    write(&dir, "a.yaml", &cron("in-ns", "prod", ""));
    write(&dir, "b.yaml", &cron("other-ns", "dev", ""));
    write(&dir, "c.yml", &cron("scoped-to-me", "prod", "scopes:\n- orders\n"));
    write(&dir, "d.yaml", &cron("scoped-to-other", "prod", "scopes:\n- billing\n"));
    write(&dir, "notes.txt", "not yaml");
    let opts = LoadOptions {
        namespace: Some("prod".into()),
        app_id: Some("orders".into()),
        env: &env,
        prefetched: None,
        check: crate::kinds::check,
    };
    let loaded = load(&dir, &opts).unwrap();
    let names: Vec<&str> = loaded.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["in-ns", "scoped-to-me"]);
    // Without NAMESPACE or an app id, everything loads.
    assert_eq!(load(&dir, &options()).unwrap().len(), 4);
}

#[test]
fn duplicate_names_are_a_conflict() {
    let dir = temp_dir("dup");
    write(&dir, "a.yaml", &cron("same", "x", ""));
    write(&dir, "b.yaml", &cron("same", "x", ""));
    let errors = load(&dir, &options()).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    assert_eq!(errors.0[0].kind, ConfigErrorKind::Conflict);
    assert!(errors.0[0].to_string().contains("the name is already used by a component in"));
}

/// Dapr keeps a component's metadata in a map, so of two items with one
/// name the last wins; bindery used to take the first. A webhook whose last
/// `signatureScheme` said `github` then ran with an earlier `none`, and
/// delivered unsigned requests. A name given twice (in any case) is refused.
#[test]
fn a_metadata_name_given_twice_is_a_conflict() {
    let dir = temp_dir("dup-metadata");
    write(
        &dir,
        "hook.yaml",
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: hook\nspec:\n  type: bindings.http\n  version: v1\n  metadata:\n\
         \x20 - name: direction\n    value: input\n\
         \x20 - name: signatureScheme\n    value: none\n\
         \x20 - name: signatureSecret\n    value: s3cr3t\n\
         \x20 - name: SignatureScheme\n    value: github\n",
    );
    let errors = load(&dir, &options()).expect_err("a repeated metadata name must not load");
    assert_eq!(errors.0.len(), 1, "{errors:?}");
    assert_eq!(errors.0[0].kind, ConfigErrorKind::Conflict);
    assert_eq!(
        errors.0[0].to_string(),
        format!(
            "{}: component \"hook\" (bindings.http/v1): field \"spec.metadata[3].name\": \
             \"SignatureScheme\" is already set by spec.metadata[1] (names match in any case); \
             set it once",
            dir.join("hook.yaml").display()
        )
    );
}

/// A value from a secret store that a field refuses is quoted by the
/// field's check ("got ..."), and config errors are printed and sent to
/// Lambda as init errors: they must never show it, in any spelling.
#[test]
fn a_value_from_a_secret_is_never_quoted_in_an_error() {
    let dir = temp_dir("quoted-values");
    let item = |name: &str, var: &str| format!("  - name: {name}\n    secretKeyRef:\n      name: {var}\n");
    let component = |name: &str, type_: &str, items: &str| {
        format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {type_}\n  \
             version: v1\n  metadata:\n{items}---\n"
        )
    };
    let text = [
        component("tick", "bindings.cron", &item("schedule", "SCHEDULE")),
        component(
            "hook",
            "bindings.http",
            &format!(
                "  - name: direction\n    value: input\n  - name: signatureSecret\n    value: x\n{}{}",
                item("signatureScheme", "SCHEME"),
                item("maxBodySize", "SIZE")
            ),
        ),
        component("out", "bindings.http", &item("direction", "DIRECTION")),
    ]
    .concat();
    write(&dir, "c.yaml", &text);
    let env = |name: &str| {
        let value = match name {
            "SCHEDULE" => "SeCrEt-1 every day",
            "SCHEME" => " SeCrEt-2 ",
            "SIZE" => "SeCrEt-3\n",
            "DIRECTION" => "SeCrEt-4",
            _ => return None,
        };
        Some(value.to_owned())
    };
    let options =
        LoadOptions { namespace: None, app_id: None, env: &env, prefetched: None, check: crate::kinds::check };
    let errors = load(&dir, &options).expect_err("every secret value here is refused").to_string();
    assert!(!errors.to_ascii_lowercase().contains("secret-"), "{errors}");
    for field in ["schedule", "signatureScheme", "maxBodySize", "direction"] {
        assert!(errors.contains(&format!("field \"{field}\"")), "{errors}");
    }
}

/// The HTTP binding never shows a URL's user information in an error, but
/// the load-time check of `url` quoted the URL whole, password included.
#[test]
fn a_url_is_quoted_without_its_user_information() {
    let dir = temp_dir("url-userinfo");
    write(
        &dir,
        "c.yaml",
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: notify\nspec:\n  type: bindings.http\n  \
         version: v1\n  metadata:\n  - name: url\n    value: ftp://bot:hunter2@hooks.example.com/x\n",
    );
    let errors = load(&dir, &options()).expect_err("not an http URL").to_string();
    assert!(!errors.contains("hunter2"), "{errors}");
    assert!(errors.contains("got \"ftp://***@hooks.example.com/x\""), "{errors}");
}

#[test]
fn structural_problems_are_named() {
    let dir = temp_dir("shape");
    write(
        &dir,
        "a.yaml",
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  namespace: x\nspec:\n  type: bindings.cron\n---\n\
         apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: v2\nspec:\n  type: bindings.cron\n  version: v2\n  metadata:\n  - name: schedule\n    value: '@daily'\n---\n\
         apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: odd\nspec:\n  type: bindings.cron\n  metadata:\n  - name: schedule\n    value: {a: 1}\n---\n\
         apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: num\nspec:\n  type: bindings.aws.sqs\n  metadata:\n  - name: queueName\n    value: 5\n  - name: direction\n    value: output\n",
    );
    let errors = load(&dir, &options()).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 3, "{text:#?}");
    assert!(text[0].ends_with("field \"metadata.name\": every component needs a name"), "{}", text[0]);
    assert!(text[1].contains("field \"spec.metadata[0].value\": invalid type: map"), "{}", text[1]);
    assert!(
        text[2].ends_with(
            "component \"v2\" (bindings.cron/v2): field \"spec.version\": bindings.cron has version v1 only, got \"v2\""
        ),
        "{}",
        text[2]
    );
}

#[test]
fn output_only_types_refuse_input() {
    let dir = temp_dir("dir");
    write(
        &dir,
        "a.yaml",
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: mail\nspec:\n  type: bindings.aws.ses\n  version: v1\n  metadata:\n  - name: Direction\n    value: input\n",
    );
    let errors = load(&dir, &options()).unwrap_err();
    assert!(
        errors.0[0].to_string().ends_with("field \"direction\": bindings.aws.ses has no input side"),
        "{}",
        errors.0[0]
    );
}

#[test]
fn a_local_file_store_relative_to_the_current_directory() {
    // `cargo test` runs in shared/, where the fixture's relative secretsFile points.
    let components = load(&fixtures("secret-stores"), &options()).unwrap();
    let monitoring = components.get("monitoring").unwrap();
    assert_eq!(monitoring.metadata.get("securityToken"), Some("monitoring-token"));
    let hook = components.get("github-webhook").unwrap();
    assert_eq!(hook.metadata.get("signatureSecret"), Some("It's a Secret to Everybody"));
    assert!(hook.directions.input);
    let shown = format!("{components:?}");
    assert!(!shown.contains("monitoring-token") && !shown.contains("Secret to Everybody"), "{shown}");
    // The store itself is a component too, with neither direction.
    let store = components.get("local-secrets").unwrap();
    assert!(!store.directions.input && !store.directions.output);
}

#[test]
fn bad_secret_references_name_file_component_and_field() {
    let file = fixtures("invalid/bad-secret-refs.yaml");
    let errors = load(&file, &options()).unwrap_err();
    assert!(errors.iter().all(|e| e.kind == ConfigErrorKind::SecretUnresolved), "{errors}");
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let secrets = "fixtures/components/secret-stores/secrets.json";
    let expected = [
        format!(
            "{}: component \"no-store\" (bindings.http/v1): field \"securityToken\": auth.secretStore names \"vault\", \
             but no secret store component has that name",
            file.display()
        ),
        format!(
            "{}: component \"no-secret\" (bindings.http/v1): field \"securityToken\": secret \"pagerduty\" not found \
             in {secrets}",
            file.display()
        ),
        format!(
            "{}: component \"wrong-key\" (bindings.http/v1): field \"securityToken\": {secrets} holds one value per \
             secret (multiValued is off): key \"token\" must be empty or \"webhook\"",
            file.display()
        ),
        format!(
            "{}: component \"object-name\" (bindings.http/v1): field \"securityToken\": secret \"monitoring\" not \
             found in {secrets} (it is an object: name one of its values, such as \"monitoring:token\", or set \
             multiValued to \"true\")",
            file.display()
        ),
    ];
    assert_eq!(text, expected);
}

/// An app's output bindings load without the input bindings' secrets,
/// which are another function's (its own `BINDERY_SECRET_IDS`).
#[test]
fn the_outputs_load_without_an_input_binding_s_secret() {
    fn without_webhook_secret(name: &str) -> Option<String> {
        (name != "GITHUB_WEBHOOK_SECRET").then(|| env(name)).flatten()
    }
    let options = LoadOptions { env: &without_webhook_secret, ..options() };
    let paths = [fixtures("valid")];
    let all = load_paths(&paths, &options).unwrap_err().to_string();
    assert!(all.contains("GITHUB_WEBHOOK_SECRET"), "{all}");

    let outputs = load_outputs(&paths, &options).unwrap_or_else(|e| panic!("{e}"));
    assert!(outputs.get("github-webhook").is_none(), "an input-only binding is not built");
    assert!(outputs.iter().all(|c| c.directions.output), "{:?}", outputs.iter().map(|c| &c.name).collect::<Vec<_>>());
    assert!(outputs.iter().count() > 0);
}
