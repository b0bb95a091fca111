//! The DynamoDB output binding against moto, loaded from component YAML as an
//! app loads it. Each put item is read back with boto3 in DynamoDB's typed
//! form, so the attribute types Dapr's mapping gives are checked exactly.

use bindery::output::{Bindings, ErrorKind, InvokeRequest};
use bindery_e2e::aws::{Emulator, load_bindings};
use serde_json::{Value, json};

use crate::common::{ComponentsDir, bindery_invoke, bindery_sidecar};
use crate::python_sdk::{call, python_calls};

/// A table keyed by the string `id`.
async fn table(emulator: &Emulator) -> String {
    let name = emulator.unique("tasks");
    emulator.boto3(json!({"op": "dynamodb_table", "name": name})).await;
    name
}

/// The item with key `id`, typed (`{"S": ...}`), read by boto3; null when absent.
async fn stored(emulator: &Emulator, table: &str, id: &str) -> Value {
    emulator.boto3(json!({"op": "dynamodb_get", "table": table, "id": id})).await
}

async fn binding(emulator: &Emulator, table: &str) -> (Bindings, tempfile::TempDir) {
    load_bindings(&[emulator.component("tasks", "bindings.aws.dynamodb", &[("table", table)])]).await
}

#[tokio::test]
async fn create_puts_the_item_with_dapr_s_types() {
    let emulator = Emulator::from_env();
    let table = table(&emulator).await;
    let (bindings, _dir) = binding(&emulator, &table).await;
    let data = r#"{"id":"t-1","title":"write","empty":"","count":3,"ratio":0.25,"big":1e21,"tiny":1.5e-7,
        "huge":12345678901234567890,"done":false,"none":null,"tags":["a",1,[]],"meta":{"by":{"x":true}},"blank":{}}"#;
    let response = bindings.invoke("tasks", InvokeRequest::new("create", data)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response, None, "no response, as Dapr (the HTTP API's 204)");
    let item = stored(&emulator, &table, "t-1").await;
    assert_eq!(
        item,
        json!({
            "id": {"S": "t-1"}, "title": {"S": "write"}, "empty": {"S": ""},
            "count": {"N": "3"}, "ratio": {"N": "0.25"}, "big": {"N": "1000000000000000000000"},
            "tiny": {"N": "0.00000015"}, "huge": {"N": "12345678901234567000"},
            "done": {"BOOL": false}, "none": {"NULL": true},
            "tags": {"L": [{"S": "a"}, {"N": "1"}, {"L": []}]},
            "meta": {"M": {"by": {"M": {"x": {"BOOL": true}}}}}, "blank": {"M": {}}
        })
    );
}

#[tokio::test]
async fn get_reads_plain_json_and_delete_removes() {
    let emulator = Emulator::from_env();
    let table = table(&emulator).await;
    let (bindings, _dir) = binding(&emulator, &table).await;
    // Written by another writer, with types Dapr never writes (sets, binary, 38 digits).
    let item = json!({"id": {"S": "t-2"}, "n": {"N": "12345678901234567890123456789012345678"},
                      "ss": {"SS": ["b", "a"]}, "bin": {"B": "aGk="}, "m": {"M": {"ok": {"BOOL": true}}}});
    emulator.boto3(json!({"op": "dynamodb_put", "table": table, "item": item})).await;

    let got = bindings
        .invoke("tasks", InvokeRequest::new("get", r#"{"id":"t-2"}"#).with_metadata("consistentRead", "true"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .expect("the item");
    assert_eq!(got.content_type.as_deref(), Some("application/json"));
    let text = String::from_utf8(got.data.to_vec()).unwrap();
    assert!(text.contains(r#""n":12345678901234567890123456789012345678"#), "every digit kept: {text}");
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["id"], "t-2");
    assert_eq!(value["bin"], "aGk=");
    assert_eq!(value["m"], json!({"ok": true}));
    let mut set: Vec<&str> = value["ss"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    set.sort_unstable();
    assert_eq!(set, ["a", "b"]);

    assert_eq!(bindings.invoke("tasks", InvokeRequest::new("delete", r#"{"id":"t-2"}"#)).await.unwrap(), None);
    assert_eq!(stored(&emulator, &table, "t-2").await, Value::Null);
    let missing = bindings.invoke("tasks", InvokeRequest::new("get", r#"{"id":"t-2"}"#)).await.unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert_eq!(missing.message, format!("dynamodb binding error: no item in table {table} has that key"));
    assert_eq!(bindings.invoke("tasks", InvokeRequest::new("delete", r#"{"id":"t-2"}"#)).await.unwrap(), None);
}

#[tokio::test]
async fn a_conditional_put_writes_only_when_its_condition_holds() {
    let emulator = Emulator::from_env();
    let table = table(&emulator).await;
    let (bindings, _dir) = binding(&emulator, &table).await;
    let put_new = |data: &str| {
        InvokeRequest::new("create", data.to_owned())
            .with_metadata("conditionExpression", "attribute_not_exists(#k)")
            .with_metadata("expressionAttributeNames", r##"{"#k":"id"}"##)
    };
    bindings.invoke("tasks", put_new(r#"{"id":"t-3","v":1}"#)).await.unwrap_or_else(|e| panic!("{e}"));
    let error = bindings.invoke("tasks", put_new(r#"{"id":"t-3","v":2}"#)).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadRequest, "{error}");
    assert!(error.message.starts_with("dynamodb binding error: ConditionalCheckFailedException"), "{error}");
    assert_eq!(stored(&emulator, &table, "t-3").await["v"], json!({"N": "1"}), "the first item stays");

    let if_version = |v: u32, data: &str| {
        InvokeRequest::new("create", data.to_owned())
            .with_metadata("conditionExpression", "v = :v")
            .with_metadata("expressionAttributeValues", format!(r#"{{":v":{v}}}"#))
    };
    bindings.invoke("tasks", if_version(1, r#"{"id":"t-3","v":2}"#)).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(bindings.invoke("tasks", if_version(1, r#"{"id":"t-3","v":9}"#)).await.is_err());
    assert_eq!(stored(&emulator, &table, "t-3").await["v"], json!({"N": "2"}));

    // The typed helper: put, put_new, get and delete.
    let tasks = bindings.table("tasks");
    tasks.put_new(&json!({"id": "t-4", "title": "typed"}), "id").await.unwrap_or_else(|e| panic!("{e}"));
    let again = tasks.put_new(&json!({"id": "t-4"}), "id").await.unwrap_err();
    assert_eq!(again.kind, ErrorKind::BadRequest);
    assert_eq!(tasks.get(&json!({"id": "t-4"})).await.unwrap(), Some(json!({"id": "t-4", "title": "typed"})));
    tasks.put(&json!({"id": "t-4", "title": "replaced"})).await.unwrap();
    assert_eq!(tasks.get(&json!({"id": "t-4"})).await.unwrap().unwrap()["title"], "replaced");
    tasks.delete(&json!({"id": "t-4"})).await.unwrap();
    assert_eq!(tasks.get(&json!({"id": "t-4"})).await.unwrap(), None);
}

#[tokio::test]
async fn bad_items_and_a_missing_table_fail_clearly() {
    let emulator = Emulator::from_env();
    let table = table(&emulator).await;
    let (bindings, _dir) = binding(&emulator, &table).await;
    let refused = |operation: &str, data: &str| {
        let request = InvokeRequest::new(operation, data.to_owned());
        let bindings = &bindings;
        async move {
            let error = bindings.invoke("tasks", request).await.unwrap_err();
            assert_eq!(error.kind, ErrorKind::BadRequest, "{error}");
            error.message
        }
    };
    for data in [r#""text""#, "[1]", "null", "plain"] {
        assert_eq!(refused("create", data).await, "dynamodb binding error: data must be the item as a JSON object");
    }
    assert_eq!(
        refused("create", r#"{"id":"x","":1}"#).await,
        "dynamodb binding error: marshal failed, map key cannot be empty"
    );
    // DynamoDB's own refusals: no key attribute, a key of the wrong type.
    assert!(refused("create", r#"{"title":"no id"}"#).await.starts_with("dynamodb binding error: ValidationException"));
    assert!(refused("create", r#"{"id":7}"#).await.starts_with("dynamodb binding error: ValidationException"));
    assert!(refused("get", "{}").await.contains("the key is empty"));
    assert_eq!(stored(&emulator, &table, "x").await, Value::Null);

    let (missing, _dir) = binding(&emulator, &emulator.unique("gone")).await;
    let error = missing.invoke("tasks", InvokeRequest::new("create", r#"{"id":"x"}"#)).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
    assert!(error.message.starts_with("dynamodb binding error: ResourceNotFoundException"), "{error}");
    let error = missing.table("tasks").get(&json!({"id": "x"})).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound, "a missing table is an error, not an absent item: {error}");
}

/// The Dapr API over HTTP and gRPC (the Python SDK through `bindery
/// sidecar`), and `bindery invoke`.
#[tokio::test(flavor = "multi_thread")]
async fn puts_and_gets_through_the_dapr_api_and_the_cli() {
    let emulator = Emulator::from_env();
    let table = table(&emulator).await;
    let dir = ComponentsDir::new();
    dir.write("tasks.yaml", &emulator.component("tasks", "bindings.aws.dynamodb", &[("table", &table)]));
    let sidecar = bindery_sidecar(&dir, &[]).await;
    let calls = json!([
        // Over HTTP, daprd's re-encoding makes every number a float64 first.
        call("http", "tasks", "create", json!({"id": "h", "n": 10, "f": 0.5}), json!({})),
        call("grpc", "tasks", "create", json!(r#"{"id":"g","n":7}"#), json!({})),
        call("grpc", "tasks", "get", json!(r#"{"id":"h"}"#), json!({})),
        call("http", "tasks", "get", json!({"id": "g"}), json!({})),
        call("http", "tasks", "create", json!("not an object"), json!({})),
    ]);
    let results = python_calls(&sidecar, None, &calls).await;
    assert_eq!((results[0]["ok"].as_bool(), results[0]["status"].as_u64()), (Some(true), Some(204)), "{}", results[0]);
    assert_eq!(results[1]["ok"], true, "{}", results[1]);
    assert_eq!(results[2]["data"], r#"{"f":0.5,"id":"h","n":10}"#, "{}", results[2]);
    assert_eq!(results[3]["data"], r#"{"id":"g","n":7}"#, "{}", results[3]);
    assert_eq!(results[4]["code"], 500, "{}", results[4]);
    assert_eq!(stored(&emulator, &table, "h").await["n"], json!({"N": "10"}));

    let output = bindery_invoke(&dir, &["tasks", "--operation", "create", "--data", r#"{"id":"c","via":"cli"}"#]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(stored(&emulator, &table, "c").await["via"], json!({"S": "cli"}));
    let output = bindery_invoke(&dir, &["tasks", "--operation", "get", "--data", r#"{"id":"c"}"#]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), r#"{"id":"c","via":"cli"}"#);
}
