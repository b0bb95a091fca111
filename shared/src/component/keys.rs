//! Field names in any case, as daprd reads them.
//!
//! daprd decodes a component with `sigs.k8s.io/yaml`, which turns the YAML
//! into JSON and decodes that with Go's `encoding/json`: a key matches a
//! field exactly or, failing that, in any case. So `auth: {secretstore: x}`
//! (the spelling of Dapr's own component-schema page) is `auth.secretStore`,
//! and `spec.IgnoreErrors` is `spec.ignoreErrors`. Before serde reads a
//! document, every key of the Component's shape is put in its canonical
//! spelling here. Where daprd would keep one of two spellings of one field in
//! an undefined order, bindery refuses, naming both.

use serde_json::{Map, Value};

use super::error::FieldError;

const TOP: &[&str] = &["apiVersion", "kind", "metadata", "spec", "auth", "scopes"];
const OBJECT_META: &[&str] = &["name", "namespace"];
const SPEC: &[&str] = &["type", "version", "ignoreErrors", "initTimeout", "metadata"];
const AUTH: &[&str] = &["secretStore"];
const ITEM: &[&str] = &["name", "value", "secretKeyRef", "envRef"];
const SECRET_KEY_REF: &[&str] = &["name", "key"];

/// Renames the keys of a Component document to their canonical spelling;
/// keys of no field are left as they are (serde ignores them, as Go does).
pub(crate) fn canonical(doc: &mut Value) -> Result<(), FieldError> {
    let Value::Object(top) = doc else { return Ok(()) };
    rename(top, TOP, "")?;
    if let Some(Value::Object(meta)) = top.get_mut("metadata") {
        rename(meta, OBJECT_META, "metadata.")?;
    }
    if let Some(Value::Object(auth)) = top.get_mut("auth") {
        rename(auth, AUTH, "auth.")?;
    }
    let Some(Value::Object(spec)) = top.get_mut("spec") else { return Ok(()) };
    rename(spec, SPEC, "spec.")?;
    let Some(Value::Array(items)) = spec.get_mut("metadata") else { return Ok(()) };
    for (index, item) in items.iter_mut().enumerate() {
        let Value::Object(item) = item else { continue };
        let at = format!("spec.metadata[{index}].");
        rename(item, ITEM, &at)?;
        if let Some(Value::Object(reference)) = item.get_mut("secretKeyRef") {
            rename(reference, SECRET_KEY_REF, &format!("{at}secretKeyRef."))?;
        }
    }
    Ok(())
}

/// Puts each key that names one of `fields` in any case under the field's
/// own spelling; `at` is the path of `object`, for the error.
fn rename(object: &mut Map<String, Value>, fields: &[&str], at: &str) -> Result<(), FieldError> {
    for field in fields {
        let spellings: Vec<String> =
            object.keys().filter(|k| k.as_str() != *field && same_name(k, field)).cloned().collect();
        let (Some(first), exact) = (spellings.first(), object.contains_key(*field)) else { continue };
        if exact || spellings.len() > 1 {
            let mut all: Vec<String> = spellings.clone();
            if exact {
                all.insert(0, (*field).to_owned());
            }
            let all: Vec<String> = all.iter().map(|k| format!("{at}{k}")).collect();
            return Err(FieldError {
                kind: super::ConfigErrorKind::Conflict,
                field: format!("{at}{field}"),
                message: format!(
                    "given more than once, as {} (names match in any case, as in Dapr); give it once",
                    all.join(" and ")
                ),
            });
        }
        if let Some(value) = object.remove(first) {
            object.insert((*field).to_owned(), value);
        }
    }
    Ok(())
}

/// Go's `encoding/json` match: equal under Unicode case folding (lower-casing
/// both sides is that, for the ASCII field names of a component).
fn same_name(key: &str, field: &str) -> bool {
    key.to_lowercase() == field.to_lowercase()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_field_matches_in_any_case() {
        let mut doc = json!({
            "APIVERSION": "dapr.io/v1alpha1", "Kind": "Component",
            "Metadata": {"NAME": "orders", "NameSpace": "default"},
            "auth": {"secretstore": "vault"},
            "SPEC": {"Type": "bindings.aws.s3", "VERSION": "v1", "ignoreerrors": true, "INITTIMEOUT": "5s",
                     "metaData": [{"Name": "bucket", "VALUE": "b"},
                                  {"name": "accessKey", "SecretKeyRef": {"NAME": "s", "Key": "k"}},
                                  {"name": "region", "envref": "REGION"}]},
            "Scopes": ["app"],
            "other": 1,
        });
        canonical(&mut doc).unwrap();
        assert_eq!(
            doc,
            json!({
                "apiVersion": "dapr.io/v1alpha1", "kind": "Component",
                "metadata": {"name": "orders", "namespace": "default"},
                "auth": {"secretStore": "vault"},
                "spec": {"type": "bindings.aws.s3", "version": "v1", "ignoreErrors": true, "initTimeout": "5s",
                         "metadata": [{"name": "bucket", "value": "b"},
                                      {"name": "accessKey", "secretKeyRef": {"name": "s", "key": "k"}},
                                      {"name": "region", "envRef": "REGION"}]},
                "scopes": ["app"],
                "other": 1,
            })
        );
    }

    #[test]
    fn two_spellings_of_one_field_are_refused_with_both_named() {
        let mut doc = json!({"auth": {"secretStore": "a", "secretstore": "b"}});
        let error = canonical(&mut doc).unwrap_err();
        assert_eq!(error.field, "auth.secretStore");
        assert_eq!(
            error.message,
            "given more than once, as auth.secretStore and auth.secretstore (names match in any case, as in Dapr); \
             give it once"
        );
        let mut doc = json!({"spec": {"metadata": [{"name": "a", "Value": "1", "VALUE": "2"}]}});
        let error = canonical(&mut doc).unwrap_err();
        assert_eq!(error.field, "spec.metadata[0].value");
        assert!(error.message.contains("spec.metadata[0].VALUE and spec.metadata[0].Value"), "{}", error.message);
    }
}
