//! What every document mapping needs: field checks, GP length limits, description templates,
//! checked sums and a distribution list that must balance to the minor unit.

use ml_connector_sdk::money::to_decimal;

use crate::wit::{Distribution, DistributionKind};
use crate::{MappingError, err};

/// DOCDESCR / TRXDSCRN.
pub const DESCRIPTION_MAX: usize = 30;
/// CSTPONBR.
pub const CUSTOMER_PO_MAX: usize = 20;
/// DISTREF.
pub const DIST_REFERENCE_MAX: usize = 30;
/// CHEKNMBR.
pub const CHECK_NUMBER_MAX: usize = 20;

/// Cuts to `max` characters (GP's char(n) columns); whole characters, never bytes.
pub fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A non-blank optional text, trimmed.
pub fn present(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// A "YYYY-MM-DD" date, or an error at `field`.
pub fn check_date(date: &str, field: &str) -> Result<(), MappingError> {
    let shape_ok = date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-';
    match ml_connector_sdk::dates::parse_iso_date(date) {
        Ok(_) if shape_ok => Ok(()),
        Ok(_) => Err(err(field, format!("{date:?} is not a YYYY-MM-DD date"))),
        Err(m) => Err(err(field, m)),
    }
}

/// A Chargebee ISO 4217 code: three ASCII letters, returned upper-case.
pub fn iso_code(code: &str, field: &str) -> Result<String, MappingError> {
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(code.to_ascii_uppercase())
    } else {
        Err(err(field, format!("{code:?} is not an ISO 4217 currency code")))
    }
}

/// An amount GP can carry (it refuses negative document amounts).
pub fn non_negative(amount: i64, field: &str, iso: &str) -> Result<i64, MappingError> {
    if amount < 0 {
        return Err(err(field, format!("is negative ({}); GP documents carry amounts ≥ 0", money(amount, iso))));
    }
    Ok(amount)
}

/// Minor units shown in major units with the currency, for messages: "123.45 USD".
pub fn money(minor: i64, iso: &str) -> String {
    format!("{} {iso}", to_decimal(minor, iso))
}

/// Σ of amounts without overflow.
pub fn checked_sum(amounts: impl IntoIterator<Item = i64>, field: &str) -> Result<i64, MappingError> {
    amounts
        .into_iter()
        .try_fold(0i64, |acc, a| acc.checked_add(a))
        .ok_or_else(|| err(field, "the amounts overflow a 64-bit sum"))
}

/// Expands `{name}` placeholders of a description template (setting `key`) and cuts the result to
/// GP's 30 characters.
pub fn describe(template: &str, key: &str, vars: &[(&str, &str)]) -> Result<Option<String>, MappingError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close =
            rest[open..].find('}').ok_or_else(|| err(key, format!("template {template:?} has an unclosed {{")))? + open;
        let name = &rest[open + 1..close];
        let value = vars.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).ok_or_else(|| {
            let known: Vec<String> = vars.iter().map(|(n, _)| format!("{{{n}}}")).collect();
            err(
                key,
                format!("template {template:?} has an unknown placeholder {{{name}}} (known: {})", known.join(" ")),
            )
        })?;
        out.push_str(value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    let out = truncate(out.trim(), DESCRIPTION_MAX);
    Ok((!out.is_empty()).then_some(out))
}

/// Distribution lines of one document. Zero lines are left out (GP has nothing to post);
/// [`Ledger::finish`] refuses anything that does not balance exactly.
#[derive(Debug, Default)]
pub struct Ledger {
    lines: Vec<Distribution>,
}

impl Ledger {
    pub fn debit(&mut self, kind: DistributionKind, account: &str, amount: i64, reference: Option<String>) {
        self.push(kind, account, amount, 0, reference);
    }

    pub fn credit(&mut self, kind: DistributionKind, account: &str, amount: i64, reference: Option<String>) {
        self.push(kind, account, 0, amount, reference);
    }

    fn push(&mut self, kind: DistributionKind, account: &str, debit: i64, credit: i64, reference: Option<String>) {
        if debit == 0 && credit == 0 {
            return;
        }
        let reference = reference.map(|r| truncate(&r, DIST_REFERENCE_MAX));
        self.lines.push(Distribution { kind, account: account.to_string(), debit, credit, reference });
    }

    /// The lines, if debits equal credits to the minor unit.
    pub fn finish(self, field: &str, iso: &str) -> Result<Vec<Distribution>, MappingError> {
        let debits = checked_sum(self.lines.iter().map(|d| d.debit), field)?;
        let credits = checked_sum(self.lines.iter().map(|d| d.credit), field)?;
        if debits != credits {
            return Err(err(
                field,
                format!(
                    "distributions do not balance: debits {} ≠ credits {}",
                    money(debits, iso),
                    money(credits, iso)
                ),
            ));
        }
        Ok(self.lines)
    }
}

/// Debits minus credits of a distribution list (0 when balanced); for tests and checks.
pub fn imbalance(lines: &[Distribution]) -> i128 {
    lines.iter().map(|d| i128::from(d.debit) - i128::from(d.credit)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_codes() {
        assert!(check_date("2024-02-29", "x").is_ok());
        assert_eq!(check_date("2023-02-29", "invoice.date").expect_err("no such day").field, "invoice.date");
        assert!(check_date("2024-2-9", "x").is_err());
        assert_eq!(iso_code("eur", "x").expect("code"), "EUR");
        assert!(iso_code("EURO", "x").is_err());
        assert!(iso_code("E1R", "x").is_err());
    }

    #[test]
    fn templates() {
        let vars = [("id", "inv_1"), ("po", "PO-7")];
        assert_eq!(describe("Chargebee {id} {po}", "k", &vars).expect("ok").as_deref(), Some("Chargebee inv_1 PO-7"));
        assert_eq!(
            describe("{id}{id}{id}{id}{id}{id}{id}", "k", &vars).expect("ok").map(|d| d.chars().count()),
            Some(DESCRIPTION_MAX)
        );
        assert_eq!(
            describe("{nope}", "map.invoice.description", &vars).expect_err("unknown").field,
            "map.invoice.description"
        );
        assert!(describe("{id", "k", &vars).is_err());
        assert_eq!(describe("", "k", &vars).expect("ok"), None);
    }

    #[test]
    fn ledger_refuses_imbalance_and_drops_zero_lines() {
        let mut l = Ledger::default();
        l.debit(DistributionKind::Receivables, "1200", 1_000, None);
        l.credit(DistributionKind::Sales, "4000", 999, None);
        l.credit(DistributionKind::Tax, "2100", 0, None);
        assert_eq!(l.finish("invoice.distributions", "USD").expect_err("off by one").field, "invoice.distributions");
        let mut l = Ledger::default();
        l.debit(DistributionKind::Receivables, "1200", 1_000, Some("x".repeat(40)));
        l.credit(DistributionKind::Sales, "4000", 1_000, None);
        l.credit(DistributionKind::Tax, "2100", 0, None);
        let lines = l.finish("f", "USD").expect("balanced");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].reference.as_deref().map(str::len), Some(DIST_REFERENCE_MAX));
        assert_eq!(imbalance(&lines), 0);
    }

    #[test]
    fn sums_do_not_overflow_silently() {
        assert_eq!(checked_sum([i64::MAX, 1], "invoice.lines").expect_err("overflow").field, "invoice.lines");
        assert_eq!(money(-5, "USD"), "-0.05 USD");
        assert_eq!(money(500, "JPY"), "500 JPY");
    }
}
