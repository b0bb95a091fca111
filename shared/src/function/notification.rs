//! What the functions of the sources that invoke asynchronously (S3 and
//! SNS) share: each record of the event is prepared and delivered in turn,
//! and the invocation fails when any was not acknowledged. There is no
//! partial-batch answer for them: Lambda's asynchronous retries and the
//! on-failure queue take over (S3 and SNS send one record per invocation;
//! were there more, the acknowledged ones would be delivered again).

use std::future::Future;
use std::time::Instant as StdInstant;

use lambda_runtime::{Context, Diagnostic};
use serde_json::value::RawValue;
use tokio::time::Instant;
use tracing::{error, info};

use super::setup::FunctionSetup;
use crate::input::BindingEvent;
use crate::telemetry;
use crate::telemetry::metrics::{self, Failure};

/// Why `prepare` refused a record: the metric it counts in, and a reason.
pub(super) type Refusal = (Failure, String);

/// Delivers `records` one after another, each made an event by `prepare`
/// (given the deadline), which may refuse it. `source` names the records in
/// the error ("S3", "SNS").
pub(super) async fn deliver_each<'a, F, Fut>(
    setup: &FunctionSetup,
    context: &Context,
    source: &str,
    records: &[&'a RawValue],
    prepare: F,
) -> Result<(), Diagnostic>
where
    F: Fn(&'a RawValue, Instant) -> Fut,
    Fut: Future<Output = Result<BindingEvent, Refusal>>,
{
    let started = StdInstant::now();
    let binding = &setup.component.name;
    let deadline = setup.deadline.until(context.deadline);
    let traceparent = telemetry::invocation_traceparent(context.xray_trace_id.as_deref());
    let mut failed = 0;
    for (index, record) in records.iter().enumerate() {
        let result = match prepare(record, deadline).await {
            Err((failure, reason)) => {
                metrics::delivery(Err(failure), None);
                Err(reason)
            }
            Ok(mut event) => {
                event.traceparent.clone_from(&traceparent);
                let delivery = setup.deliver_record_by(event, deadline);
                setup.stopping.bound(deadline, delivery).await.map(|_duplicate| ()).map_err(|e| e.message)
            }
        };
        if let Err(reason) = result {
            failed += 1;
            error!(binding = %binding, record = index, error = %reason, "record failed");
        }
    }
    metrics::batch(records.len(), failed);
    let latency_ms = started.elapsed().as_millis() as u64;
    info!(binding = %binding, records = records.len(), failed, latency_ms, "notification done");
    match failed {
        0 => Ok(()),
        _ => Err(Diagnostic {
            error_type: "Bindery.DeliveryFailed".into(),
            error_message: format!(
                "{failed} of {} {source} records were not acknowledged; Lambda will retry",
                records.len()
            ),
        }),
    }
}
