//! Generated data (deterministic, arithmetically consistent) and mutations that behave like
//! Chargebee's (versions, statuses, events with snapshots).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chargebee_sandbox::*;
use support::*;

#[tokio::test]
async fn same_seed_same_data_other_seed_other_data() {
    let (a, site_a) = seeded(&spec(15, 4)).await;
    let (b, site_b) = seeded(&spec(15, 4)).await;
    let (ca, cb) = (a.control(), b.control());
    assert_eq!(ca.invoices(&site_a.name).unwrap(), cb.invoices(&site_b.name).unwrap());
    assert_eq!(ca.customers(&site_a.name).unwrap(), cb.customers(&site_b.name).unwrap());
    assert_eq!(ca.transactions(&site_a.name).unwrap(), cb.transactions(&site_b.name).unwrap());
    assert_eq!(ca.credit_notes(&site_a.name).unwrap(), cb.credit_notes(&site_b.name).unwrap());
    assert_eq!(ca.events(&site_a.name).unwrap(), cb.events(&site_b.name).unwrap());

    let other = SeedSpec { seed: 7, ..spec(15, 4) };
    let (c, site_c) = seeded(&other).await;
    assert_ne!(c.control().invoices(&site_c.name).unwrap(), ca.invoices(&site_a.name).unwrap());
}

#[tokio::test]
async fn generated_amounts_add_up() {
    let s = SeedSpec { credit_note_rate: 0.3, refund_rate: 0.3, ..spec(40, 5) };
    let (sb, site) = seeded(&s).await;
    let control = sb.control();
    let summary_check = control.events(&site.name).unwrap();
    let invoices = control.invoices(&site.name).unwrap();
    assert_eq!(invoices.len(), 200);
    let currencies: std::collections::HashSet<_> = invoices.iter().map(|i| i.currency_code.as_str()).collect();
    for c in ["USD", "EUR", "GBP", "AUD", "JPY"] {
        assert!(currencies.contains(c), "no {c} invoice");
    }
    for inv in &invoices {
        let lines: i64 = inv.line_items.iter().map(|l| l.amount).sum();
        let discounts: i64 = inv.line_items.iter().map(|l| l.discount_amount).sum();
        let tax: i64 = inv.line_items.iter().map(|l| l.tax_amount).sum();
        for l in &inv.line_items {
            assert_eq!(l.amount, l.unit_amount * i64::from(l.quantity), "invoice {}", inv.id);
        }
        assert_eq!(inv.sub_total, lines);
        assert_eq!(inv.tax, tax);
        assert_eq!(inv.total, inv.sub_total - discounts + inv.tax + inv.round_off_amount, "invoice {}", inv.id);
        let doc_discounts: i64 = inv.discounts.iter().map(|d| d.amount).sum();
        assert_eq!(doc_discounts, discounts, "invoice {}", inv.id);
        let line_taxes: i64 = inv.line_item_taxes.iter().map(|t| t.tax_amount).sum();
        let summary: i64 = inv.taxes.iter().map(|t| t.amount).sum();
        assert_eq!((line_taxes, summary), (inv.tax, inv.tax), "invoice {}", inv.id);
        if inv.currency_code == "AUD" {
            assert_eq!(inv.total % 5, 0, "AUD totals are rounded to 5 cents");
            assert!(inv.round_off_amount.abs() <= 2);
        } else {
            assert_eq!(inv.round_off_amount, 0);
        }
        assert_eq!(inv.exchange_rate == 1.0, inv.currency_code == "USD", "invoice {}", inv.id);
        if inv.currency_code == "USD" && inv.tax > 0 {
            let juris: std::collections::BTreeSet<_> =
                inv.line_item_taxes.iter().filter_map(|t| t.tax_juris_type.as_deref()).collect();
            assert_eq!(juris.into_iter().collect::<Vec<_>>(), ["city", "county", "state"], "invoice {}", inv.id);
        }
        assert_eq!(
            inv.amount_due,
            inv.total - inv.amount_paid - inv.amount_adjusted - inv.credits_applied,
            "invoice {}",
            inv.id
        );
        let linked: i64 = inv.linked_payments.iter().map(|p| p.applied_amount).sum();
        assert_eq!(linked, inv.amount_paid);
        assert_eq!(inv.status == "paid", inv.amount_due == 0, "invoice {} {}", inv.id, inv.status);
        assert!(inv.updated_at >= inv.date && inv.updated_at <= UNTIL);
        assert!(inv.updated_at > UNTIL - 181 * 86_400);
        if inv.currency_code == "JPY" {
            // Zero-decimal: catalog prices land on whole yen amounts in the thousands, not cents.
            assert!(inv.line_items.iter().all(|l| l.unit_amount >= 100), "{:?}", inv.line_items);
        }
    }
    let txns = control.transactions(&site.name).unwrap();
    let refunds: Vec<_> = txns.iter().filter(|t| t.kind == "refund").collect();
    assert!(!refunds.is_empty(), "no refunds generated");
    for r in &refunds {
        let original = txns.iter().find(|t| Some(&t.id) == r.refunded_txn_id.as_ref()).expect("refunded payment");
        assert!(original.linked_refunds.iter().any(|l| l.txn_id == r.id));
        assert_eq!(r.linked_credit_notes.len(), 1);
    }
    let cards: Vec<_> = txns.iter().filter(|t| t.payment_method == "card" && t.kind == "payment").collect();
    assert!(!cards.is_empty(), "no card payments generated");
    for t in &cards {
        let details: serde_json::Value =
            serde_json::from_str(t.payment_method_details.as_deref().expect("card details")).expect("JSON text");
        assert!(details["card"]["brand"].as_str().is_some_and(|b| !b.is_empty()), "{details}");
    }
    let customers = control.customers(&site.name).unwrap();
    assert!(customers.iter().any(|c| c.phone.is_some()) && customers.iter().any(|c| c.phone.is_none()));
    for c in &customers {
        let number = c.custom_fields.get("cf_gp_number").expect("cf_gp_number");
        assert!(
            number.len() <= 15 && number.chars().all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit()),
            "{number}"
        );
    }
    let cns = control.credit_notes(&site.name).unwrap();
    assert!(cns.iter().any(|c| c.kind == "adjustment") && cns.iter().any(|c| c.kind == "refundable"));
    assert!(cns.iter().any(|c| !c.discounts.is_empty()), "no discounted credit note");
    for cn in &cns {
        let discount: i64 = cn.discounts.iter().map(|d| d.amount).sum();
        let tax: i64 = cn.line_item_taxes.iter().map(|t| t.tax_amount).sum();
        let lines: i64 = cn.line_items.iter().map(|l| l.amount).sum();
        assert_eq!((lines, cn.total), (cn.sub_total, cn.sub_total - discount + tax), "{}", cn.id);
        assert_eq!(cn.total, cn.amount_allocated + cn.amount_refunded + cn.amount_available, "{}", cn.id);
        let alloc: i64 = cn.allocations.iter().map(|a| a.allocated_amount).sum();
        assert_eq!(alloc, cn.amount_allocated);
    }
    // Events are in time order and versions never repeat.
    assert!(summary_check.windows(2).all(|w| w[0].occurred_at <= w[1].occurred_at));
    let mut versions: Vec<i64> = invoices.iter().map(|i| i.resource_version).collect();
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), invoices.len());
}

#[tokio::test]
async fn mutations_change_records_and_append_events_with_snapshots() {
    let sb = start(roomy()).await;
    let site = sb.sites()[1].clone();
    let control = sb.control();
    control.set_clock(Some(1_760_000_000));
    let cust = control
        .create_customer(
            &site.name,
            CustomerInput {
                id: Some("cust-1".into()),
                email: Some("ap@example.com".into()),
                company: Some("Example GmbH".into()),
                preferred_currency_code: Some("EUR".into()),
                net_term_days: 30,
                ..Default::default()
            },
        )
        .unwrap();
    control.advance_clock(std::time::Duration::from_secs(60));
    let inv = control
        .create_invoice(
            &site.name,
            InvoiceInput {
                tax_name: "VAT".into(),
                po_number: Some("PO-77".into()),
                ..InvoiceInput::new(
                    &cust.id,
                    vec![
                        LineInput::adhoc("Pro plan", 9_900, 3).tax_bp(1900).discount(2_970),
                        LineInput::adhoc("Setup", 5_000, 1).tax_bp(1900),
                    ],
                )
            },
        )
        .unwrap();
    // 29 700 − 2 970 = 26 730 → VAT 5 078.7 → 5 079; 5 000 → 950.
    assert_eq!((inv.sub_total, inv.tax, inv.total), (34_700, 6_029, 37_759));
    assert_eq!(inv.status, "posted");
    assert_eq!(inv.currency_code, "EUR");
    assert_eq!(inv.due_date, inv.date + 30 * 86_400);

    control.advance_clock(std::time::Duration::from_secs(3600));
    let pay = control.record_payment(&site.name, PaymentInput::single(&inv.id, 20_000)).unwrap();
    let after = control.invoice(&site.name, &inv.id).unwrap();
    assert_eq!((after.amount_paid, after.amount_due, after.status.as_str()), (20_000, 17_759, "posted"));
    assert!(after.resource_version > inv.resource_version && after.updated_at > inv.updated_at);
    assert_eq!(pay.linked_invoices[0].invoice_id, inv.id);

    let cn = control
        .create_credit_note(
            &site.name,
            CreditNoteInput {
                reference_invoice_id: inv.id.clone(),
                kind: CreditNoteKind::Adjustment,
                reason_code: "product_unsatisfactory".into(),
                total: 7_759,
                date: None,
            },
        )
        .unwrap();
    assert_eq!(cn.allocations[0].allocated_amount, 7_759);
    let pay2 = control.record_payment(&site.name, PaymentInput::single(&inv.id, 10_000)).unwrap();
    let paid = control.invoice(&site.name, &inv.id).unwrap();
    assert_eq!((paid.amount_due, paid.status.as_str()), (0, "paid"));
    assert!(paid.paid_at.is_some());
    // Nothing is due any more: a further payment is refused like Chargebee would.
    assert!(control.record_payment(&site.name, PaymentInput::single(&inv.id, 1)).is_err());

    let refund = control
        .refund(
            &site.name,
            RefundInput {
                invoice_id: inv.id.clone(),
                amount: 4_000,
                reason_code: "product_unsatisfactory".into(),
                date: None,
            },
        )
        .unwrap();
    assert_eq!(refund.kind, "refund");
    assert_eq!(refund.refunded_txn_id.as_deref(), Some(pay2.id.as_str()));

    control
        .update_customer(
            &site.name,
            &cust.id,
            CustomerUpdate { company: Some("Example SE".into()), ..Default::default() },
        )
        .unwrap();

    let events = control.events(&site.name).unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "customer_created",
            "invoice_generated",
            "payment_succeeded",
            "credit_note_created",
            "invoice_updated",
            "payment_succeeded",
            "credit_note_created",
            "payment_refunded",
            "customer_changed",
        ]
    );
    // Snapshots are as of the event, not as of now.
    assert_eq!(events[1].content["invoice"]["amount_due"], 37_759);
    assert_eq!(events[2].content["invoice"]["amount_due"], 17_759);
    assert_eq!(events[2].content["transaction"]["id"], pay.id.as_str());
    assert_eq!(events[2].content["customer"]["id"], "cust-1");
    assert_eq!(events[5].content["invoice"]["status"], "paid");
    assert_eq!(events[7].content["credit_note"]["status"], "refunded");
    assert_eq!(events[8].content["customer"]["company"], "Example SE");
    assert_eq!(events[0].content["customer"]["company"], "Example GmbH");

    // The API shows the same through the EU origin.
    let c = client();
    let r = get(&c, &sb, &site, &format!("/api/v2/invoices/{}", inv.id)).await;
    assert_eq!(r.json["invoice"]["status"], "paid");
    assert_eq!(r.json["invoice"]["linked_payments"].as_array().unwrap().len(), 2);
    let r = get(&c, &sb, &site, "/api/v2/events?event_type[in]=[\"payment_refunded\"]").await;
    assert_eq!(r.json["list"][0]["event"]["content"]["transaction"]["id"], refund.id.as_str());
    let r = get(&c, &sb, &site, "/api/v2/transactions?type[is]=refund").await;
    assert_eq!(r.json["list"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn voided_invoices_and_failed_payments_at_set_rates_deterministically() {
    let s = SeedSpec { void_rate: 0.25, failed_payment_rate: 0.25, ..spec(20, 5) };
    let sb = start(roomy()).await;
    let site = sb.sites()[0].clone();
    let summary = sb.control().seed(&site.name, &s).unwrap();
    assert!(summary.voided_invoices > 5, "{summary:?}");
    assert!(summary.failed_payments > 5, "{summary:?}");
    let control = sb.control();
    let invoices = control.invoices(&site.name).unwrap();
    let voided: Vec<_> = invoices.iter().filter(|i| i.status == "voided").collect();
    assert_eq!(voided.len(), summary.voided_invoices);
    for inv in &voided {
        assert_eq!((inv.amount_due, inv.amount_paid, inv.credits_applied), (0, 0, 0), "invoice {}", inv.id);
        assert!(inv.voided_at.is_some());
    }
    let txns = control.transactions(&site.name).unwrap();
    let failed: Vec<_> = txns.iter().filter(|t| t.status == "failure").collect();
    assert_eq!(failed.len(), summary.failed_payments);
    assert!(failed.iter().all(|t| t.linked_invoices.is_empty() && t.kind == "payment"));
    let events = control.events(&site.name).unwrap();
    let count = |ty: &str| events.iter().filter(|e| e.event_type == ty).count();
    assert_eq!(count("payment_failed"), summary.failed_payments);
    let voided_events = events
        .iter()
        .filter(|e| e.event_type == "invoice_updated")
        .filter(|e| e.content["invoice"]["status"] == "voided")
        .count();
    assert_eq!(voided_events, summary.voided_invoices);

    // Same seed, same data; the default rate (0) voids and fails nothing.
    let (again, site_again) = seeded(&s).await;
    assert_eq!(again.control().invoices(&site_again.name).unwrap(), invoices);
    assert_eq!(again.control().transactions(&site_again.name).unwrap(), txns);
    let (plain, site_plain) = seeded(&spec(20, 5)).await;
    let plain_invoices = plain.control().invoices(&site_plain.name).unwrap();
    assert!(plain_invoices.iter().all(|i| i.status != "voided"));
    assert!(plain.control().transactions(&site_plain.name).unwrap().iter().all(|t| t.status != "failure"));
}
