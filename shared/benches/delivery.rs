//! Delivery cost against the floor, measured in the same run: a raw hyper
//! POST of the same body to the same app. Run with
//! `cargo bench -p bindery --bench delivery`; BENCHMARKS.md has the figures.
//!
//! The app is a hyper server on loopback that reads every body to the end and
//! answers 204, in this process, on the same 2-worker runtime.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use bindery::deliver::batch::deliver_batch;
use bindery::deliver::{App, Deliverer};
use bindery::input::apigw::read_request;
use bindery::input::sqs::{parse_batch, parse_record, parse_shared_batch};
use bindery::input::webhook::{WebhookRequest, webhook_event};
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt;
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tokio::runtime::Runtime;
use tokio::time::Instant;

const CONCURRENCY: usize = 16;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// The app: reads the whole body, answers 204.
fn start_app(rt: &Runtime) -> SocketAddr {
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
                        let body = request.into_body().collect().await?.to_bytes();
                        black_box(body.len());
                        Ok::<_, hyper::Error>(
                            http::Response::builder().status(204).body(Empty::<Bytes>::new()).expect("response"),
                        )
                    }),
                ));
            }
        });
        addr
    })
}

/// The floor: a pooled keep-alive hyper client, as bindery's own.
fn floor_client() -> Client<HttpConnector, Full<Bytes>> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new()).build(connector)
}

async fn floor_post(client: &Client<HttpConnector, Full<Bytes>>, uri: &http::Uri, body: Bytes) {
    let request = http::Request::post(uri.clone())
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("request");
    let response = client.request(request).await.expect("floor POST");
    assert!(response.status().is_success());
    response.into_body().collect().await.expect("floor body");
}

fn sqs_record(i: usize, body: &str) -> serde_json::Value {
    json!({
        "messageId": format!("059f36b4-87a3-44ab-83d2-{i:012}"),
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183",
                       "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1545082649185"},
        "messageAttributes": {"tenant": {"stringValue": "acme", "stringListValues": [], "binaryListValues": [], "dataType": "String"}},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:my-queue",
        "awsRegion": "us-east-1"
    })
}

fn body_of(size: usize) -> String {
    "x".repeat(size)
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(600)
}

/// One 1 KiB event: the floor POST, bindery's delivery of a parsed event, and
/// bindery from the raw SQS record JSON to the app's answer.
fn per_event(c: &mut Criterion) {
    let rt = runtime();
    let addr = start_app(&rt);
    let body = body_of(1024);
    let uri: http::Uri = format!("http://{addr}/orders").parse().expect("uri");
    let client = floor_client();
    let deliverer =
        Deliverer::new(App::http(&format!("http://{addr}")).expect("app"), "/orders", None).expect("deliverer");
    let raw = serde_json::value::to_raw_value(&sqs_record(1, &body)).expect("raw");
    let event = parse_record(&raw).expect("record").event().expect("event");

    let mut group = c.benchmark_group("per_event_1KiB");
    group.throughput(Throughput::Elements(1));
    group.bench_function("floor_raw_hyper_post", |b| {
        b.to_async(&rt).iter(|| floor_post(&client, &uri, Bytes::from(body.clone())))
    });
    group.bench_function("bindery_deliver", |b| {
        b.to_async(&rt).iter(|| async { deliverer.deliver(event.clone(), far()).await.expect("delivered") })
    });
    group.bench_function("bindery_translate_sqs_record_only", |b| {
        b.iter(|| black_box(parse_record(black_box(&raw)).expect("record").event().expect("event")))
    });
    group.bench_function("bindery_sqs_record_to_ack", |b| {
        b.to_async(&rt).iter(|| async {
            let record = parse_record(&raw).expect("record");
            deliverer.deliver(record.event().expect("event"), far()).await.expect("delivered")
        })
    });
    group.finish();
}

/// A 6 MiB webhook body: the floor POST, bindery forwarding an already
/// parsed request (what Lambda Web Adapter's 12.6 ms measures), and bindery
/// from the API Gateway event JSON to the app's answer.
fn large_body(c: &mut Criterion) {
    let rt = runtime();
    let addr = start_app(&rt);
    let uri: http::Uri = format!("http://{addr}/hook").parse().expect("uri");
    let client = floor_client();
    let deliverer =
        Deliverer::new(App::http(&format!("http://{addr}")).expect("app"), "/hook", None).expect("deliverer");
    let payload = Bytes::from(body_of(6 * 1024 * 1024));
    let event_json = json!({
        "version": "2.0", "routeKey": "POST /hook", "rawPath": "/hook", "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-github-event": "push"},
        "requestContext": {"http": {"method": "POST", "path": "/hook", "protocol": "HTTP/1.1", "sourceIp": "192.30.252.44", "userAgent": "bench"},
                           "requestId": "r", "routeKey": "POST /hook", "stage": "$default", "accountId": "1", "apiId": "a"},
        "body": std::str::from_utf8(&payload).expect("ascii"), "isBase64Encoded": false
    })
    .to_string();
    let event_bytes = Bytes::from(event_json.clone());
    let head = read_request(&event_bytes).expect("event").head;

    let mut group = c.benchmark_group("body_6MiB");
    group.sample_size(30).throughput(Throughput::Bytes(payload.len() as u64));
    group.bench_function("floor_raw_hyper_post", |b| {
        b.to_async(&rt).iter(|| floor_post(&client, &uri, payload.clone()))
    });
    group.bench_function("bindery_forward_parsed_request", |b| {
        b.to_async(&rt).iter(|| async {
            let event = webhook_event(&head, payload.clone(), &[], None);
            let response = deliverer.send(event, far()).await.expect("sent");
            response.into_body().collect().await.expect("body");
        })
    });
    group.bench_function("bindery_from_event_json", |b| {
        b.to_async(&rt).iter(|| async {
            let request = read_request(&event_bytes).expect("event");
            let event = webhook_event(&request.head, request.body, &[], None);
            let response = deliverer.send(event, far()).await.expect("sent");
            response.into_body().collect().await.expect("body");
        })
    });
    // What the function did before it read events itself (issue 16).
    group.bench_function("lambda_http_from_event_json", |b| {
        b.to_async(&rt).iter(|| async {
            let (parts, body) = lambda_http::request::from_str(&event_json).expect("event").into_parts();
            let body = match body {
                lambda_http::Body::Text(t) => Bytes::from(t),
                lambda_http::Body::Binary(v) => Bytes::from(v),
                _ => Bytes::new(),
            };
            let head = WebhookRequest::from_parts(&parts);
            let response = deliverer.send(webhook_event(&head, body, &[], None), far()).await.expect("sent");
            response.into_body().collect().await.expect("body");
        })
    });
    group.finish();
}

/// A 10,000-record batch of 1 KiB records at the same concurrency: the floor
/// sends 10,000 raw POSTs; a second floor sends them with the four metadata
/// headers the contract requires (what the app must parse either way);
/// bindery delivers pre-parsed events, and then the whole batch from its JSON.
fn batch(c: &mut Criterion) {
    const RECORDS: usize = 10_000;
    let rt = runtime();
    let addr = start_app(&rt);
    let uri: http::Uri = format!("http://{addr}/orders").parse().expect("uri");
    let client = floor_client();
    let deliverer =
        Deliverer::new(App::http(&format!("http://{addr}")).expect("app"), "/orders", None).expect("deliverer");
    let body = body_of(1024);
    let records: Vec<_> = (0..RECORDS).map(|i| sqs_record(i, &body)).collect();
    let payload = json!({ "Records": records }).to_string();

    let mut group = c.benchmark_group("sqs_batch_10000x1KiB");
    group.sample_size(10).measurement_time(Duration::from_secs(20)).throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function(BenchmarkId::new("floor_raw_hyper_posts", CONCURRENCY), |b| {
        b.to_async(&rt).iter(|| async {
            futures_util::stream::iter(0..RECORDS)
                .map(|_| floor_post(&client, &uri, Bytes::from(body.clone())))
                .buffer_unordered(CONCURRENCY)
                .for_each(|()| async {})
                .await
        })
    });
    group.bench_function(BenchmarkId::new("floor_raw_posts_with_the_same_headers", CONCURRENCY), |b| {
        b.to_async(&rt).iter(|| async {
            futures_util::stream::iter(0..RECORDS)
                .map(|i| {
                    let request = http::Request::post(uri.clone())
                        .header("content-type", "application/json")
                        .header("messageid", format!("059f36b4-87a3-44ab-83d2-{i:012}"))
                        .header("approximatereceivecount", "1")
                        .header("senttimestamp", "1545082649183")
                        .header("attr-tenant", "acme")
                        .body(Full::new(Bytes::from(body.clone())))
                        .expect("request");
                    let client = &client;
                    async move {
                        let response = client.request(request).await.expect("post");
                        response.into_body().collect().await.expect("body");
                    }
                })
                .buffer_unordered(CONCURRENCY)
                .for_each(|()| async {})
                .await
        })
    });
    let events: Vec<_> =
        parse_batch(payload.as_bytes()).expect("batch").iter().map(|r| r.event().expect("event")).collect();
    group.bench_function(BenchmarkId::new("bindery_deliver_preparsed", CONCURRENCY), |b| {
        b.to_async(&rt).iter(|| async {
            futures_util::stream::iter(events.iter().cloned())
                .map(|e| deliverer.deliver_untimed(e))
                .buffer_unordered(CONCURRENCY)
                .for_each(|r| async { r.expect("ok") })
                .await
        })
    });
    group.bench_function(BenchmarkId::new("bindery_batch", CONCURRENCY), |b| {
        b.to_async(&rt).iter(|| async {
            let records = parse_batch(payload.as_bytes()).expect("batch");
            let report = deliver_batch(records, CONCURRENCY, far(), |e| deliverer.deliver_untimed(e)).await;
            assert_eq!(report.acked(), RECORDS);
        })
    });
    group.finish();
}

/// Reading a 10,000-record batch and translating every record, no network:
/// what bindery-sqs spends on a batch that the floor does not.
fn translate(c: &mut Criterion) {
    let body = body_of(1024);
    let records: Vec<_> = (0..10_000).map(|i| sqs_record(i, &body)).collect();
    let payload = Bytes::from(json!({ "Records": records }).to_string());
    let mut group = c.benchmark_group("sqs_translate_10000x1KiB");
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("parse_shared_batch_and_every_event", |b| {
        b.iter(|| {
            let records = parse_shared_batch(black_box(&payload)).expect("batch");
            for record in &records {
                black_box(record.event().expect("event"));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, per_event, large_body, batch, translate);
criterion_main!(benches);
