//! Whole-process figures of the release binaries, through the Runtime API
//! emulator: start-up to the first `/invocation/next`, a 10,000-record SQS
//! batch beside a raw-hyper floor, and peak RSS while handling it; Kinesis
//! and DynamoDB Streams batches beside the same floor one request at a time;
//! and what idempotent delivery costs bindery-sqs a record, its table on
//! moto, beside the same batch without it; and what exporting traces
//! over OTLP costs a cron invocation (`traces`: bindery-cron built with
//! `--features otlp`, a loopback collector). Run with
//! `cargo build --release --workspace --bins && cargo bench -p bindery-e2e --bench functions`
//! (the `idempotency` part needs the moto `scripts/test` starts:
//! `BINDERY_TEST_AWS_ENDPOINT`).
//!
//! Each figure is printed beside its floor from the same run: for start-up,
//! spawning `/bin/true` to its exit; for the batch, `bindery-floor-posts`;
//! for memory, the same process idle.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bindery_e2e::{FunctionProcess, InvokeOptions, OtlpCollector, RecordingApp, RuntimeApi, SinkApp, release_bin};
use serde_json::json;

const STARTS: usize = 30;

fn components() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bindery-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let doc = |name: &str, kind: &str, items: &str| {
        format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {kind}\n  version: v1\n  metadata:\n  - name: direction\n    value: input\n{items}---\n"
        )
    };
    let text = [
        doc("tick", "bindings.cron", "  - name: schedule\n    value: \"@every 1m\"\n"),
        doc("orders", "bindings.aws.sqs", "  - name: queueName\n    value: orders\n"),
        doc("hook", "bindings.http", "  - name: signatureScheme\n    value: none\n"),
        doc("clicks", "bindings.aws.kinesis", "  - name: streamName\n    value: clicks\n"),
        doc("task-changes", "bindings.aws.dynamodb", "  - name: table\n    value: tasks\n"),
    ]
    .concat();
    std::fs::write(dir.join("components.yaml"), text).expect("write components");
    dir
}

fn median(mut xs: Vec<Duration>) -> (Duration, Duration) {
    xs.sort();
    (xs[xs.len() / 2], xs[xs.len() * 9 / 10])
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// KiB from a line of /proc/<pid>/status, e.g. `VmHWM:    4321 kB`.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .expect("field in /proc status")
}

async fn start_up(dir: &str, app: &str) {
    let mut floor = Vec::new();
    for _ in 0..STARTS {
        let t = Instant::now();
        std::process::Command::new("/bin/true").status().expect("/bin/true");
        floor.push(t.elapsed());
    }
    let (floor_median, floor_p90) = median(floor);
    println!("| start-up: spawn to exit of /bin/true (floor) | {} | {} |", ms(floor_median), ms(floor_p90));
    for (bin, binding) in [
        ("bindery-cron", "tick"),
        ("bindery-sqs", "orders"),
        ("bindery-webhook", "hook"),
        ("bindery-kinesis", "clicks"),
        ("bindery-dynamodb-streams", "task-changes"),
    ] {
        let mut times = Vec::new();
        for _ in 0..STARTS {
            let api = RuntimeApi::start().await;
            let started = Instant::now();
            let env = [("BINDERY_COMPONENTS", dir), ("BINDERY_BINDING", binding), ("BINDERY_APP_URL", app)];
            let _process = FunctionProcess::spawn(&release_bin(bin), &api, &env);
            let first_poll = api.wait_for_next_poll(Duration::from_secs(10)).await.expect("the function polls /next");
            times.push(first_poll.duration_since(started));
        }
        let (m, p90) = median(times);
        println!("| start-up: spawn to first /invocation/next, {bin} | {} | {} |", ms(m), ms(p90));
    }
}

/// The 10,000-record batch, five times, each time beside the floor: the same
/// bodies sent to the same app by `bindery-floor-posts`, a raw hyper client
/// in a process of its own, at the same concurrency.
async fn batch(dir: &str) {
    const RECORDS: usize = 10_000;
    const ROUNDS: usize = 9;
    const CONCURRENCY: &str = "16";
    let app = SinkApp::start().await;
    let api = RuntimeApi::start().await;
    let url = app.url();
    let env = [
        ("BINDERY_COMPONENTS", dir),
        ("BINDERY_BINDING", "orders"),
        ("BINDERY_APP_URL", url.as_str()),
        ("BINDERY_SQS_CONCURRENCY", CONCURRENCY),
        ("RUST_LOG", "warn"),
        // As the README recommends: glibc's growing mmap threshold otherwise
        // keeps one event's worth of memory resident after it is freed.
        ("MALLOC_MMAP_THRESHOLD_", "131072"),
    ];
    let process = FunctionProcess::spawn(&release_bin("bindery-sqs"), &api, &env);
    api.wait_for_next_poll(Duration::from_secs(10)).await.expect("polls");
    let idle = status_kib(process.pid(), "VmRSS:");
    let body = "x".repeat(1024);
    let records: Vec<_> = (0..RECORDS)
        .map(|i| {
            json!({"messageId": format!("m-{i}"), "receiptHandle": "AQEB", "body": body,
                   "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
                   "messageAttributes": {"tenant": {"stringValue": "acme", "dataType": "String"}}, "eventSource": "aws:sqs",
                   "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders", "awsRegion": "us-east-1"})
        })
        .collect();
    // Shared, so that handing it to the emulator each round copies nothing.
    let event = bytes::Bytes::from(json!({ "Records": records }).to_string());
    let (mut bindery, mut floor, mut floor_headers) = (Vec::new(), Vec::new(), Vec::new());
    // Header bytes per request the app read, per sender: the comparison with
    // the floor that sends the metadata headers is only fair if they match.
    let mut header_bytes = [0u64; 3];
    let mut counted = |slot: usize, before: u64| header_bytes[slot] += app.header_bytes() - before;
    let run_floor = |extra: Option<&str>| {
        let mut args =
            vec![format!("{url}/orders"), RECORDS.to_string(), CONCURRENCY.to_owned(), body.len().to_string()];
        args.extend(extra.map(str::to_owned));
        let output =
            std::process::Command::new(release_bin("bindery-floor-posts")).args(args).output().expect("run the floor");
        let ms: u64 = String::from_utf8_lossy(&output.stdout).trim().parse().expect("the floor prints milliseconds");
        Duration::from_millis(ms)
    };
    for _ in 0..ROUNDS {
        let before = app.header_bytes();
        let started = Instant::now();
        let options =
            InvokeOptions { deadline: Duration::from_secs(120), wait: Duration::from_secs(120), ..Default::default() };
        let outcome = api.invoke(event.clone(), options).await;
        bindery.push(started.elapsed());
        counted(0, before);
        let failures = outcome.response()["batchItemFailures"].as_array().map_or(usize::MAX, Vec::len);
        assert_eq!(failures, 0, "every record acknowledged");

        let before = app.header_bytes();
        floor.push(run_floor(None));
        counted(1, before);
        let before = app.header_bytes();
        floor_headers.push(run_floor(Some("with-headers")));
        counted(2, before);
    }
    assert_eq!(app.requests(), (3 * ROUNDS * RECORDS) as u64);
    assert_eq!(app.body_bytes(), (3 * ROUNDS * RECORDS * body.len()) as u64);
    let per_request = header_bytes.map(|total| total as f64 / (ROUNDS * RECORDS) as f64);
    println!(
        "| header bytes per request read by the app: bindery-sqs, floor, floor with headers | {:.0}, {:.0}, {:.0} | |",
        per_request[0], per_request[1], per_request[2]
    );
    let after = status_kib(process.pid(), "VmRSS:");
    let peak = status_kib(process.pid(), "VmHWM:");
    let (floor_median, _) = median(floor);
    let (floor_headers_median, _) = median(floor_headers);
    let (bindery_median, _) = median(bindery);
    let rate = |d: Duration| RECORDS as f64 / d.as_secs_f64();
    println!(
        "| {RECORDS} x 1 KiB, 16 in flight: floor, raw hyper POSTs from their own process | {} ({:.0} records/s) | |",
        ms(floor_median),
        rate(floor_median)
    );
    println!(
        "| {RECORDS} x 1 KiB, 16 in flight: the same floor with the four metadata headers | {} ({:.0} records/s) | |",
        ms(floor_headers_median),
        rate(floor_headers_median)
    );
    println!(
        "| {RECORDS} x 1 KiB, 16 in flight: bindery-sqs, event in to response out | {} ({:.0} records/s, {:.0} % of the floor, {:.0} % of the floor with headers) | |",
        ms(bindery_median),
        rate(bindery_median),
        100.0 * rate(bindery_median) / rate(floor_median),
        100.0 * rate(bindery_median) / rate(floor_headers_median)
    );
    println!("| RSS of bindery-sqs idle, before the batches (floor) | {:.1} MiB | |", idle as f64 / 1024.0);
    println!("| RSS of bindery-sqs after {ROUNDS} batches | {:.1} MiB | |", after as f64 / 1024.0);
    println!(
        "| peak RSS of bindery-sqs over those batches ({:.1} MiB event each) | {:.1} MiB | |",
        event.len() as f64 / (1024.0 * 1024.0),
        peak as f64 / 1024.0
    );
}

/// A Kinesis batch of `records` 1 KiB records of one shard, as Lambda sends it.
fn kinesis_event(records: usize, body: &str) -> bytes::Bytes {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(body);
    let records: Vec<_> = (0..records)
        .map(|i| {
            let sequence = format!("4959033827149025660855969253836157109592157598913658{i:04}");
            json!({"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "tenant-1", "sequenceNumber": sequence,
                   "data": data, "approximateArrivalTimestamp": 1545084650.987},
                   "eventSource": "aws:kinesis", "eventVersion": "1.0",
                   "eventID": format!("shardId-000000000006:{sequence}"), "eventName": "aws:kinesis:record",
                   "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"})
        })
        .collect();
    bytes::Bytes::from(json!({ "Records": records }).to_string())
}

/// A DynamoDB Streams batch of `records` INSERTs whose new image holds `body`.
fn dynamodb_event(records: usize, body: &str) -> bytes::Bytes {
    let records: Vec<_> = (0..records)
        .map(|i| {
            json!({"eventID": format!("e-{i}"), "eventVersion": "1.1", "eventName": "INSERT", "eventSource": "aws:dynamodb",
                   "awsRegion": "us-east-1",
                   "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/tasks/stream/2026-12-05T00:00:00.000",
                   "dynamodb": {"ApproximateCreationDateTime": 1764900000, "Keys": {"key": {"S": format!("t-{i}")}},
                                "NewImage": {"key": {"S": format!("t-{i}")}, "title": {"S": body}},
                                "SequenceNumber": format!("{:021}", 100_000_000_000_000_000_000u128 + i as u128),
                                "SizeBytes": 1100, "StreamViewType": "NEW_AND_OLD_IMAGES"}})
        })
        .collect();
    bytes::Bytes::from(json!({ "Records": records }).to_string())
}

/// Kinesis and DynamoDB Streams batches of one shard: delivered one record
/// after another, in order, so the floor is `bindery-floor-posts` with one
/// request in flight. The per-record overhead is the difference of the
/// medians over the records.
async fn streams(dir: &str) {
    const RECORDS: usize = 2_000;
    const ROUNDS: usize = 7;
    let app = SinkApp::start().await;
    let url = app.url();
    let body = "x".repeat(1024);
    for (bin, binding, event) in [
        ("bindery-kinesis", "clicks", kinesis_event(RECORDS, &body)),
        ("bindery-dynamodb-streams", "task-changes", dynamodb_event(RECORDS, &body)),
    ] {
        let api = RuntimeApi::start().await;
        let env = [
            ("BINDERY_COMPONENTS", dir),
            ("BINDERY_BINDING", binding),
            ("BINDERY_APP_URL", url.as_str()),
            ("RUST_LOG", "warn"),
        ];
        let _process = FunctionProcess::spawn(&release_bin(bin), &api, &env);
        api.wait_for_next_poll(Duration::from_secs(10)).await.expect("polls");
        let floor_body_len = app.body_bytes();
        let (mut bindery, mut floor) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let options = InvokeOptions {
                deadline: Duration::from_secs(120),
                wait: Duration::from_secs(120),
                ..Default::default()
            };
            let outcome = api.invoke(event.clone(), options).await;
            bindery.push(started.elapsed());
            let failures = outcome.response()["batchItemFailures"].as_array().map_or(usize::MAX, Vec::len);
            assert_eq!(failures, 0, "{bin}: every record acknowledged");
            let args = [format!("{url}/{binding}"), RECORDS.to_string(), "1".to_owned(), body.len().to_string()];
            let output =
                std::process::Command::new(release_bin("bindery-floor-posts")).args(args).output().expect("the floor");
            let ms: u64 = String::from_utf8_lossy(&output.stdout).trim().parse().expect("milliseconds");
            floor.push(Duration::from_millis(ms));
        }
        assert!(app.body_bytes() > floor_body_len, "{bin}: the app read the bodies");
        let (bindery_median, _) = median(bindery);
        let (floor_median, _) = median(floor);
        let overhead_us = (bindery_median.as_secs_f64() - floor_median.as_secs_f64()) * 1e6 / RECORDS as f64;
        println!(
            "| {RECORDS} x 1 KiB of one shard, in order: floor, raw hyper POSTs one at a time | {} ({:.0} records/s) | |",
            ms(floor_median),
            RECORDS as f64 / floor_median.as_secs_f64()
        );
        println!(
            "| {RECORDS} x 1 KiB of one shard, in order: {bin}, event in to response out | {} ({:.0} records/s, {:.0} % of the floor; {overhead_us:.1} µs a record over it) | |",
            ms(bindery_median),
            RECORDS as f64 / bindery_median.as_secs_f64(),
            100.0 * floor_median.as_secs_f64() / bindery_median.as_secs_f64()
        );
    }
}

/// Invokes `api` with `event`, a batch every record of which is acknowledged: how long it took.
async fn timed_batch(api: &RuntimeApi, event: bytes::Bytes) -> Duration {
    let options =
        InvokeOptions { deadline: Duration::from_secs(120), wait: Duration::from_secs(120), ..Default::default() };
    let started = Instant::now();
    let outcome = api.invoke(event, options).await;
    let failures = outcome.response()["batchItemFailures"].as_array().map_or(usize::MAX, Vec::len);
    assert_eq!(failures, 0, "every record acknowledged");
    started.elapsed()
}

/// bindery-sqs delivering a batch with idempotency (its records in a
/// DynamoDB table on moto) and without, alternately, each round's batch of
/// new message ids; then the same batch again, every record a duplicate.
async fn idempotency(dir: &str) {
    const RECORDS: usize = 500;
    const ROUNDS: usize = 5;
    let emulator = bindery_e2e::aws::Emulator::from_env();
    let table = emulator.unique("bench-seen");
    emulator.boto3(json!({"op": "dynamodb_table", "name": table})).await;
    let once = format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: orders\nspec:\n  type: bindings.aws.sqs\n  \
         version: v1\n  metadata:\n  - name: direction\n    value: input\n  - name: queueName\n    value: orders\n  \
         - name: idempotency\n    value: dynamodb\n  - name: idempotencyTable\n    value: {table}\n{}",
        emulator.component_metadata().replace("    - ", "  - ").replace("      value", "    value")
    );
    let once_dir = std::env::temp_dir().join(format!("bindery-bench-once-{}", std::process::id()));
    std::fs::create_dir_all(&once_dir).expect("temp dir");
    std::fs::write(once_dir.join("orders.yaml"), once).expect("write the component");
    let app = SinkApp::start().await;
    let url = app.url();
    let start = |components: String| {
        let url = url.clone();
        async move {
            let api = RuntimeApi::start().await;
            let env = [
                ("BINDERY_COMPONENTS", components.as_str()),
                ("BINDERY_BINDING", "orders"),
                ("BINDERY_APP_URL", url.as_str()),
                ("RUST_LOG", "warn"),
            ];
            let process = FunctionProcess::spawn(&release_bin("bindery-sqs"), &api, &env);
            api.wait_for_next_poll(Duration::from_secs(10)).await.expect("polls");
            (api, process)
        }
    };
    let (plain, _plain) = start(dir.to_owned()).await;
    let (idempotent, _idempotent) = start(once_dir.display().to_string()).await;
    let body = "x".repeat(1024);
    let event = |round: usize| {
        let records: Vec<_> = (0..RECORDS)
            .map(|i| {
                json!({"messageId": format!("r{round}-m{i}"), "receiptHandle": "AQEB", "body": body,
                       "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
                       "messageAttributes": {}, "eventSource": "aws:sqs",
                       "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders", "awsRegion": "us-east-1"})
            })
            .collect();
        bytes::Bytes::from(json!({ "Records": records }).to_string())
    };
    let (mut without, mut with, mut again) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let event = event(round);
        without.push(timed_batch(&plain, event.clone()).await);
        let before = app.requests();
        with.push(timed_batch(&idempotent, event.clone()).await);
        assert_eq!(app.requests() - before, RECORDS as u64, "each record delivered once");
        again.push(timed_batch(&idempotent, event).await);
        assert_eq!(app.requests() - before, RECORDS as u64, "the duplicates reach nobody");
    }
    let (without, with, again) = (median(without).0, median(with).0, median(again).0);
    // The same two writes a record, made by boto3 with as many at once.
    let calls = json!({"op": "idempotency_calls", "table": table, "records": RECORDS, "threads": 16, "rounds": ROUNDS});
    let boto3 = Duration::from_secs_f64(emulator.boto3(calls).await.as_f64().expect("seconds"));
    let per_record = |d: Duration| d.as_secs_f64() * 1e6 / RECORDS as f64;
    println!(
        "| {RECORDS} x 1 KiB SQS records, 16 in flight: bindery-sqs without idempotency (the floor) | {} ({:.0} µs a record) | |",
        ms(without),
        per_record(without)
    );
    println!(
        "| the same batch with idempotency, its table on moto (a conditional PutItem and a PutItem a record) | {} ({:.0} µs a record, {:.0} µs over the floor) | |",
        ms(with),
        per_record(with),
        per_record(with) - per_record(without)
    );
    println!(
        "| moto's own time for those writes: the same two PutItems a record from boto3, 16 at once (no app) | {} ({:.0} µs a record) | |",
        ms(boto3),
        per_record(boto3)
    );
    println!(
        "| the same batch again: every record a duplicate (a conditional PutItem that fails, returning the record) | {} ({:.0} µs a record) | |",
        ms(again),
        per_record(again)
    );
    let _ = std::fs::remove_dir_all(once_dir);
}

/// bindery-cron (built with `--features otlp`) invoked one event at a time
/// with a sampled X-Ray header: without the OTel variables, then exporting
/// each invocation's span to a loopback collector; beside the floor, raw
/// hyper POSTs of the same empty body to the same app, one at a time. Two
/// figures each: the answer (what the caller waits for) and the whole
/// cycle to the next `/invocation/next` (the export comes between).
async fn traces(dir: &str) {
    const INVOCATIONS: usize = 1000;
    const ROUNDS: usize = 5;
    let app = SinkApp::start().await;
    let url = app.url();
    let collector = OtlpCollector::start().await;
    let endpoint = collector.endpoint();
    let event = json!({"scheduledTime": "2026-03-22T18:59:00Z", "attempt": "1"}).to_string();
    let xray = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let per = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6 / INVOCATIONS as f64);
    let configs = [("exporting off", None), ("exporting on", Some(endpoint.as_str()))];
    let mut floors = Vec::new();
    // Per configuration: the answers' total time and the cycles', a round each.
    let mut runs = vec![(Vec::new(), Vec::new()); configs.len()];
    for _ in 0..ROUNDS {
        let args = [format!("{url}/tick"), INVOCATIONS.to_string(), "1".to_owned(), "0".to_owned()];
        let output =
            std::process::Command::new(release_bin("bindery-floor-posts")).args(args).output().expect("the floor");
        let ms: u64 = String::from_utf8_lossy(&output.stdout).trim().parse().expect("milliseconds");
        floors.push(Duration::from_millis(ms));
        for ((_, otel), (answers, cycles)) in configs.iter().zip(&mut runs) {
            let api = RuntimeApi::start().await;
            let mut env = vec![("BINDERY_COMPONENTS", dir), ("BINDERY_BINDING", "tick")];
            env.push(("BINDERY_APP_URL", url.as_str()));
            env.extend(otel.map(|endpoint| ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)));
            let _process = FunctionProcess::spawn(&release_bin("bindery-cron"), &api, &env);
            api.wait_for_next_poll(Duration::from_secs(10)).await.expect("polls");
            let (mut answered, started) = (Duration::ZERO, Instant::now());
            for _ in 0..INVOCATIONS {
                let options = InvokeOptions { trace_id: Some(xray.to_owned()), ..Default::default() };
                let timed = api.invoke_timed(event.clone(), options).await;
                answered += timed.took;
                assert_eq!(timed.outcome.response(), serde_json::Value::Null);
            }
            // Its next call of /next: done with the last invocation, its export included.
            assert!(api.wait_for_polls(INVOCATIONS as u64 + 1, Duration::from_secs(10)).await, "polls again");
            answers.push(answered);
            cycles.push(started.elapsed());
        }
    }
    let spans = collector.wait_for_spans(ROUNDS * INVOCATIONS, Duration::from_secs(10)).await.len();
    assert_eq!(
        spans,
        ROUNDS * INVOCATIONS,
        "one span an invocation exported: is bindery-cron built with --features otlp?"
    );
    println!(
        "| a cron invocation: floor, a raw hyper POST of its body to the same app | {} | |",
        per(median(floors).0)
    );
    for ((name, _), (answered, cycles)) in configs.iter().zip(runs) {
        println!(
            "| a cron invocation, {name}: /next to its answer; to the next /next | {}; {} | |",
            per(median(answered).0),
            per(median(cycles).0)
        );
    }
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; a plain `cargo test --benches` passes nothing.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // `cargo bench ... -- batch` runs only the parts whose names are given.
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let wanted = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
    let dir = components();
    let dir_text = dir.display().to_string();
    let app = RecordingApp::start().await;
    println!("| measure | median | p90 |\n|---|---|---|");
    if wanted("start-up") {
        start_up(&dir_text, &app.url()).await;
    }
    if wanted("batch") {
        batch(&dir_text).await;
    }
    if wanted("streams") {
        streams(&dir_text).await;
    }
    if wanted("idempotency") {
        idempotency(&dir_text).await;
    }
    if wanted("traces") {
        traces(&dir_text).await;
    }
    if wanted("size") {
        for bin in [
            "bindery-cron",
            "bindery-sqs",
            "bindery-webhook",
            "bindery-kinesis",
            "bindery-dynamodb-streams",
            "bindery-s3-events",
            "bindery-sns",
        ] {
            let size = std::fs::metadata(release_bin(bin)).expect("binary").len();
            println!("| release binary size, stripped: {bin} | {:.2} MB | |", size as f64 / 1e6);
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
