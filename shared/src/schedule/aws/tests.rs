use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::*;

fn start_of_2026() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().unwrap_or_default()
}

fn convert(text: &str) -> Result<SchedulerExpression, Unconvertible> {
    let schedule: Schedule = text.parse().unwrap_or_else(|e| panic!("{text:?} does not parse: {e}"));
    to_scheduler(&schedule, start_of_2026())
}

#[test]
fn every_convertible_schedule() {
    let table: &[(&str, &str, Option<&str>)] = &[
        // The reference's table (lambda-anchors §6.4).
        ("*/5 * * * *", "cron(*/5 * * * ? *)", None),
        ("@every 15m", "rate(15 minutes)", None),
        ("@every 1h30m", "rate(90 minutes)", None),
        ("0 */15 * * * *", "cron(*/15 * * * ? *)", None),
        ("0 30 3-6,20-23 * * *", "cron(30 3-6,20-23 * * ? *)", None),
        ("CRON_TZ=America/New_York 0 30 04 * * *", "cron(30 4 * * ? *)", Some("America/New_York")),
        ("0 9 * * 1-5", "cron(0 9 ? * MON-FRI *)", None),
        ("@daily", "cron(0 0 * * ? *)", None),
        // rate() units.
        ("@every 1m", "rate(1 minute)", None),
        ("@every 60s", "rate(1 minute)", None),
        ("@every 1h", "rate(1 hour)", None),
        ("@every 2h", "rate(2 hours)", None),
        ("@every 24h", "rate(1 day)", None),
        ("@every 72h", "rate(3 days)", None),
        ("@every 25h", "rate(25 hours)", None),
        // Descriptors.
        ("@midnight", "cron(0 0 * * ? *)", None),
        ("@hourly", "cron(0 * * * ? *)", None),
        ("@weekly", "cron(0 0 ? * SUN *)", None),
        ("@monthly", "cron(0 0 1 * ? *)", None),
        ("@yearly", "cron(0 0 1 JAN ? *)", None),
        ("@annually", "cron(0 0 1 JAN ? *)", None),
        // Day of week: Dapr's 0 = Sunday becomes a name, steps become lists.
        ("0 9 * * mon-fri", "cron(0 9 ? * MON-FRI *)", None),
        ("0 9 * * 0,6", "cron(0 9 ? * SUN,SAT *)", None),
        ("0 9 * * */2", "cron(0 9 ? * SUN,TUE,THU,SAT *)", None),
        ("0 0 ? * 1", "cron(0 0 ? * MON *)", None),
        ("0 0 * * 0-6", "cron(0 0 ? * SUN-SAT *)", None),
        ("0 0 * * 6,0", "cron(0 0 ? * SUN,SAT *)", None),
        // Months become names; a wildcard stays one.
        ("0 0 1 */3 *", "cron(0 0 1 JAN,APR,JUL,OCT ? *)", None),
        ("0 0 1 jan,jun *", "cron(0 0 1 JAN,JUN ? *)", None),
        ("0 0 1 3-5 *", "cron(0 0 1 MAR-MAY ? *)", None),
        // Day of month, with the other day field `?`.
        ("15 10 1-15 * *", "cron(15 10 1-15 * ? *)", None),
        ("0 0 */2 * ?", "cron(0 0 */2 * ? *)", None),
        ("0 12 ? * *", "cron(0 12 * * ? *)", None),
        // Minute and hour syntax passes through, normalized.
        ("5/15 * * * *", "cron(5/15 * * * ? *)", None),
        ("0 0 07 * * *", "cron(0 7 * * ? *)", None),
        ("0 0-30/10 9 * * *", "cron(0-30/10 9 * * ? *)", None),
        // Zones.
        ("TZ=UTC 0 12 * * *", "cron(0 12 * * ? *)", Some("UTC")),
        ("CRON_TZ=Asia/Kolkata 0 9 * * *", "cron(0 9 * * ? *)", Some("Asia/Kolkata")),
        ("CRON_TZ=Europe/Berlin @every 1h", "rate(1 hour)", None),
    ];
    for (dapr, aws, zone) in table {
        let converted = convert(dapr).unwrap_or_else(|e| panic!("{dapr:?}: {e}"));
        assert_eq!(converted.expression, *aws, "{dapr:?}");
        assert_eq!(converted.time_zone.as_deref(), *zone, "{dapr:?}");
    }
}

#[test]
fn what_aws_cannot_express_is_refused_with_a_suggestion() {
    let table: &[(&str, &str, &str)] = &[
        ("@every 30s", "sub-minute", "@every 1m or longer"),
        ("@every 59s", "sub-minute", "@every 1m or longer"),
        ("@every 90s", "not a whole number of minutes", "@every 2m"),
        ("@every 1m30s", "not a whole number of minutes", "@every 2m"),
        ("30 * * * * *", "the seconds field is 30, not 0", "\"* * * * *\""),
        ("15 0 9 * * *", "the seconds field is 15, not 0", "\"0 9 * * *\""),
        ("*/30 * * * * *", "sub-minute", "0 as the seconds"),
        ("* * * * * *", "sub-minute", "0 as the seconds"),
        ("0,30 * * * * *", "sub-minute", "0 as the seconds"),
        ("0 0 1 * 1", "both day-of-month (1) and day-of-week (1) are restricted", "split it into two components"),
        ("0 0 0 1-7 * mon", "both day-of-month (1-7) and day-of-week (mon)", "split it"),
        ("0 0 */2 * 1-5", "both day-of-month", "split it"),
    ];
    for (dapr, reason, suggestion) in table {
        let refused = convert(dapr).expect_err(dapr);
        assert!(refused.reason.contains(reason), "{dapr:?}: reason {:?}", refused.reason);
        assert!(refused.suggestion.contains(suggestion), "{dapr:?}: suggestion {:?}", refused.suggestion);
    }
}

#[test]
fn notes_say_where_aws_fires_differently() {
    let every = convert("@every 10m").unwrap_or_else(|e| panic!("{e}"));
    assert!(every.notes[0].contains("counts from the moment the binding starts"), "{:?}", every.notes);
    let zoned = convert("CRON_TZ=Europe/Berlin @every 1h").unwrap_or_else(|e| panic!("{e}"));
    assert!(zoned.notes.iter().any(|n| n.contains("time zone is ignored")), "{:?}", zoned.notes);
    assert!(convert("*/5 * * * *").unwrap_or_else(|e| panic!("{e}")).notes.is_empty());
}

/// Around the clock changes of 2026: a wall time in the spring gap is
/// skipped by both; one in the autumn fold fires twice in Dapr, once in AWS.
#[test]
fn daylight_saving_changes() {
    let gap = "does not exist";
    let fold = "happens twice";
    let table: &[(&str, &[&str])] = &[
        // New York: 02:00 -> 03:00 on 8 March, 02:00 -> 01:00 on 1 November.
        ("CRON_TZ=America/New_York 30 2 * * *", &["2026-03-08 02:30 does not exist in America/New_York"]),
        ("CRON_TZ=America/New_York 30 1 * * *", &["2026-11-01 01:30 happens twice in America/New_York"]),
        ("CRON_TZ=America/New_York 0 2 * * *", &["2026-03-08 02:00 does not exist"]),
        ("CRON_TZ=America/New_York 0 12 * * *", &[]),
        ("CRON_TZ=America/New_York 0 3 * * *", &[]),
        // Both changes fall on Sundays: a weekday schedule meets neither.
        ("CRON_TZ=America/New_York 30 1,2 * * 1-5", &[]),
        ("CRON_TZ=America/New_York 30 1,2 * * 0", &[gap, fold]),
        // London: 01:00 -> 02:00 on 29 March, 02:00 -> 01:00 on 25 October.
        ("CRON_TZ=Europe/London 30 1 * * *", &["2026-03-29 01:30 does not exist", "2026-10-25 01:30 happens twice"]),
        // Sydney, east of UTC: back on 5 April (03:00 -> 02:00), forward on 4 October (02:00 -> 03:00).
        ("CRON_TZ=Australia/Sydney 30 2 * * *", &["2026-10-04 02:30 does not exist", "2026-04-05 02:30 happens twice"]),
        // Lord Howe moves by half an hour.
        ("CRON_TZ=Australia/Lord_Howe 45 1 * * *", &["2026-04-05 01:45 happens twice"]),
        // No daylight saving at all.
        ("CRON_TZ=Asia/Kolkata 30 2 * * *", &[]),
        ("TZ=UTC 30 1 * * *", &[]),
        // Every minute of the day meets both changes.
        ("CRON_TZ=Europe/Paris * * * * *", &[gap, fold]),
    ];
    for (dapr, expected) in table {
        let notes = convert(dapr).unwrap_or_else(|e| panic!("{dapr:?}: {e}")).notes;
        assert_eq!(notes.len(), expected.len(), "{dapr:?}: {notes:?}");
        for (note, expected) in notes.iter().zip(*expected) {
            assert!(note.contains(expected), "{dapr:?}: {note:?} should say {expected:?}");
        }
    }
}

/// The zone is passed on, not folded into a UTC offset: Dapr fires at the
/// same wall-clock time on both sides of a change, as `cron(30 4 ...)` in
/// America/New_York does, while the UTC hour moves.
#[test]
fn a_zoned_schedule_keeps_its_wall_clock_time_across_a_change() {
    let text = "CRON_TZ=America/New_York 30 4 * * *";
    let converted = convert(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (converted.expression.as_str(), converted.time_zone.as_deref()),
        ("cron(30 4 * * ? *)", Some("America/New_York"))
    );
    let schedule: Schedule = text.parse().unwrap_or_else(|e| panic!("{e}"));
    let mut t: DateTime<Utc> = "2026-03-06T12:00:00Z".parse().unwrap_or_default();
    let mut utc_hours = Vec::new();
    for _ in 0..4 {
        t = schedule.next_after(t).unwrap_or_default();
        let local = t.with_timezone(&Tz::America__New_York);
        assert_eq!(local.format("%H:%M").to_string(), "04:30", "{t}");
        utc_hours.push(t.format("%H").to_string());
    }
    // 7 March in EST (UTC-5), then from 8 March, the day of the change, in EDT (UTC-4).
    assert_eq!(utc_hours, ["09", "08", "08", "08"]);
    assert_eq!(t.date_naive(), NaiveDate::from_ymd_opt(2026, 3, 10).unwrap_or_default());
}
