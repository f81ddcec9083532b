//! Amounts: decimals on the wire, integer minor units in the store, never floating point.

/// Why a wire decimal is not an amount of the currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountError {
    NotADecimal,
    TooPrecise { digits: u32 },
    TooLarge,
}

/// Converts `text` (e.g. `"100.50"`) to minor units of a currency with `digits` decimals.
/// Trailing zeros beyond the currency's digits are fine (`100.500` for USD); any other extra
/// precision is refused rather than rounded, since rounding would change what the customer owes.
pub fn parse_minor(text: &str, digits: u32) -> Result<i64, AmountError> {
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(AmountError::NotADecimal);
    }
    let significant = frac.trim_end_matches('0');
    if significant.len() > digits as usize {
        return Err(AmountError::TooPrecise { digits });
    }
    let mut minor: i64 = 0;
    for b in int.bytes().chain(significant.bytes()) {
        minor = minor.checked_mul(10).and_then(|m| m.checked_add(i64::from(b - b'0'))).ok_or(AmountError::TooLarge)?;
    }
    for _ in significant.len()..digits as usize {
        minor = minor.checked_mul(10).ok_or(AmountError::TooLarge)?;
    }
    Ok(if negative { -minor } else { minor })
}

/// Formats minor units with exactly the currency's digits (`10050`, 2 → `"100.50"`).
pub fn format_minor(minor: i64, digits: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if digits == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(digits);
    format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = digits as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_extra_precision() {
        assert_eq!(parse_minor("100.5", 2), Ok(10050));
        assert_eq!(parse_minor("100.500", 2), Ok(10050));
        assert_eq!(parse_minor("-0.01", 2), Ok(-1));
        assert_eq!(parse_minor("7", 0), Ok(7));
        assert_eq!(parse_minor(".5", 2), Ok(50));
        assert_eq!(parse_minor("0.125", 2), Err(AmountError::TooPrecise { digits: 2 }));
        assert_eq!(parse_minor("1.5", 0), Err(AmountError::TooPrecise { digits: 0 }));
        assert_eq!(parse_minor("1e3", 2), Err(AmountError::NotADecimal));
        assert_eq!(parse_minor("99999999999999999999", 2), Err(AmountError::TooLarge));
        assert_eq!(format_minor(10050, 2), "100.50");
        assert_eq!(format_minor(-5, 3), "-0.005");
        assert_eq!(format_minor(12, 0), "12");
    }
}
