//! API Gateway REST API (v1), HTTP API (v2) and Function URL events, read
//! once out of the invocation's buffer, and the answers written back.
//!
//! `lambda_http` reads an HTTP API event three times (into a `RawValue`, a
//! failed REST attempt, then v2) and copies the body each time. Here the
//! event is read once into a borrowed view: a body without JSON escapes
//! stays a slice of the buffer, and only a base64 one is decoded into a
//! buffer of its own. The request is what `lambda_http` makes of the event
//! (a test reads every fixture both ways), with two differences:
//!
//! - a REST API event keeps every value of a repeated header: `lambda_http`
//!   lays the last one of `headers` over `multiValueHeaders`, so a signature
//!   header sent twice, once forged, would look sent once;
//! - no event can make it panic (the `apigw_request` fuzz target found a Host
//!   that made `lambda_http` abort the function): the Host is not used, and a
//!   malformed event is an [`InputError`].

use std::borrow::Cow;
use std::fmt;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::webhook::WebhookRequest;
use super::{InputError, Text};

/// Which gateway sent the event, and so which shape the answer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gateway {
    /// An API Gateway REST API (payload format 1.0).
    RestApi,
    /// An API Gateway HTTP API or a Lambda Function URL (payload format 2.0).
    HttpApi,
}

/// A webhook request read from an API Gateway or Function URL event.
#[derive(Debug)]
pub struct ApiGatewayRequest {
    pub gateway: Gateway,
    pub head: WebhookRequest,
    /// The body's bytes as the caller sent them: the ones it signed.
    pub body: Bytes,
}

/// The fields of both payload formats that the request is made of; the
/// rest of the event is skipped unread.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventView<'a> {
    /// REST API only; its presence says the event is one.
    #[serde(borrow)]
    http_method: Option<Text<'a>>,
    #[serde(borrow)]
    path: Option<Text<'a>>,
    #[serde(borrow)]
    raw_path: Option<Text<'a>>,
    #[serde(borrow)]
    raw_query_string: Option<Text<'a>>,
    #[serde(borrow)]
    query_string_parameters: Option<Params<'a>>,
    #[serde(borrow)]
    multi_value_query_string_parameters: Option<Params<'a>>,
    #[serde(default)]
    headers: Headers,
    #[serde(default)]
    multi_value_headers: Headers,
    #[serde(borrow)]
    cookies: Option<Vec<Text<'a>>>,
    #[serde(borrow, default)]
    request_context: ContextView<'a>,
    #[serde(borrow)]
    body: Option<Text<'a>>,
    #[serde(default)]
    is_base64_encoded: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ContextView<'a> {
    #[serde(borrow)]
    stage: Option<Text<'a>>,
    #[serde(borrow)]
    request_id: Option<Text<'a>>,
    /// REST API: the caller.
    #[serde(borrow)]
    identity: Option<SourceView<'a>>,
    /// HTTP API and Function URL: the method and the caller.
    #[serde(borrow)]
    http: Option<HttpView<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SourceView<'a> {
    #[serde(borrow)]
    source_ip: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpView<'a> {
    #[serde(borrow)]
    method: Option<Text<'a>>,
    #[serde(borrow)]
    source_ip: Option<Text<'a>>,
}

/// Reads a webhook request from the event in `event`.
pub fn read_request(event: &Bytes) -> Result<ApiGatewayRequest, InputError> {
    let view: EventView<'_> = serde_json::from_slice(event)
        .map_err(|e| InputError::new(format!("not an API Gateway or Function URL request: {e}")))?;
    let context = &view.request_context;
    let (gateway, method, path, source_ip) = match (&view.http_method, &context.http) {
        (Some(method), _) => {
            let source_ip = context.identity.as_ref().and_then(|i| i.source_ip.as_ref());
            (Gateway::RestApi, method, view.path.as_ref(), source_ip)
        }
        (None, Some(HttpView { method: Some(method), source_ip })) => {
            (Gateway::HttpApi, method, view.raw_path.as_ref(), source_ip.as_ref())
        }
        _ => {
            return Err(InputError::new(
                "not an API Gateway or Function URL request: it has neither httpMethod nor requestContext.http.method",
            ));
        }
    };
    let method = Method::from_bytes(method.0.as_bytes())
        .map_err(|_| InputError::new(format!("the request's method {:?} is not an HTTP method", method.0)))?;
    let stage = context.stage.as_ref().map(|s| &*s.0);
    let path = request_path(stage, path.map_or("", |p| &p.0))?;
    let query = match gateway {
        Gateway::HttpApi => view.raw_query_string.as_ref().map(|q| q.0.to_string()),
        Gateway::RestApi => {
            let params = [&view.multi_value_query_string_parameters, &view.query_string_parameters];
            params.into_iter().flatten().find(|p| !p.0.is_empty()).map(Params::to_query_string)
        }
    }
    .filter(|q| !q.is_empty());
    let headers = match gateway {
        Gateway::RestApi => rest_api_headers(view.multi_value_headers.0, view.headers.0),
        Gateway::HttpApi => http_api_headers(view.headers.0, view.cookies.as_deref()),
    };
    let body = match view.body {
        None => Bytes::new(),
        Some(Text(text)) if view.is_base64_encoded => STANDARD
            .decode(text.as_bytes())
            .map(Bytes::from)
            .map_err(|_| InputError::new("the request's body is marked base64-encoded but is not valid base64"))?,
        Some(Text(Cow::Borrowed(text))) => event.slice_ref(text.as_bytes()),
        Some(Text(Cow::Owned(text))) => Bytes::from(text),
    };
    let head = WebhookRequest {
        method,
        path,
        query,
        headers,
        source_ip: source_ip.map(|s| s.0.to_string()),
        request_id: context.request_id.as_ref().map(|s| s.0.to_string()),
    };
    Ok(ApiGatewayRequest { gateway, head, body })
}

/// The path as `lambda_http` gives it: the stage put before it (unless it
/// is `$default`, already there, or `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is
/// set), then normalised as a URL path (dot segments resolved, what a URL
/// path cannot hold percent-encoded).
fn request_path(stage: Option<&str>, path: &str) -> Result<String, InputError> {
    // lambda_http would put the host straight before a path without a `/`.
    let path = if path.starts_with('/') || path.is_empty() { Cow::Borrowed(path) } else { format!("/{path}").into() };
    let staged = match stage {
        _ if ignore_stage_in_path() => path,
        None | Some("$default") => path,
        Some(stage) if path.starts_with(&format!("/{stage}/")) => path,
        Some(stage) => format!("/{stage}{path}").into(),
    };
    if is_normal_path(&staged) {
        return Ok(staged.into_owned());
    }
    url::Url::parse(&format!("http://localhost{staged}"))
        .ok()
        .filter(|url| url.host_str() == Some("localhost") && url.query().is_none() && url.fragment().is_none())
        .map(|url| url.path().to_owned())
        .ok_or_else(|| InputError::new("the request's path is not a valid URL path"))
}

/// `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH`, read once.
fn ignore_stage_in_path() -> bool {
    static IGNORE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *IGNORE.get_or_init(|| std::env::var_os("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_some())
}

/// A path that URL parsing leaves as it is: from `/`, of characters a URL
/// path holds as they are (no `%`, `\\`, space or non-ASCII), with no `.` or
/// `..` segment. Most are; they skip the parse.
fn is_normal_path(path: &str) -> bool {
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(b);
    path.starts_with('/')
        && path.as_bytes().iter().all(allowed)
        && path.split('/').all(|segment| segment != "." && segment != "..")
}
/// A REST API event's headers: `multiValueHeaders`, each name of `headers`
/// replacing its values there, as in `lambda_http`, unless it was repeated.
fn rest_api_headers(mut multi: HeaderMap, single: HeaderMap) -> HeaderMap {
    for (name, value) in single {
        let Some(name) = name else { continue };
        if multi.get_all(&name).iter().nth(1).is_none() {
            multi.insert(name, value);
        }
    }
    multi
}

/// An HTTP API event's headers, with its `cookies` joined into `Cookie`.
fn http_api_headers(mut headers: HeaderMap, cookies: Option<&[Text<'_>]>) -> HeaderMap {
    if let Some(cookies) = cookies {
        let joined = cookies.iter().map(|c| &*c.0).collect::<Vec<_>>().join("; ");
        if let Ok(value) = HeaderValue::from_str(&joined) {
            headers.insert(COOKIE, value);
        }
    }
    headers
}

/// The answer to an API Gateway or Function URL event, in `aws_lambda_events`'
/// types.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ApiGatewayResponse {
    RestApi(ApiGatewayProxyResponse),
    HttpApi(ApiGatewayV2httpResponse),
}

impl Gateway {
    /// `response` in the shape this gateway expects, as `lambda_http` writes
    /// it: a body that is not UTF-8 goes base64-encoded, a REST API gets
    /// every header as a multi-value one, and an HTTP API gets `Set-Cookie`
    /// as its `cookies`.
    pub fn response(self, response: Response<Bytes>) -> ApiGatewayResponse {
        let (head, body) = response.into_parts();
        let (body, is_base64_encoded) = match String::from_utf8(Vec::from(body)) {
            Ok(text) if text.is_empty() => (None, false),
            Ok(text) => (Some(Body::Text(text)), false),
            Err(binary) => (Some(Body::Binary(binary.into_bytes())), true),
        };
        let status_code = i64::from(head.status.as_u16());
        let mut headers = head.headers;
        match self {
            Gateway::RestApi => {
                let mut answer = ApiGatewayProxyResponse::default();
                answer.status_code = status_code;
                answer.multi_value_headers = headers;
                answer.body = body;
                answer.is_base64_encoded = is_base64_encoded;
                ApiGatewayResponse::RestApi(answer)
            }
            Gateway::HttpApi => {
                let mut answer = ApiGatewayV2httpResponse::default();
                answer.status_code = status_code;
                answer.cookies = headers
                    .get_all(SET_COOKIE)
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .collect();
                headers.remove(SET_COOKIE);
                answer.headers = headers;
                answer.body = body;
                answer.is_base64_encoded = is_base64_encoded;
                ApiGatewayResponse::HttpApi(answer)
            }
        }
    }
}

/// Query parameters in event order: a map of names to a value or a list of them.
struct Params<'a>(Vec<(Text<'a>, OneOrMore<'a>)>);

/// A string, or a list of them. (Not `#[serde(untagged)]`: that buffers
/// every value before it tries each shape, for every header of every event.)
enum OneOrMore<'a> {
    One(Text<'a>),
    More(Vec<Text<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for OneOrMore<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Shape<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Shape<'a> {
            type Value = OneOrMore<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(OneOrMore::One(Text(Cow::Borrowed(text))))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(OneOrMore::One(Text(Cow::Owned(text.to_owned()))))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
                Ok(OneOrMore::One(Text(Cow::Owned(text))))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(value) = seq.next_element()? {
                    values.push(value);
                }
                Ok(OneOrMore::More(values))
            }
        }
        deserializer.deserialize_any(Shape(std::marker::PhantomData))
    }
}

impl Params<'_> {
    /// `application/x-www-form-urlencoded`, as `lambda_http` writes a REST
    /// API event's query (in event order, where it follows a hash map's).
    fn to_query_string(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, values) in &self.0 {
            match values {
                OneOrMore::One(value) => {
                    query.append_pair(&name.0, &value.0);
                }
                OneOrMore::More(values) => {
                    for value in values {
                        query.append_pair(&name.0, &value.0);
                    }
                }
            }
        }
        query.finish()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Params<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Pairs<'a> {
            type Value = Params<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of query parameters")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Params<'a>, M::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(Params(pairs))
            }
        }
        deserializer.deserialize_map(Pairs(std::marker::PhantomData))
    }
}

/// Headers: a map of names to a value or a list of them (`null` for none),
/// as `aws_lambda_events` reads them; a name or value HTTP cannot carry
/// makes the event malformed.
#[derive(Default)]
struct Headers(HeaderMap);

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Headers;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of header names to a string or a list of strings")
            }

            fn visit_unit<E: de::Error>(self) -> Result<Headers, E> {
                Ok(Headers::default())
            }

            fn visit_none<E: de::Error>(self) -> Result<Headers, E> {
                Ok(Headers::default())
            }

            fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Headers, D::Error> {
                deserializer.deserialize_map(self)
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Headers, M::Error> {
                let mut headers = HeaderMap::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((name, values)) = map.next_entry::<Text<'_>, OneOrMore<'_>>()? {
                    let name = HeaderName::from_bytes(name.0.as_bytes())
                        .map_err(|_| de::Error::custom(format!("{:?} is not a header name", name.0)))?;
                    let value = |text: &Text<'_>| {
                        HeaderValue::from_str(&text.0)
                            .map_err(|_| de::Error::custom(format!("header {name} has a value HTTP cannot carry")))
                    };
                    match &values {
                        OneOrMore::One(one) => {
                            headers.insert(&name, value(one)?);
                        }
                        OneOrMore::More(more) => {
                            for one in more {
                                headers.append(&name, value(one)?);
                            }
                        }
                    }
                }
                Ok(Headers(headers))
            }
        }
        deserializer.deserialize_option(Entries)
    }
}

#[cfg(test)]
mod tests;
