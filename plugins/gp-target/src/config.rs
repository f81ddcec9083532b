//! The connection's `gp.*` settings: which transport, where, which company, and the writing
//! rules (`gp.closed_period`, `gp.batch.max_documents`). Pure, so the rules (a company is
//! required, never a silent default; a batch id must have room for its suffixes) test natively.

use crate::books::{BATCH_ID_MAX, ClosedPeriod, Rules};

/// How to reach GP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// GP Web Services (`gp.soap_url`).
    Soap { url: String },
    /// Service Based Architecture (`gp.sba_url`: the company is in the URL).
    Sba { url: String },
    /// eConnect through the host's `econnect` grant (the database is the grant's).
    Econnect,
}

/// Which company: by name (`gp.company`, resolved by each transport) or, on SOAP, by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Company {
    Name(String),
    Id(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub endpoint: Endpoint,
    /// None only for SBA (its URL names the company).
    pub company: Option<Company>,
    /// `gp.database`: the company database (INTERID) the eConnect grant connects to, checked
    /// against `gp.company`'s.
    pub database: Option<String>,
    pub timeout_ms: u32,
    pub rules: Rules,
}

const COMPANY_MISSING: &str =
    "setting gp.company is missing: the GP company's name as GP shows it, e.g. \"Fabrikam, Inc.\"";

/// The widest GP currency id the mapper maps to (`map.currency.<ISO>`), else an ISO code's 3.
fn currency_width(all: &[(String, String)]) -> usize {
    all.iter().filter(|(k, _)| k.starts_with("map.currency.")).map(|(_, v)| v.trim().chars().count()).max().unwrap_or(3)
}

/// Reads the connection's settings (`all`): `gp.endpoint` = `soap` (default) | `sba` |
/// `econnect`; `gp.soap_url` / `gp.sba_url`; `gp.company` (required for soap and econnect; soap
/// also takes `gp.company_id`); `gp.database` (econnect, optional); `gp.timeout_ms` (30000);
/// `gp.closed_period`, `gp.batch.max_documents` (see [`rules_from`]).
pub fn settings_from(all: &[(String, String)]) -> Result<Settings, String> {
    let get = |key: &str| all.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let value = |key: &str| get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let required = |key: &str| value(key).ok_or_else(|| format!("setting {key} is missing"));
    let endpoint = match value("gp.endpoint").as_deref().unwrap_or("soap") {
        "soap" => Endpoint::Soap { url: required("gp.soap_url")? },
        "sba" => Endpoint::Sba { url: required("gp.sba_url")? },
        "econnect" => Endpoint::Econnect,
        other => {
            return Err(format!(
                "gp.endpoint {other:?}: expected soap (GP Web Services), sba (Service Based Architecture) or econnect"
            ));
        }
    };
    let company = match (&endpoint, value("gp.company"), value("gp.company_id")) {
        (_, Some(name), _) => Some(Company::Name(name)),
        (Endpoint::Soap { .. }, None, Some(id)) => Some(Company::Id(id)),
        (Endpoint::Sba { .. }, None, _) => None,
        _ => return Err(COMPANY_MISSING.into()),
    };
    let timeout_ms = value("gp.timeout_ms").and_then(|t| t.parse().ok()).unwrap_or(30_000);
    let rules = rules_from(&value, currency_width(all))?;
    Ok(Settings { endpoint, company, database: value("gp.database"), timeout_ms, rules })
}

/// `gp.closed_period` (`wait` | `next_open_period`) and `gp.batch.max_documents` (a whole
/// number ≥ 1; unset = no cap), then the room the mapper's batch ids need for their suffixes.
fn rules_from(value: &dyn Fn(&str) -> Option<String>, currency_width: usize) -> Result<Rules, String> {
    let closed_period = match value("gp.closed_period").as_deref() {
        None | Some("wait") => ClosedPeriod::Wait,
        Some("next_open_period") => ClosedPeriod::NextOpenPeriod,
        Some(other) => return Err(format!("gp.closed_period {other:?}: expected wait or next_open_period")),
    };
    let max_documents = match value("gp.batch.max_documents") {
        None => None,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if n >= 1 => Some(n),
            _ => return Err(format!("gp.batch.max_documents {v:?}: expected a whole number of documents, at least 1")),
        },
    };
    let rules = Rules { closed_period, max_documents };
    check_batch_room(value, currency_width, &rules)?;
    Ok(rules)
}

/// The mapper's batch-id patterns (`map.batch.*`, same connection settings) and the width of
/// its default `CB{YYMMDD}-XXX` when one is not set.
const BATCH_PATTERNS: [(&str, bool); 4] = [
    ("map.batch.invoice", true),
    ("map.batch.credit_memo", true),
    ("map.batch.debit_memo", true),
    ("map.batch.receipt", false),
];
const MAPPER_DEFAULT_BATCH_WIDTH: usize = 12;

/// The width of a batch id a pattern gives: placeholders at their widths, `{CUR}` at the
/// longest GP currency id mapped (`map.currency.*`, else an ISO code's 3).
pub fn pattern_width(pattern: &str, currency_width: usize) -> usize {
    let mut width = 0;
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        width += rest[..open].chars().count();
        let Some(close) = rest[open..].find('}').map(|c| c + open) else { break };
        width += match &rest[open + 1..close] {
            "YYYY" => 4,
            "YY" | "MM" | "DD" => 2,
            "YYMMDD" => 6,
            "YYYYMMDD" => 8,
            "CUR" => currency_width,
            other => other.chars().count() + 2,
        };
        rest = &rest[close + 1..];
    }
    width + rest.chars().count()
}

/// Refuses settings under which a batch id cannot take its suffixes within GP's 15 characters:
/// `P<MM>` (3) on invoice/memo batches under `next_open_period`, `-NN` (3) under a cap. The
/// mapper expands the patterns per document; their widths are known here, so a pattern that
/// cannot take the suffixes is refused now rather than parking documents later.
fn check_batch_room(
    value: &dyn Fn(&str) -> Option<String>,
    currency_width: usize,
    rules: &Rules,
) -> Result<(), String> {
    let cap_room = if rules.max_documents.is_some() { 3 } else { 0 };
    let period_room = if rules.closed_period == ClosedPeriod::NextOpenPeriod { 3 } else { 0 };
    for (key, sales) in BATCH_PATTERNS {
        let room = cap_room + if sales { period_room } else { 0 };
        if room == 0 {
            continue;
        }
        let pattern = value(key);
        let width = pattern.as_deref().map_or(MAPPER_DEFAULT_BATCH_WIDTH, |p| pattern_width(p, currency_width));
        if width + room > BATCH_ID_MAX {
            return Err(format!(
                "{key} ({}) gives batch ids of {width} characters; with {} they need {room} more, and GP's batch ids have {BATCH_ID_MAX}: use a pattern of at most {} characters",
                pattern.as_deref().unwrap_or("the mapper's default CB{YYMMDD}-…"),
                [
                    (period_room > 0 && sales, "gp.closed_period = next_open_period"),
                    (cap_room > 0, "gp.batch.max_documents")
                ]
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, s)| *s)
                .collect::<Vec<_>>()
                .join(" and "),
                BATCH_ID_MAX - room
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        let all: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        settings_from(&all)
    }

    #[test]
    fn a_company_is_required_and_never_defaulted() {
        let err = from(&[("gp.soap_url", "http://gp/soap")]).err().unwrap_or_default();
        assert!(err.contains("gp.company"), "{err}");
        assert!(from(&[("gp.endpoint", "econnect")]).is_err_and(|e| e.contains("gp.company")));
        assert!(from(&[("gp.endpoint", "econnect"), ("gp.company_id", "-1")]).is_err());
        let s = from(&[("gp.soap_url", "http://gp/soap"), ("gp.company_id", "-1")]);
        assert_eq!(s.map(|s| s.company), Ok(Some(Company::Id("-1".into()))));
        let s = from(&[("gp.endpoint", "econnect"), ("gp.company", "Fabrikam, Inc."), ("gp.database", "TWO")]);
        assert_eq!(
            s.map(|s| (s.endpoint, s.company, s.database)),
            Ok((Endpoint::Econnect, Some(Company::Name("Fabrikam, Inc.".into())), Some("TWO".into())))
        );
        assert!(from(&[("gp.endpoint", "sba"), ("gp.sba_url", "http://gp/c")]).is_ok_and(|s| s.company.is_none()));
        assert!(from(&[("gp.endpoint", "odata")]).is_err_and(|e| e.contains("odata")));
    }

    #[test]
    fn writing_rules_are_read_and_batch_ids_must_have_room_for_their_suffixes() {
        let base = [("gp.endpoint", "econnect"), ("gp.company", "Fabrikam, Inc.")];
        let with = |more: &[(&'static str, &'static str)]| from(&[&base[..], more].concat());
        assert_eq!(with(&[]).map(|s| s.rules), Ok(Rules::default()));
        let r = with(&[("gp.closed_period", "next_open_period"), ("gp.batch.max_documents", "500")]);
        // The mapper's default patterns (12 characters) cannot take both suffixes.
        assert!(matches!(&r, Err(m) if m.contains("map.batch.invoice") && m.contains("at most 9")), "{r:?}");
        let r = with(&[
            ("gp.closed_period", "next_open_period"),
            ("gp.batch.max_documents", "500"),
            ("map.batch.invoice", "I{YYMMDD}"),
            ("map.batch.credit_memo", "C{YYMMDD}"),
            ("map.batch.debit_memo", "D{YYMMDD}"),
        ]);
        assert_eq!(
            r.map(|s| s.rules),
            Ok(Rules { closed_period: ClosedPeriod::NextOpenPeriod, max_documents: Some(500) })
        );
        assert!(with(&[("gp.batch.max_documents", "500")]).is_ok(), "12 + 3 fits");
        let cur = with(&[
            ("gp.batch.max_documents", "5"),
            ("map.batch.receipt", "CB{YYMMDD}{CUR}"),
            ("map.currency.EUR", "Z-EURO"),
        ]);
        assert!(matches!(&cur, Err(m) if m.contains("map.batch.receipt")), "{cur:?}");
        assert!(with(&[("gp.closed_period", "later")]).is_err_and(|m| m.contains("gp.closed_period")));
        assert!(with(&[("gp.batch.max_documents", "0")]).is_err_and(|m| m.contains("gp.batch.max_documents")));
        assert_eq!(pattern_width("CB{YYYYMMDD}{CUR}-X", 5), 2 + 8 + 5 + 2);
    }
}
