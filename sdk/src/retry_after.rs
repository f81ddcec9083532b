//! `Retry-After` (RFC 9110 §10.2.3): delta-seconds (what Chargebee sends) or an HTTP-date, as
//! milliseconds from now. One reading for the host's HTTP capability and for components that
//! see the header themselves.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The wait `value` asks for, in ms from `now`; a date in the past is 0; anything else `None`.
pub fn retry_after_ms(value: &str, now: SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    let when = http_date(value)?;
    Some(when.duration_since(now).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)).unwrap_or(0))
}

/// An IMF-fixdate (`parse_iso_date` gives the day's midnight in unix seconds) (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP senders must use.
fn http_date(v: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    let day: u32 = parts[1].parse().ok()?;
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| *m == parts[2])? + 1;
    let year: i64 = parts[3].parse().ok()?;
    let hms: Vec<u64> = parts[4].split(':').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    if hms.len() != 3 || hms[0] > 23 || hms[1] > 59 || hms[2] > 60 {
        return None;
    }
    let midnight = crate::dates::parse_iso_date(&format!("{year:04}-{month:02}-{day:02}")).ok()?;
    let secs = u64::try_from(midnight).ok()? + hms[0] * 3600 + hms[1] * 60 + hms[2];
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_dates_and_junk() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(retry_after_ms("7", now), Some(7_000));
        assert_eq!(retry_after_ms(" 120 ", now), Some(120_000));
        assert_eq!(retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(0));
        assert_eq!(retry_after_ms("Sun, 06 Nov 1994 08:50:37 GMT", now), Some(60_000));
        assert_eq!(retry_after_ms("Sun, 06 Nov 1994 08:48:37 GMT", now), Some(0), "a past date: now");
        assert_eq!(retry_after_ms("soon", now), None);
        assert_eq!(retry_after_ms("Sun, 06 Nov 1994 25:00:00 GMT", now), None);
    }
}
