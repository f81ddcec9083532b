//! Chargebee credit note → GP credit memo (RM document type 7), batch source RM_Sales.
//!
//! The canonical credit note carries sub-total, tax and total only (no lines, no discount), so
//! total must equal sub-total + tax. Applies: the allocations when there are any; otherwise an
//! `adjustment` note (which by Chargebee's definition reduces its reference invoice) applies its
//! total to the reference invoice; `refundable` and `store` notes without allocations stay
//! unapplied (on account), as in Chargebee. Distributions mirror the invoice's: receivables
//! credit = total, sales (returns) debit = sub-total, tax debit = tax.

use crate::common::{Ledger, check_date, describe, iso_code, money, non_negative, present};
use crate::customer::gp_customer_id;
use crate::ids::{SALES_DOC_NUMBER_MAX, batch_id};
use crate::invoice::gp_invoice_number;
use crate::payment::applies;
use crate::settings::Settings;
use crate::wit::{Allocation, BatchKey, CreditMemo, CreditNote, DistributionKind, LedgerDoc};
use crate::{MappingError, err};

pub const DEFAULT_BATCH: &str = "CB{YYMMDD}-CRM";
pub const DEFAULT_DESCRIPTION: &str = "Chargebee {id}";

pub fn map(c: &CreditNote, s: &Settings) -> Result<Vec<LedgerDoc>, MappingError> {
    check_date(&c.date, "credit-note.date")?;
    let iso = iso_code(&c.currency, "credit-note.currency")?;
    let currency = s.currency(&iso)?;
    let sales = non_negative(c.sub_total, "credit-note.sub-total", &iso)?;
    let tax = non_negative(c.tax, "credit-note.tax", &iso)?;
    let expected = sales.checked_add(tax).ok_or_else(|| err("credit-note.total", "the amounts overflow"))?;
    if c.total != expected {
        return Err(err(
            "credit-note.total",
            format!(
                "total {} ≠ sub-total {} + tax {} = {}",
                money(c.total, &iso),
                money(sales, &iso),
                money(tax, &iso),
                money(expected, &iso)
            ),
        ));
    }
    let total = c.total;

    let reference_apply;
    let allocations: &[Allocation] = match (&c.allocations[..], present(&c.reference_invoice_id)) {
        ([], Some(invoice)) if c.credit_type == "adjustment" => {
            reference_apply = [Allocation { invoice_id: invoice.to_string(), amount: total }];
            &reference_apply
        }
        (given, _) => given,
    };
    let applies = applies(s, allocations, "credit-note.allocations", total, &iso)?;
    // The reference invoice is named even when nothing is applied to it, so check it maps.
    if let Some(invoice) = present(&c.reference_invoice_id) {
        gp_invoice_number(s, invoice, "credit-note.reference-invoice-id")?;
    }

    let batch_key = "map.batch.credit_memo";
    let batch = batch_id(s.or(batch_key, DEFAULT_BATCH), &c.date, &currency).map_err(|m| err(batch_key, m))?;
    let vars = [
        ("id", c.id.as_str()),
        ("customer_id", c.customer_id.as_str()),
        ("reason", present(&c.reason).unwrap_or("")),
        ("type", c.credit_type.as_str()),
        ("invoice", present(&c.reference_invoice_id).unwrap_or("")),
    ];
    let distributions = if s.choice("map.distributions", &["explicit", "gp_default"])? == "gp_default" {
        Vec::new()
    } else {
        let mut ledger = Ledger::default();
        if sales != 0 {
            let returns = match s.account_opt("map.account.returns")? {
                Some(a) => a,
                None => {
                    s.account("map.account.sales", "for the credit memo's sales debit (or set map.account.returns)")?
                }
            };
            ledger.debit(DistributionKind::Sales, &returns, sales, None);
        }
        if tax != 0 {
            ledger.debit(
                DistributionKind::Tax,
                &s.account("map.account.tax", "for the credit memo's tax debit")?,
                tax,
                None,
            );
        }
        if total != 0 {
            ledger.credit(
                DistributionKind::Receivables,
                &s.account("map.account.receivables", "for the credit memo's receivables credit")?,
                total,
                None,
            );
        }
        ledger.finish("credit-note.distributions", &iso)?
    };

    Ok(vec![LedgerDoc::CreditMemo(CreditMemo {
        number: s.scheme("credit_memo", SALES_DOC_NUMBER_MAX)?.gp_id(&c.id).map_err(|m| err("credit-note.id", m))?,
        customer_id: gp_customer_id(s, &c.customer_id, "credit-note.customer-id")?,
        customer_source_id: c.customer_id.clone(),
        batch: BatchKey { source: "RM_Sales".into(), id: batch },
        date: c.date.clone(),
        currency_id: currency.clone(),
        exchange: None,
        currency,
        sales,
        trade_discount: 0,
        misc: 0,
        tax,
        total,
        description: describe(
            s.or("map.credit_memo.description", DEFAULT_DESCRIPTION),
            "map.credit_memo.description",
            &vars,
        )?,
        applies,
        distributions,
        tax_schedule: None,
        tax_details: Vec::new(),
    })])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::imbalance;
    use crate::fixtures::*;

    fn gp(c: CreditNote, settings: Vec<(String, String)>) -> Result<CreditMemo, MappingError> {
        let s = Settings::parse(&settings).expect("settings");
        match map(&c, &s)?.pop() {
            Some(LedgerDoc::CreditMemo(m)) => Ok(m),
            other => panic!("expected a credit memo, got {other:?}"),
        }
    }

    fn applies_of(m: &CreditMemo) -> Vec<(&str, i64)> {
        m.applies.iter().map(|a| (a.invoice_number.as_str(), a.amount)).collect()
    }

    #[test]
    fn maps_every_field_and_balances() {
        let m = gp(
            credit_note(),
            with(settings(), &[("map.credit_memo.prefix", "CM"), ("map.credit_memo.description", "{reason}")]),
        )
        .expect("maps");
        assert_eq!(m.number, "CMCN-17");
        assert_eq!(m.customer_id, "ACME-001");
        assert_eq!((m.batch.source.as_str(), m.batch.id.as_str()), ("RM_Sales", "CB231116-CRM"));
        assert_eq!(
            (m.date.as_str(), m.currency.as_str(), m.sales, m.tax, m.total),
            ("2023-11-16", "USD", 1_000, 85, 1_085)
        );
        assert_eq!(m.description.as_deref(), Some("Product Unsatisfactory"));
        assert_eq!(applies_of(&m), [("1001", 1_085)]);
        let d: Vec<_> = m.distributions.iter().map(|d| (d.kind, d.account.as_str(), d.debit, d.credit)).collect();
        assert_eq!(
            d,
            [
                (DistributionKind::Sales, "000-4000-00", 1_000, 0),
                (DistributionKind::Tax, "000-2100-00", 85, 0),
                (DistributionKind::Receivables, "000-1200-00", 0, 1_085)
            ]
        );
        assert_eq!(imbalance(&m.distributions), 0);
        let m = gp(credit_note(), with(settings(), &[("map.account.returns", "000-4500-00")])).expect("maps");
        assert_eq!(m.distributions[0].account, "000-4500-00");
    }

    #[test]
    fn applies_from_allocations_reference_or_none() {
        let mut c = credit_note();
        c.allocations.clear();
        assert_eq!(
            applies_of(&gp(c.clone(), settings()).expect("maps")),
            [("1001", 1_085)],
            "adjustment → its reference invoice"
        );
        c.credit_type = "refundable".into();
        assert!(gp(c.clone(), settings()).expect("maps").applies.is_empty(), "refundable, unallocated → on account");
        c.allocations = vec![
            Allocation { invoice_id: "1001".into(), amount: 500 },
            Allocation { invoice_id: "1002".into(), amount: 585 },
        ];
        assert_eq!(applies_of(&gp(c.clone(), settings()).expect("maps")), [("1001", 500), ("1002", 585)]);
        c.allocations[1].amount = 586;
        assert_eq!(gp(c, settings()).expect_err("over").field, "credit-note.allocations");
    }

    #[test]
    fn inconsistent_totals_and_missing_accounts_name_the_field() {
        let mut c = credit_note();
        c.total = 1_084;
        assert_eq!(gp(c, settings()).expect_err("total").field, "credit-note.total");
        let mut c = credit_note();
        c.tax = -85;
        assert_eq!(gp(c, settings()).expect_err("negative").field, "credit-note.tax");
        for key in ["map.account.receivables", "map.account.sales", "map.account.tax"] {
            assert_eq!(gp(credit_note(), without(settings(), key)).expect_err(key).field, key);
        }
        let mut c = credit_note();
        c.reference_invoice_id = Some(String::new());
        c.allocations = vec![Allocation { invoice_id: String::new(), amount: 1 }];
        assert_eq!(gp(c, settings()).expect_err("empty invoice id").field, "credit-note.allocations[0].invoice-id");
    }

    #[test]
    fn jpy() {
        let mut c = credit_note();
        c.currency = "JPY".into();
        c.sub_total = 1_001;
        c.tax = 100;
        c.total = 1_101;
        c.allocations = vec![Allocation { invoice_id: "1001".into(), amount: 1_101 }];
        let m = gp(c, settings()).expect("maps");
        assert_eq!((m.sales, m.tax, m.total, m.currency.as_str()), (1_001, 100, 1_101, "JPY"));
        assert_eq!(imbalance(&m.distributions), 0);
    }
}
