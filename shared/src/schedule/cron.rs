//! The parser and the next-fire search.
//!
//! Both follow `dapr/kit/cron` (robfig/cron v3) line by line, rather than
//! croner: croner accepts more (`L`, `W`, `#`, a year field, day-of-week 7)
//! and resolves daylight-saving changes by other rules (it runs a job whose
//! time falls in a spring-forward gap at the end of the gap, where Dapr skips
//! that day, and runs a job in a repeated fall-back hour once, where Dapr
//! runs it in both halves). The tests check the two agree everywhere else.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::component::metadata::parse_go_duration;

/// A parsed Dapr cron binding schedule.
#[derive(Clone)]
pub struct Schedule {
    text: String,
    time_zone: Option<Tz>,
    kind: ScheduleKind,
    /// The bit sets the search walks; `None` for `@every`.
    bits: Option<Bits>,
}

/// What a [`Schedule`] fires on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleKind {
    /// Six normalized fields: sec min hour dom month dow. Descriptors are
    /// expanded (`@daily` is `0 0 0 * * *`). Normalizing keeps each list
    /// item's shape (`a`, `a-b`, `a/step`, `a-b/step`, `*/step`) and names
    /// lower-cased as written (`mon-fri`, `jan`); numbers lose signs and
    /// leading zeros, empty list items are dropped, a `/1` step is dropped
    /// (`a/1` becomes `a-max`), and a field holding `*` or `?` anywhere
    /// without a step above 1 becomes exactly `*`, because that is what Dapr
    /// treats as unrestricted for the day-of-month/day-of-week rule.
    Cron {
        /// `[sec, min, hour, dom, month, dow]`.
        fields: [String; 6],
        /// Whether the text had six fields; `false` for five and descriptors.
        seconds_given: bool,
    },
    /// `@every <d>`: fires every d, first one d after start.
    Every(Duration),
}

/// Why a schedule text is not one Dapr accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScheduleError {
    /// Names the offending part, e.g. `expected 5 to 6 fields, found 4`.
    pub message: String,
}

impl ScheduleError {
    fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

/// One bit per allowed value, as robfig stores them. `dom_star`/`dow_star`
/// record robfig's star bit: a day field written as `*`/`?` (step 1) makes a
/// day match only when both day fields match; otherwise either one suffices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bits {
    second: u64,
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    dom_star: bool,
    dow_star: bool,
}

/// The bounds and names of one field.
struct Field {
    label: &'static str,
    min: i64,
    max: i64,
    /// Names for `min`, `min + 1`, ...; matched case-insensitively.
    names: &'static [&'static str],
}

const MONTHS: &[&str] = &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const FIELDS: [Field; 6] = [
    Field { label: "second", min: 0, max: 59, names: &[] },
    Field { label: "minute", min: 0, max: 59, names: &[] },
    Field { label: "hour", min: 0, max: 23, names: &[] },
    Field { label: "day-of-month", min: 1, max: 31, names: &[] },
    Field { label: "month", min: 1, max: 12, names: MONTHS },
    // robfig bounds day-of-week to 0-6: `7` is refused, not read as Sunday.
    Field { label: "day-of-week", min: 0, max: 6, names: WEEKDAYS },
];

impl Schedule {
    /// What the schedule fires on.
    pub fn kind(&self) -> &ScheduleKind {
        &self.kind
    }

    /// The zone from a `CRON_TZ=`/`TZ=` prefix. `TZ=Local` gives `None`
    /// (the process zone, UTC on Lambda; see [`Schedule::next_after_in`])
    /// and `TZ=` gives UTC, as in Go.
    /// `@every` ignores it.
    pub fn time_zone(&self) -> Option<Tz> {
        self.time_zone
    }

    /// The text as parsed.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The month and day-of-week bit sets (bit n = month n, weekday n with
    /// 0 = Sunday); `None` for `@every`.
    pub(crate) fn month_and_weekday_bits(&self) -> Option<(u64, u64)> {
        self.bits.as_ref().map(|b| (b.month, b.dow))
    }

    /// Whether the fields select this wall-clock time, whether or not the
    /// time exists in the zone: what a DST gap or fold would have fired.
    pub(crate) fn matches_wall_time(&self, wall: NaiveDateTime) -> bool {
        let Some(bits) = &self.bits else { return false };
        let dom = has(bits.dom, wall.day());
        let dow = has(bits.dow, wall.weekday().num_days_from_sunday());
        let day = if bits.dom_star || bits.dow_star { dom && dow } else { dom || dow };
        day && has(bits.month, wall.month())
            && has(bits.hour, wall.hour())
            && has(bits.minute, wall.minute())
            && has(bits.second, wall.second())
    }

    /// Next fire strictly after `after`, a schedule without a zone read in
    /// UTC: the local zone on Lambda, so what daprd would do there.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_after_in(after, Tz::UTC)
    }

    /// Next fire strictly after `after`, a schedule without a zone read in
    /// `local`: daprd reads it in its process's `time.Local`, so `bindery
    /// run` passes the machine's zone. For Every: after + d. For Cron: in
    /// the schedule's zone, else `local`, with Dapr's search: whole seconds,
    /// at most five years ahead (`None` past that, e.g. for `0 0 0 30 2 *`).
    pub fn next_after_in(&self, after: DateTime<Utc>, local: Tz) -> Option<DateTime<Utc>> {
        if let ScheduleKind::Every(every) = self.kind {
            return after.checked_add_signed(TimeDelta::from_std(every).ok()?);
        }
        let zoned = after.with_timezone(&self.time_zone.unwrap_or(local));
        next_fire(self.bits.as_ref()?, zoned).map(|t| t.with_timezone(&Utc))
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schedule")
            .field("text", &self.text)
            .field("time_zone", &self.time_zone)
            .field("kind", &self.kind)
            .finish()
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Schedule {
    type Err = ScheduleError;

    /// Mirrors robfig's `Parser.Parse`: note that only a text with a zone
    /// prefix is trimmed, so `"@daily "` is refused as Dapr refuses it.
    fn from_str(text: &str) -> Result<Self, ScheduleError> {
        if text.is_empty() {
            return Err(ScheduleError::new("empty schedule"));
        }
        let (time_zone, spec) = split_time_zone(text)?;
        let (kind, bits) = if spec.starts_with('@') { parse_descriptor(spec)? } else { parse_fields(spec)? };
        Ok(Self { text: text.to_owned(), time_zone, kind, bits })
    }
}

/// Splits off a `CRON_TZ=<zone> ` or `TZ=<zone> ` prefix.
fn split_time_zone(text: &str) -> Result<(Option<Tz>, &str), ScheduleError> {
    let Some(after_eq) = text.strip_prefix("CRON_TZ=").or_else(|| text.strip_prefix("TZ=")) else {
        return Ok((None, text));
    };
    let Some(space) = after_eq.find(char::is_whitespace) else {
        return Err(ScheduleError::new(format!("time zone prefix {text:?} is not followed by a schedule")));
    };
    let name = &after_eq[..space];
    // Go's `time.LoadLocation`: "" and "UTC" are UTC, "Local" the process zone.
    let zone = match name {
        "" => Some(Tz::UTC),
        "Local" => None,
        _ => Some(Tz::from_str(name).map_err(|_| ScheduleError::new(format!("unknown time zone {name:?}")))?),
    };
    Ok((zone, after_eq[space..].trim()))
}

/// `@yearly` and friends (case-sensitive, as in Dapr), and `@every <d>`.
fn parse_descriptor(spec: &str) -> Result<(ScheduleKind, Option<Bits>), ScheduleError> {
    let fields = match spec {
        "@yearly" | "@annually" => ["0", "0", "0", "1", "1", "*"],
        "@monthly" => ["0", "0", "0", "1", "*", "*"],
        "@weekly" => ["0", "0", "0", "*", "*", "0"],
        "@daily" | "@midnight" => ["0", "0", "0", "*", "*", "*"],
        "@hourly" => ["0", "0", "*", "*", "*", "*"],
        _ => {
            // Go's `time.ParseDuration` takes the rest verbatim, so a second
            // space is an error there too. Dapr clamps zero and negative
            // durations to 1ms; bindery refuses them instead.
            let Some(duration) = spec.strip_prefix("@every ").or((spec == "@every").then_some("")) else {
                return Err(ScheduleError::new(format!("unknown descriptor {spec:?}")));
            };
            return match parse_go_duration(duration) {
                Some(every) if !every.is_zero() => Ok((ScheduleKind::Every(every), None)),
                _ => Err(ScheduleError::new(format!(
                    "@every needs a positive duration such as \"15m\", got {duration:?}"
                ))),
            };
        }
    };
    let (kind, bits) = build(fields.map(str::to_owned), false)?;
    Ok((kind, Some(bits)))
}

/// Five or six whitespace-separated fields.
fn parse_fields(spec: &str) -> Result<(ScheduleKind, Option<Bits>), ScheduleError> {
    let given: Vec<&str> = spec.split_whitespace().collect();
    let fields: [String; 6] = match given.as_slice() {
        [min, hour, dom, month, dow] => ["0", min, hour, dom, month, dow].map(|f| f.to_string()),
        [sec, min, hour, dom, month, dow] => [sec, min, hour, dom, month, dow].map(|f| f.to_string()),
        _ => return Err(ScheduleError::new(format!("expected 5 to 6 fields, found {}", given.len()))),
    };
    let (kind, bits) = build(fields, given.len() == 6)?;
    Ok((kind, Some(bits)))
}

/// Parses six raw fields into their normalized text and bit sets.
fn build(raw: [String; 6], seconds_given: bool) -> Result<(ScheduleKind, Bits), ScheduleError> {
    let mut fields: [String; 6] = Default::default();
    let mut bits = [0u64; 6];
    let mut stars = [false; 6];
    for (i, field) in FIELDS.iter().enumerate() {
        (fields[i], bits[i], stars[i]) = parse_field(&raw[i], field)?;
    }
    let [second, minute, hour, dom, month, dow] = bits;
    let bits = Bits { second, minute, hour, dom, month, dow, dom_star: stars[3], dow_star: stars[5] };
    Ok((ScheduleKind::Cron { fields, seconds_given }, bits))
}

/// One field: a comma list of items (robfig's `getField`). Returns the
/// normalized text, the bits, and whether the star bit is set.
fn parse_field(text: &str, field: &Field) -> Result<(String, u64, bool), ScheduleError> {
    let mut bits = 0;
    let mut star = false;
    let mut items = Vec::new();
    // Go's `strings.FieldsFunc` drops empty items: `1,,2` is `1,2`.
    for item in text.split(',').filter(|item| !item.is_empty()) {
        let parsed = parse_item(item, field)?;
        bits |= parsed.bits;
        star |= parsed.star;
        items.push(parsed.normalized);
    }
    if items.is_empty() {
        // Dapr accepts such a field and never fires; bindery refuses it.
        return Err(ScheduleError::new(format!("{} field {text:?} lists no values", field.label)));
    }
    let normalized = if star { "*".to_owned() } else { items.join(",") };
    Ok((normalized, bits, star))
}

struct Item {
    bits: u64,
    star: bool,
    normalized: String,
}

/// One list item: `*`, `?`, `a`, `a-b`, each with an optional `/step`
/// (robfig's `getRange`, whose quirks are kept: after a `*` or `?` anything
/// past a `-` is ignored, and `a/step` runs from `a` to the field's maximum).
fn parse_item(item: &str, field: &Field) -> Result<Item, ScheduleError> {
    let label = field.label;
    let mut slash = item.split('/');
    let range = slash.next().unwrap_or_default();
    let step_text = slash.next();
    if slash.next().is_some() {
        return Err(ScheduleError::new(format!("{label} item {item:?} has more than one \"/\"")));
    }
    let ends: Vec<&str> = range.split('-').collect();
    let step = match step_text {
        None => 1,
        Some(text) => match text.parse::<i64>().ok() {
            Some(step) if step >= 1 => step,
            Some(_) => return Err(ScheduleError::new(format!("{label} step in {item:?} must be at least 1"))),
            None => return Err(ScheduleError::new(format!("{label} step {text:?} in {item:?} is not a number"))),
        },
    };
    if ends[0] == "*" || ends[0] == "?" {
        let star = step == 1;
        let normalized = if star { "*".to_owned() } else { format!("*/{step}") };
        return Ok(Item { bits: bits_of(field.min, field.max, step), star, normalized });
    }
    let (start, start_text) = parse_value(ends[0], item, field)?;
    let (end, end_text) = match ends.len() {
        1 if step_text.is_some() => (field.max, None),
        1 => (start, None),
        2 => {
            let (end, text) = parse_value(ends[1], item, field)?;
            (end, Some(text))
        }
        _ => return Err(ScheduleError::new(format!("{label} item {item:?} has more than one \"-\""))),
    };
    if start > end {
        return Err(ScheduleError::new(format!("{label} range {item:?} starts after it ends")));
    }
    let mut normalized = match (end_text, step) {
        (Some(end_text), _) => format!("{start_text}-{end_text}"),
        (None, 1) if end != start => format!("{start_text}-{end}"),
        (None, _) => start_text,
    };
    if step > 1 {
        normalized = format!("{normalized}/{step}");
    }
    Ok(Item { bits: bits_of(start, end, step), star: false, normalized })
}

/// A value or a name, within the field's bounds. Returns it with its
/// normalized text: the lower-cased name, or the number without sign or
/// leading zeros.
fn parse_value(text: &str, item: &str, field: &Field) -> Result<(i64, String), ScheduleError> {
    let label = field.label;
    let lower = text.to_lowercase();
    if let Some(index) = field.names.iter().position(|name| *name == lower) {
        return Ok((field.min + index as i64, lower));
    }
    let Some(value) = parse_number(text) else {
        if let Some(ext) = unsupported_extension(text) {
            return Err(ScheduleError::new(format!(
                "{ext:?} is not supported by Dapr's cron grammar ({label} item {item:?})"
            )));
        }
        let within = if text == item { String::new() } else { format!(" in {item:?}") };
        let names = match field.names {
            [first, .., last] => format!(" or a name ({first}-{last})"),
            _ => String::new(),
        };
        return Err(ScheduleError::new(format!("{label} value {text:?}{within} is not a number{names}")));
    };
    if value < field.min || value > field.max {
        let hint = if field.names == WEEKDAYS { " (0 is Sunday)" } else { "" };
        return Err(ScheduleError::new(format!(
            "{} value {value} is out of range {}-{}{hint}",
            field.label, field.min, field.max
        )));
    }
    Ok((value, value.to_string()))
}

/// Go's `strconv.Atoi`: ASCII digits with an optional sign (a leading `+`
/// is accepted, as in Dapr). Negative numbers are refused like Dapr does.
fn parse_number(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().filter(|n| *n >= 0)
}

/// Names the Quartz/croner extension a value token uses, for a clearer error.
fn unsupported_extension(token: &str) -> Option<&'static str> {
    if token.contains('#') {
        return Some("#");
    }
    let upper = token.to_ascii_uppercase();
    match upper.trim_start_matches(|c: char| c.is_ascii_digit()) {
        "L" | "LW" => Some("L"),
        "W" => Some("W"),
        _ => None,
    }
}

/// Bits `start..=end` by `step` (robfig's `getBits`).
fn bits_of(start: i64, end: i64, step: i64) -> u64 {
    (start..=end).step_by(step as usize).fold(0, |bits, value| bits | 1 << value)
}

fn has(bits: u64, value: u32) -> bool {
    bits & (1 << value) != 0
}

/// robfig's `dayMatches`: with a star in either day field both must match,
/// otherwise either one is enough (Vixie cron's rule).
fn day_matches(bits: &Bits, t: &DateTime<Tz>) -> bool {
    let dom = has(bits.dom, t.day());
    let dow = has(bits.dow, t.weekday().num_days_from_sunday());
    if bits.dom_star || bits.dow_star { dom && dow } else { dom || dow }
}

/// robfig's `SpecSchedule.Next`, step for step, so that daylight-saving
/// changes come out as in Dapr: a time in a skipped hour does not fire that
/// day, and a time in a repeated hour fires in both halves. Each `added`
/// branch resets the smaller units the first time a field has to move.
fn next_fire(bits: &Bits, after: DateTime<Tz>) -> Option<DateTime<Tz>> {
    let zone = after.timezone();
    // Start at the next whole second.
    let mut t = after.checked_add_signed(TimeDelta::seconds(1) - TimeDelta::nanoseconds(after.nanosecond().into()))?;
    let mut added = false;
    let year_limit = t.year() + 5;
    'wrap: loop {
        if t.year() > year_limit {
            return None;
        }
        while !has(bits.month, t.month()) {
            if !added {
                added = true;
                t = go_date(zone, NaiveDate::from_ymd_opt(t.year(), t.month(), 1)?.and_hms_opt(0, 0, 0)?)?;
            }
            t = go_add_date(t, 1, 0)?;
            if t.month() == 1 {
                continue 'wrap;
            }
        }
        while !day_matches(bits, &t) {
            if !added {
                added = true;
                t = go_date(zone, t.date_naive().and_hms_opt(0, 0, 0)?)?;
            }
            t = go_add_date(t, 0, 1)?;
            // Where midnight does not exist the day starts at another hour.
            let hour = i64::from(t.hour());
            if hour > 12 {
                t = t.checked_add_signed(TimeDelta::hours(24 - hour))?;
            } else if hour > 0 {
                t = t.checked_sub_signed(TimeDelta::hours(hour))?;
            }
            if t.day() == 1 {
                continue 'wrap;
            }
        }
        while !has(bits.hour, t.hour()) {
            if !added {
                added = true;
                t = go_date(zone, t.date_naive().and_hms_opt(t.hour(), 0, 0)?)?;
            }
            t = t.checked_add_signed(TimeDelta::hours(1))?;
            if t.hour() == 0 {
                continue 'wrap;
            }
        }
        while !has(bits.minute, t.minute()) {
            if !added {
                added = true;
                t = truncate(t, 60)?;
            }
            t = t.checked_add_signed(TimeDelta::minutes(1))?;
            if t.minute() == 0 {
                continue 'wrap;
            }
        }
        while !has(bits.second, t.second()) {
            if !added {
                added = true;
                t = truncate(t, 1)?;
            }
            t = t.checked_add_signed(TimeDelta::seconds(1))?;
            if t.second() == 0 {
                continue 'wrap;
            }
        }
        return Some(t);
    }
}

/// Go's `time.Date`: a wall clock time that does not exist or exists twice
/// resolves through the offset in force at the wall time read as UTC, then
/// corrected once. Needed to land exactly where Dapr does around DST.
fn go_date(zone: Tz, wall: NaiveDateTime) -> Option<DateTime<Tz>> {
    let offset_at =
        |utc: &NaiveDateTime| TimeDelta::seconds(zone.offset_from_utc_datetime(utc).fix().local_minus_utc().into());
    let guess = wall.checked_sub_signed(offset_at(&wall))?;
    let utc = wall.checked_sub_signed(offset_at(&guess))?;
    Some(zone.from_utc_datetime(&utc))
}

/// Go's `Time.AddDate`: add to the wall clock fields, let an overflowing day
/// roll into the next month, resolve with [`go_date`].
fn go_add_date(t: DateTime<Tz>, months: i32, days: i64) -> Option<DateTime<Tz>> {
    let wall = t.naive_local();
    let month0 = wall.month0() as i32 + months;
    let first = NaiveDate::from_ymd_opt(wall.year() + month0.div_euclid(12), month0.rem_euclid(12) as u32 + 1, 1)?;
    let date = first.checked_add_signed(TimeDelta::days(i64::from(wall.day()) - 1 + days))?;
    go_date(t.timezone(), date.and_time(wall.time()))
}

/// Go's `Time.Truncate`, which rounds on absolute time, not the wall clock.
fn truncate(t: DateTime<Tz>, seconds: i64) -> Option<DateTime<Tz>> {
    let excess = TimeDelta::seconds(t.timestamp().rem_euclid(seconds)) + TimeDelta::nanoseconds(t.nanosecond().into());
    t.checked_sub_signed(excess)
}
