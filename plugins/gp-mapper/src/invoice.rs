//! Chargebee invoice → GP receivables invoice (RM document type 1), batch source RM_Sales.
//!
//! Amounts are taken, never repaired (see [`crate::amounts`]): Σ line amounts must equal
//! Chargebee's sub-total and the total its identity; anything else is a mapping error at the
//! field that disagrees. Tax details come from the line taxes ([`crate::tax`]).
//! Distributions: receivables debit = total, trade discount debit = discount, round-off misc
//! credit (or trade-discount debit when negative), sales credits per GL account or per line,
//! one tax credit per tax detail — balanced to the minor unit by construction and checked again.

use crate::amounts::{Amounts, Source, amounts, sales_split};
use crate::common::{CUSTOMER_PO_MAX, Ledger, describe, present, truncate};
use crate::customer::document_customer_id;
use crate::days::local_day;
use crate::exchange::{currencies, exchange};
use crate::ids::{SALES_DOC_NUMBER_MAX, batch_id};
use crate::settings::Settings;
use crate::tax;
use crate::wit::{BatchKey, Distribution, DistributionKind, Invoice, LedgerDoc, ReceivablesInvoice, TaxDetail};
use crate::{MappingError, err};

pub const DEFAULT_BATCH: &str = "CB{YYMMDD}-INV";
pub const DEFAULT_DESCRIPTION: &str = "Chargebee {id}";

/// The GP document number of a Chargebee invoice id; payments and credit notes apply to it.
pub fn gp_invoice_number(s: &Settings, chargebee_id: &str, field: &str) -> Result<String, MappingError> {
    s.scheme("invoice", SALES_DOC_NUMBER_MAX)?.gp_id(chargebee_id).map_err(|m| err(field, m))
}

pub fn map(inv: &Invoice, s: &Settings) -> Result<Vec<LedgerDoc>, MappingError> {
    match inv.status.as_str() {
        "paid" | "posted" | "payment_due" | "not_paid" => {}
        // GP cannot void an invoice through any API: the invoice as it was, reversed (default).
        "voided" => return crate::reversal::map(inv, s),
        // Not final yet: it comes back (invoice_updated) when Chargebee closes it.
        "pending" => {
            if s.choice("map.invoice.pending", &["skip", "sync"])? == "skip" {
                return Ok(Vec::new());
            }
        }
        other => return Err(err("invoice.status", format!("unknown invoice status {other:?}"))),
    }
    Ok(vec![LedgerDoc::Invoice(document(inv, s)?)])
}

/// The GP invoice of a Chargebee invoice, whatever its status.
pub fn document(inv: &Invoice, s: &Settings) -> Result<ReceivablesInvoice, MappingError> {
    let date = local_day(s, inv.timestamp, &inv.date, "invoice.date")?;
    let (iso, currency_id) = currencies(s, &inv.currency, "invoice.currency")?;
    let a = amounts(
        &Source {
            doc: "invoice",
            lines: &inv.lines,
            lines_required: true,
            sub_total: inv.sub_total,
            discount: inv.discount,
            tax: inv.tax,
            round_off: inv.round_off,
            total: inv.total,
            price_type: &inv.price_type,
            line_taxes: &inv.line_taxes,
        },
        &iso,
    )?;
    let explicit = s.choice("map.distributions", &["explicit", "gp_default"])? == "explicit";
    let taxable = a.sales.saturating_sub(a.discount);
    let tax_details = tax::details(s, "invoice", &inv.line_taxes, a.tax, taxable, &iso, explicit)?;
    let exchange = exchange(s, &iso, inv.exchange_rate.as_deref(), &date, "invoice.exchange-rate")?;

    let batch_key = "map.batch.invoice";
    let batch = batch_id(s.or(batch_key, DEFAULT_BATCH), &date, &currency_id).map_err(|m| err(batch_key, m))?;
    let vars = [
        ("id", inv.id.as_str()),
        ("customer_id", inv.customer_id.as_str()),
        ("po", present(&inv.po_number).unwrap_or("")),
    ];
    let description = describe(s.or("map.invoice.description", DEFAULT_DESCRIPTION), "map.invoice.description", &vars)?;
    let distributions = if explicit { distributions(inv, s, &iso, &a, &tax_details)? } else { Vec::new() };

    Ok(ReceivablesInvoice {
        number: gp_invoice_number(s, &inv.id, "invoice.id")?,
        customer_id: document_customer_id(s, &inv.customer_id, "invoice.customer-id")?,
        customer_source_id: inv.customer_id.clone(),
        batch: BatchKey { source: "RM_Sales".into(), id: batch },
        date,
        currency: iso,
        currency_id,
        exchange,
        sales: a.sales,
        trade_discount: a.trade_discount,
        freight: 0,
        misc: a.misc,
        tax: a.tax,
        total: a.total,
        description,
        customer_po: present(&inv.po_number).map(|po| truncate(po, CUSTOMER_PO_MAX)),
        distributions,
        tax_schedule: s.tax_schedule()?,
        tax_details,
    })
}

/// Receivables debit = total, trade discount debit = discount, round-off (misc credit when
/// positive, trade-discount debit when negative), sales credits per account or per line (net of
/// tax when tax-inclusive), one tax credit per tax detail.
fn distributions(
    inv: &Invoice,
    s: &Settings,
    iso: &str,
    a: &Amounts,
    details: &[TaxDetail],
) -> Result<Vec<Distribution>, MappingError> {
    let per_line = s.choice("map.invoice.sales_distribution", &["by_account", "per_line"])? == "per_line";
    let mut ledger = Ledger::default();
    if a.total != 0 {
        ledger.debit(
            DistributionKind::Receivables,
            &s.account("map.account.receivables", "for the invoice's receivables debit")?,
            a.total,
            None,
        );
    }
    if a.discount != 0 {
        ledger.debit(
            DistributionKind::TradeDiscount,
            &s.account("map.account.discount", "for the invoice's trade discount debit")?,
            a.discount,
            None,
        );
    }
    if a.round_down != 0 {
        let account = s.account("map.account.round_off", "for the invoice's (negative) round-off")?;
        ledger.debit(DistributionKind::TradeDiscount, &account, a.round_down, Some("Round-off".into()));
    }
    if a.misc != 0 {
        let account = s.account("map.account.round_off", "for the invoice's round-off (GP misc)")?;
        ledger.credit(DistributionKind::Misc, &account, a.misc, Some("Round-off".into()));
    }
    for (account, amount, reference) in sales_split(s, "invoice", &inv.lines, &a.line_sales, a.sales, per_line, None)? {
        ledger.credit(DistributionKind::Sales, &account, amount, reference);
    }
    for d in details {
        if let Some(account) = &d.account {
            ledger.credit(DistributionKind::Tax, account, d.amount, Some(d.id.clone()));
        }
    }
    ledger.finish("invoice.distributions", iso)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::imbalance;
    use crate::fixtures::*;
    use crate::wit::Distribution;

    fn gp(inv: Invoice, settings: Vec<(String, String)>) -> Result<Option<ReceivablesInvoice>, MappingError> {
        let s = Settings::parse(&settings).expect("settings");
        Ok(match map(&inv, &s)?.pop() {
            Some(LedgerDoc::Invoice(i)) => Some(i),
            None => None,
            other => panic!("expected an invoice, got {other:?}"),
        })
    }

    fn find(d: &[Distribution], kind: DistributionKind) -> Vec<(&str, i64, i64)> {
        d.iter().filter(|x| x.kind == kind).map(|x| (x.account.as_str(), x.debit, x.credit)).collect()
    }

    #[test]
    fn maps_every_field_and_balances() {
        let g = gp(invoice(), settings()).expect("maps").expect("a document");
        assert_eq!(g.number, "1001");
        assert_eq!(g.customer_id, "ACME-001");
        assert_eq!((g.batch.source.as_str(), g.batch.id.as_str()), ("RM_Sales", "CB231114-INV"));
        assert_eq!((g.date.as_str(), g.currency.as_str()), ("2023-11-14", "USD"));
        assert_eq!((g.sales, g.trade_discount, g.freight, g.misc, g.tax, g.total), (11_000, 500, 0, 0, 935, 11_435));
        assert_eq!(g.total, g.sales - g.trade_discount + g.freight + g.misc + g.tax);
        assert_eq!(g.description.as_deref(), Some("Chargebee 1001"));
        assert_eq!(g.customer_po.as_deref(), Some("PO-2023-0042"));
        let d = &g.distributions;
        assert_eq!(imbalance(d), 0);
        assert_eq!(find(d, DistributionKind::Receivables), [("000-1200-00", 11_435, 0)]);
        assert_eq!(find(d, DistributionKind::TradeDiscount), [("000-4100-00", 500, 0)]);
        assert_eq!(find(d, DistributionKind::Sales), [("000-4000-00", 0, 11_000)]);
        assert_eq!(find(d, DistributionKind::Tax), [("000-2100-00", 0, 935)]);
    }

    #[test]
    fn sales_accounts_by_item_type_and_per_line() {
        let s = with(settings(), &[("map.account.sales.type.charge_item_price", "000-4200-00")]);
        let g = gp(invoice(), s.clone()).expect("maps").expect("doc");
        assert_eq!(
            find(&g.distributions, DistributionKind::Sales),
            [("000-4000-00", 0, 10_000), ("000-4200-00", 0, 1_000)]
        );
        let s = with(
            s,
            &[
                ("map.account.sales.item.pro-USD-monthly", "000-4300-00"),
                ("map.invoice.sales_distribution", "per_line"),
            ],
        );
        let mut inv = invoice();
        inv.lines.push(line("li_3", "Extra seat", 3, 700, 0, "addon_item_price", Some("seat")));
        inv.lines.push(line("li_4", "Free thing", 1, 0, 0, "adhoc", None));
        inv.sub_total += 2_100;
        inv.total += 2_100;
        let g = gp(inv, s).expect("maps").expect("doc");
        let sales: Vec<_> = g
            .distributions
            .iter()
            .filter(|d| d.kind == DistributionKind::Sales)
            .map(|d| (d.account.as_str(), d.credit, d.reference.as_deref()))
            .collect();
        assert_eq!(
            sales,
            [
                ("000-4300-00", 10_000, Some("Pro plan")),
                ("000-4200-00", 1_000, Some("Setup fee")),
                ("000-4000-00", 2_100, Some("Extra seat"))
            ]
        );
        assert_eq!(imbalance(&g.distributions), 0);
    }

    #[test]
    fn inconsistent_totals_name_the_field() {
        let mut inv = invoice();
        inv.sub_total = 10_999;
        assert_eq!(gp(inv, settings()).expect_err("sub-total").field, "invoice.sub-total");
        let mut inv = invoice();
        inv.total += 1;
        let e = gp(inv, settings()).expect_err("total");
        assert_eq!(e.field, "invoice.total");
        assert!(e.message.contains("114.36 USD"), "{}", e.message);
        let mut inv = invoice();
        inv.lines[1].amount = -1_000;
        assert_eq!(gp(inv, settings()).expect_err("negative line").field, "invoice.lines[1].amount");
        let mut inv = invoice();
        inv.discount = -1;
        assert_eq!(gp(inv, settings()).expect_err("negative").field, "invoice.discount");
        let mut inv = invoice();
        inv.lines[0].amount = i64::MAX;
        assert_eq!(gp(inv, settings()).expect_err("overflow").field, "invoice.lines");
    }

    #[test]
    fn missing_accounts_name_the_setting_only_when_needed() {
        for key in ["map.account.receivables", "map.account.sales", "map.account.tax", "map.account.discount"] {
            assert_eq!(gp(invoice(), without(settings(), key)).expect_err(key).field, key);
        }
        // No tax and no discount: those accounts are not needed.
        let mut inv = invoice();
        inv.tax = 0;
        inv.discount = 0;
        inv.total = inv.sub_total;
        inv.line_taxes.clear();
        let s = without(without(settings(), "map.account.tax"), "map.account.discount");
        assert!(gp(inv, s).is_ok());
        // GP's own posting accounts: no distributions, no accounts needed; tax details still sent.
        let s = with(vec![], &[("map.distributions", "gp_default"), ("map.tax.Sales Tax", "USSALES")]);
        let g = gp(invoice(), s).expect("maps").expect("doc");
        assert!(g.distributions.is_empty());
        let details: Vec<_> = g.tax_details.iter().map(|d| (d.id.as_str(), d.amount, d.account.clone())).collect();
        assert_eq!(details, [("USSALES", 935, None)]);
    }

    #[test]
    fn statuses() {
        // Voided: see crate::reversal.
        let mut inv = invoice();
        inv.status = "pending".into();
        assert!(gp(inv.clone(), settings()).expect("skips").is_none());
        assert!(gp(inv, with(settings(), &[("map.invoice.pending", "sync")])).expect("maps").is_some());
        let mut inv = invoice();
        inv.status = "draft".into();
        assert_eq!(gp(inv, settings()).expect_err("unknown").field, "invoice.status");
    }

    #[test]
    fn jpy_has_no_minor_digits_and_nothing_is_scaled() {
        let mut inv = invoice();
        inv.currency = "JPY".into();
        inv.lines = vec![line("li_1", "Plan", 3, 3_333, 999, "plan_item_price", None)];
        inv.sub_total = 9_999;
        inv.discount = 0;
        inv.tax = 999;
        inv.total = 10_998;
        inv.line_taxes = vec![line_tax("li_1", 9_999, 999)];
        let g =
            gp(inv.clone(), with(settings(), &[("map.batch.invoice", "CB{YYMMDD}{CUR}")])).expect("maps").expect("doc");
        assert_eq!(
            (g.sales, g.tax, g.total, g.currency.as_str(), g.batch.id.as_str()),
            (9_999, 999, 10_998, "JPY", "CB231114JPY")
        );
        assert_eq!(imbalance(&g.distributions), 0);
        inv.total = 10_997;
        assert!(gp(inv, settings()).expect_err("mismatch").message.contains("10998 JPY"));
    }

    #[test]
    fn numbers_batches_and_texts() {
        let mut inv = invoice();
        inv.id = "inv_2023_very_long_id".into();
        inv.customer_id = "cus_AzZlGJSqHd1Xc2Ae".into();
        inv.po_number = Some("P".repeat(25));
        let s = with(
            settings(),
            &[
                ("map.invoice.prefix", "CB"),
                ("map.invoice.description", "{id} for {customer_id}"),
                ("map.batch.invoice", "S{YYYYMMDD}"),
            ],
        );
        let g = gp(inv, s).expect("maps").expect("doc");
        assert_eq!(g.number.len(), SALES_DOC_NUMBER_MAX);
        assert!(g.number.starts_with("CBINV_2."), "{}", g.number);
        assert!(g.customer_id.len() <= 15 && g.customer_id.starts_with("CUS_A."), "{}", g.customer_id);
        assert_eq!(g.batch.id, "S20231114");
        assert_eq!(g.customer_po.map(|p| p.len()), Some(CUSTOMER_PO_MAX));
        assert_eq!(g.description.as_deref(), Some("inv_2023_very_long_id for cus_"));
        let e =
            gp(invoice(), with(settings(), &[("map.batch.invoice", "CHARGEBEE{YYYYMMDD}")])).expect_err("long batch");
        assert_eq!(e.field, "map.batch.invoice");
        let mut inv = invoice();
        inv.date = "14/11/2023".into();
        assert!(gp(inv.clone(), settings()).is_ok(), "the instant decides the day");
        inv.timestamp = 0;
        assert_eq!(gp(inv, settings()).expect_err("date").field, "invoice.date");
        let mut inv = invoice();
        inv.currency = "US".into();
        assert_eq!(gp(inv, settings()).expect_err("currency").field, "invoice.currency");
        let g = gp(invoice(), with(settings(), &[("map.currency.USD", "Z-US$")])).expect("maps").expect("doc");
        assert_eq!((g.currency.as_str(), g.currency_id.as_str()), ("USD", "Z-US$"));
    }
}
