//! The HTTP output binding against the floor, in the same run: a raw pooled
//! hyper POST of the same 1 KiB JSON body to the same URL, on a server that
//! reads it and answers a small JSON body. The binding is given the URL as
//! Dapr apps usually do, a base `url` plus a per-request `path`, so joining
//! and checking the path is part of what is measured. Budget: ≤ 20 µs median
//! over the floor.
//! Run with `cargo bench -p bindery --bench http_binding`.

use std::hint::black_box;
use std::net::SocketAddr;

use bindery::component::Metadata;
use bindery::output::http::HttpBinding;
use bindery::output::layer::{self, LayerSettings};
use bindery::output::{InvokeRequest, OutputBinding};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::runtime::Runtime;

fn start_server(rt: &Runtime) -> SocketAddr {
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let _ = stream.set_nodelay(true);
                tokio::spawn(http1::Builder::new().serve_connection(
                    TokioIo::new(stream),
                    service_fn(|request: http::Request<hyper::body::Incoming>| async move {
                        black_box(request.into_body().collect().await?.to_bytes().len());
                        let body = Full::new(Bytes::from_static(br#"{"ok":true}"#));
                        Ok::<_, hyper::Error>(
                            http::Response::builder()
                                .header("content-type", "application/json")
                                .body(body)
                                .expect("response"),
                        )
                    }),
                ));
            }
        });
        addr
    })
}

fn http_binding(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let addr = start_server(&rt);
    let url = format!("http://{addr}/webhooks");
    let body = Bytes::from(format!(r#"{{"event":"task.completed","pad":"{}"}}"#, "x".repeat(990)));
    let post = || InvokeRequest::new("post", body.clone()).with_metadata("path", "tasks/done");

    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let floor: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let uri: http::Uri = format!("{url}/tasks/done").parse().expect("uri");
    let metadata = Metadata::from_pairs([("url", url.as_str())]);
    let binding = HttpBinding::from_metadata(&metadata).expect("binding");
    let settings = LayerSettings::from_metadata(&metadata, "responseTimeout").expect("settings");
    let layered = layer::stack(
        Box::new(HttpBinding::from_metadata(&metadata).expect("binding")),
        "hook",
        "bindings.http",
        &settings,
    );

    let mut group = c.benchmark_group("http_binding/1KiB_post");
    group.bench_function("floor_raw_hyper", |b| {
        b.to_async(&rt).iter(|| async {
            let request = http::Request::post(uri.clone())
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .body(Full::new(body.clone()))
                .expect("request");
            let response = floor.request(request).await.expect("POST");
            black_box(response.into_body().collect().await.expect("body").to_bytes());
        })
    });
    group.bench_function("binding", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(binding.invoke(post()).await.expect("invoke"));
        })
    });
    group.bench_function("binding_with_layers", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(layered.invoke(post()).await.expect("invoke"));
        })
    });
    group.finish();
}

criterion_group!(benches, http_binding);
criterion_main!(benches);
