//! The remote answer as an [`InvokeResponse`]: the body up to the size limit
//! (truncated as Dapr truncates, but flagged), `statusCode`, `status` and each
//! header under its canonical name.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, StatusCode};
use http_body::Body;
use http_body_util::BodyExt;
use hyper::ext::ReasonPhrase;

use crate::output::InvokeResponse;
use crate::output::error::{ErrorKind, InvokeError};

/// Set to `"true"` in the response metadata when the body was cut at `maxResponseBodySize`.
pub const TRUNCATED_KEY: &str = "bodyTruncated";

/// Reads at most `limit` bytes of `body` (all of it when `None`); the rest is
/// never buffered.
pub(crate) async fn read_body<B>(mut body: B, limit: Option<u64>) -> Result<(Bytes, bool), InvokeError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let limit = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| InvokeError::new(ErrorKind::Transient, format!("reading the response: {e}")))?;
        let Ok(mut data) = frame.into_data() else { continue };
        let have = first.as_ref().map_or(0, Bytes::len) + joined.len();
        let truncated = have + data.len() > limit;
        if truncated {
            data.truncate(limit - have);
        }
        // The common single-frame body is kept without a copy.
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            None => joined.extend_from_slice(&data),
            Some(previous) => {
                joined.extend_from_slice(&previous);
                joined.extend_from_slice(&data);
            }
        }
        if truncated {
            return Ok((first.unwrap_or_else(|| joined.freeze()), true));
        }
    }
    Ok((first.unwrap_or_else(|| joined.freeze()), false))
}

/// Dapr's response metadata: `statusCode`, `status` and the headers.
///
/// `status` is Go's `resp.Status`: the code and the reason phrase the server
/// sent (hyper keeps it only when it is not the standard one, `reason`).
pub(crate) fn response(
    status: StatusCode,
    reason: Option<&ReasonPhrase>,
    headers: &HeaderMap,
    data: Bytes,
    truncated: bool,
) -> InvokeResponse {
    let reason = match reason {
        Some(phrase) => String::from_utf8_lossy(phrase.as_bytes()),
        None => status.canonical_reason().unwrap_or("").into(),
    };
    let mut response = InvokeResponse::new(data)
        .with_metadata("statusCode", status.as_u16().to_string())
        .with_metadata("status", format!("{} {reason}", status.as_u16()).trim_end());
    for name in headers.keys() {
        // Go keeps any bytes; a header that is not UTF-8 is kept, lossily, rather than lost.
        let values: Vec<_> = headers.get_all(name).iter().map(|v| String::from_utf8_lossy(v.as_bytes())).collect();
        response.metadata.insert(canonical(name.as_str()), values.join(", "));
    }
    if truncated {
        response.metadata.insert(TRUNCATED_KEY.into(), "true".into());
    }
    response.content_type = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    response
}

/// Go's canonical header form: `content-type` becomes `Content-Type`.
fn canonical(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() });
        upper = c == '-';
    }
    out
}

/// The error for a non-2xx answer, keeping the whole response: 429 is
/// throttling and 502-504 are transient, so the retry layer may act on them.
pub(crate) fn status_error(response: InvokeResponse, status: StatusCode) -> InvokeError {
    let kind = match status.as_u16() {
        429 => ErrorKind::Throttled,
        502..=504 => ErrorKind::Transient,
        _ => ErrorKind::Remote,
    };
    InvokeError::new(kind, format!("received status code {}", status.as_u16())).with_response(response)
}

#[cfg(test)]
mod tests {
    use http_body_util::{Full, StreamBody};

    use super::*;

    #[tokio::test]
    async fn bodies_are_cut_at_the_limit_and_flagged() {
        let frames = || {
            let chunks: Vec<Result<http_body::Frame<Bytes>, std::convert::Infallible>> = ["abc", "def", "ghi"]
                .iter()
                .map(|c| Ok(http_body::Frame::data(Bytes::from_static(c.as_bytes()))))
                .collect();
            StreamBody::new(futures_util::stream::iter(chunks))
        };
        assert_eq!(read_body(frames(), None).await.unwrap(), (Bytes::from("abcdefghi"), false));
        assert_eq!(read_body(frames(), Some(9)).await.unwrap(), (Bytes::from("abcdefghi"), false));
        assert_eq!(read_body(frames(), Some(4)).await.unwrap(), (Bytes::from("abcd"), true));
        assert_eq!(read_body(frames(), Some(2)).await.unwrap(), (Bytes::from("ab"), true));
        assert_eq!(read_body(Full::new(Bytes::from("xyz")), Some(0)).await.unwrap(), (Bytes::new(), true));
    }

    #[test]
    fn metadata_follows_go() {
        let mut headers = HeaderMap::new();
        headers.append("x-request-id", "1".parse().unwrap());
        headers.append("set-cookie", "a=1".parse().unwrap());
        headers.append("set-cookie", "b=2".parse().unwrap());
        headers.append("x-latin1", http::HeaderValue::from_bytes(b"caf\xe9").unwrap());
        let r = response(StatusCode::NOT_FOUND, None, &headers, Bytes::new(), false);
        assert_eq!(r.metadata["statusCode"], "404");
        assert_eq!(r.metadata["status"], "404 Not Found");
        assert_eq!(r.metadata["X-Request-Id"], "1");
        assert_eq!(r.metadata["Set-Cookie"], "a=1, b=2");
        assert_eq!(r.metadata["X-Latin1"], "caf\u{fffd}");
        assert!(!r.metadata.contains_key(TRUNCATED_KEY));

        let custom = ReasonPhrase::from_static(b"Gone Fishing");
        let r = response(StatusCode::from_u16(599).unwrap(), Some(&custom), &headers, Bytes::new(), true);
        assert_eq!((r.metadata["status"].as_str(), r.metadata[TRUNCATED_KEY].as_str()), ("599 Gone Fishing", "true"));
        let r = response(StatusCode::from_u16(599).unwrap(), None, &headers, Bytes::new(), false);
        assert_eq!(r.metadata["status"], "599");
    }
}
