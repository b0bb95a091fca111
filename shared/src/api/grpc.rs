//! daprd's gRPC `InvokeBinding`: `data` reaches the binding as raw bytes (no
//! JSON re-encoding, unlike HTTP), response metadata comes back both in the
//! message and as `metadata.<k>` headers, and errors carry daprd's status
//! and `ErrorInfo`. As daprd's (grpc-go's `MaxRecvMsgSize` and
//! `MaxSendMsgSize`), no message larger than `--max-body-size` is received or
//! sent: a larger answer is refused with `RESOURCE_EXHAUSTED`, naming its size
//! and the limit, before anything is encoded.

use std::collections::HashMap;

use tonic::metadata::{MetadataKey, MetadataMap as GrpcMetadata, MetadataValue};
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::error::{DOMAIN, ERR_INVOKE_OUTPUT_BINDING, response_body};
use super::http::{API_TOKEN_HEADER, TRACE_KEYS};
use super::{OutputApi, invoke_error_message};
use crate::output::{InvokeRequest, MetadataMap};
use crate::token::SecretToken;

/// The generated types of `proto/dapr/proto/runtime/v1/dapr.proto`.
#[allow(unreachable_pub, missing_docs, clippy::all)]
pub mod proto {
    tonic::include_proto!("dapr.proto.runtime.v1");
}

use proto::dapr_server::{Dapr, DaprServer};
use proto::{InvokeBindingRequest, InvokeBindingResponse};

/// The gRPC service, token check included.
pub type GrpcService = tonic::service::interceptor::InterceptedService<DaprServer<OutputApi>, TokenCheck>;

impl OutputApi {
    /// The gRPC service `dapr.proto.runtime.v1.Dapr`, with `InvokeBinding`.
    pub fn grpc_service(&self) -> GrpcService {
        let limit = self.inner.settings.max_body_size;
        let server = DaprServer::new(self.clone()).max_decoding_message_size(limit).max_encoding_message_size(limit);
        tonic::service::interceptor::InterceptedService::new(
            server,
            TokenCheck { expected: self.inner.api_token.clone() },
        )
    }
}

#[tonic::async_trait]
impl Dapr for OutputApi {
    async fn invoke_binding(
        &self,
        request: Request<InvokeBindingRequest>,
    ) -> Result<Response<InvokeBindingResponse>, Status> {
        let (headers, _, message) = request.into_parts();
        let mut metadata: MetadataMap = message.metadata.into_iter().collect();
        // daprd also copies every other incoming gRPC header (user-agent,
        // dapr-api-token, ...) into the binding's metadata; bindery passes
        // only the trace context, so no token can reach a binding.
        for key in TRACE_KEYS {
            if let Some(value) = headers.get(*key).and_then(|v| v.to_str().ok()) {
                metadata.entry((*key).to_owned()).or_insert_with(|| value.to_owned());
            }
        }
        let name = message.name;
        let invoke = InvokeRequest { operation: message.operation, data: message.data, metadata };
        match self.invoke(&name, invoke).await {
            Ok(response) => {
                let response = response.unwrap_or_default();
                let message = InvokeBindingResponse {
                    data: response.data,
                    metadata: response.metadata.clone().into_iter().collect(),
                };
                let (size, limit) = (prost::Message::encoded_len(&message), self.settings().max_body_size);
                if size > limit {
                    let why = format!(
                        "the answer is {size} bytes, more than the gRPC message limit (max-body-size, {limit} bytes)"
                    );
                    return Err(Status::resource_exhausted(format!("error invoking output binding {name}: {why}")));
                }
                let mut answer = Response::new(message);
                add_metadata_headers(answer.metadata_mut(), &response.metadata);
                Ok(answer)
            }
            Err(error) => {
                let mut details_metadata = HashMap::new();
                if let Some(body) = response_body(&error) {
                    details_metadata.insert("responseBody".to_owned(), body);
                }
                let details = ErrorDetails::with_error_info(ERR_INVOKE_OUTPUT_BINDING, DOMAIN, details_metadata);
                let mut headers = GrpcMetadata::new();
                if let Some(response) = &error.response {
                    add_metadata_headers(&mut headers, &response.metadata);
                }
                let message = invoke_error_message(&name, &error);
                Err(Status::with_error_details_and_metadata(Code::Internal, message, details, headers))
            }
        }
    }
}

/// `metadata.<key>` headers (lower-cased, as gRPC sends them); entries that
/// cannot be headers are left out.
fn add_metadata_headers(headers: &mut GrpcMetadata, metadata: &MetadataMap) {
    for (key, value) in metadata {
        let name = MetadataKey::from_bytes(format!("metadata.{}", key.to_ascii_lowercase()).as_bytes());
        if let (Ok(name), Ok(value)) = (name, MetadataValue::try_from(value.as_str())) {
            headers.append(name, value);
        }
    }
}

/// daprd's gRPC token rule (`pkg/api/grpc/auth.go`).
#[derive(Debug, Clone)]
pub struct TokenCheck {
    expected: Option<SecretToken>,
}

impl tonic::service::Interceptor for TokenCheck {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(expected) = &self.expected else {
            return Ok(request);
        };
        match request.metadata().get(API_TOKEN_HEADER) {
            None => Err(Status::unauthenticated("missing api token in request metadata")),
            Some(given) if expected.matches(given.as_bytes()) => Ok(request),
            Some(_) => Err(Status::unauthenticated("authentication error: api token mismatch")),
        }
    }
}
