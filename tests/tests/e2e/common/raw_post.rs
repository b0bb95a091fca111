//! POSTs written by hand on a TCP socket, for what no HTTP client will do:
//! declare a body and never send it, or push 64 MiB at a server that should
//! have answered long before. And the memory a process has used at most.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How the body is framed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Framing {
    /// `Content-Length: size`.
    Length,
    /// `Transfer-Encoding: chunked`, no length said.
    Chunked,
}

/// POSTs `size` bytes of `x` to `path` on `127.0.0.1:port` with `headers`,
/// writing until the server answers or stops reading; returns the status of
/// the answer, `None` if none came. The server may answer at any point.
pub(crate) async fn post_large(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    framing: Framing,
    size: usize,
) -> Option<u16> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let (mut reader, mut writer) = stream.into_split();
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&match framing {
        Framing::Length => format!("Content-Length: {size}\r\n\r\n"),
        Framing::Chunked => "Transfer-Encoding: chunked\r\n\r\n".to_owned(),
    });
    let send = async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b'x'; 64 << 10];
        let mut sent = 0;
        while sent < size {
            let n = chunk.len().min(size - sent);
            match framing {
                Framing::Length => writer.write_all(&chunk[..n]).await?,
                Framing::Chunked => {
                    writer.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                    writer.write_all(&chunk[..n]).await?;
                    writer.write_all(b"\r\n").await?;
                }
            }
            sent += n;
        }
        if let Framing::Chunked = framing {
            writer.write_all(b"0\r\n\r\n").await?;
        }
        // Wait for the answer with the write side open.
        std::future::pending::<std::io::Result<()>>().await
    };
    let answer = async move {
        let mut received = Vec::new();
        let mut buffer = [0u8; 4096];
        while !received.windows(2).any(|w| w == b"\r\n") {
            let n = reader.read(&mut buffer).await.ok()?;
            if n == 0 {
                return None;
            }
            received.extend_from_slice(&buffer[..n]);
        }
        let line = String::from_utf8_lossy(&received);
        line.split(' ').nth(1)?.parse().ok()
    };
    tokio::pin!(answer);
    let within = Duration::from_secs(60);
    tokio::select! {
        status = &mut answer => status,
        // The server stopped reading and closed: its answer may still be there.
        _ = send => tokio::time::timeout(Duration::from_secs(5), answer).await.ok().flatten(),
        () = tokio::time::sleep(within) => None,
    }
}

/// POSTs a head declaring a `Content-Length` of `size` and sends no body:
/// the status of the answer, if one comes within 10 s.
pub(crate) async fn declare_only(port: u16, path: &str, headers: &[(&str, &str)], size: u64) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {size}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.ok()?;
    let mut buffer = [0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await.ok()?.ok()?;
    String::from_utf8_lossy(&buffer[..n]).split(' ').nth(1)?.parse().ok()
}

/// A `/proc/<pid>/status` figure in KiB: `VmHWM` (peak RSS) or `VmRSS`.
pub(crate) fn memory_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field} for pid {pid}"));
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
}
