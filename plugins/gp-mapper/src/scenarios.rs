//! Whole documents through `map_record`, one Chargebee situation each: a EUR invoice at
//! Chargebee's rate, a tax-inclusive invoice, a US invoice taxed by state, county and city, a
//! round-off, a discounted credit note, card names, receipt distributions, customer numbering.

use crate::common::imbalance;
use crate::fixtures::*;
use crate::map_record;
use crate::wit::*;

/// The record's one document (its applies, which follow it, aside).
fn one(rec: SourceRecord, s: &[(String, String)]) -> Result<LedgerDoc, crate::MappingError> {
    let mut docs = map_record(&rec, s)?;
    assert!(docs.iter().skip(1).all(|d| matches!(d, LedgerDoc::Apply(_))), "{docs:?}");
    Ok(docs.remove(0))
}

fn inv(i: Invoice, s: &[(String, String)]) -> Result<ReceivablesInvoice, crate::MappingError> {
    match one(record_invoice(i), s)? {
        LedgerDoc::Invoice(i) => Ok(i),
        other => panic!("{other:?}"),
    }
}

fn memo(c: CreditNote, s: &[(String, String)]) -> Result<CreditMemo, crate::MappingError> {
    match one(record_credit_note(c), s)? {
        LedgerDoc::CreditMemo(m) => Ok(m),
        other => panic!("{other:?}"),
    }
}

fn receipt(p: Payment, s: &[(String, String)]) -> Result<CashReceipt, crate::MappingError> {
    match one(record_payment(p), s)? {
        LedgerDoc::CashReceipt(r) => Ok(r),
        other => panic!("{other:?}"),
    }
}

fn dists(d: &[Distribution]) -> Vec<(DistributionKind, &str, i64, i64)> {
    d.iter().map(|x| (x.kind, x.account.as_str(), x.debit, x.credit)).collect()
}

fn details(d: &[TaxDetail]) -> Vec<(&str, i64, i64, Option<&str>)> {
    d.iter().map(|x| (x.id.as_str(), x.amount, x.taxable_sales, x.account.as_deref())).collect()
}

fn tax(line: &str, name: &str, juris: (&str, &str, &str), taxable: i64, amount: i64) -> LineTax {
    LineTax {
        line_id: Some(line.into()),
        name: name.into(),
        jurisdiction_type: Some(juris.0.into()),
        jurisdiction_name: Some(juris.1.into()),
        jurisdiction_code: Some(juris.2.into()),
        rate: "1.0".into(),
        taxable,
        amount,
    }
}

fn eur_invoice() -> Invoice {
    Invoice {
        currency: "EUR".into(),
        exchange_rate: Some("1.0834".into()),
        lines: vec![line("li_1", "Pro plan", 1, 10_000, 1_900, "plan_item_price", None)],
        sub_total: 10_000,
        discount: 0,
        tax: 1_900,
        total: 11_900,
        line_taxes: vec![LineTax { name: "VAT".into(), ..line_tax("li_1", 10_000, 1_900) }],
        ..invoice()
    }
}

#[test]
fn eur_invoice_at_chargebees_rate() {
    let s = with(
        settings(),
        &[
            ("map.exchange_rate", "chargebee"),
            ("map.base_currency", "USD"),
            ("map.rate_type", "SELL"),
            ("map.currency.EUR", "Z-EURO"),
            ("map.tax.VAT", "DE-VAT19"),
        ],
    );
    let g = inv(eur_invoice(), &s).expect("maps");
    assert_eq!((g.currency.as_str(), g.currency_id.as_str()), ("EUR", "Z-EURO"));
    let x = g.exchange.expect("a rate");
    assert_eq!((x.rate.as_str(), x.date.as_str(), x.rate_type.as_deref()), ("1.0834", "2023-11-14", Some("SELL")));
    assert_eq!(details(&g.tax_details), [("DE-VAT19", 1_900, 10_000, Some("000-2100-00"))]);
    // GP's rate table (the default): no rate sent.
    let g = inv(eur_invoice(), &with(settings(), &[("map.tax.VAT", "DE-VAT19")])).expect("maps");
    assert!(g.exchange.is_none());
    // Chargebee's rate asked for, none sent: an error naming the field.
    let mut no_rate = eur_invoice();
    no_rate.exchange_rate = None;
    assert_eq!(inv(no_rate, &s).expect_err("no rate").field, "invoice.exchange-rate");
    // A USD (functional) invoice never carries a rate.
    let g = inv(Invoice { exchange_rate: Some("1.0".into()), ..invoice() }, &s).expect("maps");
    assert!(g.exchange.is_none());
}

#[test]
fn tax_inclusive_invoice_books_sales_net_of_tax() {
    // Two lines at 119.00 and 21.40 gross; 19 % and 7 % VAT included; 10.00 discount on line 1.
    let mut i = eur_invoice();
    i.price_type = "tax_inclusive".into();
    i.lines = vec![
        InvoiceLine { discount: 1_000, ..line("li_1", "Pro plan", 1, 11_900, 1_740, "plan_item_price", None) },
        line("li_2", "Ebook", 2, 1_070, 140, "charge_item_price", None),
    ];
    i.line_taxes = vec![
        LineTax { name: "VAT".into(), ..line_tax("li_1", 9_160, 1_740) },
        LineTax { name: "VAT reduced".into(), ..line_tax("li_2", 2_000, 140) },
    ];
    i.sub_total = 14_040;
    i.discount = 1_000;
    i.tax = 1_880;
    i.total = 13_040; // sub-total − discount; the tax is inside.
    let s = with(
        settings(),
        &[
            ("map.tax.VAT", "DE-VAT19"),
            ("map.tax.VAT reduced", "DE-VAT7"),
            ("map.account.sales.type.charge_item_price", "000-4200-00"),
        ],
    );
    let g = inv(i.clone(), &s).expect("maps");
    assert_eq!((g.sales, g.trade_discount, g.misc, g.tax, g.total), (12_160, 1_000, 0, 1_880, 13_040));
    assert_eq!(g.total, g.sales - g.trade_discount + g.misc + g.tax);
    assert_eq!(
        dists(&g.distributions),
        [
            (DistributionKind::Receivables, "000-1200-00", 13_040, 0),
            (DistributionKind::TradeDiscount, "000-4100-00", 1_000, 0),
            (DistributionKind::Sales, "000-4000-00", 0, 10_160),
            (DistributionKind::Sales, "000-4200-00", 0, 2_000),
            (DistributionKind::Tax, "000-2100-00", 0, 1_740),
            (DistributionKind::Tax, "000-2100-00", 0, 140),
        ]
    );
    assert_eq!(imbalance(&g.distributions), 0);
    // Read as tax-exclusive, the same amounts do not add up.
    i.price_type = "tax_exclusive".into();
    assert_eq!(inv(i, &s).expect_err("identity").field, "invoice.total");
}

#[test]
fn us_invoice_taxed_by_state_county_and_city() {
    let mut i = invoice();
    i.discount = 0;
    i.lines[0].discount = 0;
    let (state, county, city) =
        (("state", "California", "06"), ("county", "Los Angeles", "037"), ("city", "Los Angeles", "44000"));
    i.line_taxes = vec![
        tax("li_1", "CA State Tax", state, 10_000, 600),
        tax("li_1", "CA County Tax", county, 10_000, 25),
        tax("li_1", "CA City Tax", city, 10_000, 75),
        tax("li_2", "CA State Tax", state, 1_000, 60),
        tax("li_2", "CA County Tax", county, 1_000, 3),
        tax("li_2", "CA City Tax", city, 1_000, 7),
    ];
    i.tax = 770;
    i.total = 11_770;
    // Mapped by tax name, by jurisdiction name, and by jurisdiction code.
    let s = with(
        settings(),
        &[
            ("map.tax.CA State Tax", "CA-STATE"),
            ("map.tax.037", "CA-LA-COUNTY"),
            ("map.tax.CA City Tax", "CA-LA-CITY"),
            ("map.account.tax.CA-LA-CITY", "000-2130-00"),
            ("map.tax_schedule", "CA-LA"),
        ],
    );
    let g = inv(i.clone(), &s).expect("maps");
    assert_eq!(
        details(&g.tax_details),
        [
            ("CA-STATE", 660, 11_000, Some("000-2100-00")),
            ("CA-LA-COUNTY", 28, 11_000, Some("000-2100-00")),
            ("CA-LA-CITY", 82, 11_000, Some("000-2130-00")),
        ]
    );
    assert_eq!(g.tax_details.iter().map(|d| d.amount).sum::<i64>(), g.tax);
    assert_eq!(g.tax_schedule.as_deref(), Some("CA-LA"));
    let taxes: Vec<_> = g
        .distributions
        .iter()
        .filter(|d| d.kind == DistributionKind::Tax)
        .map(|d| (d.account.as_str(), d.credit, d.reference.as_deref()))
        .collect();
    assert_eq!(
        taxes,
        [
            ("000-2100-00", 660, Some("CA-STATE")),
            ("000-2100-00", 28, Some("CA-LA-COUNTY")),
            ("000-2130-00", 82, Some("CA-LA-CITY"))
        ]
    );
    assert_eq!(imbalance(&g.distributions), 0);
    // One jurisdiction unmapped: the error names its tax's key.
    let e = inv(i.clone(), &without(s.clone(), "map.tax.037")).expect_err("unmapped");
    assert_eq!(e.field, "map.tax.CA County Tax");
    // Line taxes that do not add up to the tax.
    i.line_taxes[5].amount = 8;
    assert_eq!(inv(i, &s).expect_err("sum").field, "invoice.line-taxes");
}

#[test]
fn round_off_invoices_balance() {
    let mut i = invoice();
    i.round_off = 5;
    i.total += 5;
    let s = with(settings(), &[("map.account.round_off", "000-7900-00")]);
    let g = inv(i.clone(), &s).expect("maps");
    assert_eq!((g.misc, g.trade_discount, g.total), (5, 500, 11_440));
    assert_eq!(g.total, g.sales - g.trade_discount + g.freight + g.misc + g.tax);
    assert!(dists(&g.distributions).contains(&(DistributionKind::Misc, "000-7900-00", 0, 5)));
    assert_eq!(imbalance(&g.distributions), 0);
    assert_eq!(inv(i.clone(), &settings()).expect_err("no account").field, "map.account.round_off");
    // Negative: GP amounts are ≥ 0, so it joins the trade discount, on the round-off account.
    i.round_off = -3;
    i.total = 11_432;
    let g = inv(i, &s).expect("maps");
    assert_eq!((g.misc, g.trade_discount, g.total), (0, 503, 11_432));
    assert_eq!(g.total, g.sales - g.trade_discount + g.misc + g.tax);
    assert!(dists(&g.distributions).contains(&(DistributionKind::TradeDiscount, "000-7900-00", 3, 0)));
    assert_eq!(imbalance(&g.distributions), 0);
}

#[test]
fn discounted_credit_note_with_lines_balances() {
    let c = CreditNote {
        lines: vec![
            line("li_9", "Pro plan (part)", 1, 2_000, 153, "plan_item_price", Some("pro-USD-monthly")),
            line("li_10", "Setup fee", 1, 1_000, 85, "charge_item_price", None),
        ],
        sub_total: 3_000,
        discount: 200,
        tax: 238,
        round_off: 2,
        total: 3_040,
        line_taxes: vec![line_tax("li_9", 1_800, 153), line_tax("li_10", 1_000, 85)],
        allocations: vec![Allocation { invoice_id: "1001".into(), amount: 3_040, applied_at: 0 }],
        ..credit_note()
    };
    let s = with(
        settings(),
        &[("map.account.round_off", "000-7900-00"), ("map.account.sales.type.charge_item_price", "000-4200-00")],
    );
    let m = memo(c.clone(), &s).expect("maps");
    assert_eq!((m.sales, m.trade_discount, m.misc, m.tax, m.total), (3_000, 200, 2, 238, 3_040));
    assert_eq!(m.total, m.sales - m.trade_discount + m.misc + m.tax);
    assert_eq!(
        dists(&m.distributions),
        [
            (DistributionKind::Returns, "000-4000-00", 2_000, 0),
            (DistributionKind::Returns, "000-4200-00", 1_000, 0),
            (DistributionKind::Misc, "000-7900-00", 2, 0),
            (DistributionKind::Tax, "000-2100-00", 238, 0),
            (DistributionKind::TradeDiscount, "000-4100-00", 0, 200),
            (DistributionKind::Receivables, "000-1200-00", 0, 3_040),
        ]
    );
    assert_eq!(imbalance(&m.distributions), 0);
    assert_eq!(details(&m.tax_details), [("USSALES", 238, 2_800, Some("000-2100-00"))]);
    // map.account.returns takes every line; map.credit_memo.sales_kind = sales uses DISTTYPE 9.
    let m = memo(
        c.clone(),
        &with(s.clone(), &[("map.account.returns", "000-4500-00"), ("map.credit_memo.sales_kind", "sales")]),
    )
    .expect("maps");
    assert_eq!(dists(&m.distributions)[0], (DistributionKind::Sales, "000-4500-00", 3_000, 0));
    // Lines that do not add up to the sub-total.
    let mut off = c;
    off.lines[1].amount = 999;
    assert_eq!(memo(off, &s).expect_err("lines").field, "credit-note.sub-total");
}

#[test]
fn card_receipts_carry_the_card_name() {
    let r = receipt(payment(), &settings()).expect("maps");
    assert_eq!((r.receipt_type, r.card_name.as_deref()), (ReceiptType::PaymentCard, Some("VISA")));
    let amex = Payment { card_brand: Some("american_express".into()), ..payment() };
    assert_eq!(receipt(amex.clone(), &settings()).expect_err("unmapped").field, "map.card.american_express");
    let s = with(settings(), &[("map.card.american_express", "AMEX"), ("map.card.default", "OTHER CARD")]);
    assert_eq!(receipt(amex, &s).expect("maps").card_name.as_deref(), Some("AMEX"));
    let unknown = Payment { card_brand: None, ..payment() };
    assert_eq!(receipt(unknown.clone(), &settings()).expect_err("no brand").field, "map.card.default");
    assert_eq!(receipt(unknown, &s).expect("maps").card_name.as_deref(), Some("OTHER CARD"));
    let long = with(settings(), &[("map.card.visa", "VISA INTERNATIONAL")]);
    assert_eq!(receipt(payment(), &long).expect_err("long").field, "map.card.visa");
    // Not a card receipt: no card name needed.
    let check = Payment { method: "check".into(), card_brand: None, ..payment() };
    assert_eq!(receipt(check, &without(settings(), "map.card.visa")).expect("maps").card_name, None);
}

#[test]
fn receipt_distributions_only_with_a_cash_account() {
    assert!(receipt(payment(), &settings()).expect("maps").distributions.is_empty());
    let s = with(settings(), &[("map.account.cash", "000-1100-00"), ("map.account.cash.EUR", "000-1110-00")]);
    let r = receipt(payment(), &s).expect("maps");
    assert_eq!(
        dists(&r.distributions),
        [(DistributionKind::Cash, "000-1100-00", 11_435, 0), (DistributionKind::Receivables, "000-1200-00", 0, 11_435)]
    );
    let eur = Payment { currency: "EUR".into(), ..payment() };
    assert_eq!(receipt(eur, &s).expect("maps").distributions[0].account, "000-1110-00");
    assert_eq!(
        receipt(payment(), &without(s.clone(), "map.account.receivables")).expect_err("?").field,
        "map.account.receivables"
    );
    let gp = with(s, &[("map.distributions", "gp_default")]);
    assert!(receipt(payment(), &gp).expect("maps").distributions.is_empty());
}

#[test]
fn eur_receipt_at_chargebees_rate() {
    let s = with(settings(), &[("map.exchange_rate", "chargebee"), ("map.base_currency", "USD")]);
    let eur = Payment { currency: "EUR".into(), exchange_rate: Some("1.08340000001".into()), ..payment() };
    assert_eq!(receipt(eur.clone(), &s).expect("maps").exchange.map(|x| x.rate).as_deref(), Some("1.0834"));
    let e = receipt(Payment { exchange_rate: None, ..eur }, &s).expect_err("no rate");
    assert_eq!(e.field, "payment.exchange-rate");
}

#[test]
fn documents_of_non_hashed_customers_carry_the_source_id_only() {
    for scheme in ["allocated", "field:cf_gp_number"] {
        let s = with(settings(), &[("map.customer.number", scheme)]);
        let g = inv(invoice(), &s).expect("invoice");
        assert_eq!((g.customer_id.as_str(), g.customer_source_id.as_str()), ("", "ACME-001"));
        let r = receipt(payment(), &s).expect("receipt");
        assert_eq!((r.customer_id.as_str(), r.customer_source_id.as_str()), ("", "ACME-001"));
        let m = memo(credit_note(), &s).expect("memo");
        assert_eq!((m.customer_id.as_str(), m.customer_source_id.as_str()), ("", "ACME-001"));
    }
    let g = inv(invoice(), &settings()).expect("invoice");
    assert_eq!((g.customer_id.as_str(), g.customer_source_id.as_str()), ("ACME-001", "ACME-001"));
}

#[test]
fn new_settings_are_known_and_checked() {
    for (k, v) in [
        ("map.tax_schedule", "A-VERY-LONG-SCHEDULE"),
        ("map.tax.Sales Tax", "A-VERY-LONG-DETAIL-ID"),
        ("map.currency.USD", "A-VERY-LONG-CURRENCY"),
    ] {
        assert_eq!(inv(invoice(), &with(settings(), &[(k, v)])).expect_err(k).field, k);
    }
    assert_eq!(
        inv(invoice(), &with(settings(), &[("map.account.cash.eur", "1")])).expect_err("?").field,
        "map.account.cash.eur"
    );
    assert_eq!(
        inv(invoice(), &with(settings(), &[("map.exchange_rates", "gp")])).expect_err("?").field,
        "map.exchange_rates"
    );
}
