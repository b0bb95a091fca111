//! What a function's logs and metrics cost an event, beside the floor of
//! the delivery bench (a raw hyper POST, `cargo bench -p bindery --bench
//! delivery -- per_event`): the log line each invocation writes, and the EMF
//! metrics of a one-record invocation and of each record of a batch, written
//! into memory as the functions write them into their held buffer. Run with
//! `cargo bench -p bindery --bench telemetry`; BENCHMARKS.md has the figures.

use std::hint::black_box;
use std::time::Duration;

use bindery::telemetry::line::{Format, LineSink, Lines};
use bindery::telemetry::metrics::{self, MetricsSink};
use criterion::{Criterion, criterion_group, criterion_main};
use tracing::Level;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt;

/// Counts what it is given and drops it: the write itself is not timed
/// (a function writes its held lines after the answer is posted).
struct Discard;

impl LineSink for Discard {
    fn write_line(&self, _: Level, line: &[u8]) {
        black_box(line.len());
    }
}

impl MetricsSink for Discard {
    fn write(&self, lines: &[u8]) {
        black_box(lines.len());
    }
    fn waits(&self) -> bool {
        true
    }
}

fn log_line(c: &mut Criterion) {
    let lines = Lines::new(Format::Json, "task-events", Some(("task-events-sqs", 128)), Discard);
    // As `telemetry::init` installs it: the level filters the lines' layer.
    let level = tracing_subscriber::filter::Targets::new().with_default(Level::INFO);
    let subscriber = tracing_subscriber::registry().with(lines.with_filter(level));
    tracing::subscriber::with_default(subscriber, || {
        let invocation = tracing::info_span!(
            "invocation",
            binding = "task-events",
            function_request_id = "8f5c3b52-7c1e-4d3a-9f0b-1c2d3e4f5a6b",
            function_arn = "arn:aws:lambda:us-east-1:123456789012:function:task-events-sqs",
            cold_start = false,
            xray_trace_id = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        );
        let _in = invocation.enter();
        c.bench_function("telemetry/log_line: the batch-done line of an invocation", |b| {
            b.iter(|| {
                tracing::info!(
                    binding = "task-events",
                    records = 1u64,
                    acked = 1u64,
                    failed = 0u64,
                    latency_ms = 1u64,
                    "batch done"
                )
            })
        });
    });
}

fn emf(c: &mut Criterion) {
    let vars = [("BINDERY_BINDING", "task-events"), ("AWS_LAMBDA_FUNCTION_NAME", "task-events-sqs")];
    let env = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    metrics::install(&env, Discard);
    let latency = Duration::from_micros(1234);
    c.bench_function("telemetry/emf: a one-record invocation, recorded and its line written", |b| {
        b.iter(|| {
            metrics::delivery(Ok(()), Some(latency));
            metrics::batch(1, 0);
            metrics::flush();
        })
    });
    c.bench_function("telemetry/emf: 100 records of a batch, recorded and their lines written", |b| {
        b.iter(|| {
            for _ in 0..100 {
                metrics::delivery(Ok(()), Some(latency));
            }
            metrics::batch(100, 0);
            metrics::flush();
        })
    });
}

criterion_group!(benches, log_line, emf);
criterion_main!(benches);
