//! The S3 binding against the emulator (moto, or LocalStack with
//! scripts/test-localstack): each operation and metadata key, checked with a
//! direct SDK client.
// Helpers in this file are test code too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

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
    assert_eq!(listed["Contents"], json!([]));

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
