//! A voided Chargebee invoice. GP has no API that voids or deletes a receivables invoice
//! (eConnect has no such node, Web Services no receivables-invoice void; econnect-sql.md §5),
//! so `map.invoice.voided = reverse` (default) books what a clerk would: the invoice as it was,
//! a reversing credit memo with the same amounts and every distribution mirrored, and an apply
//! of the credit memo to the invoice for the full amount, all dated by `voided-at` except the
//! invoice. AR nets to zero; sales, discount, tax and round-off are reversed on the accounts
//! they were booked to. `error` parks the record for a person; `skip` books nothing.
//!
//! Reversal numbers: the credit-memo scheme applied to the invoice's Chargebee id within 15
//! characters, then `.V` (`1001` → `1001.V`). No credit note can get such a number: the scheme's
//! direct form has no `.`, its hashed form ends in `.` + 9 base-36 digits.

use crate::common::{DESCRIPTION_MAX, truncate};
use crate::days::day_or;
use crate::ids::{SALES_DOC_NUMBER_MAX, batch_id};
use crate::invoice::document;
use crate::settings::Settings;
use crate::wit::{
    Apply, BatchKey, CreditMemo, Distribution, DistributionKind, DocKind, Invoice, LedgerDoc, ReceivablesInvoice,
};
use crate::{MappingError, err};

/// Ends every reversal number.
pub const VOID_SUFFIX: &str = ".V";

/// The number of the credit memo that reverses Chargebee invoice `invoice_id`.
pub fn reversal_number(s: &Settings, invoice_id: &str) -> Result<String, MappingError> {
    let scheme = s.scheme("credit_memo", SALES_DOC_NUMBER_MAX - VOID_SUFFIX.len())?;
    Ok(format!("{}{VOID_SUFFIX}", scheme.gp_id(invoice_id).map_err(|m| err("invoice.id", m))?))
}

pub fn map(inv: &Invoice, s: &Settings) -> Result<Vec<LedgerDoc>, MappingError> {
    match s.choice("map.invoice.voided", &["reverse", "error", "skip"])? {
        "skip" => return Ok(Vec::new()),
        "error" => {
            return Err(err(
                "invoice.status",
                format!(
                    "invoice {} is voided in Chargebee; reverse it in GP if it was synced (or set map.invoice.voided = \"reverse\" or \"skip\")",
                    inv.id
                ),
            ));
        }
        _ => {}
    }
    let invoice = document(inv, s)?;
    let void_day = day_or(s, inv.voided_at.unwrap_or(0), inv.timestamp, &inv.date, "invoice.voided-at")?;
    let memo = reversing_memo(inv, s, &invoice, void_day.clone())?;
    let apply = (invoice.total > 0).then(|| Apply {
        from_kind: DocKind::CreditMemo,
        from_number: memo.number.clone(),
        to_kind: DocKind::Invoice,
        to_number: invoice.number.clone(),
        customer_id: invoice.customer_id.clone(),
        customer_source_id: invoice.customer_source_id.clone(),
        currency: invoice.currency.clone(),
        amount: invoice.total,
        write_off: 0,
        date: void_day,
    });
    let mut docs = vec![LedgerDoc::Invoice(invoice), LedgerDoc::CreditMemo(memo)];
    docs.extend(apply.map(LedgerDoc::Apply));
    Ok(docs)
}

/// The credit memo undoing `invoice`: same amounts, tax details, currency and rate; each
/// distribution's debit and credit swapped (sales become `map.credit_memo.sales_kind`).
fn reversing_memo(
    inv: &Invoice,
    s: &Settings,
    invoice: &ReceivablesInvoice,
    date: String,
) -> Result<CreditMemo, MappingError> {
    let batch_key = "map.batch.credit_memo";
    let pattern = s.or(batch_key, crate::credit_note::DEFAULT_BATCH);
    let batch = batch_id(pattern, &date, &invoice.currency_id).map_err(|m| err(batch_key, m))?;
    let sales_kind = match s.choice("map.credit_memo.sales_kind", &["returns", "sales"])? {
        "sales" => DistributionKind::Sales,
        _ => DistributionKind::Returns,
    };
    let distributions = invoice
        .distributions
        .iter()
        .map(|d| Distribution {
            kind: if d.kind == DistributionKind::Sales { sales_kind } else { d.kind },
            account: d.account.clone(),
            debit: d.credit,
            credit: d.debit,
            reference: d.reference.clone(),
        })
        .collect();
    Ok(CreditMemo {
        number: reversal_number(s, &inv.id)?,
        customer_id: invoice.customer_id.clone(),
        customer_source_id: invoice.customer_source_id.clone(),
        batch: BatchKey { source: "RM_Sales".into(), id: batch },
        date,
        currency: invoice.currency.clone(),
        currency_id: invoice.currency_id.clone(),
        exchange: invoice.exchange.clone(),
        sales: invoice.sales,
        trade_discount: invoice.trade_discount,
        misc: invoice.misc,
        tax: invoice.tax,
        total: invoice.total,
        description: Some(truncate(&format!("Void of {}", invoice.number), DESCRIPTION_MAX)),
        distributions,
        tax_schedule: invoice.tax_schedule.clone(),
        tax_details: invoice.tax_details.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::imbalance;
    use crate::fixtures::*;

    fn docs(inv: Invoice, settings: Vec<(String, String)>) -> Result<Vec<LedgerDoc>, MappingError> {
        crate::invoice::map(&inv, &Settings::parse(&settings).expect("settings"))
    }

    fn voided() -> Invoice {
        // Issued 2024-11-30 23:00 PST, voided 2024-12-02 00:30 PST (08:30 UTC).
        Invoice {
            status: "voided".into(),
            timestamp: 1_733_036_400,
            date: "2024-12-01".into(),
            voided_at: Some(1_733_128_200),
            amount_paid: 0,
            amount_due: 0,
            ..invoice()
        }
    }

    #[test]
    fn reverses_with_a_mirrored_credit_memo_and_a_full_apply_on_the_void_day() {
        let s = with(settings(), &[("map.timezone", "America/Los_Angeles")]);
        let d = docs(voided(), s).expect("maps");
        let [LedgerDoc::Invoice(i), LedgerDoc::CreditMemo(m), LedgerDoc::Apply(a)] = &d[..] else {
            panic!("expected invoice, credit memo, apply: {d:?}")
        };
        assert_eq!((i.number.as_str(), i.date.as_str(), i.total), ("1001", "2024-11-30", 11_435));
        assert_eq!((m.number.as_str(), m.date.as_str(), m.batch.id.as_str()), ("1001.V", "2024-12-02", "CB241202-CRM"));
        assert_eq!(
            (m.sales, m.trade_discount, m.misc, m.tax, m.total),
            (i.sales, i.trade_discount, i.misc, i.tax, i.total)
        );
        assert_eq!(format!("{:?}", m.tax_details), format!("{:?}", i.tax_details));
        assert_eq!(m.description.as_deref(), Some("Void of 1001"));
        assert_eq!(imbalance(&m.distributions), 0);
        for (mine, theirs) in m.distributions.iter().zip(&i.distributions) {
            assert_eq!(
                (mine.account.as_str(), mine.debit, mine.credit),
                (theirs.account.as_str(), theirs.credit, theirs.debit)
            );
        }
        let kinds: Vec<_> = m.distributions.iter().map(|d| d.kind).collect();
        assert!(kinds.contains(&DistributionKind::Returns) && !kinds.contains(&DistributionKind::Sales), "{kinds:?}");
        assert_eq!(
            (a.from_kind, a.from_number.as_str(), a.to_kind, a.to_number.as_str()),
            (DocKind::CreditMemo, "1001.V", DocKind::Invoice, "1001")
        );
        assert_eq!(
            (a.amount, a.write_off, a.date.as_str(), a.customer_id.as_str()),
            (11_435, 0, "2024-12-02", "ACME-001")
        );
    }

    #[test]
    fn error_skip_and_no_void_instant() {
        let e = docs(voided(), with(settings(), &[("map.invoice.voided", "error")])).expect_err("parks");
        assert_eq!(e.field, "invoice.status");
        assert!(docs(voided(), with(settings(), &[("map.invoice.voided", "skip")])).expect("skips").is_empty());
        assert_eq!(
            docs(voided(), with(settings(), &[("map.invoice.voided", "delete")])).expect_err("strict").field,
            "map.invoice.voided"
        );
        // No voided-at: the invoice's own day (UTC here).
        let d = docs(Invoice { voided_at: None, ..voided() }, settings()).expect("maps");
        let LedgerDoc::CreditMemo(m) = &d[1] else { panic!("{d:?}") };
        assert_eq!(m.date, "2024-12-01");
    }

    #[test]
    fn reversal_numbers_never_meet_credit_memo_numbers() {
        let s = Settings::parse(&with(settings(), &[("map.credit_memo.prefix", "CM")])).expect("settings");
        assert_eq!(reversal_number(&s, "1001").expect("n"), "CM1001.V");
        let long = reversal_number(&s, "inv_2023-11-0001-renewal").expect("n");
        assert!(long.len() <= SALES_DOC_NUMBER_MAX && long.ends_with(".V"), "{long}");
        // A credit note whose id looks like a reversal is hashed, so it cannot take "CM1001.V".
        let cn = crate::credit_note::gp_credit_memo_number(&s, "1001.V", "credit-note.id").expect("n");
        assert_ne!(cn, "CM1001.V");
        let s = Settings::parse(&with(settings(), &[("map.credit_memo.prefix", "CM-XYZ")])).expect("settings");
        assert_eq!(reversal_number(&s, "1001").expect_err("prefix too long").field, "map.credit_memo.prefix");
    }
}
