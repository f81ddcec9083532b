//! Applies: GP applies posted documents, so receipts and credit memos are written unapplied and
//! every Chargebee application becomes its own `ledger-doc::apply`, which the host writes once
//! GP has posted both documents. The amount is what Chargebee has applied between the two
//! documents in all (the target writes only the difference to what GP holds), so one apply per
//! pair: repeats are merged and dated by the latest part.
//!
//! Write-off is always 0: Chargebee books a write-off as an adjustment credit note, which maps
//! to a credit memo applied like any other credit.

use crate::common::{checked_sum, money};
use crate::days::day_or;
use crate::settings::Settings;
use crate::wit::{Apply, DocKind};
use crate::{MappingError, err};

/// The applying (credit) document: what every apply from it names.
pub struct From<'a> {
    pub kind: DocKind,
    pub number: String,
    /// CUSTNMBR as the document carries it (empty = the target resolves the source id).
    pub customer_id: String,
    pub customer_source_id: &'a str,
    /// ISO code.
    pub currency: &'a str,
    /// The document's instant and UTC day: the date of a part Chargebee gave no time for.
    pub instant: i64,
    pub utc_day: &'a str,
}

/// One Chargebee application: `amount` to the document Chargebee calls `target`, at
/// `applied_at` (0 = not given).
pub struct Part<'a> {
    pub target: &'a str,
    pub amount: i64,
    pub applied_at: i64,
}

/// Applies from `from` to documents of `to_kind`, numbered by `to_number(target, field)`:
/// zero parts dropped (nothing to apply), parts to one document merged, negatives refused at
/// `{field}[n].amount`, Σ ≤ `limit` (what the applying document can give) at `field`.
pub fn applies(
    s: &Settings,
    from: &From,
    to_kind: DocKind,
    parts: &[Part],
    to_number: impl Fn(&str, &str) -> Result<String, MappingError>,
    field: &str,
    limit: i64,
) -> Result<Vec<Apply>, MappingError> {
    // (to-number, amount, latest applied_at)
    let mut merged: Vec<(String, i64, i64)> = Vec::new();
    for (n, part) in parts.iter().enumerate() {
        if part.amount < 0 {
            let at = format!("{field}[{n}].amount");
            return Err(err(&at, format!("is negative ({})", money(part.amount, from.currency))));
        }
        if part.amount == 0 {
            continue;
        }
        let number = to_number(part.target, &format!("{field}[{n}]"))?;
        match merged.iter_mut().find(|(x, _, _)| *x == number) {
            Some(m) => {
                m.1 = checked_sum([m.1, part.amount], field)?;
                m.2 = m.2.max(part.applied_at);
            }
            None => merged.push((number, part.amount, part.applied_at)),
        }
    }
    let applied = checked_sum(merged.iter().map(|m| m.1), field)?;
    if applied > limit {
        return Err(err(
            field,
            format!(
                "applies {} but the document is only {}",
                money(applied, from.currency),
                money(limit, from.currency)
            ),
        ));
    }
    merged
        .into_iter()
        .map(|(to_number, amount, applied_at)| {
            Ok(Apply {
                from_kind: from.kind,
                from_number: from.number.clone(),
                to_kind,
                to_number,
                customer_id: from.customer_id.clone(),
                customer_source_id: from.customer_source_id.to_string(),
                currency: from.currency.to_string(),
                amount,
                write_off: 0,
                date: day_or(s, applied_at, from.instant, from.utc_day, field)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from() -> From<'static> {
        From {
            kind: DocKind::CashReceipt,
            number: "R1".into(),
            customer_id: "ACME".into(),
            customer_source_id: "acme",
            currency: "USD",
            instant: 1_733_036_400,
            utc_day: "2024-12-01",
        }
    }

    fn number(target: &str, field: &str) -> Result<String, MappingError> {
        if target.is_empty() { Err(err(&format!("{field}.invoice-id"), "empty")) } else { Ok(format!("N{target}")) }
    }

    #[test]
    fn merges_drops_zero_dates_by_the_latest_part_or_the_document() {
        let s = Settings::parse(&[("map.timezone".into(), "America/Los_Angeles".into())]).expect("settings");
        let parts = [
            Part { target: "1", amount: 100, applied_at: 0 },
            Part { target: "2", amount: 0, applied_at: 5 },
            Part { target: "1", amount: 50, applied_at: 1_733_122_800 },
            Part { target: "3", amount: 25, applied_at: 0 },
        ];
        let a = applies(&s, &from(), DocKind::Invoice, &parts, number, "payment.allocations", 175).expect("ok");
        let got: Vec<_> = a.iter().map(|x| (x.to_number.as_str(), x.amount, x.date.as_str())).collect();
        assert_eq!(got, [("N1", 150, "2024-12-01"), ("N3", 25, "2024-11-30")]);
        let x = &a[0];
        assert_eq!((x.from_kind, x.from_number.as_str(), x.to_kind), (DocKind::CashReceipt, "R1", DocKind::Invoice));
        assert_eq!(
            (x.customer_id.as_str(), x.customer_source_id.as_str(), x.currency.as_str()),
            ("ACME", "acme", "USD")
        );
        assert_eq!(x.write_off, 0);
    }

    #[test]
    fn refuses_negatives_overdraw_and_bad_targets() {
        let s = Settings::parse(&[]).expect("settings");
        let over = [Part { target: "1", amount: 100, applied_at: 0 }, Part { target: "2", amount: 76, applied_at: 0 }];
        let e = applies(&s, &from(), DocKind::Invoice, &over, number, "payment.allocations", 175).expect_err("over");
        assert_eq!(e.field, "payment.allocations");
        assert!(e.message.contains("1.76 USD") && e.message.contains("1.75 USD"), "{}", e.message);
        let neg = [Part { target: "1", amount: 1, applied_at: 0 }, Part { target: "2", amount: -1, applied_at: 0 }];
        let e = applies(&s, &from(), DocKind::Invoice, &neg, number, "payment.allocations", 175).expect_err("neg");
        assert_eq!(e.field, "payment.allocations[1].amount");
        let empty = [Part { target: "", amount: 1, applied_at: 0 }];
        let e = applies(&s, &from(), DocKind::Invoice, &empty, number, "payment.allocations", 175).expect_err("id");
        assert_eq!(e.field, "payment.allocations[0].invoice-id");
    }
}
