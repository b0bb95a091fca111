use std::os::unix::fs::symlink;

use super::*;
use crate::component::ConfigErrorKind;
use crate::output::ErrorKind;

fn storage(dir: &Path) -> LocalStorageBinding {
    let root = dir.join("root").display().to_string();
    LocalStorageBinding::from_metadata(&Metadata::from_pairs([("rootPath", root.as_str())])).unwrap()
}

fn request(operation: &str, data: impl Into<bytes::Bytes>, file: Option<&str>) -> InvokeRequest {
    let request = InvokeRequest::new(operation, data);
    match file {
        Some(f) => request.with_metadata("fileName", f),
        None => request,
    }
}

async fn json(storage: &LocalStorageBinding, request: InvokeRequest) -> serde_json::Value {
    let response = storage.invoke(request).await.unwrap().unwrap();
    assert_eq!(response.content_type.as_deref(), Some("application/json"));
    serde_json::from_slice(&response.data).unwrap()
}

async fn error(storage: &LocalStorageBinding, request: InvokeRequest) -> InvokeError {
    storage.invoke(request).await.unwrap_err()
}

fn abs(storage: &LocalStorageBinding, names: &[&str]) -> serde_json::Value {
    serde_json::json!(names.iter().map(|n| storage.root().join(n).display().to_string()).collect::<Vec<_>>())
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
    assert_eq!(json(&s, request("list", "", None)).await, abs(&s, &["a/b/note.txt", "top.json"]));
    assert_eq!(json(&s, request("list", "", Some("a"))).await, abs(&s, &["a/b/note.txt"]));

    assert_eq!(s.invoke(request("delete", "", Some("top.json"))).await.unwrap(), None);
    assert!(!s.root().join("top.json").exists());
    assert_eq!(json(&s, request("list", "", Some("/"))).await, abs(&s, &["a/b/note.txt"]));
}

#[tokio::test]
async fn bodies_are_written_as_sent() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(dir.path());
    let cases: [(&str, &[u8], &[u8]); 5] = [
        ("quoted", br#""line\n\"two\"""#, b"line\n\"two\""),
        ("raw", b"raw text", b"raw text"),
        ("object", br#"{"a":[1,2]}"#, br#"{"a":[1,2]}"#),
        ("binary", &[0, 0xff, 0xfe, b'"'], &[0, 0xff, 0xfe, b'"']),
        ("empty", b"", b""),
    ];
    for (name, data, expected) in cases {
        json(&s, request("create", data.to_vec(), Some(name))).await;
        assert_eq!(std::fs::read(s.root().join(name)).unwrap(), expected, "{name}");
        let got = s.invoke(request("get", "", Some(name))).await.unwrap().unwrap();
        assert_eq!(got.data, expected, "{name}");
    }
    // Overwriting replaces the whole file, and leaves no temporary file behind.
    json(&s, request("create", "short", Some("raw"))).await;
    assert_eq!(std::fs::read(s.root().join("raw")).unwrap(), b"short");
    let names: Vec<_> = std::fs::read_dir(s.root()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), cases.len(), "{names:?}");
}

#[tokio::test]
async fn generated_names_and_base64_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(dir.path());
    for file in [None, Some("")] {
        let created = json(&s, request("create", "abcd", file)).await;
        let name = created["fileName"].as_str().unwrap();
        assert_eq!(uuid::Uuid::parse_str(name).unwrap().get_version_num(), 4, "{name}");
        assert_eq!(std::fs::read(s.root().join(name)).unwrap(), b"abcd", "Dapr would have decoded this");
    }
    json(&s, request("create", "null", Some("null"))).await;
    assert_eq!(std::fs::read(s.root().join("null")).unwrap(), b"null");

    for yes in ["true", "TRUE", "1", "yes"] {
        let decoded = request("create", r#""aGVsbG8=""#, Some("b64")).with_metadata("decodeBase64", yes);
        json(&s, decoded).await;
        assert_eq!(std::fs::read(s.root().join("b64")).unwrap(), b"hello", "{yes}");
    }
    let wrapped = request("create", "aGVs\nbG8=\n", Some("b64")).with_metadata("decodeBase64", "true");
    json(&s, wrapped).await;
    assert_eq!(std::fs::read(s.root().join("b64")).unwrap(), b"hello", "line breaks are ignored");
    let no = request("create", "aGVsbG8=", Some("plain")).with_metadata("decodeBase64", "false");
    json(&s, no).await;
    assert_eq!(std::fs::read(s.root().join("plain")).unwrap(), b"aGVsbG8=");

    let bad = request("create", "not base64!", Some("bad")).with_metadata("decodeBase64", "true");
    assert_eq!(error(&s, bad).await.kind, ErrorKind::BadRequest);
    let unclear = request("create", "aGVsbG8=", Some("bad")).with_metadata("decodeBase64", "perhaps");
    assert!(error(&s, unclear).await.message.contains("decodeBase64 must be"));
    assert!(!s.root().join("bad").exists());
}

#[tokio::test]
async fn get_list_and_delete_errors() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(dir.path());
    let missing = error(&s, request("get", "", Some("nope.txt"))).await;
    assert_eq!((missing.kind, missing.message.as_str()), (ErrorKind::NotFound, "file not found: nope.txt"));
    let missing = error(&s, request("delete", "", Some("dir/nope.txt"))).await;
    assert_eq!((missing.kind, missing.message.as_str()), (ErrorKind::NotFound, "file not found: dir/nope.txt"));
    assert_eq!(error(&s, request("list", "", Some("nowhere"))).await.kind, ErrorKind::NotFound);
    for operation in ["get", "delete"] {
        let unnamed = error(&s, request(operation, "", None)).await;
        assert_eq!(unnamed.kind, ErrorKind::BadRequest);
        assert!(unnamed.message.contains("'fileName' missing"), "{unnamed}");
    }

    json(&s, request("create", "x", Some("file"))).await;
    let not_folder = error(&s, request("list", "", Some("file"))).await;
    assert_eq!((not_folder.kind, not_folder.message.as_str()), (ErrorKind::BadRequest, "file is not a folder"));
    assert_eq!(error(&s, request("get", "", Some("file/below"))).await.kind, ErrorKind::NotFound);
    assert_eq!(error(&s, request("create", "x", Some("file/below"))).await.kind, ErrorKind::BadRequest);

    std::fs::create_dir_all(s.root().join("folder/empty")).unwrap();
    std::fs::write(s.root().join("folder/f"), "x").unwrap();
    assert!(error(&s, request("get", "", Some("folder"))).await.message.contains("is a folder"));
    assert!(error(&s, request("create", "x", Some("folder"))).await.message.contains("is a folder"));
    assert!(error(&s, request("delete", "", Some("folder"))).await.message.contains("not empty"));
    assert_eq!(s.invoke(request("delete", "", Some("folder/empty"))).await.unwrap(), None, "os.Remove");
    assert_eq!(json(&s, request("list", "", Some("folder"))).await, abs(&s, &["folder/f"]));

    let unsupported = error(&s, request("presign", "", Some("file"))).await;
    assert_eq!(unsupported.kind, ErrorKind::UnsupportedOperation);
}

#[tokio::test]
async fn escaping_the_root_is_impossible() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(dir.path());
    std::fs::write(dir.path().join("secret"), "outside").unwrap();
    for name in ["../secret", "a/../../secret", "..", "a/../b/../../secret", "./../secret"] {
        for operation in ["create", "get", "delete", "list"] {
            let error = error(&s, request(operation, "x", Some(name))).await;
            assert_eq!(error.kind, ErrorKind::BadRequest);
            assert!(error.message.contains("would leave rootPath"), "{operation} {name}: {error}");
        }
    }
    for name in [".", "/", "a/.."] {
        for operation in ["create", "delete"] {
            let error = error(&s, request(operation, "x", Some(name))).await;
            assert_eq!(error.kind, ErrorKind::BadRequest, "{operation} {name}: {error}");
        }
    }
    assert!(s.root().exists());

    // An absolute name is taken inside the root, never as the system path.
    let created = json(&s, request("create", "inside", Some("/etc/passwd-copy"))).await;
    assert_eq!(created["fileName"], "etc/passwd-copy");
    assert!(s.root().join("etc/passwd-copy").exists());
    assert!(s.invoke(request("get", "", Some("/etc/passwd"))).await.is_err());

    // A symlinked folder inside the root that points out of it leads nowhere.
    symlink(dir.path(), s.root().join("link")).unwrap();
    for operation in ["create", "get", "delete", "list"] {
        for name in ["link/secret", "link/new/file", "link"] {
            let error = error(&s, request(operation, "x", Some(name))).await;
            assert!(error.message.contains("leads outside rootPath"), "{operation} {name}: {error}");
        }
    }
    // Nor does a symlinked file.
    symlink(dir.path().join("secret"), s.root().join("secret-link")).unwrap();
    for operation in ["create", "get", "delete"] {
        let error = error(&s, request(operation, "x", Some("secret-link"))).await;
        assert!(error.message.contains("leads outside rootPath"), "{operation}: {error}");
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("secret")).unwrap(), "outside");
    assert!(!dir.path().join("new").exists());

    // Listing does not follow symlinks, not even those that stay inside.
    symlink(s.root().join("etc"), s.root().join("etc-link")).unwrap();
    assert_eq!(json(&s, request("list", "", None)).await, abs(&s, &["etc/passwd-copy"]));
    // A symlink that stays inside the root is followed for a read.
    let through = s.invoke(request("get", "", Some("etc-link/passwd-copy"))).await.unwrap().unwrap();
    assert_eq!(through.data, "inside");
}

#[tokio::test]
async fn odd_names_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(dir.path());
    let long = "x".repeat(300);
    for name in ["nul\0byte", long.as_str()] {
        for operation in ["create", "get", "delete", "list"] {
            assert!(s.invoke(request(operation, "x", Some(name))).await.is_err(), "{operation} {name:?}");
        }
    }
    json(&s, request("create", "x", Some("a//b/./c"))).await;
    assert!(s.root().join("a/b/c").exists());
    json(&s, request("create", "x", Some("é ü/名前.txt"))).await;
    assert!(s.root().join("é ü/名前.txt").exists());
}

#[test]
fn only_a_create_without_a_name_is_not_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(dir.path());
    assert!(!s.is_idempotent(&request("create", "x", None)));
    assert!(!s.is_idempotent(&request("create", "x", Some(""))));
    assert!(s.is_idempotent(&request("create", "x", Some("a"))));
    for operation in ["get", "list", "delete"] {
        assert!(s.is_idempotent(&request(operation, "", None)), "{operation}");
    }
}

#[test]
fn the_root_is_made_absolute_resolved_and_created() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().canonicalize().unwrap();
    let nested = dir.path().join("x/./y/../z").display().to_string();
    let s = LocalStorageBinding::from_metadata(&Metadata::from_pairs([("rootPath", nested.as_str())])).unwrap();
    assert_eq!(s.root(), real.join("x/z"));
    assert!(s.root().is_dir());

    symlink(real.join("x"), real.join("alias")).unwrap();
    let aliased = real.join("alias/z").display().to_string();
    let s = LocalStorageBinding::from_metadata(&Metadata::from_pairs([("rootPath", aliased.as_str())])).unwrap();
    assert_eq!(s.root(), real.join("x/z"), "symlinks resolved");

    let relative = LocalStorageBinding::from_metadata(&Metadata::from_pairs([("rootPath", ".")])).unwrap();
    assert_eq!(relative.root(), std::env::current_dir().unwrap().canonicalize().unwrap());

    let missing = LocalStorageBinding::from_metadata(&Metadata::default()).err().unwrap();
    assert_eq!((missing[0].field.as_str(), missing[0].kind), ("rootPath", ConfigErrorKind::MissingField));
    std::fs::write(real.join("a-file"), "").unwrap();
    let file = real.join("a-file").display().to_string();
    let not_folder =
        LocalStorageBinding::from_metadata(&Metadata::from_pairs([("rootPath", file.as_str())])).err().unwrap();
    assert_eq!((not_folder[0].field.as_str(), not_folder[0].kind), ("rootPath", ConfigErrorKind::InvalidValue));
}

#[test]
fn system_folders_are_refused_as_roots_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    symlink("/proc", dir.path().join("proc-link")).unwrap();
    let via_link = dir.path().join("proc-link/bindery-test").display().to_string();
    for root in [
        "/proc",
        "/proc/self",
        "/sys/kernel",
        "/boot",
        "/var/run/secrets",
        "/var/run/secrets/bindery-test/x",
        "/run/secrets/bindery-test",
        "/tmp/../proc/bindery-test",
        "/proc/bindery-test/new",
        via_link.as_str(),
    ] {
        let errors = LocalStorageBinding::from_metadata(&Metadata::from_pairs([("rootPath", root)])).err().unwrap();
        assert_eq!((errors[0].field.as_str(), errors[0].kind), ("rootPath", ConfigErrorKind::InvalidValue));
        assert!(errors[0].message.contains("system folder"), "{root}: {}", errors[0].message);
    }
    assert!(!Path::new("/var/run/secrets/bindery-test").exists());
    // A name that merely starts like one is fine.
    let procfs = dir.path().join("proc").display().to_string();
    assert!(LocalStorageBinding::from_metadata(&Metadata::from_pairs([("rootPath", procfs.as_str())])).is_ok());
}

#[tokio::test]
async fn written_atomically_through_a_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("f");
    write_atomically(&target, b"one").await.unwrap();
    write_atomically(&target, b"two").await.unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"two");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // A failed write leaves neither the file nor its temporary copy.
    let failed = write_atomically(&dir.path().join("no-such-folder/f"), b"x").await;
    assert!(failed.is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert!(is_temporary(".bindery-0123.tmp") && !is_temporary("bindery-0123.tmp"));
}
