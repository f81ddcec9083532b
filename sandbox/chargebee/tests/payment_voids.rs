//! Payments undone after they succeeded: voided and late-failed transactions, by control call
//! and by the generator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chargebee_sandbox::*;
use support::*;

const T0: i64 = 1_730_000_000;

/// A customer with two unpaid invoices (10 000 and 5 000 USD cents) and one payment of 12 000
/// applied to both (10 000 + 2 000).
fn paid_two(control: &Control, site: &str) -> (Invoice, Invoice, Transaction) {
    control.set_clock(Some(T0));
    let cust = control
        .create_customer(site, CustomerInput { id: Some("cus-void".into()), net_term_days: 30, ..Default::default() })
        .unwrap();
    let a =
        control.create_invoice(site, InvoiceInput::new(&cust.id, vec![LineInput::adhoc("Plan", 10_000, 1)])).unwrap();
    let b =
        control.create_invoice(site, InvoiceInput::new(&cust.id, vec![LineInput::adhoc("Seats", 5_000, 1)])).unwrap();
    control.advance_clock(std::time::Duration::from_secs(3_600));
    let input = PaymentInput {
        payment_method: "bank_transfer".into(),
        reference_number: Some("WIRE-1".into()),
        date: None,
        applications: vec![(a.id.clone(), 10_000), (b.id.clone(), 2_000)],
    };
    let pay = control.record_payment(site, input).unwrap();
    (a, b, pay)
}

#[tokio::test]
async fn a_voided_payment_makes_its_invoices_due_again() {
    let sb = start(roomy()).await;
    let (site, control) = (sb.sites()[0].name.clone(), sb.control());
    let (a, b, pay) = paid_two(&control, &site);
    assert_eq!(control.invoice(&site, &a.id).unwrap().status, "paid");
    let events_before = control.events(&site).unwrap().len();
    control.advance_clock(std::time::Duration::from_secs(86_400));
    let voided = control.void_payment(&site, &pay.id).unwrap();
    let now = T0 + 3_600 + 86_400;
    assert_eq!((voided.status.as_str(), voided.voided_at, voided.updated_at), ("voided", Some(now), now));
    assert!(voided.resource_version > pay.resource_version);
    assert_eq!(voided.linked_invoices.len(), 2, "the links stay, as history");

    let a2 = control.invoice(&site, &a.id).unwrap();
    assert_eq!((a2.amount_paid, a2.amount_due, a2.status.as_str(), a2.paid_at), (0, 10_000, "posted", None));
    assert_eq!(a2.linked_payments[0].txn_status, "voided");
    assert!(a2.resource_version > a.resource_version);
    let b2 = control.invoice(&site, &b.id).unwrap();
    assert_eq!((b2.amount_paid, b2.amount_due), (0, 5_000));
    assert_eq!(voided.linked_invoices[0].invoice_status, "posted");

    let events = control.events(&site).unwrap();
    let new: Vec<_> = events[events_before..].iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(new, ["transaction_updated", "invoice_updated", "invoice_updated"]);
    let ev = &events[events_before];
    assert_eq!(ev.content["transaction"]["status"], "voided");
    assert_eq!(ev.content["transaction"]["voided_at"], now);
    assert_eq!(events[events_before + 1].content["invoice"]["amount_due"], 10_000);

    // Chargebee refuses to undo it twice, or to void what is not a successful payment.
    assert!(matches!(control.void_payment(&site, &pay.id), Err(SandboxError::Invalid(_))));
    assert!(matches!(control.fail_payment_late(&site, &pay.id), Err(SandboxError::Invalid(_))));
    assert!(matches!(control.void_payment(&site, "txn_nope"), Err(SandboxError::NotFound { .. })));
    // The invoice can be paid again.
    control.record_payment(&site, PaymentInput::single(&a.id, 10_000)).unwrap();

    // Over the API: the voided transaction filters by status and shows voided_at.
    let r = get(&client(), &sb, &sb.sites()[0], "/api/v2/transactions?status[is]=voided").await;
    let list = r.json["list"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["transaction"]["voided_at"], now);
}

#[tokio::test]
async fn a_late_failure_sends_payment_failed_and_refunded_payments_stay() {
    let sb = start(roomy()).await;
    let (site, control) = (sb.sites()[0].name.clone(), sb.control());
    let (a, _, pay) = paid_two(&control, &site);
    let events_before = control.events(&site).unwrap().len();
    let failed = control.fail_payment_late(&site, &pay.id).unwrap();
    assert_eq!((failed.status.as_str(), failed.voided_at), ("late_failure", None));
    let events = control.events(&site).unwrap();
    let new: Vec<_> = events[events_before..].iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(new, ["payment_failed", "invoice_updated"]);
    let content = &events[events_before].content;
    assert_eq!(content["transaction"]["status"], "late_failure");
    assert_eq!(
        (content["invoice"]["id"].as_str(), content["invoice"]["amount_due"].as_i64()),
        (Some(a.id.as_str()), Some(10_000))
    );
    assert_eq!(content["customer"]["id"], "cus-void");

    // A refunded payment cannot be undone (there would be nothing left to return).
    let pay2 = control.record_payment(&site, PaymentInput::single(&a.id, 10_000)).unwrap();
    control
        .refund(&site, RefundInput { invoice_id: a.id.clone(), amount: 1_000, reason_code: "other".into(), date: None })
        .unwrap();
    assert!(matches!(control.void_payment(&site, &pay2.id), Err(SandboxError::Invalid(_))));
    let refund = control.transactions(&site).unwrap().into_iter().find(|t| t.kind == "refund").unwrap();
    assert!(matches!(control.void_payment(&site, &refund.id), Err(SandboxError::Invalid(_))));
    assert_eq!(refund.linked_credit_notes.len(), 1, "a refund names the credit note it pays out");
}

#[tokio::test]
async fn the_generator_voids_and_fails_payments_at_a_set_rate() {
    let s = SeedSpec { voided_payment_rate: 0.3, ..spec(20, 5) };
    let sb = start(roomy()).await;
    let site = sb.sites()[0].clone();
    let control = sb.control();
    let summary = control.seed(&site.name, &s).unwrap();
    let txns = control.transactions(&site.name).unwrap();
    let voided: Vec<_> = txns.iter().filter(|t| t.status == "voided").collect();
    let late: Vec<_> = txns.iter().filter(|t| t.status == "late_failure").collect();
    assert!(!voided.is_empty() && !late.is_empty(), "{} voided, {} late", voided.len(), late.len());
    assert_eq!(voided.len() + late.len(), summary.voided_payments);
    assert!(voided.iter().all(|t| t.voided_at.is_some() && t.payment_method != "card"));
    assert!(late.iter().all(|t| t.voided_at.is_none() && t.payment_method == "card"));
    // Their money is off the invoices: each invoice's paid amount is what its live payments gave.
    let invoices = control.invoices(&site.name).unwrap();
    for inv in &invoices {
        let live: i64 = txns
            .iter()
            .filter(|t| t.status == "success" && t.kind == "payment")
            .flat_map(|t| t.linked_invoices.iter())
            .filter(|l| l.invoice_id == inv.id)
            .map(|l| l.applied_amount)
            .sum();
        assert_eq!(inv.amount_paid, live, "invoice {}", inv.id);
    }
    let events = control.events(&site.name).unwrap();
    let updated = events.iter().filter(|e| e.event_type == "transaction_updated").count();
    let failed = events
        .iter()
        .filter(|e| e.event_type == "payment_failed" && e.content["transaction"]["status"] == "late_failure")
        .count();
    assert_eq!((updated, failed), (voided.len(), late.len()));

    // Deterministic; the default rate leaves every payment standing.
    let (again, site_again) = seeded(&s).await;
    assert_eq!(again.control().transactions(&site_again.name).unwrap(), txns);
    let (plain, site_plain) = seeded(&spec(20, 5)).await;
    let plain_txns = plain.control().transactions(&site_plain.name).unwrap();
    assert!(plain_txns.iter().all(|t| t.status == "success"));
}
