//! Entry points for the fuzz targets (`fuzz/`), behind the `fuzzing`
//! feature: crate-private parsers, exposed as they are, so that the fuzzer
//! runs exactly the code the functions and the API run.

/// The HTTP binding's `path` joiner ([`crate::output::http`]).
pub fn http_path_join(base_path: &str, base_query: Option<&str>, path: &str) -> Result<String, &'static str> {
    crate::output::http::path::join(base_path, base_query, path)
}

/// The Dapr HTTP API's request body parser.
#[cfg(feature = "api")]
pub fn dapr_invoke_body(body: &[u8]) -> Result<crate::output::InvokeRequest, String> {
    crate::api::http::invoke_request(body)
}

/// bindery-webhook's reading of an API Gateway or Function URL event.
pub fn apigw_request(event: &[u8]) -> Result<crate::input::apigw::ApiGatewayRequest, crate::input::InputError> {
    crate::input::apigw::read_request(&bytes::Bytes::copy_from_slice(event))
}
