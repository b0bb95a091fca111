//! The floor for whole-process batch figures: `COUNT` raw hyper POSTs of a
//! `SIZE`-byte body to `URL`, `CONCURRENCY` at a time, from a process of its
//! own on one thread, as a function would send them. Prints the elapsed
//! milliseconds.
//!
//! `bindery-floor-posts URL COUNT CONCURRENCY SIZE [with-headers]`: with the
//! last word, each POST also carries the four metadata headers bindery sends
//! for an SQS record (`messageid`, `approximatereceivecount`,
//! `senttimestamp`, `attr-tenant`), which the app must read either way.

use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, count, concurrency, size, with_headers) = match args.as_slice() {
        [_, url, count, concurrency, size] => (url, count, concurrency, size, false),
        [_, url, count, concurrency, size, flag] if flag == "with-headers" => (url, count, concurrency, size, true),
        _ => panic!("usage: bindery-floor-posts URL COUNT CONCURRENCY SIZE [with-headers]"),
    };
    bindery_e2e::loopback_only(url);
    let uri: http::Uri = url.parse().expect("a URL");
    let (count, concurrency, size): (usize, usize, usize) =
        (count.parse().expect("COUNT"), concurrency.parse().expect("CONCURRENCY"), size.parse().expect("SIZE"));
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let body = Bytes::from(vec![b'x'; size]);
    let started = Instant::now();
    futures_util::stream::iter(0..count)
        .map(|i| {
            let mut request = http::Request::post(uri.clone()).header("content-type", "application/json");
            if with_headers {
                request = request
                    .header("messageid", format!("m-{i}"))
                    .header("approximatereceivecount", "1")
                    .header("senttimestamp", "1545082649183")
                    .header("attr-tenant", "acme");
            }
            let request = request.body(Full::new(body.clone())).expect("request");
            let client = &client;
            async move {
                let response = client.request(request).await.expect("POST");
                assert!(response.status().is_success());
                response.into_body().collect().await.expect("body");
            }
        })
        .buffer_unordered(concurrency)
        .for_each(|()| async {})
        .await;
    println!("{}", started.elapsed().as_millis());
}
