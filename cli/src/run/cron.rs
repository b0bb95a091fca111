//! Cron bindings fire locally on their Dapr schedule (5 or 6 fields,
//! descriptors, `@every`, `CRON_TZ=`), each fire an empty-body POST with
//! Dapr's `timeZone` and `readTimeUTC` headers plus `scheduledTime`.

use std::time::{Duration, Instant as StdInstant};

use bindery::component::Component;
use bindery::deliver::Deliverer;
use bindery::input::BindingEvent;
use bindery::input::schedule::go_utc_string;
use bindery::schedule::Schedule;
use chrono::{SecondsFormat, Utc};
use tokio_util::sync::CancellationToken;

use super::console::Console;
use super::delivery_outcome;

/// How long one local delivery may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);

/// Fires `component`'s schedule until `stop`. Each fire is delivered on its
/// own task, so a slow app never delays the next one.
pub(crate) async fn fire(component: Component, deliverer: Deliverer, console: Console, stop: CancellationToken) {
    let expression = component.metadata.get("schedule").unwrap_or_default();
    // The loader has validated the schedule; this cannot fail for a loaded component.
    let Ok(schedule) = expression.parse::<Schedule>() else {
        console.warn(&format!("{}: schedule {expression:?} does not parse; it will not fire", component.name));
        return;
    };
    // Dapr's cron binding reports the schedule's zone, or "Local".
    let time_zone = schedule.time_zone().map_or_else(|| "Local".to_owned(), |tz| tz.name().to_owned());
    let mut after = Utc::now();
    while let Some(next) = schedule.next_after(after) {
        let wait = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        after = next;
        let event = BindingEvent {
            data: Default::default(),
            metadata: vec![
                ("timeZone".into(), time_zone.clone()),
                ("readTimeUTC".into(), go_utc_string(Utc::now())),
                ("scheduledTime".into(), next.to_rfc3339_opts(SecondsFormat::Secs, true)),
            ],
            traceparent: None,
        };
        let deliverer = deliverer.clone();
        let binding = component.name.clone();
        tokio::spawn(async move {
            let started = StdInstant::now();
            let result = deliverer.deliver(event, tokio::time::Instant::now() + DELIVERY_TIMEOUT).await;
            console.event(&binding, "cron", &delivery_outcome(&result), started.elapsed());
        });
    }
    console.warn(&format!("{}: schedule {expression:?} has no further fire time", component.name));
}
