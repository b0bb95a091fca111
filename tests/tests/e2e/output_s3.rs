//! The S3 binding against the emulator (moto, and LocalStack in the second
//! pass of scripts/test): each operation and metadata key, checked with a
//! direct SDK client.

use aws_sdk_s3::types::StorageClass;
use bindery::output::{Bindings, ErrorKind, InvokeRequest, InvokeResponse};
use bindery_e2e::aws::{Emulator, load_bindings};
use serde_json::{Value, json};

struct S3 {
    emulator: Emulator,
    bucket: String,
    client: aws_sdk_s3::Client,
    bindings: Bindings,
    _dir: tempfile::TempDir,
}

async fn s3(extra: &[(&str, &str)]) -> S3 {
    let emulator = Emulator::from_env();
    let bucket = emulator.bucket("objects").await;
    let mut items = vec![("bucket", bucket.as_str()), ("forcePathStyle", "true")];
    items.extend_from_slice(extra);
    let (bindings, _dir) = load_bindings(&[emulator.component("objects", "bindings.aws.s3", &items)]).await;
    let client = emulator.s3().await;
    S3 { emulator, bucket, client, bindings, _dir }
}

impl S3 {
    async fn invoke(&self, request: InvokeRequest) -> Result<Option<InvokeResponse>, bindery::output::InvokeError> {
        self.bindings.invoke("objects", request).await
    }

    async fn ok(&self, request: InvokeRequest) -> InvokeResponse {
        self.invoke(request).await.unwrap_or_else(|e| panic!("{e}")).expect("a response")
    }

    async fn stored(&self, key: &str) -> (Vec<u8>, Option<String>) {
        let object = self.client.get_object().bucket(&self.bucket).key(key).send().await.expect("the object exists");
        let content_type = object.content_type.clone();
        (object.body.collect().await.unwrap().into_bytes().to_vec(), content_type)
    }
}

fn json_of(response: &InvokeResponse) -> Value {
    serde_json::from_slice(&response.data).unwrap()
}

#[tokio::test]
async fn create_follows_daprs_body_rules_and_answers_location_and_key() {
    let s = s3(&[]).await;
    let created = s.ok(InvokeRequest::new("create", r#""a JSON string""#).with_metadata("key", "a.txt")).await;
    assert_eq!(created.metadata["key"], "a.txt");
    let answer = json_of(&created);
    assert_eq!(answer["location"], format!("{}/{}/a.txt", s.emulator.endpoint, s.bucket));
    assert!(answer.get("versionID").is_some() && answer.get("presignURL").is_none(), "{answer}");
    assert_eq!(s.stored("a.txt").await.0, b"a JSON string", "a JSON string is stored unquoted");

    s.ok(InvokeRequest::new("create", r#"{"a":1}"#).with_metadata("key", "a.json")).await;
    assert_eq!(s.stored("a.json").await.0, br#"{"a":1}"#);

    let generated = s.ok(InvokeRequest::new("create", "no key")).await;
    let key = &generated.metadata["key"];
    assert!(uuid_like(key), "{key}");
    assert_eq!(s.stored(key).await.0, b"no key");
}

fn uuid_like(text: &str) -> bool {
    text.len() == 36 && text.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn content_type_tags_storage_class_and_base64() {
    let s = s3(&[]).await;
    let request = InvokeRequest::new("create", r#""aGVsbG8gd29ybGQ=""#)
        .with_metadata("key", "hello.txt")
        .with_metadata("Content-Type", "text/plain")
        .with_metadata("tags", "team=ops,env=test")
        .with_metadata("storageClass", "STANDARD_IA")
        .with_metadata("decodeBase64", "true");
    s.ok(request).await;
    assert_eq!(s.stored("hello.txt").await, (b"hello world".to_vec(), Some("text/plain".to_owned())));
    let tags = s.client.get_object_tagging().bucket(&s.bucket).key("hello.txt").send().await.unwrap();
    let mut tags: Vec<_> = tags.tag_set().iter().map(|t| format!("{}={}", t.key(), t.value())).collect();
    tags.sort();
    assert_eq!(tags, ["env=test", "team=ops"]);
    let head = s.client.head_object().bucket(&s.bucket).key("hello.txt").send().await.unwrap();
    assert_eq!(head.storage_class, Some(StorageClass::StandardIa));

    let got = s
        .ok(InvokeRequest::new("get", "").with_metadata("key", "hello.txt").with_metadata("encodeBase64", "true"))
        .await;
    assert_eq!(got.data, "aGVsbG8gd29ybGQ=");
    let raw = s.ok(InvokeRequest::new("get", "").with_metadata("key", "hello.txt")).await;
    assert_eq!(raw.data, "hello world");
}

#[tokio::test]
async fn component_defaults_apply_and_requests_override_them() {
    let s = s3(&[("encodeBase64", "true")]).await;
    s.ok(InvokeRequest::new("create", "abc").with_metadata("key", "k")).await;
    assert_eq!(s.ok(InvokeRequest::new("get", "").with_metadata("key", "k")).await.data, "YWJj");
    let plain = InvokeRequest::new("get", "").with_metadata("key", "k").with_metadata("encodeBase64", "false");
    assert_eq!(s.ok(plain).await.data, "abc");
}

#[tokio::test]
async fn presigned_urls_work() {
    let s = s3(&[]).await;
    let created = s
        .ok(InvokeRequest::new("create", "shared").with_metadata("key", "p.txt").with_metadata("presignTTL", "15m"))
        .await;
    let url = json_of(&created)["presignURL"].as_str().unwrap().to_owned();
    assert!(url.contains("X-Amz-Expires=900"), "{url}");
    let presigned = json_of(
        &s.ok(InvokeRequest::new("presign", "").with_metadata("key", "p.txt").with_metadata("presignTTL", "1h")).await,
    );
    let url = presigned["presignURL"].as_str().unwrap();
    bindery_e2e::loopback_only(url);
    assert_eq!(http_get(url).await, b"shared");

    let missing_ttl = s.invoke(InvokeRequest::new("presign", "").with_metadata("key", "p.txt")).await.unwrap_err();
    assert!(missing_ttl.message.contains("'presignTTL' missing"), "{missing_ttl}");
    let bad_ttl = s.invoke(InvokeRequest::new("create", "x").with_metadata("presignTTL", "soon")).await.unwrap_err();
    assert_eq!(bad_ttl.kind, ErrorKind::BadRequest);
}

async fn http_get(url: &str) -> Vec<u8> {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let response = client.get(url.parse().unwrap()).await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.into_body().collect().await.unwrap().to_bytes().to_vec()
}

#[tokio::test]
async fn delete_and_the_error_paths() {
    let s = s3(&[]).await;
    s.ok(InvokeRequest::new("create", "x").with_metadata("key", "gone")).await;
    assert_eq!(s.invoke(InvokeRequest::new("delete", "").with_metadata("key", "gone")).await.unwrap(), None);
    let missing = s.invoke(InvokeRequest::new("get", "").with_metadata("key", "gone")).await.unwrap_err();
    assert_eq!((missing.kind, missing.message.as_str()), (ErrorKind::NotFound, "s3 binding error: object not found"));
    // As S3 itself: deleting what is not there succeeds (and a retried delete cannot fail).
    assert_eq!(s.invoke(InvokeRequest::new("delete", "").with_metadata("key", "gone")).await.unwrap(), None);

    for operation in ["get", "delete", "presign"] {
        let error = s.invoke(InvokeRequest::new(operation, "")).await.unwrap_err();
        assert_eq!(error.message, "s3 binding error: required metadata 'key' missing", "{operation}");
    }
    let unknown = s.invoke(InvokeRequest::new("copy", "")).await.unwrap_err();
    assert_eq!(
        unknown.message,
        "binding objects does not support operation copy. supported operations:create get delete list presign bulkCreate bulkGet bulkDelete"
    );
    let tags = s.invoke(InvokeRequest::new("create", "x").with_metadata("tags", "novalue")).await.unwrap_err();
    assert!(tags.message.contains("invalid tag format"), "{tags}");
}

#[tokio::test]
async fn list_answers_in_daprs_shape_with_paging() {
    let s = s3(&[]).await;
    for key in ["docs/a", "docs/b", "docs/c", "img/x"] {
        s.ok(InvokeRequest::new("create", "1").with_metadata("key", key)).await;
    }
    let all = json_of(&s.ok(InvokeRequest::new("list", "")).await);
    let keys: Vec<_> = all["Contents"].as_array().unwrap().iter().map(|o| o["Key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["docs/a", "docs/b", "docs/c", "img/x"]);
    assert_eq!(all["Name"], s.bucket.as_str());
    assert_eq!(all["MaxKeys"], 1000);
    let first = &all["Contents"][0];
    assert_eq!(first["Size"], 1);
    assert!(first["ETag"].as_str().unwrap().starts_with('"') && first["LastModified"].as_str().unwrap().ends_with('Z'));

    let page = json_of(&s.ok(InvokeRequest::new("list", r#"{"maxResults":2,"prefix":"docs/"}"#)).await);
    assert_eq!(page["IsTruncated"], true);
    assert_eq!(page["Contents"].as_array().unwrap().len(), 2);
    let next = json!({"prefix": "docs/", "marker": "docs/b"}).to_string();
    let rest = json_of(&s.ok(InvokeRequest::new("list", next)).await);
    assert_eq!(rest["Contents"][0]["Key"], "docs/c");

    let folders = json_of(&s.ok(InvokeRequest::new("list", r#"{"delimiter":"/"}"#)).await);
    assert_eq!(folders["CommonPrefixes"], json!([{"Prefix": "docs/"}, {"Prefix": "img/"}]));
    assert!(s.invoke(InvokeRequest::new("list", "[oops")).await.is_err());
}

#[tokio::test]
async fn bulk_operations_answer_per_item() {
    let s = s3(&[]).await;
    let created = json_of(
        &s.ok(InvokeRequest::new(
            "bulkCreate",
            json!({"items": [{"key": "b/1", "data": "one", "contentType": "text/plain"}, {"key": "b/2", "data": {"n": 2}}], "concurrency": 2}).to_string(),
        ))
        .await,
    );
    assert_eq!(created[0]["key"], "b/1");
    assert!(created[0]["location"].as_str().unwrap().ends_with("/b/1"));
    assert_eq!(s.stored("b/1").await, (b"one".to_vec(), Some("text/plain".to_owned())));
    assert_eq!(s.stored("b/2").await.0, br#"{"n":2}"#);

    let got = json_of(
        &s.ok(InvokeRequest::new("bulkGet", json!({"items": [{"key": "b/1"}, {"key": "nope"}]}).to_string())).await,
    );
    assert_eq!(got[0], json!({"key": "b/1", "data": "one"}));
    assert_eq!(got[1], json!({"key": "nope", "error": "s3 binding error: object not found"}));

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("one.txt").display().to_string();
    let to_file = json!({"items": [{"key": "b/1", "filePath": target}]}).to_string();
    let saved = json_of(&s.ok(InvokeRequest::new("bulkGet", to_file)).await);
    assert_eq!(saved[0]["location"], target.as_str());
    assert_eq!(std::fs::read(&target).unwrap(), b"one");

    let deleted = json_of(&s.ok(InvokeRequest::new("bulkDelete", json!({"keys": ["b/1", "b/2"]}).to_string())).await);
    assert_eq!(deleted, json!([{"key": "b/1"}, {"key": "b/2"}]));
    let listed = json_of(&s.ok(InvokeRequest::new("list", r#"{"prefix":"b/"}"#)).await);
    assert_eq!(listed["Contents"], Value::Null, "no objects: null, as Dapr answers");

    let zero = s.invoke(InvokeRequest::new("bulkGet", r#"{"items":[],"concurrency":0}"#)).await.unwrap_err();
    assert!(zero.message.contains("concurrency must be positive"), "{zero}");
}

#[tokio::test]
async fn file_uploads_small_and_multipart() {
    let s = s3(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.bin");
    std::fs::write(&small, b"from disk").unwrap();
    let request = InvokeRequest::new("create", "")
        .with_metadata("key", "small")
        .with_metadata("filePath", small.to_str().unwrap());
    s.ok(request).await;
    assert_eq!(s.stored("small").await.0, b"from disk");

    // 20 MiB and a bit: three parts.
    let large = dir.path().join("large.bin");
    let content: Vec<u8> = (0..(20 << 20) + 12345).map(|i: u32| (i % 251) as u8).collect();
    std::fs::write(&large, &content).unwrap();
    let request = InvokeRequest::new("create", "")
        .with_metadata("key", "large")
        .with_metadata("filePath", large.to_str().unwrap());
    s.ok(request).await;
    let head = s.client.head_object().bucket(&s.bucket).key("large").send().await.unwrap();
    assert_eq!(head.content_length, Some(content.len() as i64));
    assert!(head.e_tag.unwrap().ends_with("-3\""), "a multipart upload of three parts");
    assert!(s.stored("large").await.0 == content, "the content survives the parts");

    let missing = InvokeRequest::new("create", "").with_metadata("key", "x").with_metadata("filePath", "/no/such/file");
    let error = s.invoke(missing).await.unwrap_err();
    assert!(error.message.contains("filePath /no/such/file"), "{error}");
}

#[tokio::test]
async fn typed_helpers_store_bytes_exactly() {
    let s = s3(&[]).await;
    let storage = s.bindings.storage("objects");
    for body in [&br#""looks like a JSON string""#[..], b"plain", b"\x00\xffbinary", b"42"] {
        storage.put("typed", body.to_vec()).await.unwrap();
        assert_eq!(storage.get("typed").await.unwrap(), body);
        assert_eq!(s.stored("typed").await.0, body);
    }
    storage.delete("typed").await.unwrap();
    assert_eq!(storage.get("typed").await.unwrap_err().kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn component_level_settings_apply_to_every_create() {
    let s = s3(&[("decodeBase64", "true"), ("storageClass", "REDUCED_REDUNDANCY"), ("presignTTL", "60")]).await;
    let created = s.ok(InvokeRequest::new("create", r#""Ynl0ZXM=""#).with_metadata("key", "defaults")).await;
    assert_eq!(s.stored("defaults").await.0, b"bytes", "decoded by the component's decodeBase64");
    let head = s.client.head_object().bucket(&s.bucket).key("defaults").send().await.unwrap();
    assert_eq!(head.storage_class, Some(StorageClass::ReducedRedundancy));
    let url = json_of(&created)["presignURL"].as_str().unwrap().to_owned();
    assert!(url.contains("X-Amz-Expires=60"), "presignTTL in integer seconds: {url}");

    // The request overrides the component; an empty value does not.
    let request = InvokeRequest::new("create", "plain")
        .with_metadata("key", "override")
        .with_metadata("decodeBase64", "false")
        .with_metadata("storageClass", "");
    s.ok(request).await;
    assert_eq!(s.stored("override").await.0, b"plain");
    let head = s.client.head_object().bucket(&s.bucket).key("override").send().await.unwrap();
    assert_eq!(head.storage_class, Some(StorageClass::ReducedRedundancy));
}

#[tokio::test]
async fn content_type_is_the_exact_key_and_empty_objects_round_trip() {
    let s = s3(&[]).await;
    s.ok(InvokeRequest::new("create", "x").with_metadata("key", "lower").with_metadata("content-type", "text/x")).await;
    assert_ne!(s.stored("lower").await.1.as_deref(), Some("text/x"), "only `Content-Type` is read, as in Dapr");

    s.ok(InvokeRequest::new("create", "").with_metadata("key", "empty")).await;
    let got = s.ok(InvokeRequest::new("get", "").with_metadata("key", "empty")).await;
    assert!(got.data.is_empty());
    assert_eq!(got.metadata.len(), 0, "get answers no metadata");
}

#[tokio::test]
async fn bad_metadata_is_a_bad_request() {
    let s = s3(&[]).await;
    let cases = [
        InvokeRequest::new("presign", "").with_metadata("key", "k").with_metadata("presignTTL", "soon"),
        InvokeRequest::new("presign", "").with_metadata("key", "k").with_metadata("presignTTL", "-5m"),
        // S3 refuses presigned URLs valid for more than seven days.
        InvokeRequest::new("presign", "").with_metadata("key", "k").with_metadata("presignTTL", "200h"),
        InvokeRequest::new("create", "x").with_metadata("key", "k").with_metadata("decodeBase64", "maybe"),
        InvokeRequest::new("create", "not base64!").with_metadata("key", "k").with_metadata("decodeBase64", "true"),
        InvokeRequest::new("create", "x").with_metadata("key", "k").with_metadata("tags", "a=1,,b"),
        InvokeRequest::new("list", "[10]"),
        InvokeRequest::new("bulkCreate", "not json"),
        InvokeRequest::new("bulkDelete", r#"{"items":[]}"#),
    ];
    for request in cases {
        let what = format!("{} {:?}", request.operation, request.metadata);
        let error = s.invoke(request).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::BadRequest, "{what}: {error}");
        assert!(error.message.starts_with("s3 binding error: "), "{what}: {error}");
    }
    let listed = s.client.list_objects_v2().bucket(&s.bucket).send().await.unwrap();
    assert_eq!(listed.key_count, Some(0), "nothing was stored by a refused request");
}

#[tokio::test]
async fn a_missing_bucket_is_not_a_missing_object() {
    let emulator = Emulator::from_env();
    let bucket = emulator.unique("absent");
    let component =
        emulator.component("objects", "bindings.aws.s3", &[("bucket", &bucket), ("forcePathStyle", "true")]);
    let (bindings, _dir) = load_bindings(&[component]).await;
    let error = bindings.invoke("objects", InvokeRequest::new("get", "").with_metadata("key", "k")).await.unwrap_err();
    assert_ne!(error.kind, ErrorKind::NotFound, "{error}");
    assert!(error.message.contains("NoSuchBucket"), "{error}");
}

#[tokio::test]
async fn bulk_create_reports_each_items_failure_and_keeps_item_text() {
    let s = s3(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.txt");
    std::fs::write(&file, "from a file").unwrap();
    let items = json!({"items": [
        {"key": "quoted", "data": "\"kept\""},
        {"key": "from-file", "filePath": file.to_str().unwrap(), "contentType": "text/plain"},
        {"key": "missing-file", "filePath": dir.path().join("nope").to_str().unwrap()},
        {"data": "generated"},
    ]});
    let created = json_of(&s.ok(InvokeRequest::new("bulkCreate", items.to_string())).await);
    let created = created.as_array().unwrap();
    assert_eq!(created.len(), 4, "one entry per item, in order");
    assert_eq!(s.stored("quoted").await.0, br#""kept""#, "an item's text is stored as it is");
    assert_eq!(created[1]["key"], "from-file");
    assert_eq!(s.stored("from-file").await, (b"from a file".to_vec(), Some("text/plain".to_owned())));
    assert_eq!(created[2]["key"], "missing-file");
    assert!(created[2]["error"].as_str().unwrap().contains("filePath"), "{}", created[2]);
    assert!(created[2].get("location").is_none());
    let generated = created[3]["key"].as_str().unwrap();
    assert!(uuid_like(generated), "{generated}");
    assert_eq!(s.stored(generated).await.0, b"generated");

    let encoded = json!({"items": [{"key": "ok", "data": "aGk="}, {"key": "bad", "data": "%%%"}]}).to_string();
    let request = InvokeRequest::new("bulkCreate", encoded).with_metadata("decodeBase64", "true");
    let answer = json_of(&s.ok(request).await);
    assert_eq!(s.stored("ok").await.0, b"hi");
    assert!(answer[1]["error"].as_str().unwrap().contains("not base64"), "{answer}");

    // A bulkGet to a file of a missing key leaves no file behind.
    let target = dir.path().join("never");
    let request = json!({"items": [{"key": "nope", "filePath": target.to_str().unwrap()}]}).to_string();
    let got = json_of(&s.ok(InvokeRequest::new("bulkGet", request)).await);
    assert_eq!(got[0]["error"], "s3 binding error: object not found");
    assert!(!target.exists());

    let encoded = json_of(
        &s.ok(InvokeRequest::new("bulkGet", r#"{"items":[{"key":"ok"}]}"#).with_metadata("encodeBase64", "true")).await,
    );
    assert_eq!(encoded, json!([{"key": "ok", "data": "aGk="}]));
}

#[tokio::test]
async fn bulk_delete_batches_a_thousand_keys() {
    let s = s3(&[]).await;
    let keys: Vec<String> = (0..1005).map(|i| format!("many/{i:04}")).collect();
    let items: Vec<Value> = keys.iter().map(|k| json!({"key": k, "data": "x"})).collect();
    let created = json_of(&s.ok(InvokeRequest::new("bulkCreate", json!({"items": items}).to_string())).await);
    assert!(created.as_array().unwrap().iter().all(|c| c.get("error").is_none()));
    let page = json_of(&s.ok(InvokeRequest::new("list", r#"{"prefix":"many/"}"#)).await);
    assert_eq!(page["Contents"].as_array().unwrap().len(), 1000);
    assert_eq!(page["IsTruncated"], true);

    let deleted = json_of(&s.ok(InvokeRequest::new("bulkDelete", json!({"keys": keys}).to_string())).await);
    let deleted = deleted.as_array().unwrap();
    assert_eq!(deleted.len(), 1005);
    assert!(
        deleted.iter().all(|d| d.get("error").is_none()),
        "{:?}",
        deleted.iter().find(|d| d.get("error").is_some())
    );
    assert_eq!(deleted[1004]["key"], "many/1004");
    let listed = s.client.list_objects_v2().bucket(&s.bucket).prefix("many/").send().await.unwrap();
    assert_eq!(listed.key_count, Some(0));
}

#[tokio::test]
async fn multipart_uploads_keep_content_type_tags_and_storage_class() {
    let s = s3(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(17 << 20).unwrap(); // Sparse: quick to make, read as zeros.
    let request = InvokeRequest::new("create", "")
        .with_metadata("key", "big")
        .with_metadata("filePath", path.to_str().unwrap())
        .with_metadata("Content-Type", "application/x-big")
        .with_metadata("tags", "kind=big")
        .with_metadata("storageClass", "STANDARD_IA")
        .with_metadata("presignTTL", "5m");
    let created = s.ok(request).await;
    let answer = json_of(&created);
    assert!(answer["location"].as_str().unwrap().ends_with("/big"), "{answer}");
    assert!(answer["presignURL"].as_str().is_some(), "{answer}");
    let head = s.client.head_object().bucket(&s.bucket).key("big").send().await.unwrap();
    assert_eq!(head.content_length, Some(17 << 20));
    assert!(head.e_tag.as_deref().unwrap().contains('-'), "a multipart ETag: {:?}", head.e_tag);
    assert_eq!(head.content_type.as_deref(), Some("application/x-big"));
    assert_eq!(head.storage_class, Some(StorageClass::StandardIa));
    let tags = s.client.get_object_tagging().bucket(&s.bucket).key("big").send().await.unwrap();
    assert_eq!(tags.tag_set().iter().map(|t| (t.key(), t.value())).collect::<Vec<_>>(), [("kind", "big")]);

    // The binding's get reads a many-chunk body back whole.
    let got = s.ok(InvokeRequest::new("get", "").with_metadata("key", "big")).await;
    assert_eq!(got.data.len(), 17 << 20);
    assert!(got.data.iter().all(|b| *b == 0));

    let uploads = s.client.list_multipart_uploads().bucket(&s.bucket).send().await.unwrap();
    assert!(uploads.uploads().is_empty(), "no upload left open");
}
