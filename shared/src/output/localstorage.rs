//! `bindings.localstorage`: files under `rootPath`, with Dapr's operations
//! (`create`, `get`, `list`, `delete`) and its `fileName` request metadata.
//! It is bindery's local stand-in for S3.
//!
//! Escaping `rootPath` is impossible. An absolute `fileName` is taken relative
//! to the root, as Dapr's `securejoin` takes it. Every path is also checked
//! against the file system: the real path (symlinks resolved) of the deepest
//! part that exists must lie under the real root, so a symlink inside the root
//! that points out of it is refused. A `create` writes into the real,
//! re-checked parent folder.
//!
//! Where bindery differs from Dapr, on purpose:
//! - A `..` in `fileName` is refused (Dapr's `securejoin` clamps it at the
//!   root, so `../x` silently means `x`).
//! - Dapr base64-decodes any `create` body that happens to be valid base64
//!   (`null`, `abcd`, `true`...), corrupting text files. bindery decodes only
//!   when the request metadata asks for it with `decodeBase64: true` (S3's key).
//! - Files are written to a temporary name, synced and renamed, so a crash
//!   never leaves half a file under the real name.
//! - `get` on a missing file answers `file not found: <fileName>`, not the
//!   absolute path; `list` keeps Dapr's shape (absolute paths) and skips
//!   symlinks instead of listing them.
//! - `rootPath` is refused before anything is created when it is, or resolves
//!   to, a system folder (`/run/secrets` is added to Dapr's list, since
//!   `/var/run` is usually a symlink to `/run`).
//! - What `get` and `list` read is bounded (Dapr reads any file whole and
//!   walks any tree): `get` answers an error for a file larger than
//!   `maxReadSize` (default 100 MiB, see [`super::read_limit`]) and for
//!   anything but a regular file (a named pipe has no size and no end), and
//!   `list` stops with an error past `maxListEntries` files and folders
//!   (default 10,000), so a huge tree can neither exhaust memory nor keep
//!   the call walking.

use std::io::ErrorKind as IoKind;
use std::path::{Component as PathPart, Path, PathBuf};

use base64::Engine;
use serde_json::json;

use super::data::unquote_if_quoted;
use super::error::InvokeError;
use super::read_limit::{Unread, max_read_size, read_regular_file, too_large};
use super::{BoxFuture, InvokeRequest, InvokeResponse, InvokeResult, OutputBinding, operation};
use crate::component::metadata::parse_bool;
use crate::component::{FieldError, Metadata};

/// Folders no binding may use as (or put under) its root, as in Dapr.
const FORBIDDEN_ROOTS: &[&str] = &["/proc", "/sys", "/boot", "/var/run/secrets", "/run/secrets"];

/// Request metadata naming the file, relative to `rootPath`.
const FILE_NAME: &str = "fileName";
/// Request metadata asking `create` to base64-decode the body.
const DECODE_BASE64: &str = "decodeBase64";
/// Temporary files of [`write_atomically`] start and end so, and are not listed.
const TEMP_PREFIX: &str = ".bindery-";
const TEMP_SUFFIX: &str = ".tmp";
/// The component field bounding a `list` walk.
const MAX_LIST_ENTRIES: &str = "maxListEntries";
/// Ten thousand files and folders: a walk of a few milliseconds and an answer
/// of about a megabyte, well within the API's 4 MiB gRPC message limit for
/// paths of a hundred bytes or so.
const DEFAULT_MAX_LIST_ENTRIES: u64 = 10_000;

/// The component's settings, checked without touching the disk: `rootPath`
/// is made real (and created) when the binding is built.
#[derive(Debug, Clone)]
pub struct LocalStorageConfig {
    /// `rootPath` as written.
    pub root_path: String,
    /// The largest file `get` reads (`maxReadSize`).
    pub max_read_size: u64,
    /// The most files and folders `list` walks (`maxListEntries`).
    pub max_list_entries: u64,
}

impl LocalStorageConfig {
    /// Checks every setting and reports all the problems together.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let root_path = metadata.required("rootPath");
        let max_read_size = max_read_size(metadata);
        let max_list_entries = max_list_entries(metadata);
        match (root_path, max_read_size, max_list_entries) {
            (Ok(root_path), Ok(max_read_size), Ok(max_list_entries)) => {
                Ok(Self { root_path: root_path.to_owned(), max_read_size, max_list_entries })
            }
            (root, read, list) => Err([root.err(), read.err(), list.err()].into_iter().flatten().collect()),
        }
    }
}

pub struct LocalStorageBinding {
    /// Absolute, symlink-resolved.
    root: PathBuf,
    /// The largest file `get` reads (`maxReadSize`).
    max_read_size: u64,
    /// The most files and folders `list` walks (`maxListEntries`).
    max_list_entries: u64,
}

impl LocalStorageBinding {
    /// `rootPath`, made absolute, symlink-resolved and created, and the read
    /// limits; every problem is reported.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let LocalStorageConfig { root_path, max_read_size, max_list_entries } =
            LocalStorageConfig::from_metadata(metadata)?;
        let root = create_root(&root_path).map_err(|e| vec![e])?;
        Ok(Self { root, max_read_size, max_list_entries })
    }

    /// The real root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `name` joined to the root part by part: `..` and drive prefixes are
    /// refused, a leading `/` is ignored. Nothing is read from the disk yet.
    fn join(&self, name: &str) -> Result<PathBuf, InvokeError> {
        let mut path = self.root.clone();
        for part in Path::new(name).components() {
            match part {
                PathPart::Normal(p) => path.push(p),
                PathPart::CurDir | PathPart::RootDir => {}
                PathPart::ParentDir | PathPart::Prefix(_) => {
                    return Err(InvokeError::bad_request(format!("fileName {name:?} would leave rootPath")));
                }
            }
        }
        Ok(path)
    }

    /// The folder and the file name of a joined path, which must not be the root.
    fn split<'a>(&self, path: &'a Path) -> Result<(&'a Path, &'a std::ffi::OsStr), InvokeError> {
        match (path.parent(), path.file_name()) {
            (Some(parent), Some(file)) if path != self.root => Ok((parent, file)),
            _ => Err(InvokeError::bad_request("fileName names rootPath itself")),
        }
    }

    /// The real path of `path` if it exists, else of its deepest existing
    /// ancestor, refused unless it lies under the root.
    async fn check_inside(&self, name: &str, path: &Path) -> Result<Option<PathBuf>, InvokeError> {
        for (depth, ancestor) in path.ancestors().enumerate() {
            if !ancestor.starts_with(&self.root) {
                break;
            }
            match tokio::fs::canonicalize(ancestor).await {
                Ok(real) if real.starts_with(&self.root) => return Ok((depth == 0).then_some(real)),
                Ok(_) => {
                    return Err(InvokeError::bad_request(format!("fileName {name:?} leads outside rootPath")));
                }
                Err(e) if matches!(e.kind(), IoKind::NotFound | IoKind::NotADirectory) => {}
                Err(e) => return Err(io_error(name, e)),
            }
        }
        Err(InvokeError::other(format!("rootPath {} no longer exists", self.root.display())))
    }

    /// The real path of an existing `name`, under the root.
    async fn existing(&self, name: &str) -> Result<PathBuf, InvokeError> {
        let path = self.join(name)?;
        self.check_inside(name, &path).await?.ok_or_else(|| not_found(name))
    }

    async fn create(&self, request: &InvokeRequest) -> InvokeResult {
        let name = request.meta(FILE_NAME).map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        let path = self.join(&name)?;
        let (parent, file) = self.split(&path)?;
        let bytes = body(request)?;
        self.check_inside(&name, &path).await?;
        tokio::fs::create_dir_all(parent).await.map_err(|e| io_error(&name, e))?;
        // The folders now exist: write into their real path, checked again.
        let real_parent = self.check_inside(&name, parent).await?.ok_or_else(|| not_found(&name))?;
        let target = real_parent.join(file);
        if tokio::fs::metadata(&target).await.is_ok_and(|m| m.is_dir()) {
            return Err(InvokeError::bad_request(format!("{name} is a folder")));
        }
        write_atomically(&target, &bytes).await.map_err(|e| io_error(&name, e))?;
        let relative = path.strip_prefix(&self.root).unwrap_or(&path).display().to_string();
        Ok(Some(InvokeResponse::json(&json!({ "fileName": relative }))))
    }

    async fn get(&self, request: &InvokeRequest) -> InvokeResult {
        let name = required_name(request)?;
        let real = self.existing(name).await?;
        let limit = self.max_read_size;
        let read = tokio::task::spawn_blocking(move || read_regular_file(&real, limit))
            .await
            .map_err(|e| InvokeError::other(format!("{name}: {e}")))?;
        match read {
            Ok(bytes) => Ok(Some(InvokeResponse::new(bytes))),
            Err(Unread::Folder) => Err(InvokeError::bad_request(format!("{name} is a folder, not a file"))),
            Err(Unread::NotAFile) => Err(InvokeError::bad_request(format!("{name} is not a regular file"))),
            Err(Unread::TooLarge(size)) => Err(too_large(name, size, limit)),
            Err(Unread::Io(e)) => Err(io_error(name, e)),
        }
    }

    /// Dapr's shape: a JSON array of the absolute paths of every file below
    /// the folder (`fileName`, or the root), sorted. Symlinks are not followed.
    /// The walk stops with an error at the first entry past `maxListEntries`.
    async fn list(&self, request: &InvokeRequest) -> InvokeResult {
        let name = request.meta(FILE_NAME).unwrap_or("");
        let folder = self.existing(name).await?;
        if !tokio::fs::metadata(&folder).await.map_err(|e| io_error(name, e))?.is_dir() {
            return Err(InvokeError::bad_request(format!("{name} is not a folder")));
        }
        let shown = if folder == self.root { "rootPath" } else { name };
        let too_many = || {
            InvokeError::bad_request(format!(
                "{shown} holds more than {MAX_LIST_ENTRIES} ({}) files and folders; list a folder below it",
                self.max_list_entries
            ))
        };
        let mut files = Vec::new();
        let mut seen: u64 = 0;
        let mut pending = vec![folder];
        while let Some(dir) = pending.pop() {
            let mut entries = tokio::fs::read_dir(&dir).await.map_err(|e| io_error(name, e))?;
            while let Some(entry) = entries.next_entry().await.map_err(|e| io_error(name, e))? {
                seen += 1;
                if seen > self.max_list_entries {
                    return Err(too_many());
                }
                let kind = entry.file_type().await.map_err(|e| io_error(name, e))?;
                if kind.is_dir() {
                    pending.push(entry.path());
                } else if kind.is_file() && !is_temporary(&entry.file_name().to_string_lossy()) {
                    files.push(entry.path().display().to_string());
                }
            }
        }
        files.sort();
        Ok(Some(InvokeResponse::json(&json!(files))))
    }

    /// Removes a file, or an empty folder (Go's `os.Remove`). A symlink is
    /// removed itself, not its target.
    async fn delete(&self, request: &InvokeRequest) -> InvokeResult {
        let name = required_name(request)?;
        let path = self.join(name)?;
        let (parent, file) = self.split(&path)?;
        self.existing(name).await?;
        let real_parent = self.check_inside(name, parent).await?.ok_or_else(|| not_found(name))?;
        let entry = real_parent.join(file);
        let is_dir = tokio::fs::symlink_metadata(&entry).await.map_err(|e| io_error(name, e))?.is_dir();
        let removed = if is_dir { tokio::fs::remove_dir(&entry).await } else { tokio::fs::remove_file(&entry).await };
        removed.map_err(|e| io_error(name, e))?;
        Ok(None)
    }
}

/// The bytes `create` writes: a JSON string literal unquoted (the HTTP API
/// quotes strings), then base64-decoded only if `decodeBase64` says so.
fn body(request: &InvokeRequest) -> Result<Vec<u8>, InvokeError> {
    let text = unquote_if_quoted(&request.data);
    let decode = match request.meta(DECODE_BASE64) {
        None => false,
        Some(v) => parse_bool(v).ok_or_else(|| {
            InvokeError::bad_request(format!("decodeBase64 must be \"true\" or \"false\", got {v:?}"))
        })?,
    };
    if !decode {
        return Ok(text.into_owned());
    }
    let compact: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| InvokeError::bad_request(format!("decodeBase64 is set but the data is not base64: {e}")))
}

/// `maxListEntries`: a whole number above zero, 10,000 when absent.
fn max_list_entries(metadata: &Metadata) -> Result<u64, FieldError> {
    match metadata.u64(MAX_LIST_ENTRIES) {
        Ok(None) => Ok(DEFAULT_MAX_LIST_ENTRIES),
        Ok(Some(entries)) if entries > 0 => Ok(entries),
        _ => Err(FieldError::invalid(
            MAX_LIST_ENTRIES,
            format!("expected a whole number above 0, got {:?}", metadata.get(MAX_LIST_ENTRIES).unwrap_or_default()),
        )),
    }
}

fn required_name(request: &InvokeRequest) -> Result<&str, InvokeError> {
    request.meta(FILE_NAME).ok_or_else(|| InvokeError::bad_request("required metadata 'fileName' missing"))
}

fn not_found(name: &str) -> InvokeError {
    InvokeError::not_found(format!("file not found: {name}"))
}

/// An I/O failure in the request's words, naming the file as given (never
/// the absolute path).
fn io_error(name: &str, error: std::io::Error) -> InvokeError {
    match error.kind() {
        IoKind::NotFound => not_found(name),
        IoKind::NotADirectory => InvokeError::bad_request(format!("{name}: a part of the path is a file")),
        IoKind::IsADirectory => InvokeError::bad_request(format!("{name} is a folder")),
        IoKind::DirectoryNotEmpty => InvokeError::bad_request(format!("{name} is a folder that is not empty")),
        IoKind::InvalidInput | IoKind::AlreadyExists => InvokeError::bad_request(format!("{name:?}: {error}")),
        _ => InvokeError::other(format!("{name}: {error}")),
    }
}

fn is_temporary(file_name: &str) -> bool {
    file_name.starts_with(TEMP_PREFIX) && file_name.ends_with(TEMP_SUFFIX)
}

impl OutputBinding for LocalStorageBinding {
    fn operations(&self) -> &'static [&'static str] {
        &[operation::CREATE, operation::GET, operation::LIST, operation::DELETE]
    }

    /// A `create` without `fileName` makes a new file each time.
    fn is_idempotent(&self, request: &InvokeRequest) -> bool {
        request.operation != operation::CREATE || request.meta(FILE_NAME).is_some()
    }

    fn invoke(&self, request: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(async move {
            match request.operation.as_str() {
                operation::CREATE => self.create(&request).await,
                operation::GET => self.get(&request).await,
                operation::LIST => self.list(&request).await,
                operation::DELETE => self.delete(&request).await,
                other => Err(InvokeError::unsupported("localstorage", other, self.operations())),
            }
        })
    }
}

/// `rootPath` of a folder-backed binding (this one and the mailbox):
/// absolute, symlinks resolved, not a system folder, created. System folders
/// are refused before anything is created.
pub(crate) fn create_root(given: &str) -> Result<PathBuf, FieldError> {
    let invalid = |why: String| FieldError::invalid("rootPath", why);
    let absolute = std::path::absolute(given).map_err(|e| invalid(format!("cannot make {given:?} absolute: {e}")))?;
    let absolute = normalize(&absolute);
    refuse_system_folder(&absolute).map_err(invalid)?;
    // Where it will really be, through any symlink that already exists.
    let existing = absolute.ancestors().find_map(|a| Some((a, a.canonicalize().ok()?)));
    if let Some((ancestor, real)) = existing {
        let rest = absolute.strip_prefix(ancestor).unwrap_or(Path::new(""));
        refuse_system_folder(&real.join(rest)).map_err(invalid)?;
    }
    std::fs::create_dir_all(&absolute).map_err(|e| invalid(format!("cannot create {given:?}: {e}")))?;
    let root = absolute.canonicalize().map_err(|e| invalid(format!("cannot resolve {given:?}: {e}")))?;
    refuse_system_folder(&root).map_err(invalid)?;
    Ok(root)
}

/// `/a/./b/../c` as `/a/c`, as Go's `filepath.Abs` cleans it.
fn normalize(path: &Path) -> PathBuf {
    let mut clean = PathBuf::new();
    for part in path.components() {
        match part {
            PathPart::ParentDir => {
                clean.pop();
            }
            PathPart::CurDir => {}
            other => clean.push(other),
        }
    }
    clean
}

fn refuse_system_folder(path: &Path) -> Result<(), String> {
    match FORBIDDEN_ROOTS.iter().find(|f| path.starts_with(f)) {
        Some(folder) => Err(format!("{} is or lies under the system folder {folder}", path.display())),
        None => Ok(()),
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it
/// into place: readers see the old file or the whole new one, never a part.
/// Renaming onto a symlink replaces the link; it never writes through it.
pub(crate) async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;

    let temp = path.with_file_name(format!("{TEMP_PREFIX}{}{TEMP_SUFFIX}", uuid::Uuid::new_v4().simple()));
    let written = async {
        let mut file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&temp).await?;
        file.write_all(bytes).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&temp, path).await
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    written
}

#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod tests;
