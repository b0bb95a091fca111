//! One log line per `tracing` event, in the shape of Powertools for AWS
//! Lambda's logger, so that the Logs Insights queries and dashboards a team
//! already has work on bindery's lines too:
//!
//! ```json
//! {"timestamp":"2026-12-05T14:03:27.120Z","level":"WARN","message":"record failed",
//!  "service":"orders","function_name":"orders-sqs","function_memory_size":128,
//!  "function_request_id":"8f5…","function_arn":"arn:aws:lambda:…","cold_start":true,
//!  "xray_trace_id":"1-…","binding":"orders","message_id":"…","error":"the app answered 500"}
//! ```
//!
//! The invocation's keys come from the span the event loop opens for it
//! ([`invocation_span`](super::invocation_span)); every span's fields are on
//! the lines logged inside it, the innermost winning a shared key, and the
//! event's own fields last. An error recorded as one (`error = &e as &dyn
//! Error`) carries its chain of causes in its one key. With
//! `AWS_LAMBDA_LOG_FORMAT=Text` the same keys make a tab-separated line, as
//! Lambda's own runtimes write them.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::json_string;
use crate::error_chain::error_chain;

/// JSON lines, or Lambda's text lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

impl Format {
    /// `AWS_LAMBDA_LOG_FORMAT`, as Lambda's logging config sets it: `Text`
    /// for text; JSON otherwise, unset included.
    pub fn from_env(value: Option<&str>) -> Self {
        match value {
            Some(v) if v.eq_ignore_ascii_case("text") => Self::Text,
            _ => Self::Json,
        }
    }
}

/// Where finished lines go.
pub trait LineSink: Send + Sync + 'static {
    fn write_line(&self, level: Level, line: &[u8]);
}

/// The layer that writes every event as one line.
pub struct Lines<W> {
    format: Format,
    /// `"service":…` and the function's name and memory, rendered once:
    /// the same on every line of the process.
    process: Vec<(&'static str, String)>,
    sink: W,
}

impl<W: LineSink> Lines<W> {
    /// `service`, and the function's name and memory size when on Lambda.
    pub fn new(format: Format, service: &str, function: Option<(&str, u64)>, sink: W) -> Self {
        let mut process = vec![("service", json_string(service))];
        if let Some((name, memory)) = function {
            process.push(("function_name", json_string(name)));
            process.push(("function_memory_size", memory.to_string()));
        }
        Self { format, process, sink }
    }
}

/// A span's fields, rendered as JSON values, kept in the span.
#[derive(Default)]
struct SpanFields(Fields);

impl<S, W> Layer<S> for Lines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: LineSink,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<SpanFields>()
        {
            values.record(&mut fields.0);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(spanned) = span.extensions().get::<SpanFields>() {
                    fields.extend(&spanned.0);
                }
            }
        }
        event.record(&mut fields);
        let level = *event.metadata().level();
        let line = match self.format {
            Format::Json => self.json(level, &fields),
            Format::Text => self.text(level, &fields),
        };
        self.sink.write_line(level, &line);
    }
}

impl<W> Lines<W> {
    fn json(&self, level: Level, fields: &Fields) -> Vec<u8> {
        let mut line = String::with_capacity(256);
        line.push_str("{\"timestamp\":\"");
        timestamp(&mut line);
        let _ = write!(line, "\",\"level\":\"{level}\",\"message\":{}", fields.message.as_deref().unwrap_or("\"\""));
        for (key, value) in self.process.iter().chain(&fields.keyed) {
            line.push_str(",\"");
            line.push_str(key);
            line.push_str("\":");
            line.push_str(value);
        }
        line.push_str("}\n");
        line.into_bytes()
    }

    /// `[LEVEL]\ttimestamp\trequest id\tmessage\tkey=value …`.
    fn text(&self, level: Level, fields: &Fields) -> Vec<u8> {
        let mut line = format!("[{level}]\t");
        timestamp(&mut line);
        line.push('\t');
        let request_id = fields.get("function_request_id").and_then(|v| serde_json::from_str::<String>(v).ok());
        line.push_str(request_id.as_deref().unwrap_or("-"));
        line.push('\t');
        let message = fields.message.as_deref().and_then(|m| serde_json::from_str::<String>(m).ok());
        line.push_str(&message.unwrap_or_default());
        for (key, value) in self.process.iter().chain(&fields.keyed) {
            if *key != "function_request_id" {
                let _ = write!(line, "\t{key}={value}");
            }
        }
        line.push('\n');
        line.into_bytes()
    }
}

/// Now, in UTC, as RFC 3339 with milliseconds. Written out rather than
/// with chrono's `format`, whose pattern interpreter costs a function 20 KB.
fn timestamp(line: &mut String) {
    use chrono::{Datelike, Timelike};
    let t = chrono::Utc::now();
    let _ = write!(
        line,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_millis().min(999)
    );
}

/// A line's fields as JSON values, in the order first set.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    keyed: Vec<(&'static str, String)>,
}

impl Fields {
    fn set(&mut self, key: &'static str, value: String) {
        // lambda_runtime's own request span names them its way.
        let key = match key {
            "requestId" => "function_request_id",
            "xrayTraceId" => "xray_trace_id",
            key => key,
        };
        if key.starts_with("otel.") {
            // The trace's own (span kind, status), not the line's.
        } else if key == "message" {
            self.message = Some(value);
        } else if let Some(slot) = self.keyed.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.keyed.push((key, value));
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.keyed.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    fn extend(&mut self, other: &Fields) {
        for (key, value) in &other.keyed {
            self.set(key, value.clone());
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field.name(), json_string(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field.name(), value.to_string());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field.name(), value.to_string());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set(field.name(), value.to_string());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity.
        let value = if value.is_finite() { value.to_string() } else { json_string(&value.to_string()) };
        self.set(field.name(), value);
    }

    /// The error and each of its causes, in the one key.
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.set(field.name(), json_string(&error_chain(value)));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.set(field.name(), json_string(&format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<(Level, String)>>>);

    impl LineSink for Captured {
        fn write_line(&self, level: Level, line: &[u8]) {
            self.0.lock().unwrap().push((level, String::from_utf8(line.to_vec()).unwrap()));
        }
    }

    fn lines(format: Format, log: impl FnOnce()) -> Vec<String> {
        let captured = Captured::default();
        let layer = Lines::new(format, "orders", Some(("orders-sqs", 128)), captured.clone());
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), log);
        captured.0.lock().unwrap().iter().map(|(_, line)| line.clone()).collect()
    }

    #[derive(Debug)]
    struct Refused(std::io::Error);

    impl fmt::Display for Refused {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the app refused the delivery")
        }
    }

    impl std::error::Error for Refused {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_line_has_powertools_keys_and_the_fields_of_its_spans() {
        let lines = lines(Format::Json, || {
            let invocation = tracing::info_span!(
                "invocation",
                function_request_id = "req-1",
                function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders-sqs",
                cold_start = true,
                xray_trace_id = "1-5759e988-bd862e3fe1be46a994272793",
            );
            let _in = invocation.enter();
            let call = tracing::info_span!("output_binding", binding = "mail", operation = "create");
            let _call = call.enter();
            let refused = Refused(std::io::Error::other("connection reset"));
            tracing::error!(binding = "orders", error = &refused as &dyn std::error::Error, "record \"7\" failed");
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].ends_with('\n'));
        let line: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        let timestamp = line["timestamp"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(), "{timestamp}");
        assert_eq!(timestamp.len(), "2026-12-05T14:03:27.120Z".len(), "milliseconds, UTC: {timestamp}");
        let expected = serde_json::json!({
            "timestamp": timestamp,
            "level": "ERROR",
            "message": "record \"7\" failed",
            "service": "orders",
            "function_name": "orders-sqs",
            "function_memory_size": 128,
            "function_request_id": "req-1",
            "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:orders-sqs",
            "cold_start": true,
            "xray_trace_id": "1-5759e988-bd862e3fe1be46a994272793",
            // The event's own binding wins over the span's.
            "binding": "orders",
            "operation": "create",
            "error": "the app refused the delivery: connection reset",
        });
        assert_eq!(line, expected);
    }

    #[test]
    fn lambda_runtime_s_request_span_names_map_to_powertools_keys() {
        let lines = lines(Format::Json, || {
            let span = tracing::info_span!("Lambda runtime invoke", requestId = "req-2", xrayTraceId = "1-a-b");
            let _in = span.enter();
            tracing::info!(latency_ms = 3u64, ok = true, ratio = f64::NAN, "done");
        });
        let line: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(line["function_request_id"], "req-2");
        assert_eq!(line["xray_trace_id"], "1-a-b");
        assert_eq!(line["latency_ms"], 3);
        assert_eq!(line["ok"], true);
        assert_eq!(line["ratio"], "NaN", "JSON has no NaN: {}", lines[0]);
    }

    #[test]
    fn a_text_line_is_level_time_request_id_message_then_keys() {
        let lines = lines(Format::Text, || {
            let span = tracing::info_span!("invocation", function_request_id = "req-3");
            let _in = span.enter();
            tracing::warn!(binding = "orders", "record failed");
        });
        let parts: Vec<&str> = lines[0].trim_end().split('\t').collect();
        assert_eq!(parts[0], "[WARN]");
        assert!(chrono::DateTime::parse_from_rfc3339(parts[1]).is_ok(), "{}", parts[1]);
        assert_eq!(parts[2..4], ["req-3", "record failed"]);
        assert_eq!(
            parts[4..],
            ["service=\"orders\"", "function_name=\"orders-sqs\"", "function_memory_size=128", "binding=\"orders\""]
        );
    }

    #[test]
    fn the_format_follows_lambda_s_logging_config() {
        assert_eq!(Format::from_env(Some("Text")), Format::Text);
        assert_eq!(Format::from_env(Some("JSON")), Format::Json);
        assert_eq!(Format::from_env(None), Format::Json);
    }
}
