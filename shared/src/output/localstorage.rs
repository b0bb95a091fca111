//! `bindings.localstorage`: files under `rootPath`, with Dapr's operations
//! (`create`, `get`, `list`, `delete`) and its `fileName` metadata. It is the
//! local stand-in for S3.
//!
//! Escaping `rootPath` is impossible: `..` and drive prefixes are refused,
//! and the real path of what is touched (symlinks resolved) must lie under the
//! real root. Two differences from Dapr, both deliberate:
//! - Dapr base64-decodes any body that happens to be valid base64 (`null`,
//!   `abcd`, ...), corrupting text files; bindery decodes only when the
//!   request says `decodeBase64: true`.
//! - Files are written to a temporary name and renamed, so a crash never
//!   leaves half a file under the real name.

use std::io::ErrorKind as IoKind;
use std::path::{Component as PathPart, Path, PathBuf};

use base64::Engine;
use serde_json::json;

use super::binding::{BoxFuture, InvokeRequest, InvokeResponse, InvokeResult, OutputBinding, operation};
use super::data::unquote_if_quoted;
use super::error::InvokeError;
use crate::component::{FieldError, Metadata};

/// Folders no binding may write under, as in Dapr.
const FORBIDDEN_ROOTS: &[&str] = &["/proc", "/sys", "/boot", "/var/run/secrets", "/run/secrets"];

pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    /// `rootPath`, made absolute, symlink-resolved and created.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        Ok(Self { root: create_root(metadata).map_err(|e| vec![e])? })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The real path of `name` under the root, refusing every way out of it.
    fn resolve(&self, name: &str) -> Result<PathBuf, InvokeError> {
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
        // Symlinks: the deepest part that exists must really be under the root.
        let mut existing = path.as_path();
        while !existing.exists() {
            existing = existing.parent().unwrap_or(&self.root);
        }
        let real = existing.canonicalize().map_err(|e| InvokeError::other(format!("cannot resolve {name:?}: {e}")))?;
        if !real.starts_with(&self.root) {
            return Err(InvokeError::bad_request(format!("fileName {name:?} leads outside rootPath")));
        }
        Ok(path)
    }

    fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }

    async fn create(&self, request: &InvokeRequest) -> InvokeResult {
        let name = request.meta("fileName").map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        let path = self.resolve(&name)?;
        if path == self.root {
            return Err(InvokeError::bad_request("fileName names rootPath itself"));
        }
        let text = unquote_if_quoted(&request.data);
        let decode =
            request.meta("decodeBase64").is_some_and(|v| crate::component::metadata::parse_bool(v) == Some(true));
        let bytes = if decode {
            let compact: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|e| InvokeError::bad_request(format!("decodeBase64 is set but the data is not base64: {e}")))?
        } else {
            text.into_owned()
        };
        write_atomically(&path, &bytes).await.map_err(|e| io_error(&name, e))?;
        let relative = self.relative(&path).display().to_string();
        Ok(Some(InvokeResponse::json(&json!({ "fileName": relative }))))
    }

    async fn get(&self, request: &InvokeRequest) -> InvokeResult {
        let name = required_name(request)?;
        let bytes = tokio::fs::read(self.resolve(name)?).await.map_err(|e| io_error(name, e))?;
        Ok(Some(InvokeResponse::new(bytes)))
    }

    /// Dapr's shape: a JSON array of the absolute paths of every file below the folder.
    async fn list(&self, request: &InvokeRequest) -> InvokeResult {
        let folder = match request.meta("fileName") {
            Some(name) => self.resolve(name)?,
            None => self.root.clone(),
        };
        if !tokio::fs::metadata(&folder).await.map_err(|e| io_error("", e))?.is_dir() {
            return Err(InvokeError::bad_request(format!("{} is not a folder", self.relative(&folder).display())));
        }
        let mut files = Vec::new();
        let mut pending = vec![folder];
        while let Some(dir) = pending.pop() {
            let mut entries = tokio::fs::read_dir(&dir).await.map_err(|e| io_error("", e))?;
            while let Some(entry) = entries.next_entry().await.map_err(|e| io_error("", e))? {
                let kind = entry.file_type().await.map_err(|e| io_error("", e))?;
                if kind.is_dir() {
                    pending.push(entry.path());
                } else if kind.is_file() {
                    files.push(entry.path().display().to_string());
                }
            }
        }
        files.sort();
        Ok(Some(InvokeResponse::json(&json!(files))))
    }

    async fn delete(&self, request: &InvokeRequest) -> InvokeResult {
        let name = required_name(request)?;
        tokio::fs::remove_file(self.resolve(name)?).await.map_err(|e| io_error(name, e))?;
        Ok(None)
    }
}

fn required_name(request: &InvokeRequest) -> Result<&str, InvokeError> {
    request.meta("fileName").ok_or_else(|| InvokeError::bad_request("required metadata 'fileName' missing"))
}

fn io_error(name: &str, error: std::io::Error) -> InvokeError {
    match error.kind() {
        IoKind::NotFound => InvokeError::not_found(format!("file not found: {name}")),
        _ => InvokeError::other(format!("{name}: {error}")),
    }
}

impl OutputBinding for LocalStorage {
    fn operations(&self) -> &'static [&'static str] {
        &[operation::CREATE, operation::GET, operation::LIST, operation::DELETE]
    }

    fn is_idempotent(&self, request: &InvokeRequest) -> bool {
        request.operation != operation::CREATE || request.meta("fileName").is_some()
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

/// `rootPath` of a folder-backed binding: absolute, created, symlinks
/// resolved, and not a system folder.
pub(crate) fn create_root(metadata: &Metadata) -> Result<PathBuf, FieldError> {
    let given = metadata.required("rootPath")?;
    let invalid = |why: String| FieldError::invalid("rootPath", why);
    std::fs::create_dir_all(given).map_err(|e| invalid(format!("cannot create {given:?}: {e}")))?;
    let root = Path::new(given).canonicalize().map_err(|e| invalid(format!("cannot resolve {given:?}: {e}")))?;
    if FORBIDDEN_ROOTS.iter().any(|f| root.starts_with(f)) {
        return Err(invalid(format!("{} is a system folder", root.display())));
    }
    Ok(root)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place.
pub(crate) async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = path.with_file_name(format!(".{file_name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = tokio::fs::write(&temp, bytes).await;
    let renamed = match written {
        Ok(()) => tokio::fs::rename(&temp, path).await,
        Err(e) => Err(e),
    };
    if renamed.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    renamed
}

#[cfg(test)]
#[path = "localstorage_tests.rs"]
mod tests;
