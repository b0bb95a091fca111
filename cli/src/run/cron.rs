//! Cron bindings fire locally on their Dapr schedule (5 or 6 fields,
//! descriptors, `@every`, `CRON_TZ=`), each fire an empty-body POST with
//! Dapr's `timeZone` and `readTimeUTC` headers plus `scheduledTime`.
//!
//! As in daprd, a schedule without `CRON_TZ=` fires in the machine's local
//! zone, and `timeZone` names that zone (the cron runner's), not the
//! schedule's.

use std::time::{Duration, Instant as StdInstant};

use bindery::component::Component;
use bindery::deliver::Deliverer;
use bindery::input::BindingEvent;
use bindery::input::schedule::{CronConfig, go_utc_string};
use bindery::schedule::Schedule;
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

use super::console::{Console, Outcome};
use super::local_zone::LocalZone;
use crate::Failure;

/// How long one local delivery may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);

/// One cron binding, its schedule parsed.
pub(crate) struct Cron {
    component: Component,
    schedule: Schedule,
    local: LocalZone,
}

impl Cron {
    /// The loader has validated the schedule, so this fails only for a
    /// component that did not come through it.
    pub(crate) fn new(component: &Component, local: &LocalZone) -> Result<Self, Failure> {
        let CronConfig { schedule, .. } = CronConfig::from_metadata(&component.metadata)
            .map_err(|errors| Failure::new(format!("{}: {}", component.name, crate::field_problems(errors))))?;
        Ok(Self { component: component.clone(), schedule, local: local.clone() })
    }

    /// The first fire after `after`, in the zone the schedule is read in,
    /// for the start-up line: `2026-08-21 12:00:00 +05:45 (Asia/Kathmandu)`.
    pub(crate) fn describe_next(&self, after: DateTime<Utc>) -> String {
        let zone: Tz = self.schedule.time_zone().unwrap_or(self.local.zone);
        match self.schedule.next_after_in(after, self.local.zone) {
            Some(next) => format!("{} ({zone})", next.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S %:z")),
            None => "never".to_owned(),
        }
    }

    /// Fires until `stop`, even when the schedule has no further fire time.
    /// Each fire is delivered on its own task, so a slow app never delays
    /// the next one.
    pub(crate) async fn fire(self, deliverer: Deliverer, console: Console, stop: CancellationToken) {
        let Cron { component, schedule, local } = self;
        let mut after = Utc::now();
        while let Some(next) = schedule.next_after_in(after, local.zone) {
            let wait = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            after = next;
            let event = BindingEvent {
                data: Default::default(),
                metadata: vec![
                    ("timeZone".into(), local.name.clone()),
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
                let outcome = Outcome::of_delivery(&result.map(|()| false));
                console.event(&binding, "cron", &outcome, started.elapsed(), Some(0));
            });
        }
        console.warn(&format!("{}: schedule {:?} has no further fire time", component.name, schedule.as_str()));
        // As in daprd, such a schedule just never fires: `run` takes a task
        // that ends for a failure, and would stop every other binding.
        stop.cancelled().await;
    }
}
