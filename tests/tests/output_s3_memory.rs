//! A 100 MiB `filePath` upload keeps memory flat: it is read and sent one
//! part at a time; and a 100 MiB `get` holds the object once, not twice.
//! Alone in its own test binary, so that nothing else moves the process's
//! peak resident size while it is measured.
// Helpers in this file are test code too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::io::Write;

use bindery::output::InvokeRequest;
use bindery_e2e::aws::{Emulator, load_bindings};

const MIB: u64 = 1 << 20;

/// The process's peak resident set (VmHWM), in bytes.
fn peak_rss() -> u64 {
    status_bytes("VmHWM:")
}

/// The process's resident set now (VmRSS), in bytes.
fn rss() -> u64 {
    status_bytes("VmRSS:")
}

fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with(field)).expect(field);
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).expect("a number of kB") * 1024
}

#[tokio::test]
async fn a_100_mib_file_upload_keeps_memory_flat() {
    let emulator = Emulator::from_env();
    let bucket = emulator.bucket("memory").await;
    let component =
        emulator.component("objects", "bindings.aws.s3", &[("bucket", &bucket), ("forcePathStyle", "true")]);
    let (bindings, _dir) = load_bindings(&[component]).await;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.bin");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let chunk: Vec<u8> = (0..MIB).map(|i| (i % 253) as u8).collect();
    for _ in 0..100 {
        file.write_all(&chunk).unwrap();
    }
    file.flush().unwrap();
    drop((file, chunk));

    // Warm the client (connection pool, credentials) so only the upload is measured.
    bindings.invoke("objects", InvokeRequest::new("create", "warm").with_metadata("key", "warm")).await.unwrap();
    let before = peak_rss();
    let request = InvokeRequest::new("create", "")
        .with_metadata("key", "large")
        .with_metadata("filePath", path.to_str().unwrap());
    bindings.invoke("objects", request).await.unwrap();
    let growth = peak_rss().saturating_sub(before);

    let head = emulator.s3().await.head_object().bucket(&bucket).key("large").send().await.unwrap();
    assert_eq!(head.content_length, Some(100 * MIB as i64));
    assert!(head.e_tag.as_deref().is_some_and(|t| t.contains('-')), "a multipart ETag: {:?}", head.e_tag);
    eprintln!("peak RSS grew by {:.1} MiB while uploading 100 MiB", growth as f64 / MIB as f64);
    // One 8 MiB part in memory at a time, plus what the SDK holds while sending
    // it; a whole-file read would add 100 MiB.
    assert!(growth < 40 * MIB, "peak RSS grew by {} MiB", growth / MIB);

    // `get` answers the object as one `Bytes`, so it must hold it once; it is
    // read into a buffer sized from Content-Length rather than collected and
    // joined (which would hold it twice at the peak). Measured from the
    // resident size now, as the peak above is already higher.
    let start = rss();
    let got = bindings.invoke("objects", InvokeRequest::new("get", "").with_metadata("key", "large")).await.unwrap();
    let growth = peak_rss().saturating_sub(start);
    assert_eq!(got.map(|r| r.data.len()), Some(100 * MIB as usize));
    eprintln!("peak RSS grew by {:.1} MiB while getting 100 MiB", growth as f64 / MIB as f64);
    assert!(growth < 140 * MIB, "peak RSS grew by {} MiB", growth / MIB);
}
