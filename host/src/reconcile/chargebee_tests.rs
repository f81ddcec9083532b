//! Chargebee's side of one record, as the mapper carries it: its figures, the documents it
//! expects, and GP customer numbers the mapper left to the target.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::chargebee::Walk;
use super::model::{ApplyLink, DocType, RecordBalance};
use crate::bindings::types::{
    Apply, CreditAllocation, Customer, DocKind, GpCustomer, LedgerDoc, Payment, RecordBody, RecordKind, SourceRecord,
    VoidDoc,
};

fn payment(id: &str, amount: i64) -> Payment {
    Payment {
        id: id.into(),
        customer_id: "cus_1".into(),
        currency: "USD".into(),
        date: "2026-11-02".into(),
        amount,
        method: "check".into(),
        reference: None,
        allocations: Vec::new(),
        card_brand: None,
        exchange_rate: None,
        timestamp: 1_793_000_000,
        credit_notes: Vec::new(),
        voided_at: None,
    }
}

fn record(kind: RecordKind, id: &str, deleted: bool, body: RecordBody) -> SourceRecord {
    SourceRecord { kind, id: id.into(), version: 1, deleted, body }
}

fn customer_record(gp_number: &str) -> (SourceRecord, Vec<LedgerDoc>) {
    let c = Customer {
        id: "cus_1".into(),
        email: None,
        company: Some("Acme".into()),
        first_name: None,
        last_name: None,
        currency: Some("USD".into()),
        billing_address: None,
        net_term_days: 30,
        phone: None,
        custom_fields: Vec::new(),
    };
    let doc = LedgerDoc::Customer(GpCustomer {
        id: gp_number.into(),
        source_id: "cus_1".into(),
        name: "Acme".into(),
        short_name: None,
        email: None,
        phone: None,
        currency: "USD".into(),
        currency_id: "Z-US$".into(),
        class_id: None,
        payment_terms: None,
        address: None,
    });
    (record(RecordKind::Customer, "cus_1", false, RecordBody::Customer(c)), vec![doc])
}

fn void(number: &str) -> LedgerDoc {
    LedgerDoc::Void(VoidDoc {
        kind: DocKind::CashReceipt,
        number: number.into(),
        customer_id: String::new(),
        customer_source_id: "cus_1".into(),
        date: "2026-11-03".into(),
        description: None,
    })
}

#[test]
fn a_voided_payment_expects_a_voided_receipt_and_no_cash() {
    let mut walk = Walk::default();
    let mut p = payment("txn_5", 3_000);
    p.voided_at = Some(1_793_100_000);
    let rec = record(RecordKind::Payment, "txn_5", true, RecordBody::Payment(p));
    walk.add(&rec, "payment/txn_5", vec![void("RCT5")]);
    // The mapper left the number to the target: unresolved until the customer record names it.
    assert_eq!(walk.unresolved().keys().collect::<Vec<_>>(), vec!["cus_1"]);
    let (crec, cdocs) = customer_record("ACME0001");
    walk.add(&crec, "customer/cus_1", cdocs);
    assert!(walk.unresolved().is_empty());
    let customers = walk.resolve();
    assert_eq!(customers.into_iter().collect::<Vec<_>>(), vec!["ACME0001".to_string()]);
    let doc = &walk.expected.docs[&(DocType::CashReceipt, "RCT5".to_string())];
    assert_eq!((doc.voided, doc.remaining, doc.amount, doc.customer.as_str()), (true, Some(0), None, "ACME0001"));
    assert_eq!(
        walk.expected.balances,
        vec![RecordBalance { customer: "ACME0001".into(), currency: "USD".into(), ..RecordBalance::default() }]
    );
}

#[test]
fn a_refund_paid_out_of_its_credit_note_leaves_nothing_due() {
    let mut walk = Walk::default();
    let mut p = payment("txn_9", -5_000);
    p.credit_notes = vec![CreditAllocation { credit_note_id: "cn_9".into(), amount: 5_000, applied_at: 0 }];
    let rec = record(RecordKind::Payment, "txn_9", false, RecordBody::Payment(p.clone()));
    let apply = LedgerDoc::Apply(Apply {
        from_kind: DocKind::CreditMemo,
        from_number: "CM9".into(),
        to_kind: DocKind::DebitMemo,
        to_number: "DM9".into(),
        customer_id: "ACME0001".into(),
        customer_source_id: "cus_1".into(),
        currency: "USD".into(),
        amount: 5_000,
        write_off: 0,
        date: "2026-11-04".into(),
    });
    walk.add(&rec, "payment/txn_9", vec![apply]);
    assert_eq!(walk.expected.balances.len(), 1);
    assert_eq!((walk.expected.balances[0].amount_due, walk.expected.balances[0].customer.as_str()), (0, "ACME0001"));
    assert_eq!(
        walk.expected.applies,
        vec![ApplyLink { from: (DocType::CreditMemo, "CM9".into()), to: (DocType::DebitMemo, "DM9".into()) }]
    );
    // The apply named the customer's GP number: other documents of cus_1 resolve through it.
    assert_eq!(walk.numbers.get("cus_1").map(String::as_str), Some("ACME0001"));

    // A reversal no credit note covers is owed back.
    let mut walk = Walk::default();
    p.credit_notes.clear();
    let rec = record(RecordKind::Payment, "txn_9", false, RecordBody::Payment(p));
    walk.add(&rec, "payment/txn_9", vec![void("RCT1")]);
    assert_eq!(walk.expected.balances[0].amount_due, 5_000);
}

#[test]
fn a_record_the_mapper_carries_nowhere_adds_nothing() {
    let mut walk = Walk::default();
    let rec = record(RecordKind::Payment, "txn_1", false, RecordBody::Payment(payment("txn_1", 1_000)));
    walk.add(&rec, "payment/txn_1", Vec::new());
    assert!(walk.expected.balances.is_empty() && walk.expected.docs.is_empty());
}
