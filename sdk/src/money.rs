//! Money as integer minor units. Never floats: GP's decimal amounts are produced from integers.

/// Decimal digits of a currency's minor unit (ISO 4217). Unknown codes default to 2, which is
/// what Chargebee assumes for amounts "in cents".
pub fn exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Minor units → decimal string in major units: (12345, "USD") → "123.45", (-5, "USD") → "-0.05",
/// (500, "JPY") → "500".
pub fn to_decimal(minor: i64, currency: &str) -> String {
    let exp = exponent(currency);
    if exp == 0 {
        return minor.to_string();
    }
    let scale = 10u64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exp as usize)
}

/// Decimal string in major units → minor units; refuses more digits than the currency has
/// (a GP amount that cannot be represented exactly is an error, not a rounding).
pub fn from_decimal(text: &str, currency: &str) -> Result<i64, String> {
    let exp = exponent(currency) as usize;
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let frac = frac.trim_end_matches('0');
    if int.is_empty() && frac.is_empty() || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return Err(format!("not a decimal amount: {text:?}"));
    }
    if frac.len() > exp {
        return Err(format!("{text} has more decimals than {currency} allows ({exp})"));
    }
    let padded = format!("{int}{frac:0<exp$}");
    let value: i64 =
        if padded.is_empty() { 0 } else { padded.parse().map_err(|_| format!("amount out of range: {text}"))? };
    Ok(if neg { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_round_trip() {
        for (minor, cur, text) in [
            (12345, "USD", "123.45"),
            (-5, "USD", "-0.05"),
            (0, "EUR", "0.00"),
            (500, "JPY", "500"),
            (1234, "KWD", "1.234"),
        ] {
            assert_eq!(to_decimal(minor, cur), text);
            assert_eq!(from_decimal(text, cur), Ok(minor));
        }
    }

    #[test]
    fn refuses_excess_precision_and_junk() {
        assert!(from_decimal("1.001", "USD").is_err());
        assert!(from_decimal("1.5", "JPY").is_err());
        assert!(from_decimal("abc", "USD").is_err());
        assert_eq!(from_decimal("1.10000", "USD"), Ok(110));
    }
}
