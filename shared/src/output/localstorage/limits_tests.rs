//! What `get` and `list` read is bounded: `maxReadSize` bytes of a regular
//! file, `maxListEntries` files and folders of a walk.

use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use super::*;
use crate::component::ConfigErrorKind;
use crate::output::ErrorKind;

fn storage_with(dir: &Path, settings: &[(&str, &str)]) -> LocalStorageBinding {
    let root = dir.join("root").display().to_string();
    let mut pairs = vec![("rootPath", root.as_str())];
    pairs.extend_from_slice(settings);
    LocalStorageBinding::from_metadata(&Metadata::from_pairs(pairs)).unwrap()
}

fn get(name: &str) -> InvokeRequest {
    InvokeRequest::new("get", "").with_metadata("fileName", name)
}

fn list(folder: Option<&str>) -> InvokeRequest {
    let request = InvokeRequest::new("list", "");
    match folder {
        Some(f) => request.with_metadata("fileName", f),
        None => request,
    }
}

/// The error `request` ends in. An answer is reported by its size only: it
/// may be 100 MiB.
async fn refused(s: &LocalStorageBinding, request: InvokeRequest) -> InvokeError {
    match s.invoke(request).await {
        Err(error) => error,
        Ok(answer) => panic!("expected an error, got an answer of {} bytes", answer.map_or(0, |a| a.data.len())),
    }
}

/// A file of `size` bytes that takes no disk: a hole, read back as zeros.
fn sparse(path: PathBuf, size: u64) {
    std::fs::File::create(path).unwrap().set_len(size).unwrap();
}

#[tokio::test]
async fn get_refuses_a_file_larger_than_max_read_size_and_names_size_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage_with(dir.path(), &[("maxReadSize", "1Ki")]);
    std::fs::write(s.root().join("at-limit"), vec![b'a'; 1024]).unwrap();
    std::fs::write(s.root().join("above"), vec![b's'; 1025]).unwrap();
    let got = s.invoke(get("at-limit")).await.unwrap().unwrap();
    assert_eq!(got.data.len(), 1024);

    let error = refused(&s, get("above")).await;
    assert_eq!(error.message, "above is 1025 bytes, more than maxReadSize (1024 bytes)");
    assert!(!error.is_retryable(true), "a larger file stays larger");
}

#[tokio::test]
async fn the_default_max_read_size_is_100_mib() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage_with(dir.path(), &[]);
    sparse(s.root().join("big.bin"), (100 << 20) + 1);
    let error = refused(&s, get("big.bin")).await;
    assert_eq!(error.message, "big.bin is 104857601 bytes, more than maxReadSize (104857600 bytes)");
}

/// A named pipe has no size and no end: `get` refuses it at once instead of
/// waiting for a writer and reading whatever it sends.
#[tokio::test]
async fn get_refuses_what_is_not_a_regular_file_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage_with(dir.path(), &[("maxReadSize", "1Ki")]);
    let pipe = s.root().join("pipe");
    nix::unistd::mkfifo(&pipe, nix::sys::stat::Mode::S_IRWXU).unwrap();
    // A writer that sends more than the limit once some reader opens the pipe.
    let writer = {
        let pipe = pipe.clone();
        std::thread::spawn(move || {
            if let Ok(mut file) = std::fs::OpenOptions::new().write(true).open(pipe) {
                let _ = std::io::Write::write_all(&mut file, &[b'p'; 2048]);
            }
        })
    };

    let error = match s.invoke(get("pipe")).await {
        Err(error) => Ok(error),
        Ok(answer) => Err(answer.map_or(0, |a| a.data.len())),
    };
    // Let the writer finish whatever happened: a reader of our own, which never waits.
    let _reader =
        std::fs::OpenOptions::new().read(true).custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits()).open(&pipe).unwrap();
    writer.join().unwrap();
    let error = error.unwrap_or_else(|size| panic!("expected an error, got an answer of {size} bytes"));
    assert_eq!((error.kind, error.message.as_str()), (ErrorKind::BadRequest, "pipe is not a regular file"));
}

#[tokio::test]
async fn list_walks_at_most_max_list_entries_files_and_folders() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage_with(dir.path(), &[("maxListEntries", "5")]);
    // Five entries: the folder `a`, its two files, and two more files.
    std::fs::create_dir(s.root().join("a")).unwrap();
    for name in ["a/1", "a/2", "b", "c"] {
        std::fs::write(s.root().join(name), "x").unwrap();
    }
    let listed = s.invoke(list(None)).await.unwrap().unwrap();
    let listed: Vec<String> = serde_json::from_slice(&listed.data).unwrap();
    assert_eq!(listed.len(), 4, "{listed:?}");

    std::fs::write(s.root().join("d"), "x").unwrap();
    let error = refused(&s, list(None)).await;
    assert_eq!(
        (error.kind, error.message.as_str()),
        (
            ErrorKind::BadRequest,
            "rootPath holds more than maxListEntries (5) files and folders; list a folder below it"
        )
    );
    for folder in ["/", "."] {
        assert!(s.invoke(list(Some(folder))).await.is_err(), "{folder}");
    }
    // A folder below it holds fewer.
    let below = s.invoke(list(Some("a"))).await.unwrap().unwrap();
    assert_eq!(serde_json::from_slice::<Vec<String>>(&below.data).unwrap().len(), 2);

    // Empty folders count: a walk is bounded even when it finds no file.
    std::fs::create_dir_all(s.root().join("deep/1/2/3/4/5/6")).unwrap();
    let error = refused(&s, list(Some("deep"))).await;
    assert!(error.message.starts_with("deep holds more than maxListEntries (5)"), "{error}");
}

#[tokio::test]
async fn the_default_max_list_entries_is_ten_thousand() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage_with(dir.path(), &[]);
    std::fs::create_dir(s.root().join("many")).unwrap();
    for n in 0..10_000 {
        std::fs::File::create(s.root().join(format!("many/{n}"))).unwrap();
    }
    let listed = s.invoke(list(Some("many"))).await.unwrap().unwrap();
    assert_eq!(serde_json::from_slice::<Vec<String>>(&listed.data).unwrap().len(), 10_000);
    std::fs::File::create(s.root().join("many/one-more")).unwrap();
    let error = refused(&s, list(Some("many"))).await;
    assert!(error.message.starts_with("many holds more than maxListEntries (10000)"), "{error}");
}

#[test]
fn limits_are_positive_and_reported_with_every_other_problem() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root").display().to_string();
    let settings = |read: &str, entries: &str| {
        let pairs = [("rootPath", root.as_str()), ("maxReadSize", read), ("maxListEntries", entries)];
        LocalStorageBinding::from_metadata(&Metadata::from_pairs(pairs))
    };
    let errors = settings("lots", "0").err().unwrap();
    let found: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.kind)).collect();
    assert_eq!(
        found,
        [("maxReadSize", ConfigErrorKind::InvalidValue), ("maxListEntries", ConfigErrorKind::InvalidValue)]
    );
    assert!(errors[0].message.contains("\"lots\""), "{}", errors[0].message);
    let errors = settings("0", "many").err().unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");

    assert!(settings("2Mi", "20").is_ok());
}
