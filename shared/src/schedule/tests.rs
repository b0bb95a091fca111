//! Tests for Dapr's cron grammar: what it accepts, what it refuses, and when
//! it fires. Fire-time vectors marked "dapr/kit" are the cases of dapr/kit's
//! `cron/spec_test.go`, the code Dapr's cron binding runs.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use super::{Schedule, ScheduleKind};

fn parse(text: &str) -> Schedule {
    text.parse().unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("bad time {text}: {e}")).with_timezone(&Utc)
}

fn next(schedule: &str, after: &str) -> Option<DateTime<Utc>> {
    parse(schedule).next_after(utc(after))
}

#[test]
fn accepts_dapr_schedules_and_normalizes_fields() {
    // (text, normalized "sec min hour dom month dow", seconds given, zone)
    let cases: &[(&str, &str, bool, Option<Tz>)] = &[
        ("*/5 * * * *", "0 */5 * * * *", false, None),
        ("0 */15 * * * *", "0 */15 * * * *", true, None),
        ("0 30 3-6,20-23 * * *", "0 30 3-6,20-23 * * *", true, None),
        ("CRON_TZ=America/New_York 0 30 04 * * *", "0 30 4 * * *", true, Some(Tz::America__New_York)),
        ("TZ=Europe/Berlin 0 9 * * mon-fri", "0 0 9 * * mon-fri", false, Some(Tz::Europe__Berlin)),
        ("CRON_TZ=Europe/Berlin \t 0 9 * * *", "0 0 9 * * *", false, Some(Tz::Europe__Berlin)),
        ("TZ=UTC * * * * *", "0 * * * * *", false, Some(Tz::UTC)),
        ("TZ= * * * * *", "0 * * * * *", false, Some(Tz::UTC)),
        ("TZ=Local * * * * *", "0 * * * * *", false, None),
        ("0 9 * * 1-5", "0 0 9 * * 1-5", false, None),
        ("0 0 12 ? * SUN", "0 0 12 * * sun", true, None),
        ("5/15 * * * * *", "5/15 * * * * *", true, None),
        ("0 0 0 1 JAN-Mar,Dec ?", "0 0 0 1 jan-mar,dec *", true, None),
        ("? ? ? ? ? ?", "* * * * * *", true, None),
        ("*/1 0 0 */1,5 * *", "* 0 0 * * *", true, None),
        ("0 0 0 */10 * Sun", "0 0 0 */10 * sun", true, None),
        ("0 0 0 * Feb Mon/2", "0 0 0 * feb mon/2", true, None),
        ("0 5/1 1-10/3 * * 0-6/1", "0 5-59 1-10/3 * * 0-6", true, None),
        ("0 0 * * sun-sat", "0 0 0 * * sun-sat", false, None),
        // Go's strconv.Atoi takes a plus sign and leading zeros.
        ("+5 007 * * *", "0 5 7 * * *", false, None),
        // Go's strings.FieldsFunc drops empty list items.
        ("1,,2, * * * *", "0 1,2 * * * *", false, None),
        // robfig ignores anything after `*-`.
        ("*-5 * * * *", "0 * * * * *", false, None),
        // Accepted but never fires (Dapr accepts it too).
        ("0 0 0 30 2 *", "0 0 0 30 2 *", true, None),
        ("* * * * *\t", "0 * * * * *", false, None),
        ("@yearly", "0 0 0 1 1 *", false, None),
        ("@annually", "0 0 0 1 1 *", false, None),
        ("@monthly", "0 0 0 1 * *", false, None),
        ("@weekly", "0 0 0 * * 0", false, None),
        ("@daily", "0 0 0 * * *", false, None),
        ("@midnight", "0 0 0 * * *", false, None),
        ("@hourly", "0 0 * * * *", false, None),
        ("CRON_TZ=Asia/Tokyo @daily", "0 0 0 * * *", false, Some(Tz::Asia__Tokyo)),
        ("TZ=Asia/Tokyo  @daily  ", "0 0 0 * * *", false, Some(Tz::Asia__Tokyo)),
    ];
    for (text, fields, seconds, zone) in cases {
        let schedule = parse(text);
        let ScheduleKind::Cron { fields: got, seconds_given } = schedule.kind() else {
            panic!("{text:?} should be a cron schedule, got {:?}", schedule.kind());
        };
        assert_eq!(got.join(" "), *fields, "fields of {text:?}");
        assert_eq!(seconds_given, seconds, "seconds_given of {text:?}");
        assert_eq!(schedule.time_zone(), *zone, "zone of {text:?}");
        assert_eq!(schedule.as_str(), *text);
        assert_eq!(schedule.to_string(), *text);
    }
}

#[test]
fn accepts_every_with_go_durations() {
    let cases: &[(&str, Duration)] = &[
        ("@every 15m", Duration::from_secs(900)),
        ("@every 1h30m", Duration::from_secs(5400)),
        ("@every 10s", Duration::from_secs(10)),
        ("@every 1.5h", Duration::from_secs(5400)),
        ("@every 300ms", Duration::from_millis(300)),
        ("@every +2m", Duration::from_secs(120)),
        ("CRON_TZ=Asia/Tokyo @every 5m", Duration::from_secs(300)),
    ];
    for (text, every) in cases {
        assert_eq!(parse(text).kind(), &ScheduleKind::Every(*every), "{text:?}");
    }
}

#[test]
fn refuses_what_dapr_refuses_with_a_clear_message() {
    let cases: &[(&str, &str)] = &[
        ("", "empty schedule"),
        ("   ", "expected 5 to 6 fields, found 0"),
        ("* * * *", "expected 5 to 6 fields, found 4"),
        ("* * * * * * *", "expected 5 to 6 fields, found 7"),
        ("0 0 12 * * ? 2026", "expected 5 to 6 fields, found 7"),
        ("0 0 * * 7", "day-of-week value 7 is out of range 0-6 (0 is Sunday)"),
        ("0 0 * * 5-7", "day-of-week value 7 is out of range 0-6 (0 is Sunday)"),
        ("0 0 L * *", "\"L\" is not supported by Dapr's cron grammar (day-of-month item \"L\")"),
        ("0 0 LW * *", "\"L\" is not supported by Dapr's cron grammar (day-of-month item \"LW\")"),
        ("0 0 15W * *", "\"W\" is not supported by Dapr's cron grammar (day-of-month item \"15W\")"),
        ("0 0 * * 5L", "\"L\" is not supported by Dapr's cron grammar (day-of-week item \"5L\")"),
        ("0 0 * * 1#2", "\"#\" is not supported by Dapr's cron grammar (day-of-week item \"1#2\")"),
        ("0 0 * * +mon", "day-of-week value \"+mon\" is not a number or a name (sun-sat)"),
        ("0 0 * * xyz", "day-of-week value \"xyz\" is not a number or a name (sun-sat)"),
        ("0 0 * foo *", "month value \"foo\" is not a number or a name (jan-dec)"),
        ("0 0 * jan-foo *", "month value \"foo\" in \"jan-foo\" is not a number or a name (jan-dec)"),
        ("abc * * * *", "minute value \"abc\" is not a number"),
        ("-5 * * * *", "minute value \"\" in \"-5\" is not a number"),
        ("99999999999999999999 * * * *", "minute value \"99999999999999999999\" is not a number"),
        ("60 * * * *", "minute value 60 is out of range 0-59"),
        ("60 * * * * *", "second value 60 is out of range 0-59"),
        ("0 24 * * *", "hour value 24 is out of range 0-23"),
        ("70/5 * * * *", "minute value 70 is out of range 0-59"),
        ("0 0 * 13 *", "month value 13 is out of range 1-12"),
        ("0 0 0 * *", "day-of-month value 0 is out of range 1-31"),
        ("0 0 32 * *", "day-of-month value 32 is out of range 1-31"),
        ("*/0 * * * *", "minute step in \"*/0\" must be at least 1"),
        ("15/0 * * * *", "minute step in \"15/0\" must be at least 1"),
        ("*/-5 * * * *", "minute step in \"*/-5\" must be at least 1"),
        ("*/x * * * *", "minute step \"x\" in \"*/x\" is not a number"),
        ("*/5/2 * * * *", "minute item \"*/5/2\" has more than one \"/\""),
        ("1-2-3 * * * *", "minute item \"1-2-3\" has more than one \"-\""),
        ("5-3 * * * *", "minute range \"5-3\" starts after it ends"),
        ("0 0 * * fri-mon", "day-of-week range \"fri-mon\" starts after it ends"),
        (", * * * *", "minute field \",\" lists no values"),
        ("@every -5s", "@every needs a positive duration such as \"15m\", got \"-5s\""),
        ("@every 0s", "@every needs a positive duration such as \"15m\", got \"0s\""),
        ("@every 0", "@every needs a positive duration such as \"15m\", got \"0\""),
        ("@every", "@every needs a positive duration such as \"15m\", got \"\""),
        ("@every ", "@every needs a positive duration such as \"15m\", got \"\""),
        ("@every abc", "@every needs a positive duration such as \"15m\", got \"abc\""),
        ("@every 5", "@every needs a positive duration such as \"15m\", got \"5\""),
        ("@every  5s", "@every needs a positive duration such as \"15m\", got \" 5s\""),
        ("@reboot", "unknown descriptor \"@reboot\""),
        ("@fortnightly", "unknown descriptor \"@fortnightly\""),
        ("@Daily", "unknown descriptor \"@Daily\""),
        ("@daily ", "unknown descriptor \"@daily \""),
        ("CRON_TZ=Mars/Base * * * * *", "unknown time zone \"Mars/Base\""),
        ("TZ=america/new_york * * * * *", "unknown time zone \"america/new_york\""),
        ("CRON_TZ=Europe/Berlin", "time zone prefix \"CRON_TZ=Europe/Berlin\" is not followed by a schedule"),
        ("CRON_TZ=Europe/Berlin ", "expected 5 to 6 fields, found 0"),
        (" TZ=UTC * * * * *", "second value \"TZ=UTC\" is not a number"),
    ];
    for (text, message) in cases {
        match text.parse::<Schedule>() {
            Ok(schedule) => panic!("{text:?} should be refused, got {schedule:?}"),
            Err(e) => assert_eq!(e.to_string(), *message, "message for {text:?}"),
        }
    }
}

#[test]
fn next_after_five_and_six_fields() {
    assert_eq!(next("*/5 * * * *", "2026-01-01T10:02:30.5Z"), Some(utc("2026-01-01T10:05:00Z")));
    assert_eq!(next("*/5 * * * *", "2026-01-01T10:05:00Z"), Some(utc("2026-01-01T10:10:00Z")));
    assert_eq!(next("*/5 * * * *", "2026-01-01T23:59:59Z"), Some(utc("2026-01-02T00:00:00Z")));
    assert_eq!(next("5/15 * * * * *", "2026-01-01T10:00:00Z"), Some(utc("2026-01-01T10:00:05Z")));
    assert_eq!(next("5/15 * * * * *", "2026-01-01T10:00:05Z"), Some(utc("2026-01-01T10:00:20Z")));
    assert_eq!(next("5/15 * * * * *", "2026-01-01T10:00:50Z"), Some(utc("2026-01-01T10:01:05Z")));
    assert_eq!(next("@yearly", "2026-06-01T00:00:00Z"), Some(utc("2027-01-01T00:00:00Z")));
    assert_eq!(next("@weekly", "2026-01-01T00:00:00Z"), Some(utc("2026-01-04T00:00:00Z")));
    // Friday 10:00 in Berlin: the next weekday 9:00 is Monday, 7:00 UTC.
    assert_eq!(next("TZ=Europe/Berlin 0 9 * * mon-fri", "2026-07-03T08:00:00Z"), Some(utc("2026-07-06T07:00:00Z")));
    assert_eq!(next("0 0 0 30 2 *", "2026-01-01T00:00:00Z"), None);
}

#[test]
fn next_after_every_adds_the_duration() {
    let every = parse("@every 15s");
    let start = utc("2026-01-01T10:00:00.250Z");
    assert_eq!(every.next_after(start), Some(utc("2026-01-01T10:00:15.250Z")));
    assert_eq!(parse("CRON_TZ=Asia/Tokyo @every 1h30m").next_after(start), Some(utc("2026-01-01T11:30:00.250Z")));
}

/// daprd reads a schedule without a zone in its process's local zone;
/// `next_after` is that with UTC as the local zone, as on Lambda.
#[test]
fn next_after_in_reads_an_unzoned_schedule_in_the_local_zone() {
    let noon = parse("0 0 12 * * *");
    let after = utc("2026-08-21T00:00:00Z");
    // Kathmandu is UTC+05:45: local noon is 06:15 UTC.
    assert_eq!(noon.next_after_in(after, Tz::Asia__Kathmandu), Some(utc("2026-08-21T06:15:00Z")));
    assert_eq!(noon.next_after_in(after, Tz::UTC), noon.next_after(after));
    assert_eq!(noon.next_after(after), Some(utc("2026-08-21T12:00:00Z")));
    // `TZ=Local` is the local zone too; a named zone wins over it.
    let local = parse("TZ=Local 0 0 12 * * *");
    assert_eq!(local.next_after_in(after, Tz::Asia__Kathmandu), Some(utc("2026-08-21T06:15:00Z")));
    let tokyo = parse("CRON_TZ=Asia/Tokyo 0 0 12 * * *");
    assert_eq!(tokyo.next_after_in(after, Tz::Asia__Kathmandu), Some(utc("2026-08-21T03:00:00Z")));
    // The local zone's daylight-saving changes apply as a named zone's do:
    // 02:30 does not exist in New York on 2026-03-08.
    let at_230 = parse("0 30 2 * * *");
    let spring = utc("2026-03-08T05:00:00Z");
    assert_eq!(at_230.next_after_in(spring, Tz::America__New_York), Some(utc("2026-03-09T06:30:00Z")));
    // `@every` counts from `after` whatever the zone.
    let every = parse("@every 90s");
    assert_eq!(every.next_after_in(after, Tz::Asia__Kathmandu), Some(utc("2026-08-21T00:01:30Z")));
}

#[test]
fn spring_forward_skips_the_missing_time_like_dapr() {
    // 2026-03-08 in New York: 02:00 EST jumps to 03:00 EDT.
    let daily = "CRON_TZ=America/New_York 0 30 2 * * *";
    assert_eq!(next(daily, "2026-03-08T05:00:00Z"), Some(utc("2026-03-09T06:30:00Z")));
    let hourly = "CRON_TZ=America/New_York 0 0 * * * *";
    assert_eq!(next(hourly, "2026-03-08T06:00:00Z"), Some(utc("2026-03-08T07:00:00Z")));
    assert_eq!(
        next("CRON_TZ=America/New_York 0 30 3 * * *", "2026-03-08T05:00:00Z"),
        Some(utc("2026-03-08T07:30:00Z"))
    );
}

#[test]
fn fall_back_fires_once_outside_the_repeated_hour_and_twice_inside_like_dapr() {
    // 2026-11-01 in New York: 02:00 EDT goes back to 01:00 EST.
    let at_230 = "CRON_TZ=America/New_York 0 30 2 * * *";
    assert_eq!(next(at_230, "2026-11-01T04:00:00Z"), Some(utc("2026-11-01T07:30:00Z")));
    assert_eq!(next(at_230, "2026-11-01T07:30:00Z"), Some(utc("2026-11-02T07:30:00Z")));
    // dapr/kit: "1am nightly job (runs twice)".
    let at_130 = "CRON_TZ=America/New_York 0 30 1 * * *";
    assert_eq!(next(at_130, "2026-11-01T04:00:00Z"), Some(utc("2026-11-01T05:30:00Z")));
    assert_eq!(next(at_130, "2026-11-01T05:30:00Z"), Some(utc("2026-11-01T06:30:00Z")));
    assert_eq!(next(at_130, "2026-11-01T06:30:00Z"), Some(utc("2026-11-02T06:30:00Z")));
}

#[test]
fn next_after_matches_dapr_kit_vectors() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("2012-07-09T14:45:00Z", "0 0/15 * * * *", Some("2012-07-09T15:00:00Z")),
        ("2012-07-09T14:59:59Z", "0 0/15 * * * *", Some("2012-07-09T15:00:00Z")),
        ("2012-07-09T15:45:00Z", "0 20-35/15 * * * *", Some("2012-07-09T16:20:00Z")),
        ("2012-07-09T23:35:51Z", "15/35 20-35/15 1/2 */2 * *", Some("2012-07-11T01:20:15Z")),
        ("2012-07-09T23:35:51Z", "15/35 20-35/15 * 9-20 Jul *", Some("2012-07-10T00:20:15Z")),
        ("2012-07-09T23:35:00Z", "0 0 0 9 Apr-Oct ?", Some("2012-08-09T00:00:00Z")),
        ("2012-07-09T23:35:00Z", "0 0 0 */5 Apr,Aug,Oct Mon", Some("2012-08-01T00:00:00Z")),
        ("2012-07-09T23:35:00Z", "0 0 0 */5 Oct Mon", Some("2012-10-01T00:00:00Z")),
        ("2012-07-09T23:35:00Z", "0 0 0 * Feb Mon/2", Some("2013-02-01T00:00:00Z")),
        ("2012-12-31T23:59:45Z", "0 * * * * *", Some("2013-01-01T00:00:00Z")),
        ("2012-07-09T23:35:00Z", "0 0 0 29 Feb ?", Some("2016-02-29T00:00:00Z")),
        ("2012-07-09T23:35:00Z", "0 0 0 31 Apr ?", None),
        ("2012-03-11T05:00:00Z", "TZ=America/New_York 0 30 2 11 Mar ?", Some("2013-03-11T06:30:00Z")),
        ("2012-03-11T06:00:00Z", "TZ=America/New_York 0 0 * * * ?", Some("2012-03-11T07:00:00Z")),
        ("2012-03-11T05:00:00Z", "TZ=America/New_York 0 0 2 * * ?", Some("2012-03-12T06:00:00Z")),
        ("2012-11-04T05:45:00Z", "TZ=America/New_York 0 30 1 04 Nov ?", Some("2012-11-04T06:30:00Z")),
        ("2012-11-04T05:00:00Z", "TZ=America/New_York 0 0 * * * ?", Some("2012-11-04T06:00:00Z")),
        ("2012-11-04T04:00:00Z", "TZ=America/New_York 0 0 3 3 * ?", Some("2012-12-03T08:00:00Z")),
        // Midnight does not exist on these Sao Paulo days (robfig issue 157).
        ("2018-10-17T09:00:00Z", "TZ=America/Sao_Paulo 0 0 9 10 * ?", Some("2018-11-10T11:00:00Z")),
        ("2018-02-14T10:00:00Z", "TZ=America/Sao_Paulo 0 0 9 22 * ?", Some("2018-02-22T12:00:00Z")),
    ];
    for (after, schedule, expected) in cases {
        assert_eq!(next(schedule, after), expected.map(utc), "{schedule:?} after {after}");
    }
}

/// Every fire of `schedule` during 2026, as dates.
fn fire_dates_2026(schedule: &str) -> Vec<NaiveDate> {
    let schedule = parse(schedule);
    let mut dates = Vec::new();
    let mut t = utc("2025-12-31T23:59:59Z");
    while let Some(fire) = schedule.next_after(t).filter(|fire| fire.year() == 2026) {
        dates.push(fire.date_naive());
        t = fire;
    }
    dates
}

fn dates_2026(keep: impl Fn(NaiveDate) -> bool) -> Vec<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date");
    first.iter_days().take_while(|d| d.year() == 2026).filter(|d| keep(*d)).collect()
}

#[test]
fn day_of_month_and_day_of_week_follow_robfig() {
    let fridays_and_13ths = dates_2026(|d| d.day() == 13 || d.weekday() == Weekday::Fri);
    assert_eq!(fire_dates_2026("0 0 13 * 5"), fridays_and_13ths);
    // 52 Fridays and 12 thirteenths, three of them Fridays (Feb, Mar, Nov).
    assert_eq!(fridays_and_13ths.len(), 52 + 12 - 3);
    assert_eq!(fire_dates_2026("0 0 13 * ?"), dates_2026(|d| d.day() == 13));
    assert_eq!(fire_dates_2026("0 0 * * fri"), dates_2026(|d| d.weekday() == Weekday::Fri));
    // `*/1` keeps robfig's star bit; a step above 1 drops it.
    assert_eq!(fire_dates_2026("0 0 13 * */1"), dates_2026(|d| d.day() == 13));
    assert_eq!(fire_dates_2026("0 0 */10 * sun"), dates_2026(|d| d.day() % 10 == 1 || d.weekday() == Weekday::Sun));
}

#[test]
fn agrees_with_croner_away_from_daylight_saving_changes() {
    use croner::parser::{CronParser, Seconds};
    let croner = CronParser::builder().seconds(Seconds::Required).sloppy_ranges(true).build();
    let schedules = [
        "*/5 * * * *",
        "5/15 */7 * * * *",
        "0 30 3-6,20-23 * * *",
        "0 0 13 * 5",
        "0 0 0 */10 * sun",
        "0 0 9 * * mon-fri",
        "0 0 0 1,15 jan-mar/2 ?",
        "0 15 10 29 * *",
        "@weekly",
        "TZ=Europe/Berlin 0 0 9 * * *",
    ];
    for text in schedules {
        let schedule = parse(text);
        let ScheduleKind::Cron { fields, .. } = schedule.kind() else { unreachable!() };
        let pattern = croner.parse(&fields.join(" ")).unwrap_or_else(|e| panic!("croner refuses {text:?}: {e}"));
        let zone = schedule.time_zone().unwrap_or(Tz::UTC);
        let mut t = utc("2026-04-01T00:00:00Z");
        for _ in 0..300 {
            let ours = schedule.next_after(t).expect("fires");
            let theirs = pattern.find_next_occurrence(&t.with_timezone(&zone), false).expect("croner fires");
            assert_eq!(ours, theirs.with_timezone(&Utc), "{text:?} after {t}");
            t = ours;
        }
    }
}
