//! The settle step over a fake `econnect`: applies of the difference only, the waits, GP's
//! refusals, voids, batch-posted, a SOAP connection without a grant; and writes under
//! `next_open_period` and a batch cap.

use super::*;
use crate::books::{ClosedPeriod, Rules};
use crate::econnect::settle::{apply, batch_posted, void};
use crate::settle::{Apply, BatchRef, Settled, Void};

const OPEN_COLS: &[&str] =
    &["RMDTYPAL", "DOCNUMBR", "CUSTNMBR", "DOCDATE", "BACHNUMB", "CURNCYID", "ORTRXAMT", "CURTRXAM", "VOIDSTTS"];

fn posted(kind: &str, number: &str, voided: &str) -> Rows {
    rows(OPEN_COLS, &[&[kind, number, "ACME0001", "2025-11-25", "", "Z-US$", "60.00000", "60.00000", voided]])
}

fn applies(amount: &str) -> Rows {
    rows(
        &["APTODCTY", "APTODCNM", "APPTOAMT", "WROFAMNT"],
        &[&["1", "CBINV-1001", amount, "0.00000"], &["1", "CBINV-2002", "5.00000", "0.00000"]],
    )
}

/// The receipt CBPAY-1 and the invoice CBINV-1001, both posted, in an open period.
fn both_posted() -> Fake {
    Fake::default()
        .answer_for(Query::DocumentOpen, &["9", "CBPAY-1"], posted("9", "CBPAY-1", "0"))
        .answer_for(Query::DocumentOpen, &["1", "CBINV-1001"], posted("1", "CBINV-1001", "0"))
        .answer(Query::FiscalPeriod, open_period())
}

fn pay(amount: i64) -> Apply {
    Apply {
        from: DocKind::CashReceipt,
        from_number: "CBPAY-1".into(),
        to: DocKind::Invoice,
        to_number: "CBINV-1001".into(),
        customer: "ACME0001".into(),
        customer_source: "cb_1".into(),
        currency: "USD".into(),
        amount,
        write_off: 0,
        date: "2025-11-26".into(),
    }
}

fn settle_apply(fake: &Fake, a: &Apply) -> Result<Settled, Failure> {
    apply(&Econnect { sql: fake }, &Mem::default(), &Rules::default(), a)
}

#[test]
fn an_apply_writes_only_what_gp_does_not_hold() {
    let fake = both_posted().answer(Query::Applies, applies("28.00000"));
    assert_eq!(settle_apply(&fake, &pay(4_000)), Ok(Settled::Written("applied 12.00 of 40.00; GP held 28.00".into())));
    let sent = fake.sent.borrow();
    assert_eq!(sent.len(), 1);
    in_xsd_order(&sent[0], "taRMApply");
    assert!(sent[0].starts_with("<eConnect><RMApplyType><taRMApply><APTODCNM>CBINV-1001</APTODCNM><APFRDCNM>CBPAY-1</APFRDCNM><APPTOAMT>12.00000</APPTOAMT><APFRDCTY>9</APFRDCTY><APTODCTY>1</APTODCTY><WROFAMNT>0.00000</WROFAMNT><APPLYDATE>2025-11-26</APPLYDATE><GLPOSTDT>2025-11-26</GLPOSTDT>"), "{}", sent[0]);
    assert!(fake.asked.borrow().contains(&(Query::Applies, vec!["9".into(), "CBPAY-1".into()])));
    drop(sent);
    let done = both_posted().answer(Query::Applies, applies("40.00000"));
    assert_eq!(settle_apply(&done, &pay(4_000)), Ok(Settled::AlreadyDone));
    assert!(done.sent.borrow().is_empty());
    let more = both_posted().answer(Query::Applies, applies("40.00000"));
    assert!(
        matches!(settle_apply(&more, &pay(1_000)), Err(Failure::Rejected(m)) if m.contains("unapply in GP by hand"))
    );
    assert!(more.sent.borrow().is_empty());
}

#[test]
fn an_apply_waits_for_posting_and_for_its_documents() {
    let receipt_work = rows(
        &["DOCNUMBR", "CUSTNMBR", "BACHNUMB", "BCHSOURC"],
        &[&["CBPAY-1", "ACME0001", "CB251125-CASH", "RM_Cash"]],
    );
    let unposted = both_posted().answer(Query::ReceiptWork, receipt_work);
    assert_eq!(
        settle_apply(&unposted, &pay(4_000)),
        Ok(Settled::Unposted(BatchRef { source: "RM_Cash".into(), id: "CB251125-CASH".into() }))
    );
    let missing = Fake::default().answer_for(Query::DocumentOpen, &["9", "CBPAY-1"], posted("9", "CBPAY-1", "0"));
    assert!(
        matches!(settle_apply(&missing, &pay(4_000)), Err(Failure::MissingDependency(m)) if m.contains("CBINV-1001"))
    );
    let other =
        Fake::default().answer_for(Query::DocumentOpen, &["9", "CBPAY-1"], posted("9", "CBPAY-1", "0")).answer_for(
            Query::DocumentOpen,
            &["1", "CBINV-1001"],
            rows(OPEN_COLS, &[&["1", "CBINV-1001", "OTHER", "", "", "", "", "", "0"]]),
        );
    assert!(matches!(settle_apply(&other, &pay(4_000)), Err(Failure::Rejected(m)) if m.contains("OTHER")));
    for f in [&unposted, &missing, &other] {
        assert!(f.sent.borrow().is_empty());
    }
    // The customer resolves as documents do: none stored → missing-dependency.
    let unresolved = Apply { customer: String::new(), customer_source: "cb_404".into(), ..pay(1) };
    assert!(
        matches!(settle_apply(&both_posted(), &unresolved), Err(Failure::MissingDependency(m)) if m.contains("cb_404"))
    );
}

#[test]
fn an_unanswered_apply_is_read_again_before_answering() {
    let landed = both_posted()
        .answer_once(Query::Applies, applies("28.00000"))
        .answer_once(Query::Applies, applies("40.00000"))
        .execute_fails(EcError::Transient("connection lost after COMMIT".into()));
    assert_eq!(
        settle_apply(&landed, &pay(4_000)),
        Ok(Settled::Written("applied 12.00 of 40.00; GP held 28.00".into()))
    );
    assert_eq!(landed.sent.borrow().len(), 1, "never written twice");
    let lost = both_posted()
        .answer_once(Query::Applies, applies("28.00000"))
        .answer_once(Query::Applies, applies("28.00000"))
        .execute_fails(EcError::Transient("timeout".into()));
    assert!(matches!(settle_apply(&lost, &pay(4_000)), Err(Failure::Transient(m)) if m.contains("will retry")));
    assert_eq!(lost.asked.borrow().iter().filter(|(q, _)| *q == Query::Applies).count(), 2);
}

#[test]
fn gp_s_refusal_is_rejected_with_its_number_and_a_busy_batch_is_retried() {
    let refused = |n: i32, text: &str| EcError::Refused {
        node: "taRMApply".into(),
        number: n,
        text: text.into(),
        details: vec![],
    };
    let over = both_posted().answer(Query::Applies, applies("0")).execute_fails(refused(
        9023,
        "Apply amount (APPTOAMT) 40.00 exceeds the remaining amount 30.00 of document CBINV-1001",
    ));
    let r = settle_apply(&over, &pay(4_000));
    assert!(
        matches!(&r, Err(Failure::Rejected(m)) if m.starts_with("eConnect error 9023: Apply amount") && m.ends_with("(taRMApply)")),
        "{r:?}"
    );
    let busy = both_posted()
        .answer(Query::Applies, applies("0"))
        .execute_fails(refused(9046, "Batch is marked for posting by another user."));
    assert!(matches!(settle_apply(&busy, &pay(4_000)), Err(Failure::Transient(m)) if m.contains("marked for posting")));
    // The text alone is enough (GP's own number is not public).
    let text = read::write_failure(refused(4711, "Batch CB1 is being posted"));
    assert!(matches!(text, Failure::Transient(_)), "{text:?}");
}

#[test]
fn under_next_open_period_an_apply_in_a_closed_period_posts_in_the_next_open_one() {
    let closed = rows(&["PERIODID", "YEAR1", "PSERIES_2"], &[&["11", "2025", "1"]]);
    let fake = Fake::default()
        .answer_for(Query::DocumentOpen, &["9", "CBPAY-1"], posted("9", "CBPAY-1", "0"))
        .answer_for(Query::DocumentOpen, &["1", "CBINV-1001"], posted("1", "CBINV-1001", "0"))
        .answer(Query::FiscalPeriod, closed.clone())
        .answer(
            Query::NextOpenPeriod,
            rows(&["PERIODDT", "PERIODID", "YEAR1"], &[&["2026-01-01 00:00:00", "1", "2026"]]),
        )
        .answer(Query::Applies, applies("0"));
    let rules = Rules { closed_period: ClosedPeriod::NextOpenPeriod, ..Rules::default() };
    let r = apply(&Econnect { sql: &fake }, &Mem::default(), &rules, &pay(4_000));
    assert!(matches!(r, Ok(Settled::Written(_))), "{r:?}");
    assert!(fake.sent.borrow()[0].contains("<APPLYDATE>2025-11-26</APPLYDATE><GLPOSTDT>2026-01-01</GLPOSTDT>"));
    assert!(fake.notes.borrow().iter().any(|n| {
        n.contains("period of 2025-11-26 closed: GL posting date 2026-01-01 (next open period), document date kept")
    }));
    let wait = Fake::default()
        .answer_for(Query::DocumentOpen, &["9", "CBPAY-1"], posted("9", "CBPAY-1", "0"))
        .answer_for(Query::DocumentOpen, &["1", "CBINV-1001"], posted("1", "CBINV-1001", "0"))
        .answer(Query::FiscalPeriod, closed)
        .answer(Query::Applies, applies("0"));
    assert_eq!(settle_apply(&wait, &pay(4_000)), Err(Failure::PeriodClosed(PERIOD_CLOSED.into())));
}

fn voiding(kind: DocKind) -> Void {
    Void {
        kind,
        number: "CBPAY-1".into(),
        customer: "ACME0001".into(),
        customer_source: String::new(),
        date: "2025-11-27".into(),
        description: None,
    }
}

fn settle_void(fake: &Fake, v: &Void) -> Result<Settled, Failure> {
    void(&Econnect { sql: fake }, &Mem::default(), &Rules::default(), v)
}

#[test]
fn a_void_is_written_once_for_a_posted_receipt_only() {
    let v = voiding(DocKind::CashReceipt);
    assert_eq!(settle_void(&Fake::default(), &v), Ok(Settled::Nothing("never reached GP".into())));
    let work = Fake::default()
        .answer(Query::ReceiptWork, rows(&["DOCNUMBR", "BACHNUMB", "BCHSOURC"], &[&["CBPAY-1", "B1", "RM_Cash"]]));
    assert_eq!(settle_void(&work, &v), Ok(Settled::Unposted(BatchRef { source: "RM_Cash".into(), id: "B1".into() })));
    let voided = Fake::default().answer(Query::DocumentOpen, posted("9", "CBPAY-1", "1"));
    assert_eq!(settle_void(&voided, &v), Ok(Settled::AlreadyDone));
    let open = Fake::default()
        .answer(Query::DocumentOpen, posted("9", "CBPAY-1", "0"))
        .answer(Query::FiscalPeriod, open_period());
    assert_eq!(settle_void(&open, &v), Ok(Settled::Written("voided CashReceipt CBPAY-1 on 2025-11-27".into())));
    let sent = open.sent.borrow();
    in_xsd_order(&sent[0], "taRMVoidTransaction");
    assert!(sent[0].contains("<taRMVoidTransaction><CUSTNMBR>ACME0001</CUSTNMBR><DOCNUMBR>CBPAY-1</DOCNUMBR><VOIDSTTS>1</VOIDSTTS><RMDTYPAL>9</RMDTYPAL><VOIDDATE>2025-11-27</VOIDDATE><GLPOSTDT>2025-11-27</GLPOSTDT></taRMVoidTransaction>"), "{}", sent[0]);
    for f in [&work, &voided] {
        assert!(f.sent.borrow().is_empty());
    }
    assert!(matches!(settle_void(&Fake::default(), &voiding(DocKind::Invoice)), Err(Failure::Permanent(_))));
    let lost = Fake::default()
        .answer_once(Query::DocumentOpen, posted("9", "CBPAY-1", "0"))
        .answer_once(Query::DocumentOpen, posted("9", "CBPAY-1", "1"))
        .answer(Query::FiscalPeriod, open_period())
        .execute_fails(EcError::Transient("timeout".into()));
    assert!(matches!(settle_void(&lost, &v), Ok(Settled::Written(_))));
}

struct NoGrant;

impl Sql for NoGrant {
    fn execute(&self, _: &str) -> Result<(), EcError> {
        Err(EcError::Denied("no econnect grant".into()))
    }
    fn query(&self, _: Query, _: &[String]) -> Result<Rows, EcError> {
        Err(EcError::Denied("no econnect grant".into()))
    }
}

#[test]
fn batch_posted_reads_gp_s_batch_and_a_soap_connection_needs_a_grant() {
    let gone = Fake::default();
    assert_eq!(batch_posted(&Econnect { sql: &gone }, "RM_Cash", "B1"), Ok(true));
    assert!(gone.asked.borrow().contains(&(Query::Batch, vec!["B1".into(), "RM_Cash".into()])));
    let there =
        Fake::default().answer(Query::Batch, rows(&["BACHNUMB", "NUMOFTRX", "BCHTOTAL"], &[&["B1", "3", "10.00000"]]));
    assert_eq!(batch_posted(&Econnect { sql: &there }, "RM_Cash", "B1"), Ok(false));
    let soap = Borrowed { sql: &NoGrant, endpoint: "soap" };
    let r = batch_posted(&Econnect { sql: &soap }, "RM_Cash", "B1");
    assert!(
        matches!(&r, Err(Failure::Permanent(m)) if m.contains("soap connection has no econnect grant") && m.contains("cannot apply")),
        "{r:?}"
    );
    assert_eq!(granted(&soap), Ok(false));
    assert_eq!(granted(&Fake::default()), Ok(true));
}

#[test]
fn a_late_invoice_goes_to_a_batch_of_its_posting_date_and_a_full_batch_continues() {
    let fake = Fake::default()
        .answer(Query::FiscalPeriod, rows(&["PERIODID", "YEAR1", "PSERIES_2"], &[&["11", "2025", "1"]]))
        .answer(Query::NextOpenPeriod, rows(&["PERIODDT", "PERIODID", "YEAR1"], &[&["2026-01-01", "1", "2026"]]))
        .answer_for(
            Query::Batch,
            &["CB251125-SLSP01", "RM_Sales"],
            rows(&["BACHNUMB", "NUMOFTRX", "BCHTOTAL"], &[&["CB251125-SLSP01", "1", "5.00000"]]),
        );
    let ec = Econnect { sql: &fake };
    let rules = Rules { closed_period: ClosedPeriod::NextOpenPeriod, max_documents: None };
    assert_eq!(flows::write(&ec, &Mem::default(), Some(&ec), &rules, &invoice()), Ok(Outcome::Created));
    let sent = fake.sent.borrow();
    assert!(sent[0].contains("<BACHNUMB>CB251125-SLSP01</BACHNUMB><SERIES>3</SERIES><GLPOSTDT>2026-01-01</GLPOSTDT><BCHSOURC>RM_Sales</BCHSOURC><DOCAMT>5.00000</DOCAMT><ORIGIN>1</ORIGIN><NUMOFTRX>1</NUMOFTRX>"), "{}", sent[0]);
    assert!(sent[0].contains("<DOCDATE>2025-11-25</DOCDATE><BACHNUMB>CB251125-SLSP01</BACHNUMB>"), "{}", sent[0]);
    assert!(fake.notes.borrow().iter().any(|n| n.contains("GL posting date 2026-01-01")));
    drop(sent);
    let full = Fake::default().answer(Query::FiscalPeriod, open_period()).answer_for(
        Query::Batch,
        &["CB251125-SLS", "RM_Sales"],
        rows(&["BACHNUMB", "NUMOFTRX", "BCHTOTAL"], &[&["CB251125-SLS", "2", "5.00000"]]),
    );
    let ec = Econnect { sql: &full };
    let capped = Rules { max_documents: Some(2), ..Rules::default() };
    assert_eq!(flows::write(&ec, &Mem::default(), Some(&ec), &capped, &invoice()), Ok(Outcome::Created));
    assert!(full.sent.borrow()[0].contains("<BACHNUMB>CB251125-SLS-02</BACHNUMB>"));
    assert!(!full.sent.borrow()[0].contains("SMTransactionBatchType"), "the document date is the posting date");
}

#[test]
fn listed_documents_say_whether_they_are_posted_or_voided() -> Result<(), Failure> {
    let usd = rows(&["CURNCYID", "ISOCURRC", "DECPLCUR"], &[&["Z-US$", "USD", "3"]]);
    let work = rows(
        &["RMDTYPAL", "DOCNUMBR", "CUSTNMBR", "DOCDATE", "BACHNUMB", "CURNCYID", "DOCAMNT", "SLSAMNT", "TAXAMNT"],
        &[&["3", "CBDM-1", "ACME0001", "2025-11-25", "B", "Z-US$", "20.00000", "20.00000", "0"]],
    );
    let fake = Fake::default()
        .answer(
            Query::CustomerDocuments,
            rows(
                &["RMDTYPAL", "DOCNUMBR", "DCSTATUS"],
                &[&["3", "CBDM-1", "1"], &["9", "CBPAY-1", "2"], &["1", "CBINV-1001", "2"]],
            ),
        )
        .answer(Query::SalesWork, work)
        .answer_for(Query::DocumentOpen, &["9", "CBPAY-1"], posted("9", "CBPAY-1", "1"))
        .answer_for(Query::DocumentOpen, &["1", "CBINV-1001"], posted("1", "CBINV-1001", "0"))
        .answer(Query::Currency, usd);
    let held = Econnect { sql: &fake }.list("ACME0001")?;
    let got: Vec<_> =
        held.iter().map(|h| (h.doc.kind, h.doc.number.as_str(), h.remaining, h.posted, h.voided)).collect();
    assert_eq!(
        got,
        vec![
            (DocKind::DebitMemo, "CBDM-1", 2_000, false, false),
            (DocKind::CashReceipt, "CBPAY-1", 0, true, true),
            (DocKind::Invoice, "CBINV-1001", 6_000, true, false),
        ]
    );
    Ok(())
}
