//! `gp.closed_period = next_open_period`: a document dated in a closed Sales period is written
//! with its date kept and a GL posting date on the first day of the next open period (invoices
//! and memos in a batch of their own, `<id>P<MM>`; receipts carry the date themselves). GP's
//! books are read over eConnect: an eConnect connection, or SOAP/SBA through the grant. And
//! `gp.batch.max_documents`, read the same way.

use gp_sandbox::DocType;
use gp_sandbox::date::Date;
use ml_connector::bindings::target::exports::ml_connector::plugin::target_api::{
    SettleOutcome, TargetError, WriteOutcome,
};
use ml_connector::bindings::types::{DocKind as WitKind, LedgerDoc};

use crate::support::*;

const NEXT_OPEN: (&str, &str) = ("gp.closed_period", "next_open_period");

/// A day of December last year: the seed closes every period of last year.
fn closed_day() -> String {
    format!("{}-12-15", Date::today().year - 1)
}

fn first_of_this_year() -> String {
    format!("{}-01-01", Date::today().year)
}

every_transport!(a_document_in_a_closed_period_posts_in_the_next_open_one);
async fn a_document_in_a_closed_period_posts_in_the_next_open_one(endpoint: &'static str) {
    let e = env(endpoint, &[NEXT_OPEN]).await;
    e.ensure(&customer("ACME-1", "Acme")).await.unwrap();
    let mut late = invoice("CBINV-1", "ACME-1", 1_000, 0);
    late.date = closed_day();
    let mut late_receipt = receipt("CBPAY-1", "ACME-1", 600);
    late_receipt.date = closed_day();
    let mut late_memo = memo("CBCN-1", "ACME-1", 100, 0);
    late_memo.date = closed_day();
    let on_time = LedgerDoc::Invoice(invoice("CBINV-2", "ACME-1", 2_000, 0));
    for d in [
        LedgerDoc::Invoice(late.clone()),
        LedgerDoc::CashReceipt(late_receipt),
        LedgerDoc::CreditMemo(late_memo),
        on_time,
    ] {
        assert_eq!(e.write(&d).await, Ok(WriteOutcome::Created), "{d:?}");
    }
    let moved_batch = format!("{SLS}P01");
    for (t, number, batch) in [
        (DocType::Invoice, "CBINV-1", moved_batch.as_str()),
        (DocType::CashReceipt, "CBPAY-1", CASH),
        (DocType::CreditMemo, "CBCN-1", moved_batch.as_str()),
    ] {
        let d = e.doc(t, number).await;
        assert_eq!(d.date.iso(), closed_day(), "{number}: the document date is kept");
        assert_eq!(d.gl_posting_date.map(|g| g.iso()), Some(first_of_this_year()), "{number}: GL posting date");
        assert_eq!(d.batch_id, batch, "{number}");
    }
    let d = e.doc(DocType::Invoice, "CBINV-2").await;
    assert_eq!(
        (d.batch_id.as_str(), d.gl_posting_date.map(|g| g.iso())),
        (SLS, Some(today())),
        "an open period is untouched"
    );
    // A replay finds the document it wrote (its batch is not compared).
    assert_eq!(e.write(&LedgerDoc::Invoice(late)).await, Ok(WriteOutcome::AlreadyPresent));

    // GP posts the moved batch: its period is open.
    e.post("RM_Sales", &moved_batch).await;
    e.post_all().await;
    assert_eq!(e.batch_posted("RM_Sales", &moved_batch).await, Ok(true));
    for (t, number) in [(DocType::Invoice, "CBINV-1"), (DocType::CashReceipt, "CBPAY-1")] {
        let status = e.gp.control().posting_status(FABRIKAM, t, number).await.unwrap();
        assert!(status.is_some(), "{number} posted");
    }
    // An apply dated in the closed period: written, posted in the next open one.
    let mut a = pay("CBPAY-1", "CBINV-1", "ACME-1", 600);
    if let LedgerDoc::Apply(x) = &mut a {
        x.date = closed_day();
    }
    assert!(matches!(e.settle(&a).await, Ok(SettleOutcome::Written(_))), "applied");
    assert_eq!(e.remaining(DocType::Invoice, "CBINV-1").await, 400);
    // … and a void.
    let mut v = void(WitKind::CashReceipt, "CBPAY-1", "ACME-1");
    if let LedgerDoc::Void(x) = &mut v {
        x.date = closed_day();
    }
    assert!(matches!(e.settle(&v).await, Ok(SettleOutcome::Written(_))), "voided");
    assert_eq!(e.remaining(DocType::Invoice, "CBINV-1").await, 1_000);
}

every_transport!(under_wait_a_closed_period_waits);
/// Under the default `wait`, the same documents, apply and void are `period-closed` (parked
/// until GP reopens the period), over every transport.
async fn under_wait_a_closed_period_waits(endpoint: &'static str) {
    let e = env(endpoint, &[]).await;
    e.ensure(&customer("ACME-1", "Acme")).await.unwrap();
    let mut late = invoice("CBINV-1", "ACME-1", 1_000, 0);
    late.date = closed_day();
    let r = e.write(&LedgerDoc::Invoice(late)).await;
    assert!(matches!(&r, Err(TargetError::PeriodClosed(_))), "{r:?}");
    // Documents of today, posted; their apply dated in the closed period waits too.
    e.write(&LedgerDoc::Invoice(invoice("CBINV-2", "ACME-1", 1_000, 0))).await.unwrap();
    e.write(&LedgerDoc::CashReceipt(receipt("CBPAY-1", "ACME-1", 600))).await.unwrap();
    e.post_all().await;
    let mut a = pay("CBPAY-1", "CBINV-2", "ACME-1", 600);
    if let LedgerDoc::Apply(x) = &mut a {
        x.date = closed_day();
    }
    let r = e.settle(&a).await;
    assert!(matches!(&r, Err(TargetError::PeriodClosed(_))), "{r:?}");
    assert!(e.applies().await.is_empty());
    assert_eq!(e.docs(DocType::Invoice).await.len(), 1);
}

both_protocols!(without_the_grant_next_open_period_cannot_move_the_date);
/// SOAP and SBA read no fiscal calendar: without the `econnect` grant a document in a closed
/// period cannot be moved, and GP's refusal is `period-closed` as under `wait`.
async fn without_the_grant_next_open_period_cannot_move_the_date(endpoint: &'static str) {
    let e = env_with(endpoint, &[NEXT_OPEN], false).await;
    e.ensure(&customer("ACME-1", "Acme")).await.unwrap();
    let mut late = invoice("CBINV-1", "ACME-1", 1_000, 0);
    late.date = closed_day();
    let r = e.write(&LedgerDoc::Invoice(late)).await;
    assert!(
        matches!(&r, Err(TargetError::PeriodClosed(m)) if m.contains("fiscal period that contains the document date is closed")),
        "{r:?}"
    );
    assert!(e.docs(DocType::Invoice).await.is_empty());
}

every_transport!(a_full_batch_continues_in_the_next);
/// `gp.batch.max_documents`: a batch holding the cap continues in `<id>-02` (GP's batch size
/// read over eConnect: an eConnect connection, or SOAP/SBA through the grant); the documents in
/// both batches post and settle as any other.
async fn a_full_batch_continues_in_the_next(endpoint: &'static str) {
    let e = env(endpoint, &[("gp.batch.max_documents", "2")]).await;
    e.ensure(&customer("ACME-1", "Acme")).await.unwrap();
    for n in 1..=3 {
        let d = LedgerDoc::Invoice(invoice(&format!("CBINV-{n}"), "ACME-1", 1_000 * n, 0));
        assert_eq!(e.write(&d).await, Ok(WriteOutcome::Created));
    }
    let batches: Vec<_> = e.docs(DocType::Invoice).await.into_iter().map(|d| (d.number, d.batch_id)).collect();
    let next = format!("{SLS}-02");
    let expected = [("CBINV-1", SLS), ("CBINV-2", SLS), ("CBINV-3", next.as_str())];
    assert_eq!(batches, expected.map(|(n, b)| (n.to_string(), b.to_string())));
    // A replay of a document in the full batch is found, not written into the next one.
    let replay = LedgerDoc::Invoice(invoice("CBINV-1", "ACME-1", 1_000, 0));
    assert_eq!(e.write(&replay).await, Ok(WriteOutcome::AlreadyPresent));
    assert_eq!(e.docs(DocType::Invoice).await.len(), 3);
    e.write(&LedgerDoc::CashReceipt(receipt("CBPAY-1", "ACME-1", 3_000))).await.unwrap();
    e.post_all().await;
    let r = e.settle(&pay("CBPAY-1", "CBINV-3", "ACME-1", 3_000)).await;
    assert_eq!(r, Ok(SettleOutcome::Unposted(batch("RM_Sales", &next))), "the invoice's own batch");
    e.post("RM_Sales", &next).await;
    assert!(matches!(e.settle(&pay("CBPAY-1", "CBINV-3", "ACME-1", 3_000)).await, Ok(SettleOutcome::Written(_))));
    assert_eq!(e.remaining(DocType::Invoice, "CBINV-3").await, 0);
}
