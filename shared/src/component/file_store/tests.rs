//! The local file store on its own: Dapr's flattening and lookup rules.

use super::*;

const SECRETS: &str = r#"{
    "token": "flat",
    "db": {"password": "nested", "port": 5432, "tls": true, "old": null},
    "hosts": ["a.example", "b.example"],
    "retries": 3
}"#;

fn open_with(text: &str, settings: &[(&str, &str)]) -> Result<FileStore, FieldError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.json");
    std::fs::write(&path, text).unwrap();
    let file = path.display().to_string();
    let mut pairs = vec![("secretsFile", file.as_str())];
    pairs.extend_from_slice(settings);
    FileStore::open(&Metadata::from_pairs(pairs))
}

fn open(settings: &[(&str, &str)]) -> FileStore {
    open_with(SECRETS, settings).unwrap()
}

#[test]
fn single_valued_flattens_objects_and_arrays() {
    let store = open(&[]);
    assert_eq!(store.get("token", None).unwrap(), "flat");
    assert_eq!(store.get("token", Some("token")).unwrap(), "flat");
    assert_eq!(store.get("db:password", None).unwrap(), "nested");
    assert_eq!(store.get("db:port", None).unwrap(), "5432");
    assert_eq!(store.get("db:tls", None).unwrap(), "true");
    assert_eq!(store.get("hosts:1", None).unwrap(), "b.example");
    assert_eq!(store.get("retries", None).unwrap(), "3");
    assert!(store.get("db:old", None).unwrap_err().contains("secret \"db:old\" not found"), "null is no value");

    let dotted = open(&[("nestedSeparator", ".")]);
    assert_eq!(dotted.get("db.password", None).unwrap(), "nested");
    assert!(dotted.get("db:password", None).is_err());
}

#[test]
fn single_valued_keys_must_be_empty_or_the_name() {
    let store = open(&[]);
    let wrong = store.get("db:password", Some("password")).unwrap_err();
    assert!(wrong.contains("multiValued is off") && wrong.contains("key \"password\" must be empty"), "{wrong}");
    let slip = store.get("db", Some("password")).unwrap_err();
    assert!(slip.contains("secret \"db\" not found") && slip.contains("such as \"db:password\""), "{slip}");
    let missing = store.get("nope", None).unwrap_err();
    assert!(missing.starts_with("secret \"nope\" not found in ") && !missing.contains("such as"), "{missing}");
}

#[test]
fn multi_valued_secrets_are_the_top_level_keys() {
    let store = open(&[("multiValued", "true")]);
    assert_eq!(store.get("db", Some("password")).unwrap(), "nested");
    assert_eq!(store.get("db", Some("port")).unwrap(), "5432");
    assert_eq!(store.get("hosts", Some("0")).unwrap(), "a.example");
    // A string is one value under its own name, as Dapr's GetSecret returns it.
    assert_eq!(store.get("token", None).unwrap(), "flat");
    assert_eq!(store.get("token", Some("token")).unwrap(), "flat");
    assert_eq!(store.get("retries", None).unwrap(), "3");
    assert!(store.get("token", Some("other")).unwrap_err().contains("holds one value"));
    let no_key = store.get("db", Some("user")).unwrap_err();
    assert!(no_key.contains("has no key \"user\"") && no_key.contains("its keys: password, port, tls"), "{no_key}");
    // An empty key means the secret's name, which the object does not have.
    assert!(store.get("db", None).unwrap_err().contains("has no key \"db\""));
    assert!(store.get("db:password", None).unwrap_err().contains("not found"));
}

#[test]
fn multi_valued_objects_flatten_below_the_secret() {
    let text = r#"{"app": {"db": {"password": "deep"}, "app": "self"}}"#;
    let store = open_with(text, &[("multiValued", "true"), ("nestedSeparator", "/")]).unwrap();
    assert_eq!(store.get("app", Some("db/password")).unwrap(), "deep");
    assert_eq!(store.get("app", None).unwrap(), "self");
}

#[test]
fn broken_files_name_the_field() {
    let not_json = open_with("{not json", &[]).unwrap_err();
    assert_eq!(not_json.field, "secretsFile");
    assert!(not_json.message.contains("is not valid JSON"), "{}", not_json.message);
    let not_object = open_with(r#"["a"]"#, &[]).unwrap_err();
    assert!(not_object.message.contains("must hold a JSON object"), "{}", not_object.message);
    let twice = open_with(r#"{"a:b": "x", "a": {"b": "y"}}"#, &[]).unwrap_err();
    assert!(twice.message.contains("defines \"a:b\" twice"), "{}", twice.message);
    let bad_flag = open_with("{}", &[("multiValued", "maybe")]).unwrap_err();
    assert_eq!(bad_flag.field, "multiValued");

    let missing = FileStore::open(&Metadata::from_pairs([("secretsFile", "/no/such/secrets.json")])).unwrap_err();
    assert!(missing.message.starts_with("cannot read \"/no/such/secrets.json\": "), "{}", missing.message);
    let relative = FileStore::open(&Metadata::from_pairs([("secretsFile", "no-such-secrets.json")])).unwrap_err();
    let cwd = std::env::current_dir().unwrap();
    assert!(
        relative.message.contains(&format!("(relative to the current directory, {})", cwd.display())),
        "{}",
        relative.message
    );
    let unset = FileStore::open(&Metadata::from_pairs([("nestedSeparator", ".")])).unwrap_err();
    assert_eq!((unset.field.as_str(), unset.kind), ("secretsFile", super::super::error::ConfigErrorKind::MissingField));
}

#[test]
fn debug_shows_names_not_values() {
    let shown = format!("{:?}", open(&[]));
    assert!(shown.contains("db:password") && !shown.contains("nested") && !shown.contains("flat"), "{shown}");
}
