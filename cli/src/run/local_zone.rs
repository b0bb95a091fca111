//! The machine's time zone, as daprd's Go runtime finds it (`time.Local`):
//! cron schedules without `CRON_TZ=` fire in it, and its name is the
//! `timeZone` every cron event carries (reference/dapr-bindings-contract.md
//! §3.1: the cron runner's location, not the schedule's).
//!
//! Go's `initLocal` (time/zoneinfo_unix.go) reads `TZ`: unset means
//! /etc/localtime, named "Local"; empty means UTC; otherwise, after a
//! leading `:`, an absolute path is a zone file named by its path and
//! anything else a zone name ("UTC", or a name that does not load, falls
//! back to UTC, named "UTC"). bindery reads the zone data from `chrono-tz`,
//! so it needs the zone's IANA name: for /etc/localtime, the name its
//! symlink (or /etc/timezone) gives, through `iana-time-zone`.

use std::str::FromStr;

use chrono_tz::Tz;

/// Prefixes of a path to a zone file, before its IANA name.
const ZONEINFO_DIRS: &[&str] =
    &["/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/", "/etc/zoneinfo/"];

/// The zone un-zoned schedules fire in, and the name cron events report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalZone {
    pub(crate) zone: Tz,
    /// Go's `time.Local.String()`: the `timeZone` metadata.
    pub(crate) name: String,
}

impl LocalZone {
    /// This process's zone, and a warning when it could not be read as daprd
    /// would read it (bindery then uses UTC, as Go does for an unknown zone).
    pub(crate) fn from_env() -> (LocalZone, Option<String>) {
        resolve(std::env::var("TZ").ok().as_deref(), || iana_time_zone::get_timezone().ok())
    }

    fn utc() -> LocalZone {
        LocalZone { zone: Tz::UTC, name: "UTC".to_owned() }
    }
}

/// Go's `initLocal` over `tz` (the `TZ` variable) and `system` (the IANA
/// name /etc/localtime stands for).
fn resolve(tz: Option<&str>, system: impl FnOnce() -> Option<String>) -> (LocalZone, Option<String>) {
    let system_zone = |system: Option<String>| match system.as_deref().map(Tz::from_str) {
        Some(Ok(zone)) => (LocalZone { zone, name: "Local".to_owned() }, None),
        _ => (
            LocalZone::utc(),
            Some(format!(
                "the local time zone could not be named from /etc/localtime{}: schedules without CRON_TZ fire in UTC \
                 (set TZ to an IANA name such as Europe/Berlin)",
                system.map(|name| format!(" ({name:?})")).unwrap_or_default()
            )),
        ),
    };
    let Some(tz) = tz else { return system_zone(system()) };
    let tz = tz.strip_prefix(':').unwrap_or(tz);
    if tz.is_empty() || tz == "UTC" {
        return (LocalZone::utc(), None);
    }
    if tz == "/etc/localtime" {
        return system_zone(system());
    }
    let name =
        if tz.starts_with('/') { ZONEINFO_DIRS.iter().find_map(|dir| tz.strip_prefix(dir)).unwrap_or(tz) } else { tz };
    match Tz::from_str(name) {
        Ok(zone) => (LocalZone { zone, name: tz.to_owned() }, None),
        Err(_) => (
            LocalZone::utc(),
            Some(format!(
                "TZ={tz:?} is not a time zone bindery knows: schedules without CRON_TZ fire in UTC, as in daprd"
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(tz: Option<&str>, system: Option<&str>) -> (Tz, String, bool) {
        let (local, warning) = resolve(tz, || system.map(str::to_owned));
        (local.zone, local.name, warning.is_some())
    }

    #[test]
    fn tz_is_read_as_go_reads_it() {
        let berlin = Some("Europe/Berlin");
        // Unset: /etc/localtime, named "Local".
        assert_eq!(zone(None, berlin), (Tz::Europe__Berlin, "Local".into(), false));
        // Empty, ":" and "UTC": UTC, whatever the system says.
        for tz in ["", ":", "UTC", ":UTC"] {
            assert_eq!(zone(Some(tz), berlin), (Tz::UTC, "UTC".into(), false), "TZ={tz:?}");
        }
        // A name, with or without the colon: that zone, named as given.
        assert_eq!(zone(Some("Asia/Kathmandu"), berlin), (Tz::Asia__Kathmandu, "Asia/Kathmandu".into(), false));
        assert_eq!(zone(Some(":Asia/Tokyo"), berlin), (Tz::Asia__Tokyo, "Asia/Tokyo".into(), false));
        assert_eq!(zone(Some("Etc/UTC"), berlin), (Tz::Etc__UTC, "Etc/UTC".into(), false));
        // A zone file: named by its path; /etc/localtime is "Local".
        let path = "/usr/share/zoneinfo/America/New_York";
        assert_eq!(zone(Some(path), berlin), (Tz::America__New_York, path.into(), false));
        assert_eq!(zone(Some(":/etc/localtime"), berlin), (Tz::Europe__Berlin, "Local".into(), false));
    }

    #[test]
    fn an_unknown_zone_is_utc_with_a_warning() {
        assert_eq!(zone(Some("Mars/Base"), Some("Europe/Berlin")), (Tz::UTC, "UTC".into(), true));
        assert_eq!(zone(Some("/opt/zones/Mars"), Some("Europe/Berlin")), (Tz::UTC, "UTC".into(), true));
        assert_eq!(zone(None, None), (Tz::UTC, "UTC".into(), true));
        let (_, warning) = resolve(None, || Some("Mars/Base".to_owned()));
        assert!(warning.is_some_and(|w| w.contains("\"Mars/Base\"") && w.contains("set TZ")));
    }
}
