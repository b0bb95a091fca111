//! `filePath` uploads: a small file in one PutObject streamed from disk, a
//! large one as a multipart upload that reads one part at a time, so memory
//! stays flat whatever the file's size. A failed multipart upload is aborted,
//! so no billed parts are left behind.

use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, StorageClass};
use bytes::BytesMut;
use tokio::io::AsyncReadExt;

use super::object::Stored;
use super::{Options, PREFIX, S3Binding, bad, s3_error};
use crate::output::error::InvokeError;

/// 8 MiB: above S3's 5 MiB minimum part, small enough to keep memory low.
pub(super) const PART_SIZE: usize = 8 << 20;
/// S3 accepts at most 10 000 parts per upload.
const MAX_PARTS: u64 = 10_000;

/// The part size for a file of `size` bytes: [`PART_SIZE`], or more for a
/// file that would otherwise need more than [`MAX_PARTS`] parts (over 78 GiB).
fn part_size(size: u64) -> usize {
    let needed = size.div_ceil(MAX_PARTS).next_multiple_of(1 << 20);
    usize::try_from(needed).unwrap_or(usize::MAX).max(PART_SIZE)
}

impl S3Binding {
    /// Uploads the file at `path` as `key`; the version id, if any.
    pub(super) async fn upload_file(
        &self,
        key: &str,
        path: &Path,
        content_type: Option<&str>,
        tagging: Option<&str>,
        options: &Options,
    ) -> Result<Stored, InvokeError> {
        let file_error = |e: std::io::Error| bad(format!("filePath {}: {e}", path.display()));
        let size = tokio::fs::metadata(path).await.map_err(file_error)?.len();
        if size <= PART_SIZE as u64 {
            let body =
                ByteStream::from_path(path).await.map_err(|e| bad(format!("filePath {}: {e}", path.display())))?;
            return self.put(key, body, content_type, tagging, options).await;
        }
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .set_content_type(content_type.map(str::to_owned))
            .set_tagging(tagging.map(str::to_owned))
            .set_storage_class(options.storage_class.as_deref().map(StorageClass::from))
            .send()
            .await
            .map_err(s3_error)?;
        let id = upload.upload_id.ok_or_else(|| InvokeError::other(format!("{PREFIX}: no upload id")))?;
        match self.upload_parts(key, path, &id, part_size(size)).await {
            Ok(parts) => {
                let output = self
                    .client
                    .complete_multipart_upload()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(&id)
                    .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                    .send()
                    .await
                    .map_err(s3_error)?;
                Ok(Stored { version: output.version_id, location: output.location })
            }
            Err(e) => {
                // Leave no orphaned parts behind (they are billed).
                let _ = self.client.abort_multipart_upload().bucket(&self.bucket).key(key).upload_id(&id).send().await;
                Err(e)
            }
        }
    }

    /// Reads and sends one part at a time: only the part being sent is in memory.
    async fn upload_parts(
        &self,
        key: &str,
        path: &Path,
        id: &str,
        part_size: usize,
    ) -> Result<Vec<CompletedPart>, InvokeError> {
        let file_error = |e: std::io::Error| bad(format!("filePath {}: {e}", path.display()));
        let mut file = tokio::fs::File::open(path).await.map_err(file_error)?;
        let mut parts = Vec::new();
        for number in 1.. {
            let mut part = BytesMut::with_capacity(part_size);
            while part.len() < part_size {
                if file.read_buf(&mut part).await.map_err(file_error)? == 0 {
                    break;
                }
            }
            if part.is_empty() {
                break;
            }
            let output = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(id)
                .part_number(number)
                .body(ByteStream::from(part.freeze()))
                .send()
                .await
                .map_err(s3_error)?;
            parts.push(CompletedPart::builder().set_e_tag(output.e_tag).part_number(number).build());
        }
        Ok(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_grow_only_for_files_that_need_more_than_ten_thousand() {
        assert_eq!(part_size(100 << 20), PART_SIZE);
        assert_eq!(part_size(PART_SIZE as u64 * MAX_PARTS), PART_SIZE);
        let huge = 200u64 << 30;
        let size = part_size(huge);
        assert!(size > PART_SIZE && huge.div_ceil(size as u64) <= MAX_PARTS, "{size}");
    }
}
