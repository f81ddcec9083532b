//! The settle step against the emulator, once per transport: applies and voids through
//! `settle` (over eConnect whatever `gp.endpoint` is: SOAP and SBA through the connection's
//! `econnect` grant) once the test — a GP user — has posted the batches.

use gp_sandbox::DocType;
use ml_connector::bindings::target::exports::ml_connector::plugin::target_api::{
    SettleOutcome, TargetError, WriteOutcome,
};
use ml_connector::bindings::types::{DocKind as WitKind, LedgerDoc};

use crate::support::*;

/// An invoice, a receipt and a credit memo written unapplied into their batches.
async fn three_documents(e: &Env) {
    e.ensure(&customer("ACME-1", "Acme")).await.unwrap();
    for d in [
        LedgerDoc::Invoice(invoice("CBINV-1", "ACME-1", 10_000, 800)),
        LedgerDoc::CashReceipt(receipt("CBPAY-1", "ACME-1", 6_000)),
        LedgerDoc::CreditMemo(memo("CBCN-1", "ACME-1", 1_000, 80)),
    ] {
        assert_eq!(e.write(&d).await, Ok(WriteOutcome::Created));
    }
}

/// GP's remaining amount of the invoice as list-documents reads it, with `posted`.
async fn listed(e: &Env, number: &str) -> (i64, bool) {
    let all = e.list("ACME-1").await.unwrap();
    let b = all.iter().find(|b| b.number == number).unwrap_or_else(|| panic!("{number} listed: {all:?}"));
    (b.remaining, b.posted)
}

every_transport!(applies_wait_for_posting_then_write_only_the_difference);
async fn applies_wait_for_posting_then_write_only_the_difference(endpoint: &'static str) {
    let e = env(endpoint, &[]).await;
    three_documents(&e).await;
    let (receipt_batch, sales_batch) = (batch("RM_Cash", CASH), batch("RM_Sales", SLS));
    assert_eq!(e.batch_posted("RM_Sales", SLS).await, Ok(false));
    assert_eq!(e.batch_posted("RM_Cash", CASH).await, Ok(false));

    // GP applies posted documents: unposted names the batch to wait for, nothing is written.
    let first = pay("CBPAY-1", "CBINV-1", "ACME-1", 4_000);
    let r = e.settle(&first).await;
    assert!(
        r == Ok(SettleOutcome::Unposted(receipt_batch.clone()))
            || r == Ok(SettleOutcome::Unposted(sales_batch.clone())),
        "{r:?}"
    );
    e.post("RM_Cash", CASH).await;
    assert_eq!(e.batch_posted("RM_Cash", CASH).await, Ok(true));
    assert_eq!(e.batch_posted("RM_Sales", SLS).await, Ok(false));
    assert_eq!(e.settle(&first).await, Ok(SettleOutcome::Unposted(sales_batch)), "the invoice's batch");
    assert!(e.applies().await.is_empty());
    assert_eq!(e.remaining(DocType::Invoice, "CBINV-1").await, 10_800);

    e.post("RM_Sales", SLS).await;
    assert_eq!(e.batch_posted("RM_Sales", SLS).await, Ok(true));
    let r = e.settle(&first).await;
    assert_eq!(r, Ok(SettleOutcome::Written("applied 40.00 of 40.00; GP held 0.00".into())));
    assert_eq!(e.applies().await, [("CBPAY-1".into(), "CBINV-1".into(), 4_000, 0)]);
    assert_eq!(e.remaining(DocType::Invoice, "CBINV-1").await, 6_800);
    assert_eq!(e.remaining(DocType::CashReceipt, "CBPAY-1").await, 2_000);
    assert_eq!(listed(&e, "CBINV-1").await, (6_800, true), "list-documents reads GP's remaining amount");

    // The same apply again (a retry, a replay): GP holds it.
    assert_eq!(e.settle(&first).await, Ok(SettleOutcome::AlreadyDone));
    assert_eq!(e.applies().await, [("CBPAY-1".into(), "CBINV-1".into(), 4_000, 0)]);
    // A later allocation: Chargebee's total is 50.00, GP holds 40.00 → 10.00 written.
    let r = e.settle(&pay("CBPAY-1", "CBINV-1", "ACME-1", 5_000)).await;
    assert_eq!(r, Ok(SettleOutcome::Written("applied 10.00 of 50.00; GP held 40.00".into())));
    assert_eq!(e.applies().await, [("CBPAY-1".into(), "CBINV-1".into(), 5_000, 0)]);
    // The credit memo too, with a write-off of the invoice's last 0.20.
    let LedgerDoc::Apply(mut cm) =
        apply((WitKind::CreditMemo, "CBCN-1"), (WitKind::Invoice, "CBINV-1"), "ACME-1", 1_080)
    else {
        unreachable!()
    };
    cm.write_off = 20;
    let r = e.settle(&LedgerDoc::Apply(cm.clone())).await;
    assert!(matches!(&r, Ok(SettleOutcome::Written(t)) if t.starts_with("applied 10.80 of 10.80")), "{r:?}");
    assert_eq!(e.settle(&LedgerDoc::Apply(cm)).await, Ok(SettleOutcome::AlreadyDone));
    assert_eq!(e.remaining(DocType::Invoice, "CBINV-1").await, 10_800 - 5_000 - 1_080 - 20);
    assert_eq!(e.remaining(DocType::CreditMemo, "CBCN-1").await, 0);
    assert_eq!(
        e.applies().await,
        [("CBCN-1".into(), "CBINV-1".into(), 1_080, 20), ("CBPAY-1".into(), "CBINV-1".into(), 5_000, 0)]
    );
    // A batch GP never had (or deleted when it posted it) is posted.
    assert_eq!(e.batch_posted("RM_Sales", "CB-NEVER").await, Ok(true));
}

every_transport!(refused_applies_leave_gp_unchanged);
async fn refused_applies_leave_gp_unchanged(endpoint: &'static str) {
    let e = env(endpoint, &[]).await;
    for c in ["ACME-1", "GLOBEX-1"] {
        e.ensure(&customer(c, c)).await.unwrap();
    }
    for d in [
        LedgerDoc::Invoice(invoice("CBINV-1", "ACME-1", 1_000, 0)),
        LedgerDoc::Invoice(invoice("CBINV-2", "GLOBEX-1", 5_000, 0)),
        LedgerDoc::CashReceipt(receipt("CBPAY-1", "ACME-1", 3_000)),
    ] {
        assert_eq!(e.write(&d).await, Ok(WriteOutcome::Created));
    }
    e.post_all().await;
    // An apply to a document GP does not have yet: wait for it.
    let r = e.settle(&pay("CBPAY-1", "CBINV-404", "ACME-1", 100)).await;
    assert!(matches!(&r, Err(TargetError::MissingDependency(m)) if m.contains("CBINV-404")), "{r:?}");

    // Over the invoice's remaining 10.00: GP's refusal (its number and text), nothing written.
    let r = e.settle(&pay("CBPAY-1", "CBINV-1", "ACME-1", 2_000)).await;
    assert!(
        matches!(&r, Err(TargetError::Rejected(m)) if m.contains("9023") && m.contains("exceeds the remaining amount")),
        "{r:?}"
    );
    // Another customer's invoice.
    let r = e.settle(&pay("CBPAY-1", "CBINV-2", "ACME-1", 500)).await;
    assert!(matches!(&r, Err(TargetError::Rejected(m)) if m.contains("GLOBEX-1")), "{r:?}");
    assert!(e.applies().await.is_empty(), "GP unchanged");
    let remaining = (
        e.remaining(DocType::Invoice, "CBINV-1").await,
        e.remaining(DocType::Invoice, "CBINV-2").await,
        e.remaining(DocType::CashReceipt, "CBPAY-1").await,
    );
    assert_eq!(remaining, (1_000, 5_000, 3_000), "GP unchanged");

    // GP holding more than Chargebee's total: only a person can unapply in GP.
    let r = e.settle(&pay("CBPAY-1", "CBINV-1", "ACME-1", 600)).await;
    assert!(matches!(r, Ok(SettleOutcome::Written(_))), "{r:?}");
    let r = e.settle(&pay("CBPAY-1", "CBINV-1", "ACME-1", 400)).await;
    assert!(matches!(&r, Err(TargetError::Rejected(m)) if m.contains("unapply in GP by hand")), "{r:?}");
    assert_eq!(e.applies().await, [("CBPAY-1".into(), "CBINV-1".into(), 600, 0)]);
    // An apply between document kinds GP does not apply (invoice → receipt) is no apply at all.
    let r = e.settle(&apply((WitKind::Invoice, "CBINV-1"), (WitKind::CashReceipt, "CBPAY-1"), "ACME-1", 1)).await;
    assert!(matches!(&r, Err(TargetError::Permanent(_))), "{r:?}");
    // settle writes applies and voids only.
    let r = e.settle(&LedgerDoc::Invoice(invoice("CBINV-3", "ACME-1", 1, 0))).await;
    assert!(matches!(&r, Err(TargetError::Permanent(m)) if m.contains("write-document")), "{r:?}");
}

every_transport!(voids_undo_the_applies_of_posted_receipts);
async fn voids_undo_the_applies_of_posted_receipts(endpoint: &'static str) {
    let e = env(endpoint, &[]).await;
    e.ensure(&customer("ACME-1", "Acme")).await.unwrap();
    e.write(&LedgerDoc::Invoice(invoice("CBINV-1", "ACME-1", 1_000, 0))).await.unwrap();
    e.write(&LedgerDoc::CashReceipt(receipt("CBPAY-1", "ACME-1", 600))).await.unwrap();
    let void_pay1 = void(WitKind::CashReceipt, "CBPAY-1", "ACME-1");
    // Unposted: GP voids posted documents.
    assert_eq!(e.settle(&void_pay1).await, Ok(SettleOutcome::Unposted(batch("RM_Cash", CASH))));
    assert!(e.doc(DocType::CashReceipt, "CBPAY-1").await.void.is_none());
    e.post_all().await;
    assert!(matches!(e.settle(&pay("CBPAY-1", "CBINV-1", "ACME-1", 600)).await, Ok(SettleOutcome::Written(_))));
    assert_eq!(e.remaining(DocType::Invoice, "CBINV-1").await, 400);

    let r = e.settle(&void_pay1).await;
    assert!(matches!(&r, Ok(SettleOutcome::Written(t)) if t.contains("CBPAY-1")), "{r:?}");
    let gr = e.doc(DocType::CashReceipt, "CBPAY-1").await;
    assert_eq!((gr.void.map(|v| v.status), gr.remaining), (Some(1), 0), "voided, nothing left to apply");
    assert!(e.applies().await.is_empty(), "the void took its apply with it");
    assert_eq!(e.remaining(DocType::Invoice, "CBINV-1").await, 1_000, "the invoice is owed again");
    assert_eq!(listed(&e, "CBINV-1").await, (1_000, true));
    let b = e.list("ACME-1").await.unwrap().into_iter().find(|b| b.number == "CBPAY-1").unwrap();
    assert_eq!((b.voided, b.remaining), (true, 0));

    assert_eq!(e.settle(&void_pay1).await, Ok(SettleOutcome::AlreadyDone));
    let r = e.settle(&void(WitKind::CashReceipt, "CBPAY-404", "ACME-1")).await;
    assert!(matches!(&r, Ok(SettleOutcome::Nothing(why)) if why.contains("never reached GP")), "{r:?}");
    // An apply from the voided receipt: GP refuses it.
    let r = e.settle(&pay("CBPAY-1", "CBINV-1", "ACME-1", 700)).await;
    assert!(matches!(&r, Err(TargetError::Rejected(m)) if m.contains("voided")), "{r:?}");
    // A posted, applied credit memo: voided too, its apply undone.
    e.write(&LedgerDoc::CreditMemo(memo("CBCN-1", "ACME-1", 250, 0))).await.unwrap();
    e.post("RM_Sales", SLS).await;
    let cm = apply((WitKind::CreditMemo, "CBCN-1"), (WitKind::Invoice, "CBINV-1"), "ACME-1", 250);
    assert!(matches!(e.settle(&cm).await, Ok(SettleOutcome::Written(_))));
    assert_eq!(e.remaining(DocType::Invoice, "CBINV-1").await, 750);
    let void_cm = void(WitKind::CreditMemo, "CBCN-1", "ACME-1");
    assert!(matches!(e.settle(&void_cm).await, Ok(SettleOutcome::Written(_))));
    assert_eq!(e.settle(&void_cm).await, Ok(SettleOutcome::AlreadyDone));
    assert_eq!(e.doc(DocType::CreditMemo, "CBCN-1").await.void.map(|v| v.status), Some(1));
    assert_eq!(e.remaining(DocType::Invoice, "CBINV-1").await, 1_000);
    assert!(e.applies().await.is_empty());
    // GP voids receipts and credit memos only.
    let r = e.settle(&void(WitKind::Invoice, "CBINV-1", "ACME-1")).await;
    assert!(matches!(&r, Err(TargetError::Permanent(_))), "{r:?}");
    assert!(e.doc(DocType::Invoice, "CBINV-1").await.void.is_none());
}

every_transport!(a_credit_memo_is_applied_to_a_debit_memo);
async fn a_credit_memo_is_applied_to_a_debit_memo(endpoint: &'static str) {
    let e = env(endpoint, &[]).await;
    e.ensure(&customer("ACME-1", "Acme")).await.unwrap();
    // A refund paid out of a refundable credit note: the credit memo, then the debit memo.
    e.write(&LedgerDoc::CreditMemo(memo("CBCN-1", "ACME-1", 2_500, 0))).await.unwrap();
    let dm = LedgerDoc::DebitMemo(debit_memo("CBRF-1", "ACME-1", 2_500));
    assert_eq!(e.write(&dm).await, Ok(WriteOutcome::Created));
    assert_eq!(e.write(&dm).await, Ok(WriteOutcome::AlreadyPresent));
    let refund = apply((WitKind::CreditMemo, "CBCN-1"), (WitKind::DebitMemo, "CBRF-1"), "ACME-1", 2_500);
    assert_eq!(e.settle(&refund).await, Ok(SettleOutcome::Unposted(batch("RM_Sales", SLS))));
    e.post("RM_Sales", SLS).await;
    let r = e.settle(&refund).await;
    assert_eq!(r, Ok(SettleOutcome::Written("applied 25.00 of 25.00; GP held 0.00".into())));
    assert_eq!(e.applies().await, [("CBCN-1".into(), "CBRF-1".into(), 2_500, 0)]);
    let to_types: Vec<_> = e.gp.control().applies(FABRIKAM).await.unwrap().into_iter().map(|a| a.to_type).collect();
    assert_eq!(to_types, [DocType::DebitMemo], "applied to the debit memo (APTODCTY 3), not an invoice");
    assert_eq!(
        (e.remaining(DocType::CreditMemo, "CBCN-1").await, e.remaining(DocType::DebitMemo, "CBRF-1").await),
        (0, 0),
        "AR nets to zero"
    );
    assert_eq!(listed(&e, "CBRF-1").await, (0, true));
    assert_eq!(e.settle(&refund).await, Ok(SettleOutcome::AlreadyDone));
    // The debit memo is not an invoice: an apply naming it as one waits for an invoice GP lacks.
    let wrong = apply((WitKind::CreditMemo, "CBCN-1"), (WitKind::Invoice, "CBRF-1"), "ACME-1", 2_500);
    assert!(matches!(e.settle(&wrong).await, Err(TargetError::MissingDependency(_))));
}

both_protocols!(without_the_econnect_grant_settle_is_permanent);
/// A SOAP or SBA connection without the `econnect` grant cannot settle (GP Web Services and SBA
/// have no receivables apply or void): permanent, saying why, and GP untouched — documents are
/// still written.
async fn without_the_econnect_grant_settle_is_permanent(endpoint: &'static str) {
    let e = env_with(endpoint, &[], false).await;
    three_documents(&e).await;
    e.post_all().await;
    let r = e.settle(&pay("CBPAY-1", "CBINV-1", "ACME-1", 100)).await;
    assert!(matches!(&r, Err(TargetError::Permanent(m)) if m.contains("econnect grant")), "{r:?}");
    let r = e.settle(&void(WitKind::CashReceipt, "CBPAY-1", "ACME-1")).await;
    assert!(matches!(&r, Err(TargetError::Permanent(m)) if m.contains("econnect grant")), "{r:?}");
    let r = e.batch_posted("RM_Sales", SLS).await;
    assert!(matches!(&r, Err(TargetError::Permanent(m)) if m.contains("econnect grant")), "{r:?}");
    assert!(e.applies().await.is_empty());
    assert!(e.doc(DocType::CashReceipt, "CBPAY-1").await.void.is_none());
}
