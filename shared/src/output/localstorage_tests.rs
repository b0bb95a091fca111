use super::*;

fn storage(dir: &Path) -> LocalStorage {
    let root = dir.join("root").display().to_string();
    LocalStorage::from_metadata(&Metadata::from_pairs([("rootPath", root.as_str())])).unwrap()
}

fn request(operation: &str, data: &str, file: Option<&str>) -> InvokeRequest {
    let request = InvokeRequest::new(operation, data.to_owned());
    match file {
        Some(f) => request.with_metadata("fileName", f),
        None => request,
    }
}

async fn json(storage: &LocalStorage, request: InvokeRequest) -> serde_json::Value {
    let response = storage.invoke(request).await.unwrap().unwrap();
    serde_json::from_slice(&response.data).unwrap()
}

#[tokio::test]
async fn create_get_list_delete() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(dir.path());
    let created = json(&s, request("create", r#""quoted text""#, Some("a/b/note.txt"))).await;
    assert_eq!(created, serde_json::json!({"fileName": "a/b/note.txt"}));
    assert_eq!(std::fs::read(s.root().join("a/b/note.txt")).unwrap(), b"quoted text");

    let got = s.invoke(request("get", "", Some("a/b/note.txt"))).await.unwrap().unwrap();
    assert_eq!(got.data, "quoted text");

    json(&s, request("create", r#"{"raw":true}"#, Some("top.json"))).await;
    let all = json(&s, request("list", "", None)).await;
    let expected = [s.root().join("a/b/note.txt"), s.root().join("top.json")];
    let expected: Vec<String> = expected.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(all, serde_json::json!(expected), "absolute paths, as Dapr lists them");
    assert_eq!(json(&s, request("list", "", Some("a"))).await.as_array().unwrap().len(), 1);

    assert_eq!(s.invoke(request("delete", "", Some("top.json"))).await.unwrap(), None);
    assert!(!s.root().join("top.json").exists());
}

#[tokio::test]
async fn generated_names_and_base64_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(dir.path());
    let created = json(&s, request("create", "abcd", None)).await;
    let name = created["fileName"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(name).is_ok(), "{name}");
    assert_eq!(std::fs::read(s.root().join(name)).unwrap(), b"abcd", "Dapr would have decoded this");

    let decoded = request("create", r#""aGVsbG8=""#, Some("b64")).with_metadata("decodeBase64", "true");
    json(&s, decoded).await;
    assert_eq!(std::fs::read(s.root().join("b64")).unwrap(), b"hello");
    let bad = request("create", "not base64!", Some("bad")).with_metadata("decodeBase64", "true");
    assert_eq!(s.invoke(bad).await.unwrap_err().kind, crate::output::ErrorKind::BadRequest);
}

#[tokio::test]
async fn errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(dir.path());
    let missing = s.invoke(request("get", "", Some("nope.txt"))).await.unwrap_err();
    assert_eq!(
        (missing.kind, missing.message.as_str()),
        (crate::output::ErrorKind::NotFound, "file not found: nope.txt")
    );
    assert_eq!(
        s.invoke(request("delete", "", Some("nope.txt"))).await.unwrap_err().kind,
        crate::output::ErrorKind::NotFound
    );
    assert!(s.invoke(request("get", "", None)).await.unwrap_err().message.contains("'fileName' missing"));

    json(&s, request("create", "x", Some("file"))).await;
    assert!(s.invoke(request("list", "", Some("file"))).await.unwrap_err().message.contains("not a folder"));
}

#[tokio::test]
async fn escaping_the_root_is_impossible() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(dir.path());
    std::fs::write(dir.path().join("secret"), "outside").unwrap();
    for name in ["../secret", "a/../../secret", "..", "a/../b/../../secret"] {
        for operation in ["create", "get", "delete", "list"] {
            let error = s.invoke(request(operation, "x", Some(name))).await.unwrap_err();
            assert!(error.message.contains("would leave rootPath"), "{operation} {name}: {error}");
        }
    }
    // An absolute name is taken inside the root, never as the system path.
    json(&s, request("create", "inside", Some("/etc/passwd-copy"))).await;
    assert!(s.root().join("etc/passwd-copy").exists());

    // A symlink inside the root that points out of it leads nowhere.
    std::os::unix::fs::symlink(dir.path(), s.root().join("link")).unwrap();
    for operation in ["create", "get", "delete", "list"] {
        let error = s.invoke(request(operation, "x", Some("link/secret"))).await.unwrap_err();
        assert!(error.message.contains("leads outside rootPath"), "{operation}: {error}");
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("secret")).unwrap(), "outside");
}

#[test]
fn system_folders_are_refused_as_roots() {
    for root in ["/proc/self", "/sys/kernel"] {
        let errors = LocalStorage::from_metadata(&Metadata::from_pairs([("rootPath", root)])).err().unwrap();
        assert_eq!(errors[0].field, "rootPath");
    }
}
