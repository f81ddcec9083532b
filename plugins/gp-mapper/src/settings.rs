//! The connection's `map.*` settings: parsed once per call, every key checked against the
//! documented ones (a typo in a GL account key must not silently fall back to a default), and
//! every failure reported as a mapping error whose `field` is the setting's key.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;

use crate::ids::{IdScheme, LetterCase};
use crate::{MappingError, err};

/// Keys taken as they are.
const KEYS: &[&str] = &[
    "map.base_currency",
    "map.customer.prefix",
    "map.customer.case",
    "map.customer.class_id",
    "map.customer.payment_terms",
    "map.invoice.prefix",
    "map.invoice.case",
    "map.invoice.description",
    "map.invoice.sales_distribution",
    "map.invoice.voided",
    "map.invoice.pending",
    "map.credit_memo.prefix",
    "map.credit_memo.case",
    "map.credit_memo.description",
    "map.receipt.prefix",
    "map.receipt.case",
    "map.receipt.description",
    "map.batch.invoice",
    "map.batch.credit_memo",
    "map.batch.receipt",
    "map.distributions",
    "map.account.receivables",
    "map.account.sales",
    "map.account.tax",
    "map.account.discount",
    "map.account.returns",
    "map.checkbook",
    "map.receipt_type.default",
    "map.refunds",
    "map.functional_currency",
    "map.exchange_rate",
    "map.rate_type",
    "map.tax_schedule",
    "map.account.round_off",
    "map.account.cash",
    "map.customer.number",
    "map.credit_memo.sales_kind",
    "map.timezone",
    "map.payment.voided",
    "map.debit_memo.prefix",
    "map.debit_memo.case",
    "map.debit_memo.description",
    "map.batch.debit_memo",
];

/// Tables: `<prefix><suffix>`, with what the suffix must look like.
const TABLES: &[(&str, Suffix)] = &[
    ("map.currency.", Suffix::Iso),
    ("map.checkbook.", Suffix::Iso),
    ("map.payment_terms.", Suffix::Days),
    ("map.receipt_type.", Suffix::Any),
    ("map.account.sales.type.", Suffix::Any),
    ("map.account.sales.item.", Suffix::Any),
    ("map.account.tax.", Suffix::Any),
    ("map.account.cash.", Suffix::Iso),
    ("map.tax.", Suffix::Any),
    ("map.card.", Suffix::Any),
];

#[derive(Clone, Copy)]
enum Suffix {
    Iso,
    Days,
    Any,
}

/// GP field lengths settings values must respect.
const CLASS_ID_MAX: usize = 15;
const PAYMENT_TERMS_MAX: usize = 20;
const CHECKBOOK_MAX: usize = 15;
const CURRENCY_ID_MAX: usize = 15;
const ACCOUNT_MAX: usize = 129;
/// TAXDTLID, TAXSCHID, RATETPID, CRCARDID (card name).
pub const TAX_DETAIL_MAX: usize = 15;
const TAX_SCHEDULE_MAX: usize = 15;
const RATE_TYPE_MAX: usize = 15;
const CARD_NAME_MAX: usize = 15;

#[derive(Debug, Clone)]
pub struct Settings {
    values: BTreeMap<String, String>,
    /// `map.timezone`: the company's zone, which turns Chargebee's instants into GP days.
    timezone: TimeZone,
}

impl Settings {
    /// Keeps the `map.*` keys (others belong to other components); an empty value counts as
    /// unset. Unknown `map.*` keys are refused.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, MappingError> {
        let mut values = BTreeMap::new();
        for (key, value) in pairs {
            if !key.starts_with("map.") {
                continue;
            }
            let known = KEYS.contains(&key.as_str())
                || TABLES.iter().any(|(prefix, suffix)| {
                    key.strip_prefix(prefix).is_some_and(|s| match suffix {
                        Suffix::Iso => s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()),
                        Suffix::Days => !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()),
                        Suffix::Any => !s.is_empty(),
                    })
                });
            if !known {
                return Err(err(
                    key,
                    format!(
                        "unknown mapper setting {key:?} (a typo? see plugins/gp-mapper/README.md; table keys end in an upper-case ISO code or a number of days)"
                    ),
                ));
            }
            let value = value.trim();
            if !value.is_empty() {
                values.insert(key.clone(), value.to_string());
            }
        }
        let timezone = match values.get("map.timezone") {
            None => TimeZone::UTC,
            Some(name) => crate::days::zone(name)?,
        };
        Ok(Self { values, timezone })
    }

    /// The company's time zone (`map.timezone`, default UTC).
    pub fn timezone(&self) -> &TimeZone {
        &self.timezone
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    pub fn or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }

    /// A setting this record needs; `why` says what for.
    pub fn required(&self, key: &str, why: &str) -> Result<&str, MappingError> {
        self.get(key).ok_or_else(|| {
            err(key, format!("setting {key} is required {why}; add it to the connection's [connections.settings]"))
        })
    }

    /// One of `options`; the first is the default.
    pub fn choice<'a>(&self, key: &str, options: &[&'a str]) -> Result<&'a str, MappingError> {
        match self.get(key) {
            None => Ok(options[0]),
            Some(v) => options
                .iter()
                .find(|o| **o == v)
                .copied()
                .ok_or_else(|| err(key, format!("{v:?} is not one of {}", options.join(", ")))),
        }
    }

    /// The numbering scheme `map.<kind>.prefix` / `map.<kind>.case` within `max` characters.
    pub fn scheme(&self, kind: &str, max: usize) -> Result<IdScheme, MappingError> {
        let case_key = format!("map.{kind}.case");
        let case = LetterCase::parse(self.choice(&case_key, &["upper", "lower"])?).unwrap_or(LetterCase::Upper);
        let prefix_key = format!("map.{kind}.prefix");
        IdScheme::new(self.or(&prefix_key, ""), case, max).map_err(|m| err(&prefix_key, m))
    }

    /// A GP key-like value (class id, terms, checkbook, account) checked for length.
    pub fn gp_key(&self, key: &str, max: usize) -> Result<Option<String>, MappingError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) if v.chars().count() > max => Err(err(key, format!("{v:?} is longer than GP's {max} characters"))),
            Some(v) => Ok(Some(v.to_string())),
        }
    }

    pub fn class_id(&self) -> Result<Option<String>, MappingError> {
        self.gp_key("map.customer.class_id", CLASS_ID_MAX)
    }

    /// `map.payment_terms.<days>`, else `map.customer.payment_terms`, else none (GP's class default).
    pub fn payment_terms(&self, net_term_days: i32) -> Result<Option<String>, MappingError> {
        let by_days = format!("map.payment_terms.{net_term_days}");
        match self.gp_key(&by_days, PAYMENT_TERMS_MAX)? {
            Some(t) => Ok(Some(t)),
            None => self.gp_key("map.customer.payment_terms", PAYMENT_TERMS_MAX),
        }
    }

    /// The GP currency for a Chargebee ISO code: `map.currency.<ISO>`, else the code itself.
    pub fn currency(&self, iso: &str) -> Result<String, MappingError> {
        Ok(self.gp_key(&format!("map.currency.{iso}"), CURRENCY_ID_MAX)?.unwrap_or_else(|| iso.to_string()))
    }

    /// `map.tax_schedule`: TAXSCHID sent with every invoice and credit memo (optional).
    pub fn tax_schedule(&self) -> Result<Option<String>, MappingError> {
        self.gp_key("map.tax_schedule", TAX_SCHEDULE_MAX)
    }

    /// `map.rate_type`: RATETPID sent with Chargebee's rate (optional).
    pub fn rate_type(&self) -> Result<Option<String>, MappingError> {
        self.gp_key("map.rate_type", RATE_TYPE_MAX)
    }

    /// GP card name (CRCARDID) for a Chargebee card brand: `map.card.<brand>`; no brand →
    /// `map.card.default`. A brand without a mapping is an error naming its key.
    pub fn card_name(&self, brand: Option<&str>) -> Result<String, MappingError> {
        let key = match brand {
            Some(b) => format!("map.card.{b}"),
            None => "map.card.default".to_string(),
        };
        let why = match brand {
            Some(b) => format!("for payment-card receipts paid with a {b} card (the GP card name, ≤ 15)"),
            None => {
                "for payment-card receipts whose card brand Chargebee did not send (the GP card name, ≤ 15)".to_string()
            }
        };
        self.required(&key, &why)?;
        Ok(self.gp_key(&key, CARD_NAME_MAX)?.unwrap_or_default())
    }

    /// `map.checkbook.<ISO>` (Chargebee's code), else `map.checkbook`.
    pub fn checkbook(&self, iso: &str) -> Result<String, MappingError> {
        let per_currency = format!("map.checkbook.{iso}");
        if let Some(c) = self.gp_key(&per_currency, CHECKBOOK_MAX)? {
            return Ok(c);
        }
        self.gp_key("map.checkbook", CHECKBOOK_MAX)?.ok_or_else(|| {
            err("map.checkbook", format!("no checkbook for {iso} receipts: set {per_currency} or map.checkbook to a GP checkbook id in that currency"))
        })
    }

    /// A GL account, required because a distribution needs it.
    pub fn account(&self, key: &str, why: &str) -> Result<String, MappingError> {
        self.required(key, why)?;
        Ok(self.gp_key(key, ACCOUNT_MAX)?.unwrap_or_default())
    }

    pub fn account_opt(&self, key: &str) -> Result<Option<String>, MappingError> {
        self.gp_key(key, ACCOUNT_MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn unknown_map_keys_are_refused_and_others_ignored() {
        let e = Settings::parse(&pairs(&[("map.acount.sales", "4000")])).expect_err("typo");
        assert_eq!(e.field, "map.acount.sales");
        assert!(Settings::parse(&pairs(&[("map.currency.eur", "EUR")])).is_err(), "lower-case ISO suffix");
        assert!(Settings::parse(&pairs(&[("map.payment_terms.net30", "NET 30")])).is_err());
        let s = Settings::parse(&pairs(&[
            ("chargebee.api_base", "x"),
            ("map.currency.EUR", "EUR"),
            ("map.payment_terms.30", "NET 30"),
        ]))
        .expect("valid");
        assert_eq!(s.get("chargebee.api_base"), None);
        assert_eq!(s.payment_terms(30).expect("terms").as_deref(), Some("NET 30"));
        assert_eq!(s.payment_terms(14).expect("terms"), None);
    }

    #[test]
    fn choices_defaults_and_lengths() {
        let s = Settings::parse(&pairs(&[("map.refunds", "maybe"), ("map.customer.class_id", "A-VERY-LONG-CLASS-ID")]))
            .expect("valid keys");
        assert_eq!(s.choice("map.invoice.voided", &["error", "skip"]).ok(), Some("error"));
        assert_eq!(s.choice("map.refunds", &["error", "skip"]).expect_err("bad").field, "map.refunds");
        assert_eq!(s.class_id().expect_err("long").field, "map.customer.class_id");
    }

    #[test]
    fn checkbook_per_currency_then_fallback_then_error() {
        let s =
            Settings::parse(&pairs(&[("map.checkbook.EUR", "BANK-EUR"), ("map.checkbook", "BANK")])).expect("valid");
        assert_eq!(s.checkbook("EUR").expect("cb"), "BANK-EUR");
        assert_eq!(s.checkbook("USD").expect("cb"), "BANK");
        let none = Settings::parse(&[]).expect("empty");
        let e = none.checkbook("USD").expect_err("missing");
        assert_eq!(e.field, "map.checkbook");
        assert!(e.message.contains("map.checkbook.USD"));
    }
}
