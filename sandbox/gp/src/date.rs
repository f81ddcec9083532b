//! Calendar dates as GP keeps them: a day, no time zone (GP stores document dates at midnight).

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let d = Date { year, month, day };
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)).then_some(d)
    }

    /// Today in UTC.
    pub fn today() -> Date {
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Self::from_days((secs / 86_400) as i64)
    }

    /// Days since 1970-01-01 (the `time` crate's calendar; out-of-range days clamp to its ends).
    pub fn from_days(days: i64) -> Date {
        const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;
        let julian = i32::try_from(days.saturating_add(UNIX_EPOCH_JULIAN_DAY)).unwrap_or(i32::MAX);
        let d =
            time::Date::from_julian_day(julian).unwrap_or(if julian < 0 { time::Date::MIN } else { time::Date::MAX });
        Date { year: d.year(), month: u32::from(u8::from(d.month())), day: u32::from(d.day()) }
    }

    /// Days since 1970-01-01 (the inverse of [`Date::from_days`]); 0 for an invalid date.
    pub fn days(&self) -> i64 {
        const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;
        let month = u8::try_from(self.month).ok().and_then(|m| time::Month::try_from(m).ok());
        let day = u8::try_from(self.day).ok();
        match (month, day) {
            (Some(m), Some(d)) => time::Date::from_calendar_date(self.year, m, d)
                .map_or(0, |date| i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY),
            _ => 0,
        }
    }

    /// `YYYY-MM-DD`, the form stored in the database.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `YYYY-MM-DDT00:00:00`, the xs:dateTime GP writes for a date.
    pub fn xml(&self) -> String {
        format!("{}T00:00:00", self.iso())
    }

    pub fn parse_iso(s: &str) -> Option<Date> {
        let s = s.get(..10)?;
        let b = s.as_bytes();
        if b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        Date::new(s[..4].parse().ok()?, s[5..7].parse().ok()?, s[8..10].parse().ok()?)
    }

    /// .NET's DateTime.MinValue, which a .NET client sends for a date it never set.
    pub fn is_dotnet_min(&self) -> bool {
        self.year == 1 && self.month == 1 && self.day == 1
    }
}

/// Current UTC time as an xs:dateTime without zone (`2026-01-31T13:45:07`), for audit columns.
pub fn now_timestamp() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let day = Date::from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!("{}T{:02}:{:02}:{:02}", day.iso(), s / 3600, s % 3600 / 60, s % 60)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let days = u8::try_from(month).ok().and_then(|m| time::Month::try_from(m).ok()).map(|m| m.length(year));
    u32::from(days.unwrap_or(0))
}

/// Reads the date part of an xs:dateTime (`2026-01-31`, `2026-01-31T00:00:00`,
/// `2026-01-31T10:00:00.000-05:00`). The time of day is dropped, as GP does for document dates.
pub fn parse_datetime(s: &str) -> Option<Date> {
    let s = s.trim();
    let date = Date::parse_iso(s)?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(date);
    }
    let time = rest.strip_prefix('T')?;
    let ok = time.len() >= 8 && time.as_bytes()[2] == b':' && time.as_bytes()[5] == b':';
    ok.then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(parse_datetime("2026-02-28T13:00:00.5+01:00"), Date::new(2026, 2, 28));
        assert_eq!(parse_datetime("2024-02-29"), Date::new(2024, 2, 29));
        assert_eq!(parse_datetime("2025-02-29"), None);
        assert_eq!(parse_datetime("2025-01-01X"), None);
        assert_eq!(Date::from_days(0).iso(), "1970-01-01");
        assert_eq!(Date::from_days(20_454).iso(), "2026-01-01");
        assert_eq!(Date::from_days(20_454).days(), 20_454);
        assert!(parse_datetime("0001-01-01T00:00:00").unwrap().is_dotnet_min());
    }
}
