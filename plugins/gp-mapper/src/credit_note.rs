//! Chargebee credit note → GP credit memo (RM document type 7), batch source RM_Sales.
//!
//! Amounts as invoices ([`crate::amounts`]): total = sub-total − discount + tax + round-off
//! (tax included in the sub-total when tax-inclusive); lines, when Chargebee sent them, must sum
//! to the sub-total and split the returns per sales account. The memo is written unapplied; its
//! applications are `apply` documents ([`crate::apply`]): the allocations when there are any;
//! otherwise an `adjustment` note (which by Chargebee's definition reduces its reference
//! invoice) applies its total to the reference invoice; `refundable` and `store` notes without
//! allocations stay unapplied (on account), as in Chargebee — a refund applies them to its
//! debit memo ([`crate::refund`]). Distributions mirror the invoice's: receivables
//! credit = total, trade discount credit, returns debit = sales, misc debit, tax debit per detail.

use crate::amounts::{Amounts, Source, amounts, sales_split};
use crate::apply::{From, Part, applies};
use crate::common::{Ledger, describe, money, non_negative, present};
use crate::customer::document_customer_id;
use crate::days::local_day;
use crate::exchange::{currencies, exchange};
use crate::ids::{SALES_DOC_NUMBER_MAX, batch_id};
use crate::invoice::gp_invoice_number;
use crate::settings::Settings;
use crate::tax;
use crate::wit::{
    Apply, BatchKey, CreditMemo, CreditNote, Distribution, DistributionKind, DocKind, LedgerDoc, TaxDetail,
};
use crate::{MappingError, err};

pub const DEFAULT_BATCH: &str = "CB{YYMMDD}-CRM";
pub const DEFAULT_DESCRIPTION: &str = "Chargebee {id}";

/// The GP number of the credit memo a Chargebee credit note becomes; refunds apply from it.
pub fn gp_credit_memo_number(s: &Settings, credit_note_id: &str, field: &str) -> Result<String, MappingError> {
    s.scheme("credit_memo", SALES_DOC_NUMBER_MAX)?.gp_id(credit_note_id).map_err(|m| err(field, m))
}

pub fn map(c: &CreditNote, s: &Settings) -> Result<Vec<LedgerDoc>, MappingError> {
    let date = local_day(s, c.timestamp, &c.date, "credit-note.date")?;
    let (iso, currency_id) = currencies(s, &c.currency, "credit-note.currency")?;
    let a = amounts(
        &Source {
            doc: "credit-note",
            lines: &c.lines,
            lines_required: false,
            sub_total: c.sub_total,
            discount: c.discount,
            tax: c.tax,
            round_off: c.round_off,
            total: c.total,
            price_type: &c.price_type,
            line_taxes: &c.line_taxes,
        },
        &iso,
    )?;
    let total = a.total;
    let explicit = s.choice("map.distributions", &["explicit", "gp_default"])? == "explicit";
    let taxable = a.sales.saturating_sub(a.discount);
    let tax_details = tax::details(s, "credit-note", &c.line_taxes, a.tax, taxable, &iso, explicit)?;
    let exchange = exchange(s, &iso, c.exchange_rate.as_deref(), &date, "credit-note.exchange-rate")?;
    // The reference invoice is named even when nothing is applied to it, so check it maps.
    if let Some(invoice) = present(&c.reference_invoice_id) {
        gp_invoice_number(s, invoice, "credit-note.reference-invoice-id")?;
    }
    let refunded = non_negative(c.refunded, "credit-note.refunded", &iso)?;
    let applicable = total.checked_sub(refunded).filter(|rest| *rest >= 0).ok_or_else(|| {
        err(
            "credit-note.refunded",
            format!("refunds {} of a credit note of {}", money(refunded, &iso), money(total, &iso)),
        )
    })?;

    let batch_key = "map.batch.credit_memo";
    let batch = batch_id(s.or(batch_key, DEFAULT_BATCH), &date, &currency_id).map_err(|m| err(batch_key, m))?;
    let vars = [
        ("id", c.id.as_str()),
        ("customer_id", c.customer_id.as_str()),
        ("reason", present(&c.reason).unwrap_or("")),
        ("type", c.credit_type.as_str()),
        ("invoice", present(&c.reference_invoice_id).unwrap_or("")),
    ];
    let distributions = if explicit { distributions(c, s, &iso, &a, &tax_details)? } else { Vec::new() };

    let memo = CreditMemo {
        number: gp_credit_memo_number(s, &c.id, "credit-note.id")?,
        customer_id: document_customer_id(s, &c.customer_id, "credit-note.customer-id")?,
        customer_source_id: c.customer_id.clone(),
        batch: BatchKey { source: "RM_Sales".into(), id: batch },
        date,
        currency: iso,
        currency_id,
        exchange,
        sales: a.sales,
        trade_discount: a.trade_discount,
        misc: a.misc,
        tax: a.tax,
        total,
        description: describe(
            s.or("map.credit_memo.description", DEFAULT_DESCRIPTION),
            "map.credit_memo.description",
            &vars,
        )?,
        distributions,
        tax_schedule: s.tax_schedule()?,
        tax_details,
    };
    let applies = invoice_applies(c, s, &memo, applicable)?;
    let mut docs = vec![LedgerDoc::CreditMemo(memo)];
    docs.extend(applies.into_iter().map(LedgerDoc::Apply));
    Ok(docs)
}

/// The allocations when there are any; else an `adjustment` note applies its total to its
/// reference invoice (dated by the note); `refundable`/`store` notes without allocations stay
/// on account. Σ ≤ what the note has not refunded.
fn invoice_applies(c: &CreditNote, s: &Settings, memo: &CreditMemo, limit: i64) -> Result<Vec<Apply>, MappingError> {
    let from = From {
        kind: DocKind::CreditMemo,
        number: memo.number.clone(),
        customer_id: memo.customer_id.clone(),
        customer_source_id: &c.customer_id,
        currency: &memo.currency,
        instant: c.timestamp,
        utc_day: &c.date,
    };
    let parts: Vec<Part> = match (&c.allocations[..], present(&c.reference_invoice_id)) {
        ([], Some(invoice)) if c.credit_type == "adjustment" => {
            vec![Part { target: invoice, amount: memo.total, applied_at: 0 }]
        }
        (given, _) => {
            given.iter().map(|a| Part { target: &a.invoice_id, amount: a.amount, applied_at: a.applied_at }).collect()
        }
    };
    let to_invoice = |id: &str, f: &str| gp_invoice_number(s, id, &format!("{f}.invoice-id"));
    applies(s, &from, DocKind::Invoice, &parts, to_invoice, "credit-note.allocations", limit)
}

/// The invoice's mirror: returns (kind `map.credit_memo.sales_kind`) debit per account or line,
/// misc debit (positive round-off), tax debit per detail; receivables credit = total, trade
/// discount credit = discount (and a negative round-off's).
fn distributions(
    c: &CreditNote,
    s: &Settings,
    iso: &str,
    a: &Amounts,
    details: &[TaxDetail],
) -> Result<Vec<Distribution>, MappingError> {
    let kind = match s.choice("map.credit_memo.sales_kind", &["returns", "sales"])? {
        "sales" => DistributionKind::Sales,
        _ => DistributionKind::Returns,
    };
    let per_line = s.choice("map.invoice.sales_distribution", &["by_account", "per_line"])? == "per_line";
    let returns = s.account_opt("map.account.returns")?;
    let mut ledger = Ledger::default();
    for (account, amount, reference) in
        sales_split(s, "credit-note", &c.lines, &a.line_sales, a.sales, per_line, returns.as_deref())?
    {
        ledger.debit(kind, &account, amount, reference);
    }
    if a.misc != 0 {
        let account = s.account("map.account.round_off", "for the credit memo's round-off (GP misc)")?;
        ledger.debit(DistributionKind::Misc, &account, a.misc, Some("Round-off".into()));
    }
    for d in details {
        if let Some(account) = &d.account {
            ledger.debit(DistributionKind::Tax, account, d.amount, Some(d.id.clone()));
        }
    }
    if a.discount != 0 {
        ledger.credit(
            DistributionKind::TradeDiscount,
            &s.account("map.account.discount", "for the credit memo's trade discount credit")?,
            a.discount,
            None,
        );
    }
    if a.round_down != 0 {
        let account = s.account("map.account.round_off", "for the credit memo's (negative) round-off")?;
        ledger.credit(DistributionKind::TradeDiscount, &account, a.round_down, Some("Round-off".into()));
    }
    if a.total != 0 {
        ledger.credit(
            DistributionKind::Receivables,
            &s.account("map.account.receivables", "for the credit memo's receivables credit")?,
            a.total,
            None,
        );
    }
    ledger.finish("credit-note.distributions", iso)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::imbalance;
    use crate::fixtures::*;

    use crate::wit::Allocation;

    /// The credit memo and its applies.
    fn mapped(c: CreditNote, settings: Vec<(String, String)>) -> Result<(CreditMemo, Vec<Apply>), MappingError> {
        let mut out = map(&c, &Settings::parse(&settings).expect("settings"))?.into_iter();
        let Some(LedgerDoc::CreditMemo(m)) = out.next() else { panic!("expected a credit memo first") };
        Ok((m, out.map(|d| if let LedgerDoc::Apply(a) = d { a } else { panic!("{d:?}") }).collect()))
    }

    fn gp(c: CreditNote, settings: Vec<(String, String)>) -> Result<CreditMemo, MappingError> {
        mapped(c, settings).map(|(m, _)| m)
    }

    fn applies_of(c: CreditNote) -> Vec<(String, i64, String)> {
        let (_, applies) = mapped(c, settings()).expect("maps");
        applies.into_iter().map(|a| (a.to_number, a.amount, a.date)).collect()
    }

    fn alloc(invoice: &str, amount: i64) -> Allocation {
        Allocation { invoice_id: invoice.into(), amount, applied_at: 0 }
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
        let (_, applies) = mapped(credit_note(), settings()).expect("maps");
        let a = &applies[0];
        assert_eq!((a.from_kind, a.from_number.as_str(), a.to_kind), (DocKind::CreditMemo, "CN-17", DocKind::Invoice));
        assert_eq!((a.to_number.as_str(), a.amount, a.write_off, a.date.as_str()), ("1001", 1_085, 0, "2023-11-16"));
        let d: Vec<_> = m.distributions.iter().map(|d| (d.kind, d.account.as_str(), d.debit, d.credit)).collect();
        assert_eq!(
            d,
            [
                (DistributionKind::Returns, "000-4000-00", 1_000, 0),
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
        let day = || "2023-11-16".to_string();
        assert_eq!(applies_of(c.clone()), [("1001".into(), 1_085, day())], "adjustment → its reference invoice");
        c.credit_type = "refundable".into();
        assert!(applies_of(c.clone()).is_empty(), "refundable, unallocated → on account");
        c.allocations = vec![alloc("1001", 500), alloc("1002", 585)];
        // allocated_at 2023-11-20T03:00Z is Nov 19 in Los Angeles.
        c.allocations[1].applied_at = 1_700_449_200;
        assert_eq!(applies_of(c.clone()), [("1001".into(), 500, day()), ("1002".into(), 585, "2023-11-20".into())]);
        let (_, la) = mapped(c.clone(), with(settings(), &[("map.timezone", "America/Los_Angeles")])).expect("maps");
        assert_eq!((la[0].date.as_str(), la[1].date.as_str()), ("2023-11-16", "2023-11-19"));
        c.allocations[1].amount = 586;
        assert_eq!(gp(c.clone(), settings()).expect_err("over").field, "credit-note.allocations");
        // What was refunded cannot be applied as well.
        c.allocations[1].amount = 585;
        c.refunded = 1;
        assert_eq!(gp(c.clone(), settings()).expect_err("over").field, "credit-note.allocations");
        c.refunded = 1_086;
        assert_eq!(gp(c, settings()).expect_err("refunds more").field, "credit-note.refunded");
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
        c.allocations = vec![alloc("", 1)];
        assert_eq!(gp(c, settings()).expect_err("empty invoice id").field, "credit-note.allocations[0].invoice-id");
    }

    #[test]
    fn jpy() {
        let mut c = credit_note();
        c.currency = "JPY".into();
        c.sub_total = 1_001;
        c.tax = 100;
        c.total = 1_101;
        c.line_taxes = vec![line_tax("li_9", 1_001, 100)];
        c.allocations = vec![alloc("1001", 1_101)];
        let m = gp(c, settings()).expect("maps");
        assert_eq!((m.sales, m.tax, m.total, m.currency.as_str()), (1_001, 100, 1_101, "JPY"));
        assert_eq!(imbalance(&m.distributions), 0);
    }
}
