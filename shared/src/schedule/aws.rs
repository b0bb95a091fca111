//! Dapr schedules as EventBridge Scheduler expressions
//! (reference/lambda-anchors.md §6.4).
//!
//! A Scheduler cron has no seconds, fires at most once a minute, needs `?` in
//! one of its two day fields, counts weekdays from 1 = Sunday and adds a year
//! field. What it cannot express is refused with the reason and what to
//! write instead; where it fires differently from Dapr (the first `@every`
//! tick, a repeated hour when clocks go back) a note says so.

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::cron::{Schedule, ScheduleKind};

/// A schedule as EventBridge Scheduler takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerExpression {
    /// `cron(min hour dom month dow year)` or `rate(n unit)`.
    pub expression: String,
    /// `ScheduleExpressionTimezone` (IANA); `None` is UTC.
    pub time_zone: Option<String>,
    /// Where the Scheduler fires differently from Dapr, one sentence each.
    pub notes: Vec<String>,
}

/// Why a Dapr schedule has no Scheduler equivalent, and what would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}; {suggestion}")]
pub struct Unconvertible {
    pub reason: String,
    pub suggestion: String,
}

fn refuse(reason: impl Into<String>, suggestion: impl Into<String>) -> Unconvertible {
    Unconvertible { reason: reason.into(), suggestion: suggestion.into() }
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Converts `schedule`. `from` starts the one-year look-ahead for
/// daylight-saving notes.
pub fn to_scheduler(schedule: &Schedule, from: DateTime<Utc>) -> Result<SchedulerExpression, Unconvertible> {
    match schedule.kind() {
        ScheduleKind::Every(every) => every_to_rate(*every, schedule.time_zone()),
        ScheduleKind::Cron { fields, .. } => {
            let expression = cron_expression(schedule, fields)?;
            let zone = schedule.time_zone();
            let notes = zone.map(|zone| dst_notes(schedule, zone, from)).unwrap_or_default();
            Ok(SchedulerExpression { expression, time_zone: zone.map(|z| z.name().to_owned()), notes })
        }
    }
}

fn every_to_rate(every: std::time::Duration, zone: Option<Tz>) -> Result<SchedulerExpression, Unconvertible> {
    let whole_minutes = every.subsec_nanos() == 0 && every.as_secs().is_multiple_of(60);
    if every.as_secs() < 60 {
        return Err(refuse(
            format!("@every {every:?} is sub-minute: EventBridge Scheduler fires at most once a minute"),
            "use @every 1m or longer",
        ));
    }
    if !whole_minutes {
        let up = every.as_secs().div_ceil(60);
        return Err(refuse(
            format!("@every {every:?} is not a whole number of minutes, the Scheduler's rate() unit"),
            format!("use @every {up}m"),
        ));
    }
    let minutes = every.as_secs() / 60;
    let (count, unit) = match minutes {
        m if m % 1440 == 0 => (m / 1440, "day"),
        m if m % 60 == 0 => (m / 60, "hour"),
        m => (m, "minute"),
    };
    let plural = if count == 1 { "" } else { "s" };
    let mut notes = vec![
        "Dapr's @every counts from the moment the binding starts; rate() counts from the schedule's creation"
            .to_owned(),
    ];
    if zone.is_some() {
        notes.push("the time zone is ignored, as Dapr ignores it for @every".to_owned());
    }
    Ok(SchedulerExpression { expression: format!("rate({count} {unit}{plural})"), time_zone: None, notes })
}

/// `[sec, min, hour, dom, month, dow]` (normalized) as `cron(...)`.
fn cron_expression(schedule: &Schedule, fields: &[String; 6]) -> Result<String, Unconvertible> {
    let [second, minute, hour, dom, month, dow] = fields;
    if second != "0" {
        let with_five = format!("the five-field form \"{minute} {hour} {dom} {month} {dow}\"");
        return Err(if second.parse::<u32>().is_ok() {
            refuse(
                format!("the seconds field is {second}, not 0: EventBridge Scheduler fires on whole minutes"),
                format!("write 0 as the seconds, or use {with_five}"),
            )
        } else {
            refuse(
                format!(
                    "the seconds field {second:?} fires more than once a minute (sub-minute), which EventBridge Scheduler cannot"
                ),
                format!("fire at most once a minute: 0 as the seconds, or {with_five}"),
            )
        });
    }
    if dom != "*" && dow != "*" {
        return Err(refuse(
            format!(
                "both day-of-month ({dom}) and day-of-week ({dow}) are restricted: Dapr fires when either matches, \
                 and an EventBridge cron can restrict only one of them"
            ),
            "split it into two components, one restricting the day of the month, the other the day of the week",
        ));
    }
    let (month_bits, weekday_bits) = schedule.month_and_weekday_bits().unwrap_or((0, 0));
    let month = if month == "*" { "*".to_owned() } else { names(month_bits >> 1, &MONTHS) };
    let (dom, dow) =
        if dow == "*" { (dom.clone(), "?".to_owned()) } else { ("?".to_owned(), names(weekday_bits, &WEEKDAYS)) };
    Ok(format!("cron({minute} {hour} {dom} {month} {dow} *)"))
}

/// The set bits as names, runs of three or more as ranges: `MON-FRI`, `JAN,JUL`.
fn names(bits: u64, names: &[&str]) -> String {
    let set: Vec<usize> = (0..names.len()).filter(|i| bits & (1 << i) != 0).collect();
    let mut parts = Vec::new();
    let mut start = 0;
    while start < set.len() {
        let mut end = start;
        while end + 1 < set.len() && set[end + 1] == set[end] + 1 {
            end += 1;
        }
        match end - start {
            0 => parts.push(names[set[start]].to_owned()),
            1 => parts.extend([names[set[start]].to_owned(), names[set[end]].to_owned()]),
            _ => parts.push(format!("{}-{}", names[set[start]], names[set[end]])),
        }
        start = end + 1;
    }
    parts.join(",")
}

/// Notes for the clock changes of the year from `from` on which the
/// schedule names a wall time that does not exist (both skip it) or exists
/// twice (Dapr fires in both halves, the Scheduler once). One per kind.
fn dst_notes(schedule: &Schedule, zone: Tz, from: DateTime<Utc>) -> Vec<String> {
    let (mut gap, mut fold) = (None, None);
    let start = from.with_timezone(&zone).date_naive();
    for date in (0..=366).filter_map(|d| start.checked_add_days(Days::new(d))) {
        if !offset_changes(zone, date) {
            continue;
        }
        for minute in 0..24 * 60 {
            let wall = date.and_time(NaiveTime::MIN) + TimeDelta::minutes(minute);
            if !schedule.matches_wall_time(wall) {
                continue;
            }
            match zone.from_local_datetime(&wall) {
                LocalResult::None if gap.is_none() => gap = Some(wall),
                LocalResult::Ambiguous(..) if fold.is_none() => fold = Some(wall),
                _ => {}
            }
        }
    }
    let mut notes = Vec::new();
    if let Some(wall) = gap {
        notes.push(format!(
            "{} does not exist in {zone} (clocks go forward): EventBridge Scheduler skips that run, as Dapr does",
            wall.format("%Y-%m-%d %H:%M")
        ));
    }
    if let Some(wall) = fold {
        notes.push(format!(
            "{} happens twice in {zone} (clocks go back): Dapr fires in both, EventBridge Scheduler once",
            wall.format("%Y-%m-%d %H:%M")
        ));
    }
    notes
}

/// Whether the zone's UTC offset may change during the local `date`: it
/// differs between UTC midnights a day before and two days after, which
/// bracket the local day in every zone (offsets are within ±14 h).
fn offset_changes(zone: Tz, date: NaiveDate) -> bool {
    let offset_at = |d: NaiveDate| zone.offset_from_utc_date(&d).fix();
    match (date.pred_opt(), date.checked_add_days(Days::new(2))) {
        (Some(before), Some(after)) => offset_at(before) != offset_at(after),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
