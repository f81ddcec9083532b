//! Chargebee invoice → GP receivables invoice (RM document type 1), batch source RM_Sales.
//!
//! Amounts are taken, never repaired: sales = Σ line amounts must equal Chargebee's sub-total,
//! and total must equal sales − discount + tax; anything else is a mapping error at the field
//! that disagrees. Distributions: receivables debit = total, trade discount debit = discount,
//! sales credits = line amounts (per GL account or per line), tax credit = tax — balanced to the
//! minor unit by construction and checked again.

use crate::common::{
    CUSTOMER_PO_MAX, Ledger, check_date, checked_sum, describe, iso_code, money, non_negative, present, truncate,
};
use crate::customer::gp_customer_id;
use crate::ids::{SALES_DOC_NUMBER_MAX, batch_id};
use crate::settings::Settings;
use crate::wit::{BatchKey, DistributionKind, Invoice, LedgerDoc, ReceivablesInvoice};
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
        // It may already be in GP: a person decides (void it there), unless told to skip.
        "voided" => {
            return match s.choice("map.invoice.voided", &["error", "skip"])? {
                "skip" => Ok(Vec::new()),
                _ => Err(err(
                    "invoice.status",
                    format!(
                        "invoice {} is voided in Chargebee; voids are not synced (void it in GP if it was synced, or set map.invoice.voided = \"skip\")",
                        inv.id
                    ),
                )),
            };
        }
        // Not final yet: it comes back (invoice_updated) when Chargebee closes it.
        "pending" => {
            if s.choice("map.invoice.pending", &["skip", "sync"])? == "skip" {
                return Ok(Vec::new());
            }
        }
        other => return Err(err("invoice.status", format!("unknown invoice status {other:?}"))),
    }
    check_date(&inv.date, "invoice.date")?;
    let iso = iso_code(&inv.currency, "invoice.currency")?;
    let currency = s.currency(&iso)?;

    for (n, line) in inv.lines.iter().enumerate() {
        non_negative(line.amount, &format!("invoice.lines[{n}].amount"), &iso)?;
    }
    let sales = checked_sum(inv.lines.iter().map(|l| l.amount), "invoice.lines")?;
    if sales != inv.sub_total {
        return Err(err(
            "invoice.sub-total",
            format!(
                "the {} line amounts sum to {} but the sub-total is {}",
                inv.lines.len(),
                money(sales, &iso),
                money(inv.sub_total, &iso)
            ),
        ));
    }
    let discount = non_negative(inv.discount, "invoice.discount", &iso)?;
    let tax = non_negative(inv.tax, "invoice.tax", &iso)?;
    let expected = sales
        .checked_sub(discount)
        .and_then(|v| v.checked_add(tax))
        .ok_or_else(|| err("invoice.total", "the amounts overflow"))?;
    if inv.total != expected {
        return Err(err(
            "invoice.total",
            format!(
                "total {} ≠ sales {} − discount {} + tax {} = {}",
                money(inv.total, &iso),
                money(sales, &iso),
                money(discount, &iso),
                money(tax, &iso),
                money(expected, &iso)
            ),
        ));
    }
    let total = non_negative(inv.total, "invoice.total", &iso)?;

    let batch_key = "map.batch.invoice";
    let batch = batch_id(s.or(batch_key, DEFAULT_BATCH), &inv.date, &currency).map_err(|m| err(batch_key, m))?;
    let vars = [
        ("id", inv.id.as_str()),
        ("customer_id", inv.customer_id.as_str()),
        ("po", present(&inv.po_number).unwrap_or("")),
    ];
    let description = describe(s.or("map.invoice.description", DEFAULT_DESCRIPTION), "map.invoice.description", &vars)?;

    Ok(vec![LedgerDoc::Invoice(ReceivablesInvoice {
        number: gp_invoice_number(s, &inv.id, "invoice.id")?,
        customer_id: gp_customer_id(s, &inv.customer_id, "invoice.customer-id")?,
        customer_source_id: inv.customer_id.clone(),
        batch: BatchKey { source: "RM_Sales".into(), id: batch },
        date: inv.date.clone(),
        currency_id: currency.clone(),
        exchange: None,
        currency,
        sales,
        trade_discount: discount,
        freight: 0,
        misc: 0,
        tax,
        total,
        description,
        customer_po: present(&inv.po_number).map(|po| truncate(po, CUSTOMER_PO_MAX)),
        distributions: distributions(inv, s, &iso)?,
        tax_schedule: None,
        tax_details: Vec::new(),
    })])
}

fn distributions(inv: &Invoice, s: &Settings, iso: &str) -> Result<Vec<crate::wit::Distribution>, MappingError> {
    if s.choice("map.distributions", &["explicit", "gp_default"])? == "gp_default" {
        return Ok(Vec::new());
    }
    let per_line = s.choice("map.invoice.sales_distribution", &["by_account", "per_line"])? == "per_line";
    let mut ledger = Ledger::default();
    if inv.total != 0 {
        ledger.debit(
            DistributionKind::Receivables,
            &s.account("map.account.receivables", "for the invoice's receivables debit")?,
            inv.total,
            None,
        );
    }
    if inv.discount != 0 {
        ledger.debit(
            DistributionKind::TradeDiscount,
            &s.account("map.account.discount", "for the invoice's trade discount debit")?,
            inv.discount,
            None,
        );
    }
    // Sales credits, per account in first-seen order unless per line.
    let mut by_account: Vec<(String, i64)> = Vec::new();
    for (n, line) in inv.lines.iter().enumerate().filter(|(_, l)| l.amount != 0) {
        let account = sales_account(s, n, line)?;
        if per_line {
            ledger.credit(DistributionKind::Sales, &account, line.amount, Some(line.description.clone()));
        } else if let Some(slot) = by_account.iter_mut().find(|(a, _)| *a == account) {
            slot.1 = checked_sum([slot.1, line.amount], "invoice.lines")?;
        } else {
            by_account.push((account, line.amount));
        }
    }
    for (account, amount) in by_account {
        ledger.credit(DistributionKind::Sales, &account, amount, None);
    }
    if inv.tax != 0 {
        ledger.credit(
            DistributionKind::Tax,
            &s.account("map.account.tax", "for the invoice's tax credit")?,
            inv.tax,
            None,
        );
    }
    ledger.finish("invoice.distributions", iso)
}

/// `map.account.sales.item.<entity-id>`, else `map.account.sales.type.<entity-type>`, else
/// `map.account.sales`.
fn sales_account(s: &Settings, n: usize, line: &crate::wit::InvoiceLine) -> Result<String, MappingError> {
    if let Some(id) = &line.entity_id
        && let Some(a) = s.account_opt(&format!("map.account.sales.item.{id}"))?
    {
        return Ok(a);
    }
    if let Some(a) = s.account_opt(&format!("map.account.sales.type.{}", line.entity_type))? {
        return Ok(a);
    }
    s.account(
        "map.account.sales",
        &format!(
            "for the sales credit of invoice line {n} ({} {})",
            line.entity_type,
            line.entity_id.as_deref().unwrap_or("")
        ),
    )
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
        let s = without(without(settings(), "map.account.tax"), "map.account.discount");
        assert!(gp(inv, s).is_ok());
        // GP's own posting accounts: no distributions, no accounts needed.
        let s = with(vec![], &[("map.distributions", "gp_default")]);
        assert!(gp(invoice(), s).expect("maps").expect("doc").distributions.is_empty());
    }

    #[test]
    fn statuses() {
        let mut inv = invoice();
        inv.status = "voided".into();
        assert_eq!(gp(inv.clone(), settings()).expect_err("voided").field, "invoice.status");
        assert!(gp(inv, with(settings(), &[("map.invoice.voided", "skip")])).expect("skips").is_none());
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
        assert_eq!(gp(inv, settings()).expect_err("date").field, "invoice.date");
        let mut inv = invoice();
        inv.currency = "US".into();
        assert_eq!(gp(inv, settings()).expect_err("currency").field, "invoice.currency");
        let g = gp(invoice(), with(settings(), &[("map.currency.USD", "Z-US$")])).expect("maps").expect("doc");
        assert_eq!(g.currency, "Z-US$");
    }
}
