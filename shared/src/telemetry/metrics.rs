//! Metrics in CloudWatch's Embedded Metric Format: JSON lines on stdout
//! that CloudWatch Logs turns into metrics, with no API call and nothing
//! to configure beyond the log group. On by default in a function
//! (`POWERTOOLS_METRICS_DISABLED=true` turns them off), in the namespace
//! `bindery` (`POWERTOOLS_METRICS_NAMESPACE`), with the dimensions `binding`
//! and `function` (and `operation` for an output binding's calls). Not
//! written by `bindery run`, which never installs them.
//!
//! | metric | unit | what |
//! |---|---|---|
//! | `Delivered` | Count | records the app acknowledged (or duplicates acknowledged without delivery: `Duplicates` too) |
//! | `Failed` | Count | records not delivered, each also counted by reason: `FailedApp4xx`, `FailedApp5xx`, `FailedAppUnreachable`, `FailedTimeout`, `FailedInvalidEvent`, `FailedVerification`, `FailedIdempotency` |
//! | `DeliveryLatency` | Milliseconds | each delivery the app answered, from sending to its answer |
//! | `BatchSize` | Count | records in an invocation's batch |
//! | `RecordsReportedFailed` | Count | records an invocation's answer reports failed, for the source to deliver again |
//! | `OutputCalls`, `OutputErrors` | Count | an output binding's calls, and those that failed |
//! | `OutputLatency` | Milliseconds | each output call |
//!
//! What is recorded during an invocation is written once its answer is
//! posted, one line per binding (and operation); outside an invocation (the
//! extension's calls) at once.

use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use super::json_string;

/// Why a record was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    App4xx,
    App5xx,
    AppUnreachable,
    Timeout,
    InvalidEvent,
    Verification,
    Idempotency,
}

impl Failure {
    /// What the app's answer `status` makes a delivery: acknowledged (2xx),
    /// or failed by a server error (5xx) or another status.
    pub fn of_app_status(status: u16) -> Result<(), Failure> {
        match status {
            200..=299 => Ok(()),
            500.. => Err(Self::App5xx),
            _ => Err(Self::App4xx),
        }
    }

    fn metric(self) -> &'static str {
        match self {
            Self::App4xx => "FailedApp4xx",
            Self::App5xx => "FailedApp5xx",
            Self::AppUnreachable => "FailedAppUnreachable",
            Self::Timeout => "FailedTimeout",
            Self::InvalidEvent => "FailedInvalidEvent",
            Self::Verification => "FailedVerification",
            Self::Idempotency => "FailedIdempotency",
        }
    }
}

/// EMF allows at most this many values in one metric's array.
const MAX_VALUES: usize = 100;

/// The metrics of this process, once [`install`]ed.
static METRICS: OnceLock<Emitter> = OnceLock::new();

/// Where EMF lines go.
pub trait MetricsSink: Send + Sync + 'static {
    /// One EMF line, or several.
    fn write(&self, lines: &[u8]);
    /// Whether what is recorded now waits for [`flush`], as while an
    /// invocation is answered; else it is written at once.
    fn waits(&self) -> bool;
}

/// Writes metrics to `sink` from now on, unless `POWERTOOLS_METRICS_DISABLED`
/// says not to; the served binding (`BINDERY_BINDING`) is its deliveries'
/// dimension. A second call does nothing.
pub fn install(env: crate::component::EnvLookup<'_>, sink: impl MetricsSink) {
    if env("POWERTOOLS_METRICS_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return;
    }
    let namespace = env("POWERTOOLS_METRICS_NAMESPACE").filter(|v| !v.is_empty()).unwrap_or_else(|| "bindery".into());
    let function = env("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| "bindery".into());
    let binding = env("BINDERY_BINDING").unwrap_or_default();
    let _ = METRICS.set(Emitter::new(&namespace, &function, &binding, Box::new(sink)));
}

/// A delivery of the served binding's: `Ok` when the app acknowledged it,
/// else why it failed; and, when the app answered, how long that took.
pub fn delivery(outcome: Result<(), Failure>, answered_in: Option<Duration>) {
    if let Some(metrics) = METRICS.get() {
        metrics.delivery(outcome, answered_in);
    }
}

/// A duplicate of a delivered record, acknowledged without delivery.
pub fn duplicate() {
    if let Some(metrics) = METRICS.get() {
        metrics.duplicate();
    }
}

/// An invocation's batch: its size and how many records its answer reports
/// failed.
pub fn batch(size: usize, reported_failed: usize) {
    if let Some(metrics) = METRICS.get() {
        metrics.batch(size, reported_failed);
    }
}

/// One call of an output binding's operation.
pub fn output_call(binding: &str, operation: &str, ok: bool, latency: Duration) {
    if let Some(metrics) = METRICS.get() {
        metrics.output_call(binding, operation, ok, latency);
    }
}

/// Writes what was recorded since the last flush.
pub fn flush() {
    if let Some(metrics) = METRICS.get() {
        metrics.flush();
    }
}

fn millis(duration: Duration) -> f32 {
    // Microsecond precision is plenty, and keeps the lines short.
    (duration.as_micros() as f32) / 1000.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
        }
    }
}

struct Emitter {
    namespace: String,
    function: String,
    binding: String,
    sink: Box<dyn MetricsSink>,
    recorded: Mutex<Vec<Series>>,
}

/// The metrics of one binding (and operation) since the last flush.
struct Series {
    binding: String,
    operation: Option<String>,
    metrics: Vec<Metric>,
}

struct Metric {
    name: &'static str,
    unit: Unit,
    /// One value for a count (summed); each value for a latency (an f32
    /// holds a latency to the microsecond up to 16 s, in half an f64's
    /// memory: a batch of 10,000 records keeps 10,000 of them).
    values: Vec<f32>,
    summed: bool,
}

impl Series {
    /// Adds to a count.
    fn add(&mut self, name: &'static str, unit: Unit, value: f32) {
        match self.metrics.iter_mut().find(|m| m.name == name) {
            Some(metric) => metric.values[0] += value,
            None => self.metrics.push(Metric { name, unit, values: vec![value], summed: true }),
        }
    }

    /// Adds a value of its own.
    fn push(&mut self, name: &'static str, unit: Unit, value: f32) {
        match self.metrics.iter_mut().find(|m| m.name == name) {
            Some(metric) => metric.values.push(value),
            None => self.metrics.push(Metric { name, unit, values: vec![value], summed: false }),
        }
    }
}

impl Emitter {
    fn new(namespace: &str, function: &str, binding: &str, sink: Box<dyn MetricsSink>) -> Self {
        Self {
            namespace: namespace.to_owned(),
            function: function.to_owned(),
            binding: binding.to_owned(),
            sink,
            recorded: Mutex::new(Vec::new()),
        }
    }

    fn delivery(&self, outcome: Result<(), Failure>, answered_in: Option<Duration>) {
        self.record(None, |series| {
            // Both, even when zero: a dashboard shows no failures as 0, not as a gap.
            series.add("Delivered", Unit::Count, 0.0);
            series.add("Failed", Unit::Count, 0.0);
            match outcome {
                Ok(()) => series.add("Delivered", Unit::Count, 1.0),
                Err(failure) => {
                    series.add("Failed", Unit::Count, 1.0);
                    series.add(failure.metric(), Unit::Count, 1.0);
                }
            }
            if let Some(latency) = answered_in {
                series.push("DeliveryLatency", Unit::Milliseconds, millis(latency));
            }
        });
    }

    fn duplicate(&self) {
        self.record(None, |series| {
            series.add("Delivered", Unit::Count, 1.0);
            series.add("Duplicates", Unit::Count, 1.0);
        });
    }

    fn batch(&self, size: usize, reported_failed: usize) {
        self.record(None, |series| {
            series.push("BatchSize", Unit::Count, size as f32);
            series.add("RecordsReportedFailed", Unit::Count, reported_failed as f32);
        });
    }

    fn output_call(&self, binding: &str, operation: &str, ok: bool, latency: Duration) {
        self.record(Some((binding, operation)), |series| {
            series.add("OutputCalls", Unit::Count, 1.0);
            series.add("OutputErrors", Unit::Count, if ok { 0.0 } else { 1.0 });
            series.push("OutputLatency", Unit::Milliseconds, millis(latency));
        });
    }

    /// Records into the series of `output` (a binding and operation), or of
    /// the served binding.
    fn record(&self, output: Option<(&str, &str)>, record: impl FnOnce(&mut Series)) {
        let (binding, operation) = match output {
            Some((binding, operation)) => (binding, Some(operation)),
            None => (self.binding.as_str(), None),
        };
        {
            let mut recorded = self.recorded.lock().unwrap_or_else(PoisonError::into_inner);
            Self::series(&mut recorded, binding, operation, record);
        }
        if !self.sink.waits() {
            self.flush();
        }
    }

    fn series(recorded: &mut Vec<Series>, binding: &str, operation: Option<&str>, record: impl FnOnce(&mut Series)) {
        let position = recorded.iter().position(|s| s.binding == binding && s.operation.as_deref() == operation);
        let index = position.unwrap_or_else(|| {
            let series =
                Series { binding: binding.to_owned(), operation: operation.map(str::to_owned), metrics: Vec::new() };
            recorded.push(series);
            recorded.len() - 1
        });
        record(&mut recorded[index]);
    }

    fn flush(&self) {
        let recorded = std::mem::take(&mut *self.recorded.lock().unwrap_or_else(PoisonError::into_inner));
        if recorded.is_empty() {
            return;
        }
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        // One line at a time, in one buffer: a batch of 10,000 records
        // writes 100 lines, which need not all be in memory at once.
        let mut line = String::new();
        for series in &recorded {
            self.write_series(&mut line, timestamp, series);
        }
    }

    /// One EMF line per 100 values of the series' longest metric, each
    /// written to the sink as it is made in `out`.
    fn write_series(&self, out: &mut String, timestamp: u128, series: &Series) {
        let longest = series.metrics.iter().map(|m| m.values.len()).max().unwrap_or(0);
        for chunk in 0..longest.div_ceil(MAX_VALUES) {
            let in_chunk: Vec<(&Metric, &[f32])> = series
                .metrics
                .iter()
                .filter_map(|metric| {
                    let values = metric.values.chunks(MAX_VALUES).nth(chunk)?;
                    Some((metric, values))
                })
                .collect();
            out.clear();
            let dimensions = if series.operation.is_some() {
                r#"["binding","function","operation"]"#
            } else {
                r#"["binding","function"]"#
            };
            let _ = write!(
                out,
                r#"{{"_aws":{{"Timestamp":{timestamp},"CloudWatchMetrics":[{{"Namespace":{},"Dimensions":[{dimensions}],"Metrics":["#,
                json_string(&self.namespace)
            );
            for (index, (metric, _)) in in_chunk.iter().enumerate() {
                let comma = if index == 0 { "" } else { "," };
                let _ = write!(out, r#"{comma}{{"Name":"{}","Unit":"{}"}}"#, metric.name, metric.unit.name());
            }
            let _ = write!(
                out,
                r#"]}}]}},"binding":{},"function":{}"#,
                json_string(&series.binding),
                json_string(&self.function)
            );
            if let Some(operation) = &series.operation {
                let _ = write!(out, r#","operation":{}"#, json_string(operation));
            }
            for (metric, values) in in_chunk {
                let _ = write!(out, r#","{}":"#, metric.name);
                match values {
                    [one] if metric.summed => write_number(out, *one),
                    values => {
                        out.push('[');
                        for (index, value) in values.iter().enumerate() {
                            if index > 0 {
                                out.push(',');
                            }
                            write_number(out, *value);
                        }
                        out.push(']');
                    }
                }
            }
            out.push_str("}\n");
            self.sink.write(out.as_bytes());
        }
    }
}

fn write_number(out: &mut String, value: f32) {
    if value.fract() == 0.0 && value.abs() < 1e7 {
        let _ = write!(out, "{}", value as i64);
    } else {
        let _ = write!(out, "{value}");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>, bool);

    impl MetricsSink for Captured {
        fn write(&self, lines: &[u8]) {
            self.0.lock().unwrap().extend_from_slice(lines);
        }
        fn waits(&self) -> bool {
            self.1
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<Value> {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
        }
    }

    fn emitter(waits: bool) -> (Emitter, Captured) {
        let captured = Captured(Arc::default(), waits);
        (Emitter::new("bindery", "orders-sqs", "orders", Box::new(captured.clone())), captured)
    }

    fn deliveries(emitter: &Emitter) {
        let ms = |ms: u64| Some(Duration::from_micros(ms * 1000 + 500));
        emitter.delivery(Ok(()), ms(3));
        emitter.delivery(Err(Failure::App5xx), ms(7));
        emitter.delivery(Err(Failure::Timeout), None);
        emitter.delivery(Ok(()), ms(4));
    }

    #[test]
    fn an_invocation_s_deliveries_are_one_emf_line_of_their_binding() {
        let (emitter, captured) = emitter(true);
        deliveries(&emitter);
        assert!(captured.lines().is_empty(), "held for the flush");
        emitter.flush();
        let lines = captured.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        let timestamp = line["_aws"]["Timestamp"].as_u64().unwrap();
        let expected = json!({
            "_aws": {
                "Timestamp": timestamp,
                "CloudWatchMetrics": [{
                    "Namespace": "bindery",
                    "Dimensions": [["binding", "function"]],
                    "Metrics": [
                        {"Name": "Delivered", "Unit": "Count"},
                        {"Name": "Failed", "Unit": "Count"},
                        {"Name": "DeliveryLatency", "Unit": "Milliseconds"},
                        {"Name": "FailedApp5xx", "Unit": "Count"},
                        {"Name": "FailedTimeout", "Unit": "Count"},
                    ],
                }],
            },
            "binding": "orders",
            "function": "orders-sqs",
            "Delivered": 2,
            "Failed": 2,
            "DeliveryLatency": [3.5, 7.5, 4.5],
            "FailedApp5xx": 1,
            "FailedTimeout": 1,
        });
        assert_eq!(*line, expected);
        emitter.flush();
        assert_eq!(captured.lines().len(), 1, "nothing new, nothing written");
    }

    #[test]
    fn more_than_100_values_are_split_over_lines_and_outputs_have_their_operation() {
        let (emitter, captured) = emitter(true);
        for ms in 0..250 {
            emitter.output_call("mail", "create", true, Duration::from_millis(ms));
        }
        emitter.flush();
        let lines = captured.lines();
        assert_eq!(lines.len(), 3, "100, 100 and 50 values");
        let counts: Vec<usize> = lines.iter().map(|l| l["OutputLatency"].as_array().unwrap().len()).collect();
        assert_eq!(counts, [100, 100, 50]);
        assert_eq!(lines[0]["OutputCalls"], 250, "the counts once, in the first line");
        assert_eq!(lines[0]["OutputErrors"], 0);
        assert!(lines[1].get("OutputCalls").is_none() && lines[2].get("OutputCalls").is_none());
        for line in &lines {
            assert_eq!(
                line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
                json!([["binding", "function", "operation"]])
            );
            assert_eq!((&line["binding"], &line["operation"]), (&json!("mail"), &json!("create")));
        }
    }

    #[test]
    fn outside_an_invocation_each_record_is_written_at_once() {
        let (emitter, captured) = emitter(false);
        emitter.output_call("mail", "create", true, Duration::from_millis(2));
        emitter.output_call("mail", "create", false, Duration::from_millis(3));
        let lines = captured.lines();
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|line| line["OutputCalls"] == 1));
        assert_eq!((&lines[0]["OutputErrors"], &lines[1]["OutputErrors"]), (&json!(0), &json!(1)));
    }
}
