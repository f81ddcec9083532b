//! GP days from Chargebee instants. Chargebee stamps documents, applications and voids with
//! Unix seconds (UTC); GP keeps calendar days, and the day that counts is the company's local
//! one: a US company's 23:00 PST invoice on Nov 30 belongs to November although it is Dec 1
//! in UTC. `map.timezone` names the company's IANA zone (default UTC).
//!
//! The zone rules come from the IANA database compiled into the component (jiff's
//! `tzdb-bundle-always`): under wasm32-wasip2 there is no `/usr/share/zoneinfo` to read, and
//! one database for every build keeps the mapping a pure function of record and settings.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::common::check_date;
use crate::settings::Settings;
use crate::{MappingError, err};

/// The zone named by `map.timezone`, or an error naming the setting.
pub fn zone(name: &str) -> Result<TimeZone, MappingError> {
    jiff::tz::db().get(name).map_err(|e| {
        err(
            "map.timezone",
            format!("{name:?} is not an IANA time zone name (such as America/Los_Angeles or Europe/Berlin): {e}"),
        )
    })
}

/// The local day ("YYYY-MM-DD") of `instant` in the company's zone. An instant of 0 means the
/// record carried none: the record's own `utc_day` stands in (checked at `field`).
pub fn local_day(s: &Settings, instant: i64, utc_day: &str, field: &str) -> Result<String, MappingError> {
    if instant == 0 {
        check_date(utc_day, field)?;
        return Ok(utc_day.to_string());
    }
    day_in(s.timezone(), instant).map_err(|m| err(field, m))
}

/// The local day of `instant`, else (0) of `fallback` — an application's date is its own
/// instant when Chargebee gave one, else the applying document's.
pub fn day_or(s: &Settings, instant: i64, fallback: i64, utc_day: &str, field: &str) -> Result<String, MappingError> {
    local_day(s, if instant != 0 { instant } else { fallback }, utc_day, field)
}

fn day_in(tz: &TimeZone, instant: i64) -> Result<String, String> {
    let at = Timestamp::from_second(instant).map_err(|e| format!("instant {instant} is out of range: {e}"))?;
    Ok(at.to_zoned(tz.clone()).date().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(zone: Option<&str>) -> Settings {
        let pairs: Vec<(String, String)> = zone.iter().map(|z| ("map.timezone".to_string(), z.to_string())).collect();
        Settings::parse(&pairs).expect("settings")
    }

    /// 2024-12-01T07:00:00Z = 2024-11-30 23:00 PST.
    const NOV30_2300_PST: i64 = 1_733_036_400;

    #[test]
    fn a_late_evening_pacific_invoice_stays_in_its_month() {
        let la = settings(Some("America/Los_Angeles"));
        assert_eq!(local_day(&la, NOV30_2300_PST, "2024-12-01", "invoice.date").expect("day"), "2024-11-30");
        let utc = settings(None);
        assert_eq!(local_day(&utc, NOV30_2300_PST, "2024-12-01", "invoice.date").expect("day"), "2024-12-01");
        // East of UTC the day moves the other way: 2024-11-30T23:30Z is Dec 1 in Berlin.
        let berlin = settings(Some("Europe/Berlin"));
        assert_eq!(local_day(&berlin, 1_733_009_400, "2024-11-30", "f").expect("day"), "2024-12-01");
    }

    #[test]
    fn daylight_saving_is_the_zone_rules_not_a_fixed_offset() {
        let la = settings(Some("America/Los_Angeles"));
        // 2024-07-01T06:30Z is 23:30 PDT (UTC-7) on June 30; a fixed -8 would also say June 30,
        // but 2024-07-01T07:30Z is 00:30 PDT July 1 where -8 would say June 30.
        assert_eq!(local_day(&la, 1_719_815_400, "", "f").expect("day"), "2024-06-30");
        assert_eq!(local_day(&la, 1_719_819_000, "", "f").expect("day"), "2024-07-01");
    }

    #[test]
    fn no_instant_falls_back_to_the_utc_day_and_checks_it() {
        let la = settings(Some("America/Los_Angeles"));
        assert_eq!(local_day(&la, 0, "2023-11-14", "invoice.date").expect("day"), "2023-11-14");
        assert_eq!(local_day(&la, 0, "14/11/2023", "invoice.date").expect_err("bad").field, "invoice.date");
        assert_eq!(day_or(&la, 0, NOV30_2300_PST, "", "f").expect("day"), "2024-11-30");
        assert_eq!(day_or(&la, 1_719_819_000, NOV30_2300_PST, "", "f").expect("day"), "2024-07-01");
        assert_eq!(local_day(&la, i64::MAX, "", "payment.timestamp").expect_err("range").field, "payment.timestamp");
    }

    #[test]
    fn a_bad_zone_names_the_setting() {
        let pairs = vec![("map.timezone".to_string(), "America/Springfield".to_string())];
        let e = Settings::parse(&pairs).expect_err("unknown zone");
        assert_eq!(e.field, "map.timezone");
        assert!(e.message.contains("America/Springfield"), "{}", e.message);
        assert!(Settings::parse(&[("map.timezone".to_string(), "PST8PDT".to_string())]).is_ok());
    }
}
