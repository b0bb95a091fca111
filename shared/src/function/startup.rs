//! Reporting a failed init: logged, and posted to the Runtime API's
//! `/init/error` so the reason shows in the invoke result, not only in logs.

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tracing::error;

use crate::component::FieldError;

/// A function cannot start; the message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);

impl StartupError {
    /// The problems of the served component's own metadata, each naming its field.
    pub(crate) fn from_fields(errors: &[FieldError]) -> Self {
        Self(FieldError::summary(errors))
    }
}

/// The configuration is wrong.
const CONFIG_ERROR: &str = "Bindery.ConfigError";
/// The co-located app (`BINDERY_APP_CMD`) did not start or did not become ready.
pub(crate) const APP_START_ERROR: &str = "Bindery.AppStartError";

/// Logs `error`, reports it to Lambda, and returns it for `main` to exit with.
pub(crate) async fn fail(function: &str, error: StartupError) -> lambda_runtime::Error {
    fail_as(function, CONFIG_ERROR, error).await
}

/// [`fail`] with another `errorType`.
pub(crate) async fn fail_as(function: &str, error_type: &str, error: StartupError) -> lambda_runtime::Error {
    error!(function, error = %error.0, "cannot start");
    if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") {
        let body = serde_json::json!({ "errorType": error_type, "errorMessage": error.0 }).to_string();
        let uri = format!("http://{api}/2018-06-01/runtime/init/error");
        let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let request = http::Request::post(uri)
            .header("Lambda-Runtime-Function-Error-Type", error_type)
            .header("content-type", "application/json")
            .body(Full::from(body));
        if let Ok(request) = request
            && let Ok(response) = client.request(request).await
        {
            let _ = response.into_body().collect().await;
        }
    }
    Box::new(error)
}
