//! The floor for whole-process webhook figures (`benches/webhook_peers.rs`):
//! a Lambda function that does only the I/O a webhook function must do. It
//! reads each event from `/invocation/next` into one buffer, parses nothing,
//! POSTs that buffer as it is to `BINDERY_APP_URL`, reads the app's answer to
//! its end and posts `{"statusCode":N}` with the app's status as the
//! invocation's response. One thread and pooled keep-alive hyper clients, as
//! a function would have; `TCP_NODELAY` on both.
//!
//! `AWS_LAMBDA_RUNTIME_API=HOST:PORT BINDERY_APP_URL=URL bindery-floor-webhook`

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new()).build(connector)
}

/// Sends `request` and reads the whole answer: its head, and its body into
/// one buffer of the announced length (collecting hyper's chunks first and
/// joining them would hold the body twice).
async fn send(client: &HttpClient, request: http::Request<Full<Bytes>>) -> (http::Response<()>, Bytes) {
    let response = client.request(request).await.expect("the request is answered");
    let (head, mut body) = response.into_parts();
    let length = head.headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
    let mut buffer = BytesMut::with_capacity(length.unwrap_or(0));
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("the answer is read to its end").into_data() {
            buffer.extend_from_slice(&data);
        }
    }
    (http::Response::from_parts(head, ()), buffer.freeze())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").expect("AWS_LAMBDA_RUNTIME_API");
    let app: http::Uri = std::env::var("BINDERY_APP_URL").expect("BINDERY_APP_URL").parse().expect("a URL");
    bindery_e2e::loopback_only(&format!("http://{api}"));
    bindery_e2e::loopback_only(&app.to_string());
    let next: http::Uri = format!("http://{api}/2018-06-01/runtime/invocation/next").parse().expect("a URL");
    let (api_client, app_client) = (client(), client());
    loop {
        let request = http::Request::get(next.clone()).body(Full::default()).expect("request");
        let (invocation, event) = send(&api_client, request).await;
        let id =
            invocation.headers()["lambda-runtime-aws-request-id"].to_str().expect("an ASCII request id").to_owned();
        let request = http::Request::post(app.clone())
            .header("content-type", "application/json")
            .body(Full::new(event))
            .expect("request");
        let (answer, _) = send(&app_client, request).await;
        let response = format!(r#"{{"statusCode":{}}}"#, answer.status().as_u16());
        let uri = format!("http://{api}/2018-06-01/runtime/invocation/{id}/response");
        let request = http::Request::post(uri).body(Full::new(Bytes::from(response))).expect("request");
        send(&api_client, request).await;
    }
}
