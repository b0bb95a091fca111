//! Secret stores through the loader, from YAML files as users write them.

use std::path::Path;

use super::*;
use crate::component::{LoadOptions, load};

fn env(name: &str) -> Option<String> {
    (name == "API_TOKEN").then(|| "from-env".to_owned())
}

fn write(dir: &Path, yaml: &str) -> std::path::PathBuf {
    let file = dir.join("components.yaml");
    std::fs::write(&file, yaml).unwrap();
    file
}

fn store(name: &str, type_: &str, items: &str) -> String {
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {type_}\n  version: v1\n  metadata:\n{items}---\n"
    )
}

/// An HTTP output binding whose `securityToken` is `secretKeyRef{name, key}` in `store`.
fn user(store: &str, name: &str, key: Option<&str>) -> String {
    let key = key.map(|k| format!("\n      key: {k}")).unwrap_or_default();
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: api\nspec:\n  type: bindings.http\n  version: v1\n  \
         metadata:\n  - name: url\n    value: http://127.0.0.1:9\n  - name: securityToken\n    secretKeyRef:\n      \
         name: {name}{key}\nauth:\n  secretStore: {store}\n"
    )
}

fn token(yaml: &str, prefetched: Option<&PrefetchedSecrets>) -> Result<String, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), yaml);
    let options = LoadOptions { namespace: None, app_id: None, env: &env, prefetched, check: crate::kinds::check };
    match load(&file, &options) {
        Ok(components) => {
            let api = components.get("api").unwrap();
            assert!(!format!("{api:?}").contains(api.metadata.get("securityToken").unwrap()), "redacted in Debug");
            Ok(api.metadata.get("securityToken").unwrap().to_owned())
        }
        Err(errors) => Err(errors.iter().map(ToString::to_string).collect()),
    }
}

fn secrets_file(dir: &Path) -> String {
    let path = dir.join("secrets.json");
    std::fs::write(&path, r#"{"token": "flat", "db": {"password": "nested", "port": 5432}}"#).unwrap();
    path.display().to_string()
}

#[test]
fn local_file_single_valued_flattens_with_the_separator() {
    let dir = tempfile::tempdir().unwrap();
    let file = secrets_file(dir.path());
    let stores = |sep: &str| {
        let sep =
            if sep.is_empty() { String::new() } else { format!("  - name: nestedSeparator\n    value: \"{sep}\"\n") };
        store("files", FILE_STORE_TYPE, &format!("  - name: secretsFile\n    value: {file}\n{sep}"))
    };
    assert_eq!(token(&(stores("") + &user("files", "token", None)), None).unwrap(), "flat");
    assert_eq!(token(&(stores("") + &user("files", "db:password", Some("db:password"))), None).unwrap(), "nested");
    assert_eq!(token(&(stores("") + &user("files", "db:port", None)), None).unwrap(), "5432");
    assert_eq!(token(&(stores(".") + &user("files", "db.password", None)), None).unwrap(), "nested");

    let wrong_key = token(&(stores("") + &user("files", "token", Some("password"))), None).unwrap_err();
    assert!(wrong_key[0].contains("multiValued is off"), "{wrong_key:?}");
    let missing = token(&(stores("") + &user("files", "nope", None)), None).unwrap_err();
    assert!(missing[0].contains("component \"api\"") && missing[0].contains("securityToken"), "{missing:?}");
    assert!(missing[0].contains("secret \"nope\" not found"), "{missing:?}");
}

#[test]
fn local_file_multi_valued_picks_keys_below_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let file = secrets_file(dir.path());
    let files = store(
        "files",
        FILE_STORE_TYPE,
        &format!("  - name: secretsFile\n    value: {file}\n  - name: multiValued\n    value: \"true\"\n"),
    );
    assert_eq!(token(&(files.clone() + &user("files", "db", Some("password"))), None).unwrap(), "nested");
    assert_eq!(token(&(files.clone() + &user("files", "token", None)), None).unwrap(), "flat");
    assert!(token(&(files + &user("files", "db", Some("user"))), None).is_err());
}

#[test]
fn broken_file_stores_are_reported_on_the_store_and_its_users() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    for (value, why) in
        [(bad.display().to_string(), "is not valid JSON"), ("/no/such/secrets.json".to_owned(), "cannot read")]
    {
        let yaml = store("files", FILE_STORE_TYPE, &format!("  - name: secretsFile\n    value: {value}\n"))
            + &user("files", "token", None);
        let errors = token(&yaml, None).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].contains("component \"files\"") && errors[0].contains("secretsFile") && errors[0].contains(why)
        );
        assert!(errors[1].contains("component \"api\"") && errors[1].contains("could not be opened"), "{errors:?}");
    }
    let no_file =
        store("files", FILE_STORE_TYPE, "  - name: nestedSeparator\n    value: \".\"\n") + &user("files", "t", None);
    let errors = token(&no_file, None).unwrap_err();
    assert!(errors.iter().any(|e| e.contains("component \"files\"") && e.contains("secretsFile")), "{errors:?}");
}

#[test]
fn env_store_unknown_stores_and_remote_stores() {
    let env_store = store("env", ENV_STORE_TYPE, "    []\n");
    assert_eq!(token(&(env_store + &user("env", "API_TOKEN", None)), None).unwrap(), "from-env");

    let unknown = token(&user("vault", "x", None), None).unwrap_err();
    assert!(unknown[0].contains("no secret store component has that name"), "{unknown:?}");

    let aws = store("aws", SECRETS_MANAGER_TYPE, "  - name: region\n    value: us-east-1\n")
        + &user("aws", "api", Some("token"));
    let without = token(&aws, None).unwrap_err();
    assert!(without[0].contains("is read from AWS"), "{without:?}");

    let mut fetched = PrefetchedSecrets::default();
    fetched.insert("aws", "api", Ok(r#"{"token":"from-json","n":1}"#.to_owned()));
    assert_eq!(token(&aws, Some(&fetched)).unwrap(), "from-json");
    let whole = store("aws", SECRETS_MANAGER_TYPE, "    []\n") + &user("aws", "api", None);
    assert_eq!(token(&whole, Some(&fetched)).unwrap(), r#"{"token":"from-json","n":1}"#);
    let missing_key = store("aws", SECRETS_MANAGER_TYPE, "    []\n") + &user("aws", "api", Some("nope"));
    assert!(token(&missing_key, Some(&fetched)).unwrap_err()[0].contains("has no key \"nope\""));

    let mut failed = PrefetchedSecrets::default();
    failed.insert("aws", "api", Err("secret \"api\" not found in store \"aws\"".to_owned()));
    let error = token(&aws, Some(&failed)).unwrap_err();
    assert!(error[0].contains("component \"api\"") && error[0].contains("not found in store"), "{error:?}");
}

#[test]
fn references_list_each_remote_secret_once() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = store("ssm", PARAMETER_STORE_TYPE, "  - name: prefix\n    value: /prod/\n")
        + &user("ssm", "token", None).replace("name: api", "name: one")
        + "---\n"
        + &user("ssm", "token", None).replace("name: api", "name: two");
    let file = write(dir.path(), &yaml);
    let options =
        LoadOptions { namespace: None, app_id: None, env: &env, prefetched: None, check: crate::kinds::check };
    let references = crate::component::secret_references(std::slice::from_ref(&file), &options).unwrap();
    assert_eq!(references.len(), 1);
    assert_eq!((references[0].store.as_str(), references[0].name.as_str()), ("ssm", "token"));
    assert_eq!(references[0].store_metadata.get("prefix"), Some("/prod/"));
}

#[test]
fn named_env_stores_take_a_prefix_and_refuse_runtime_tokens() {
    let prefixed = store("env", ENV_STORE_TYPE, "  - name: prefix\n    value: API_\n");
    assert_eq!(token(&(prefixed.clone() + &user("env", "TOKEN", None)), None).unwrap(), "from-env");
    let unset = token(&(prefixed + &user("env", "OTHER", None)), None).unwrap_err();
    assert!(unset[0].contains("secret \"OTHER\" (variable \"API_OTHER\") is not set"), "{unset:?}");
    let runtime = token(&user("", "DAPR_API_TOKEN", None).replace("auth:\n  secretStore: \n", ""), None).unwrap_err();
    assert!(runtime[0].contains("field \"securityToken\"") && runtime[0].contains("runtime's own"), "{runtime:?}");
}

fn fetched(value: &str) -> PrefetchedSecrets {
    let mut fetched = PrefetchedSecrets::default();
    fetched.insert("aws", "api", Ok(value.to_owned()));
    fetched
}

#[test]
fn secrets_manager_keys_with_and_without_multiple_key_values() {
    let plain = store("aws", SECRETS_MANAGER_TYPE, "    []\n");
    let multi = store("aws", SECRETS_MANAGER_TYPE, "  - name: multipleKeyValuesPerSecret\n    value: \"true\"\n");
    let raw = r#"{"api":"self-value","token":"token-value"}"#;
    let json = fetched(raw);
    let text = fetched("not json");

    assert_eq!(token(&(plain.clone() + &user("aws", "api", Some("api"))), Some(&json)).unwrap(), raw);
    assert_eq!(token(&(multi.clone() + &user("aws", "api", Some("token"))), Some(&json)).unwrap(), "token-value");
    // Dapr: with multipleKeyValuesPerSecret an empty key means the name, a field of the JSON.
    assert_eq!(token(&(multi.clone() + &user("aws", "api", None)), Some(&json)).unwrap(), "self-value");
    // ... and a secret that is not a JSON object stays one value.
    assert_eq!(token(&(multi.clone() + &user("aws", "api", None)), Some(&text)).unwrap(), "not json");
    let picked = token(&(plain + &user("aws", "api", Some("token"))), Some(&text)).unwrap_err();
    assert!(picked[0].contains("is not a JSON object, so key \"token\" cannot be picked"), "{picked:?}");
    let no_name =
        token(&(multi + &user("aws", "api", None)), Some(&fetched(r#"{"token":"token-value"}"#))).unwrap_err();
    assert!(no_name[0].contains("an empty key means the secret's name); its keys: token"), "{no_name:?}");
}

#[test]
fn parameters_hold_one_value_and_unfetched_secrets_are_named() {
    let ssm = store("aws", PARAMETER_STORE_TYPE, "    []\n");
    let value = fetched("param-value");
    assert_eq!(token(&(ssm.clone() + &user("aws", "api", None)), Some(&value)).unwrap(), "param-value");
    assert_eq!(token(&(ssm.clone() + &user("aws", "api", Some("api"))), Some(&value)).unwrap(), "param-value");
    let keyed = token(&(ssm.clone() + &user("aws", "api", Some("k"))), Some(&value)).unwrap_err();
    assert!(keyed[0].contains("holds one value per secret: key \"k\" must be empty"), "{keyed:?}");
    let other = token(&(ssm + &user("aws", "other", None)), Some(&value)).unwrap_err();
    assert!(other[0].contains("secret \"other\" of store \"aws\" was not fetched"), "{other:?}");
    let shown = format!("{value:?}");
    assert!(shown.contains("\"api\"") && shown.contains("fetched") && !shown.contains("param-value"), "{shown}");
}

#[test]
fn references_skip_local_stores_and_filtered_components() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = store("sm", SECRETS_MANAGER_TYPE, "    []\n")
        + &store("ssm", PARAMETER_STORE_TYPE, "    []\n")
        + &store("env", ENV_STORE_TYPE, "    []\n")
        + &user("sm", "a", Some("field")).replace("name: api", "name: one")
        + "---\n"
        + &user("ssm", "b", None).replace("name: api", "name: two")
        + "---\n"
        + &user("env", "API_TOKEN", None).replace("name: api", "name: three")
        + "---\n"
        + &user("sm", "hidden", None).replace("name: api", "name: four\n  namespace: other");
    let file = write(dir.path(), &yaml);
    let options = LoadOptions {
        namespace: Some("prod".into()),
        app_id: None,
        env: &env,
        prefetched: None,
        check: crate::kinds::check,
    };
    let references = crate::component::secret_references(std::slice::from_ref(&file), &options).unwrap();
    let listed: Vec<(&str, &str, &str)> =
        references.iter().map(|r| (r.store.as_str(), r.store_type.as_str(), r.name.as_str())).collect();
    assert_eq!(listed, [("sm", SECRETS_MANAGER_TYPE, "a"), ("ssm", PARAMETER_STORE_TYPE, "b")]);
}
