//! daprd's error answers: `{"errorCode": ..., "message": ...}` over HTTP, a
//! status with `google.rpc.ErrorInfo{domain: "dapr.io"}` over gRPC.

use serde::Serialize;

use crate::output::InvokeError;

pub(crate) const ERR_MALFORMED_REQUEST: &str = "ERR_MALFORMED_REQUEST";
pub(crate) const ERR_INVOKE_OUTPUT_BINDING: &str = "ERR_INVOKE_OUTPUT_BINDING";
/// bindery's own: a request from a host or web page that may not call the API.
pub(crate) const ERR_FORBIDDEN: &str = "ERR_FORBIDDEN";
/// `google.rpc.ErrorInfo.domain` of every daprd error.
pub(crate) const DOMAIN: &str = "dapr.io";
/// How much of a remote error body is kept in an error answer.
const RESPONSE_BODY_LIMIT: usize = 64 * 1024;

/// The JSON body of an HTTP error answer.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorBody<'a> {
    #[serde(rename = "errorCode")]
    pub(crate) error_code: &'static str,
    pub(crate) message: &'a str,
    /// Beyond daprd: what the remote service answered (the HTTP binding's
    /// non-2xx body), as text.
    #[serde(rename = "responseBody", skip_serializing_if = "Option::is_none")]
    pub(crate) response_body: Option<String>,
}

/// The remote answer kept in `error`, as text, when it has one that is text.
pub(crate) fn response_body(error: &InvokeError) -> Option<String> {
    let data = &error.response.as_ref()?.data;
    if data.is_empty() {
        return None;
    }
    let kept = &data[..data.len().min(RESPONSE_BODY_LIMIT)];
    match std::str::from_utf8(kept) {
        Ok(text) => Some(text.to_owned()),
        // A cut through a multi-byte character: keep the whole characters.
        Err(e) if e.error_len().is_none() => Some(String::from_utf8_lossy(&kept[..e.valid_up_to()]).into_owned()),
        Err(_) => None,
    }
}
