//! What a function tells its operators: one log line per event, in the
//! shape of Powertools for AWS Lambda ([`line`]), and metrics in CloudWatch's
//! Embedded Metric Format ([`metrics`]), on stdout for CloudWatch Logs.
//!
//! Lambda's logging config is honoured: `AWS_LAMBDA_LOG_FORMAT` (`JSON`, the
//! default, or `Text`) and `AWS_LAMBDA_LOG_LEVEL`; `RUST_LOG` (per target)
//! comes first, `POWERTOOLS_LOG_LEVEL` after; the default level is `info`.
//! `service` is `POWERTOOLS_SERVICE_NAME`, else the served binding
//! (`BINDERY_BINDING`), else the function's name. Message bodies and
//! secrets are never logged at `info` or above.
//!
//! Built with the `otlp` feature, the spans of invocations and output calls
//! are exported as OpenTelemetry traces when the OTel environment asks
//! ([`otlp`](self::otlp)), continuing the X-Ray trace Lambda gives.

mod held;
pub mod line;
pub mod metrics;
#[cfg(feature = "otlp")]
mod otlp;
pub mod trace_context;
mod traces;

pub(crate) use held::{hold_until_answered, write_held};
#[cfg(feature = "extension")]
pub(crate) use traces::export_traces_as_they_end;
pub(crate) use traces::{
    continue_trace, current_traceparent, export_traces, invocation_traceparent, link_trace, span_failed, traceparent_of,
};

use lambda_runtime::Context;
use tracing::Span;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::component::EnvLookup;
use line::{Format, Lines};

/// Installs the subscriber and the metrics ([`metrics`]) from the
/// environment; a second call does nothing.
pub fn init() {
    let env = |name: &str| std::env::var(name).ok();
    let format = Format::from_env(env("AWS_LAMBDA_LOG_FORMAT").as_deref());
    let function = function(&env);
    let function = function.as_ref().map(|(name, memory)| (name.as_str(), *memory));
    let service = service(&env);
    let lines = Lines::new(format, &service, function, held::Stdout);
    // The level is the log lines' own: traces see info spans at any level.
    let subscriber = tracing_subscriber::registry().with(lines.with_filter(filter(&env)));
    #[cfg(feature = "otlp")]
    let (subscriber, traces) = match otlp::layer(&env, &service) {
        Ok(layer) => (subscriber.with(layer), Ok(())),
        Err(e) => (subscriber.with(None), Err(e)),
    };
    if subscriber.try_init().is_ok() {
        metrics::install(&env, held::Stdout);
        #[cfg(feature = "otlp")]
        if let Err(e) = traces {
            tracing::error!(error = %e, "traces are not exported");
        }
    }
}

fn filter(env: EnvLookup<'_>) -> Targets {
    if let Some(targets) = env("RUST_LOG").and_then(|v| v.parse::<Targets>().ok()) {
        return targets;
    }
    let level = ["AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL"].iter().find_map(|name| {
        let value = env(name)?;
        // Lambda's levels go up to FATAL; tracing's stop at ERROR.
        if value.eq_ignore_ascii_case("fatal") { Some(LevelFilter::ERROR) } else { value.parse().ok() }
    });
    Targets::new().with_default(level.unwrap_or(LevelFilter::INFO))
}

fn service(env: EnvLookup<'_>) -> String {
    ["POWERTOOLS_SERVICE_NAME", "BINDERY_BINDING", "AWS_LAMBDA_FUNCTION_NAME"]
        .iter()
        .find_map(|name| env(name).filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "bindery".to_owned())
}

/// The function's name and memory size, on Lambda.
fn function(env: EnvLookup<'_>) -> Option<(String, u64)> {
    Some((env("AWS_LAMBDA_FUNCTION_NAME")?, env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")?.parse().ok()?))
}

/// The span of one invocation of the function serving `binding`: its keys
/// are on every line logged while it is answered. `cold_start` is true for
/// the process's first.
/// With traces on, it continues the invocation's X-Ray trace.
pub(crate) fn invocation_span(context: &Context, cold_start: bool, binding: &str) -> Span {
    let span = tracing::info_span!(
        "invocation",
        binding,
        function_request_id = %context.request_id,
        function_arn = %context.invoked_function_arn,
        cold_start,
        xray_trace_id = context.xray_trace_id.as_deref(),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
    );
    traces::continue_xray_trace(&span, context.xray_trace_id.as_deref());
    span
}

/// `value` as a JSON string, quoted and escaped.
fn json_string(value: &str) -> String {
    // A str always serializes.
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(vars: &[(&str, &str)]) -> LevelFilter {
        let env = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        filter(&env).default_level().unwrap_or(LevelFilter::OFF)
    }

    #[test]
    fn the_level_follows_lambda_s_logging_config_then_powertools() {
        assert_eq!(level(&[]), LevelFilter::INFO);
        assert_eq!(level(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")]), LevelFilter::DEBUG);
        assert_eq!(level(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]), LevelFilter::ERROR);
        assert_eq!(level(&[("POWERTOOLS_LOG_LEVEL", "warn")]), LevelFilter::WARN);
        let both = [("AWS_LAMBDA_LOG_LEVEL", "ERROR"), ("POWERTOOLS_LOG_LEVEL", "DEBUG")];
        assert_eq!(level(&both), LevelFilter::ERROR, "Lambda's wins, as in Powertools");
        assert_eq!(level(&[("RUST_LOG", "trace"), ("AWS_LAMBDA_LOG_LEVEL", "ERROR")]), LevelFilter::TRACE);
    }

    #[test]
    fn the_service_is_powertools_s_then_the_binding_then_the_function() {
        let service_of = |vars: &[(&str, &str)]| {
            let env = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
            service(&env)
        };
        assert_eq!(service_of(&[("BINDERY_BINDING", "orders"), ("AWS_LAMBDA_FUNCTION_NAME", "f")]), "orders");
        assert_eq!(service_of(&[("POWERTOOLS_SERVICE_NAME", "shop"), ("BINDERY_BINDING", "orders")]), "shop");
        assert_eq!(service_of(&[("AWS_LAMBDA_FUNCTION_NAME", "f")]), "f");
        assert_eq!(service_of(&[]), "bindery");
    }
}
