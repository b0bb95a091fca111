//! One call of an AWS service's JSON protocol (DynamoDB, Secrets Manager):
//! a POST of JSON to the service's root, signed with SigV4 ([`sigv4`]),
//! over the functions' own HTTPS client rather than through an AWS SDK,
//! which would double an input function's size.
//!
//! Credentials and region come from a component (`accessKey`, `secretKey`,
//! `region`, `endpoint`) or from the environment Lambda sets
//! (`AWS_ACCESS_KEY_ID`, …, `AWS_REGION`; `AWS_ENDPOINT_URL_<SERVICE>` or
//! `AWS_ENDPOINT_URL` for an emulator).

mod sigv4;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::Value;

use crate::output::config::{AwsConfig, StaticKeys};
use crate::tls::{ExchangeError, exchange};
use sigv4::{Scope, sign_post};

/// The largest answer read (a DynamoDB item is at most 400 KB, a secret 64 KB).
const MAX_ANSWER: usize = 1 << 20;
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A service's JSON protocol, as its SDK speaks it.
#[derive(Debug)]
pub(crate) struct Protocol {
    /// Its name in messages, e.g. `DynamoDB`.
    pub name: &'static str,
    /// Its signing name and the first label of its host, e.g. `dynamodb`.
    pub service: &'static str,
    /// The variable that points it at an emulator, e.g. `AWS_ENDPOINT_URL_DYNAMODB`.
    pub endpoint_variable: &'static str,
    /// `X-Amz-Target` is this, a dot, and the action.
    pub target_prefix: &'static str,
    pub content_type: &'static str,
}

/// A service, and how to reach and sign for it.
pub(crate) struct AwsJsonClient {
    protocol: &'static Protocol,
    endpoint: http::Uri,
    /// The `Host` header, as signed.
    host: String,
    region: String,
    credentials: StaticKeys,
    client: crate::tls::HttpsClient,
}

impl std::fmt::Debug for AwsJsonClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsJsonClient").field("service", &self.protocol.name).field("endpoint", &self.endpoint).finish()
    }
}

impl AwsJsonClient {
    /// The service reached as the component (`aws`) or the environment
    /// (`env`) says. The error says what is missing or wrong.
    pub(crate) fn new(
        protocol: &'static Protocol,
        aws: &AwsConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let missing = |what: &str| format!("needs {what}");
        let region = aws.region.clone().or_else(|| env("AWS_REGION")).or_else(|| env("AWS_DEFAULT_REGION"));
        let region = region.ok_or_else(|| missing("a region (the component's region, or AWS_REGION)"))?;
        let endpoint = aws
            .endpoint
            .clone()
            .or_else(|| env(protocol.endpoint_variable))
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .unwrap_or_else(|| format!("https://{}.{region}.amazonaws.com", protocol.service));
        let invalid = |why: String| format!("has an invalid {} endpoint {endpoint:?}: {why}", protocol.name);
        let endpoint: http::Uri = endpoint.parse().map_err(|e: http::uri::InvalidUri| invalid(e.to_string()))?;
        let host = host_header(&endpoint).ok_or_else(|| invalid("it names no host".into()))?;
        if !matches!(endpoint.path(), "" | "/") || endpoint.query().is_some() {
            return Err(invalid(format!("{} is called at its root: give the endpoint without a path", protocol.name)));
        }
        let credentials = match &aws.keys {
            Some(keys) => keys.clone(),
            None => StaticKeys {
                access_key: env("AWS_ACCESS_KEY_ID").ok_or_else(|| missing("credentials (AWS_ACCESS_KEY_ID)"))?,
                secret_key: env("AWS_SECRET_ACCESS_KEY")
                    .ok_or_else(|| missing("credentials (AWS_SECRET_ACCESS_KEY)"))?,
                session_token: env("AWS_SESSION_TOKEN"),
            },
        };
        let client = crate::tls::https_client(crate::tls::web_roots(), HttpConnector::new(), true);
        Ok(Self { protocol, endpoint, host, region, credentials, client })
    }

    /// One signed call of `action`: `Ok(Ok(answer))` for a 2xx, `Ok(Err(error))`
    /// for the service's error document (a 4xx with a `__type`), `Err` when
    /// it could not be made.
    pub(crate) async fn call(&self, action: &str, body: &Value) -> Result<Result<Value, Value>, String> {
        let name = self.protocol.name;
        let failed = |why: String| format!("{name} {action}: {why}");
        let body = Bytes::from(serde_json::to_vec(body).map_err(|e| failed(e.to_string()))?);
        let target = format!("{}.{action}", self.protocol.target_prefix);
        let headers = [("content-type", self.protocol.content_type), ("x-amz-target", target.as_str())];
        let scope = Scope { service: self.protocol.service, region: &self.region };
        let signature = sign_post(&self.host, &headers, &body, &self.credentials, &scope, SystemTime::now());
        let mut request = http::Request::post(self.endpoint.clone()).header(http::header::HOST, &self.host);
        for (name, value) in headers.into_iter().chain(signature.iter().map(|(name, value)| (*name, value.as_str()))) {
            request = request.header(name, value);
        }
        let request = request.body(Full::new(body)).map_err(|e| failed(e.to_string()))?;
        let response = exchange(&self.client, request, MAX_ANSWER, CALL_TIMEOUT).await.map_err(|e| match e {
            ExchangeError::TimedOut => failed("no answer in 5 s".into()),
            ExchangeError::Failed(why) => failed(why),
        })?;
        let status = response.status();
        let answer: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
        if status.is_success() {
            Ok(Ok(answer))
        } else if status.is_client_error() && answer["__type"].is_string() {
            Ok(Err(answer))
        } else {
            Err(failed(format!("answered {status}")))
        }
    }
}

/// The service's error document, `Type: message`.
pub(crate) fn error_text(error: &Value) -> String {
    let kind = error["__type"].as_str().unwrap_or("an error");
    let kind = kind.rsplit('#').next().unwrap_or(kind);
    let message = error["message"].as_str().or_else(|| error["Message"].as_str()).unwrap_or_default();
    format!("{kind}: {message}")
}

/// The `Host` of a call to `endpoint`: its host, and its port unless the
/// scheme's own (as signers and HTTP clients write it).
fn host_header(endpoint: &http::Uri) -> Option<String> {
    let authority = endpoint.authority()?;
    let default = if endpoint.scheme_str() == Some("https") { 443 } else { 80 };
    Some(match authority.port_u16() {
        Some(port) if port != default => format!("{}:{port}", authority.host()),
        _ => authority.host().to_owned(),
    })
}
