use super::*;
use crate::common::imbalance;
use crate::fixtures::*;
use crate::wit::CreditAllocation;

/// A 50.00 refund of payment txn_AzZlGJSqHd1Xc2Ae, paid out of credit note CN-17.
fn refund() -> Payment {
    Payment {
        id: "txn_RefundXyz123".into(),
        amount: -5_000,
        reference: Some("txn_AzZlGJSqHd1Xc2Ae".into()),
        allocations: Vec::new(),
        credit_notes: vec![CreditAllocation { credit_note_id: "CN-17".into(), amount: 5_000, applied_at: 0 }],
        ..payment()
    }
}

fn cash() -> Vec<(String, String)> {
    with(settings(), &[("map.account.cash", "000-1100-00")])
}

fn docs(p: Payment, settings: Vec<(String, String)>) -> Result<Vec<LedgerDoc>, MappingError> {
    crate::payment::map(&p, &Settings::parse(&settings).expect("settings"))
}

#[test]
fn a_refund_is_a_debit_memo_the_credit_memo_is_applied_to() {
    let d = docs(refund(), cash()).expect("maps");
    let [LedgerDoc::DebitMemo(m), LedgerDoc::Apply(a)] = &d[..] else { panic!("debit memo + apply: {d:?}") };
    assert_eq!(m.number, "TXN_REF.JGS2ZPRSV", "the id scheme at the RM work key's 17");
    assert_eq!(
        (m.batch.source.as_str(), m.batch.id.as_str(), m.date.as_str()),
        ("RM_Sales", "CB231115-DM", "2023-11-15")
    );
    assert_eq!((m.sales, m.trade_discount, m.freight, m.misc, m.tax, m.total), (5_000, 0, 0, 0, 0, 5_000));
    assert_eq!((m.customer_id.as_str(), m.currency.as_str()), ("ACME-001", "USD"));
    assert_eq!(m.description.as_deref(), Some("Refund txn_RefundXyz123"));
    let dist: Vec<_> = m.distributions.iter().map(|x| (x.kind, x.account.as_str(), x.debit, x.credit)).collect();
    assert_eq!(
        dist,
        [(DistributionKind::Receivables, "000-1200-00", 5_000, 0), (DistributionKind::Cash, "000-1100-00", 0, 5_000)]
    );
    assert_eq!(imbalance(&m.distributions), 0);
    assert_eq!((a.from_kind, a.from_number.as_str()), (DocKind::CreditMemo, "CN-17"));
    assert_eq!((a.to_kind, a.to_number.as_str()), (DocKind::DebitMemo, m.number.as_str()));
    assert_eq!((a.amount, a.write_off, a.date.as_str()), (5_000, 0, "2023-11-15"));
}

#[test]
fn a_reversal_books_the_debit_memo_alone_and_links_are_checked() {
    let mut p = refund();
    p.credit_notes.clear();
    let d = docs(p.clone(), cash()).expect("maps");
    assert!(matches!(&d[..], [LedgerDoc::DebitMemo(_)]), "{d:?}");
    let link = |id: &str, amount, at| CreditAllocation { credit_note_id: id.into(), amount, applied_at: at };
    // Two links to one note merge, dated by the later (Nov 30 23:00 PST); zero is dropped.
    p.credit_notes = vec![link("CN-17", 2_000, 0), link("CN-18", 0, 0), link("CN-17", 3_000, 1_733_036_400)];
    let d = docs(p.clone(), with(cash(), &[("map.timezone", "America/Los_Angeles")])).expect("maps");
    let [_, LedgerDoc::Apply(a)] = &d[..] else { panic!("{d:?}") };
    assert_eq!((a.from_number.as_str(), a.amount, a.date.as_str()), ("CN-17", 5_000, "2024-11-30"));
    p.credit_notes.push(link("CN-19", 1, 0));
    assert_eq!(docs(p.clone(), cash()).expect_err("over").field, "payment.credit-notes");
    p.credit_notes = vec![link("CN-17", -1, 0)];
    assert_eq!(docs(p.clone(), cash()).expect_err("negative").field, "payment.credit-notes[0].amount");
    p.credit_notes = vec![link("", 1, 0)];
    assert_eq!(docs(p, cash()).expect_err("empty id").field, "payment.credit-notes[0].credit-note-id");
}

#[test]
fn settings_of_refunds() {
    assert_eq!(docs(refund(), settings()).expect_err("no cash account").field, "map.account.cash");
    let d = docs(refund(), with(settings(), &[("map.account.cash.USD", "000-1101-00")])).expect("maps");
    let LedgerDoc::DebitMemo(m) = &d[0] else { panic!("{d:?}") };
    assert_eq!(m.distributions[1].account, "000-1101-00");
    let d = docs(refund(), with(settings(), &[("map.distributions", "gp_default")])).expect("maps");
    let LedgerDoc::DebitMemo(m) = &d[0] else { panic!("{d:?}") };
    assert!(m.distributions.is_empty());
    let s = with(cash(), &[("map.debit_memo.prefix", "DM"), ("map.batch.debit_memo", "R{YYMMDD}")]);
    let d = docs(Payment { id: "RF-1".into(), ..refund() }, s).expect("maps");
    let LedgerDoc::DebitMemo(m) = &d[0] else { panic!("{d:?}") };
    assert_eq!((m.number.as_str(), m.batch.id.as_str()), ("DMRF-1", "R231115"));
    let e = docs(refund(), with(cash(), &[("map.refunds", "error")])).expect_err("parks");
    assert_eq!(e.field, "payment.amount");
    assert!(e.message.contains("refunds are not synced") && e.message.contains("50.00 USD"), "{}", e.message);
    assert!(docs(refund(), with(cash(), &[("map.refunds", "skip")])).expect("skips").is_empty());
    assert_eq!(docs(refund(), with(cash(), &[("map.refunds", "credit")])).expect_err("strict").field, "map.refunds");
}

#[test]
fn a_voided_refund_cannot_be_voided_in_gp() {
    let s = |extra: &[(&str, &str)]| Settings::parse(&with(cash(), extra)).expect("settings");
    let e = crate::payment::void(&refund(), &s(&[])).expect_err("no debit memo void");
    assert_eq!(e.field, "record.deleted");
    assert!(e.message.contains("cannot void its debit memo"), "{}", e.message);
    assert!(crate::payment::void(&refund(), &s(&[("map.payment.voided", "skip")])).expect("skip").is_empty());
    assert!(crate::payment::void(&refund(), &s(&[("map.refunds", "skip")])).expect("never booked").is_empty());
}
