//! Hands a handler its invocation's event exactly as Lambda sent it.
//!
//! `lambda_runtime` deserializes every event into an owned value before the
//! handler runs, so a 10,000-record SQS batch would live in memory twice (the
//! buffer and its copy) plus a copy per record. This layer keeps the buffer
//! instead, and gives the runtime `null` to deserialize: the SQS handler then
//! reads records straight out of the buffer and parses each when it is
//! delivered (see `input::sqs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use lambda_runtime::LambdaInvocation;
use tower::{Layer, Service};

/// Raw events by Lambda request id, from the layer to the handler.
#[derive(Clone, Default)]
pub(crate) struct RawEvents(Arc<Mutex<HashMap<String, Bytes>>>);

impl RawEvents {
    /// The event of `request_id`, which only its handler may take.
    pub(crate) fn take(&self, request_id: &str) -> Option<Bytes> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).remove(request_id)
    }
}

impl<S> Layer<S> for RawEvents {
    type Service = KeepRawEvent<S>;

    fn layer(&self, inner: S) -> KeepRawEvent<S> {
        KeepRawEvent { inner, events: self.clone() }
    }
}

#[derive(Clone)]
pub(crate) struct KeepRawEvent<S> {
    inner: S,
    events: RawEvents,
}

impl<S: Service<LambdaInvocation>> Service<LambdaInvocation> for KeepRawEvent<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> S::Future {
        let body = std::mem::replace(&mut invocation.body, Bytes::from_static(b"null"));
        let id = invocation.context.request_id.clone();
        self.events.0.lock().unwrap_or_else(PoisonError::into_inner).insert(id, body);
        self.inner.call(invocation)
    }
}
