//! Currencies and exchange rates of a document: `currency` is Chargebee's ISO code,
//! `currency-id` the GP currency (`map.currency.<ISO>`), and `exchange` the rate a
//! foreign-currency document is booked at — none by default (`map.exchange_rate = gp`: GP looks
//! the rate up in its own rate table for the document date), or Chargebee's `exchange_rate`
//! (`map.exchange_rate = chargebee`), which is the site's base currency per document currency
//! unit, so it is GP's rate only when GP's functional currency is Chargebee's base currency.

use crate::common::iso_code;
use crate::settings::Settings;
use crate::wit::Exchange;
use crate::{MappingError, err};

/// XCHGRATE is numeric(19,7).
pub const RATE_DECIMALS: usize = 7;

/// ISO code and GP currency id of a document (or customer) in Chargebee currency `code`.
pub fn currencies(s: &Settings, code: &str, field: &str) -> Result<(String, String), MappingError> {
    let iso = iso_code(code, field)?;
    let id = s.currency(&iso)?;
    Ok((iso, id))
}

/// GP's functional currency: `map.functional_currency`, else `map.base_currency`.
fn functional_currency(s: &Settings) -> Result<String, MappingError> {
    if let Some(code) = s.get("map.functional_currency") {
        return iso_code(code, "map.functional_currency");
    }
    match s.get("map.base_currency") {
        Some(code) => iso_code(code, "map.base_currency"),
        None => Err(err(
            "map.functional_currency",
            "setting map.functional_currency (or map.base_currency) is required with map.exchange_rate = \"chargebee\": it tells which documents are in a foreign currency",
        )),
    }
}

/// The exchange a document in `iso` dated `date` carries; `rate` is Chargebee's `exchange_rate`
/// (field `field` in errors).
pub fn exchange(
    s: &Settings,
    iso: &str,
    rate: Option<&str>,
    date: &str,
    field: &str,
) -> Result<Option<Exchange>, MappingError> {
    if s.choice("map.exchange_rate", &["gp", "chargebee"])? == "gp" {
        return Ok(None);
    }
    let functional = functional_currency(s)?;
    if let (Some(f), Some(b)) = (s.get("map.functional_currency"), s.get("map.base_currency"))
        && !f.eq_ignore_ascii_case(b)
    {
        return Err(err(
            "map.exchange_rate",
            format!(
                "Chargebee's exchange_rate converts to the site's base currency {b}, not to GP's functional currency {f}; use map.exchange_rate = \"gp\""
            ),
        ));
    }
    if iso == functional {
        return Ok(None);
    }
    let rate = rate.map(str::trim).filter(|r| !r.is_empty()).ok_or_else(|| {
        err(
            field,
            format!(
                "the {iso} document has no exchange_rate from Chargebee and map.exchange_rate = \"chargebee\" (functional currency {functional}); set map.exchange_rate = \"gp\" to use GP's rate table"
            ),
        )
    })?;
    Ok(Some(Exchange {
        rate: rate_text(rate).map_err(|m| err(field, m))?,
        date: date.to_string(),
        rate_type: s.rate_type()?,
    }))
}

/// A positive decimal rate as GP takes it: at most 7 decimal places (rounded half up beyond),
/// no trailing zeros. Chargebee sends a JSON number; `chargebee-source` writes it as the
/// shortest decimal text that reads back as the same number.
pub fn rate_text(text: &str) -> Result<String, String> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) {
        return Err(format!("exchange rate {text:?} is not a plain decimal number"));
    }
    let overflow = || format!("exchange rate {text:?} is too large");
    let mut scaled: u128 = 0;
    for b in int.bytes().chain(frac.bytes().chain(std::iter::repeat(b'0')).take(RATE_DECIMALS)) {
        scaled = scaled.checked_mul(10).and_then(|v| v.checked_add(u128::from(b - b'0'))).ok_or_else(overflow)?;
    }
    if frac.as_bytes().get(RATE_DECIMALS).is_some_and(|&b| b >= b'5') {
        scaled = scaled.checked_add(1).ok_or_else(overflow)?;
    }
    if scaled == 0 {
        return Err(format!("exchange rate {text:?} is not positive (after rounding to {RATE_DECIMALS} places)"));
    }
    let unit = 10u128.pow(RATE_DECIMALS as u32);
    let frac = format!("{:07}", scaled % unit);
    let frac = frac.trim_end_matches('0');
    Ok(if frac.is_empty() { format!("{}", scaled / unit) } else { format!("{}.{frac}", scaled / unit) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{settings, with};

    fn s(extra: &[(&str, &str)]) -> Settings {
        Settings::parse(&with(settings(), extra)).expect("settings")
    }

    #[test]
    fn rates_are_plain_decimals_with_at_most_seven_places() {
        assert_eq!(rate_text("1.0834"), Ok("1.0834".into()));
        assert_eq!(rate_text("1.0"), Ok("1".into()));
        assert_eq!(rate_text("0.00671234449"), Ok("0.0067123".into()));
        assert_eq!(rate_text("0.00671235"), Ok("0.0067124".into()), "half up");
        assert_eq!(rate_text("9.99999999"), Ok("10".into()), "carry");
        assert!(rate_text("0.00000001").is_err(), "rounds to zero");
        assert!(rate_text("1e-3").is_err());
        assert!(rate_text("-1.2").is_err());
        assert!(rate_text(".5").is_err());
    }

    #[test]
    fn gp_default_sends_no_rate() {
        assert!(exchange(&s(&[]), "EUR", Some("1.08"), "2023-11-14", "invoice.exchange-rate").expect("ok").is_none());
    }

    #[test]
    fn chargebee_rate_for_foreign_documents_only() {
        let cb = s(&[("map.exchange_rate", "chargebee"), ("map.base_currency", "USD"), ("map.rate_type", "AVERAGE")]);
        let x = exchange(&cb, "EUR", Some("1.0834"), "2023-11-14", "invoice.exchange-rate").expect("ok").expect("x");
        assert_eq!(
            (x.rate.as_str(), x.date.as_str(), x.rate_type.as_deref()),
            ("1.0834", "2023-11-14", Some("AVERAGE"))
        );
        assert!(exchange(&cb, "USD", Some("1.0"), "2023-11-14", "f").expect("ok").is_none(), "functional currency");
        let e = exchange(&cb, "EUR", None, "2023-11-14", "invoice.exchange-rate").expect_err("no rate");
        assert_eq!(e.field, "invoice.exchange-rate");
        let f = s(&[("map.exchange_rate", "chargebee"), ("map.functional_currency", "EUR")]);
        assert!(exchange(&f, "EUR", None, "2023-11-14", "f").expect("ok").is_none());
        let none = s(&[("map.exchange_rate", "chargebee")]);
        assert_eq!(
            exchange(&none, "EUR", Some("1.1"), "2023-11-14", "f").expect_err("?").field,
            "map.functional_currency"
        );
        let differ =
            s(&[("map.exchange_rate", "chargebee"), ("map.functional_currency", "CAD"), ("map.base_currency", "USD")]);
        assert_eq!(exchange(&differ, "EUR", Some("1.1"), "2023-11-14", "f").expect_err("?").field, "map.exchange_rate");
        let long = s(&[
            ("map.exchange_rate", "chargebee"),
            ("map.base_currency", "USD"),
            ("map.rate_type", "A-VERY-LONG-RATE-TYPE"),
        ]);
        assert_eq!(exchange(&long, "EUR", Some("1.1"), "2023-11-14", "f").expect_err("?").field, "map.rate_type");
        assert_eq!(
            exchange(&s(&[("map.exchange_rate", "bank")]), "EUR", None, "2023-11-14", "f").expect_err("?").field,
            "map.exchange_rate"
        );
    }
}
