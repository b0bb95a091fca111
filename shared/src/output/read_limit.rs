//! `maxReadSize`: the most bytes a storage binding reads into memory for one
//! answer (a localstorage file, an S3 object, a whole S3 `bulkGet` answer).
//! Dapr has no such field for either binding; its one bound on a body an
//! output binding reads is the HTTP binding's `maxResponseBodySize`, 100 MiB,
//! which is this one's default too. A larger file answers an error that names
//! it, its size and the limit, never any of its bytes.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::error::InvokeError;
use crate::component::{FieldError, Metadata};

/// The component field.
pub(crate) const MAX_READ_SIZE: &str = "maxReadSize";
/// Dapr's default `maxResponseBodySize`: 100 MiB.
pub(crate) const DEFAULT_MAX_READ_SIZE: u64 = 100 << 20;

/// `maxReadSize`: a size above zero (`100Mi`, `512Ki`, bytes), 100 MiB when absent.
pub(crate) fn max_read_size(metadata: &Metadata) -> Result<u64, FieldError> {
    match metadata.byte_size(MAX_READ_SIZE) {
        Ok(None) => Ok(DEFAULT_MAX_READ_SIZE),
        Ok(Some(size)) if size > 0 => Ok(size),
        _ => Err(FieldError::invalid(
            MAX_READ_SIZE,
            format!(
                "expected a size above 0 such as \"100Mi\", got {:?}",
                metadata.get(MAX_READ_SIZE).unwrap_or_default()
            ),
        )),
    }
}

/// `what` (a file, an object) is `size` bytes, more than `limit`.
pub(crate) fn too_large(what: &str, size: u64, limit: u64) -> InvokeError {
    InvokeError::bad_request(format!("{what} is {size} bytes, more than {MAX_READ_SIZE} ({limit} bytes)"))
}

/// Why [`read_regular_file`] read nothing.
pub(crate) enum Unread {
    Folder,
    NotAFile,
    TooLarge(u64),
    Io(std::io::Error),
}

impl From<std::io::Error> for Unread {
    fn from(error: std::io::Error) -> Self {
        Self::Io(error)
    }
}

/// The whole of the regular file at `path` if it holds at most `limit` bytes.
/// It is opened without waiting (a named pipe would wait for a writer) and
/// checked on the open file itself, so nothing can be swapped in between. A
/// file that grows past the limit while it is read is refused too.
pub(crate) fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, Unread> {
    let file = std::fs::OpenOptions::new().read(true).custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits()).open(path)?;
    let found = file.metadata()?;
    if found.is_dir() {
        return Err(Unread::Folder);
    }
    if !found.is_file() {
        return Err(Unread::NotAFile);
    }
    if found.len() > limit {
        return Err(Unread::TooLarge(found.len()));
    }
    let mut bytes = Vec::new();
    // Fails cleanly, rather than aborting, when memory is short.
    bytes.try_reserve_exact(usize::try_from(found.len()).unwrap_or(usize::MAX)).map_err(std::io::Error::other)?;
    let mut file = file.take(limit.saturating_add(1));
    file.read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        let now = file.into_inner().metadata().map_or(0, |m| m.len());
        return Err(Unread::TooLarge(now.max(bytes.len() as u64)));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_a_positive_size_and_100_mib_by_default() {
        let limit = |value: &str| max_read_size(&Metadata::from_pairs([(MAX_READ_SIZE, value)]));
        assert_eq!(max_read_size(&Metadata::default()), Ok(100 << 20));
        assert_eq!(limit("1Ki"), Ok(1024));
        assert_eq!(limit("2Gi"), Ok(2 << 30));
        for bad in ["0", "lots", "-1"] {
            let error = limit(bad).unwrap_err();
            assert_eq!(error.field, MAX_READ_SIZE);
            assert!(error.message.contains(&format!("{bad:?}")), "{}", error.message);
        }
    }
}
