//! Receivables that age right, end to end (Chargebee emulator → host with the real components
//! → GP emulator, strict: applies and voids only between posted documents): the connector
//! writes unapplied documents, its applies and voids wait visibly until GP's clerk posts the
//! batches, then land once — and every customer's open balance in GP equals what Chargebee
//! says the customer owes, to the cent, with refunds, voided payments and voided invoices.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;

use chargebee_sandbox::{Region, SeedSpec};
use gp_sandbox::DocType;
use ml_connector::bindings::types::LedgerDoc;
use ml_connector_tests::{TestDb, init_tracing, scratch};
use mlc_harness::stack::{Clerk, FABRIKAM, Stack, StackSpec, TenantSpec};

async fn stack(name: &str, endpoint: &'static str, settings: &[(&str, &str)]) -> (Stack, TestDb) {
    init_tracing();
    let db = TestDb::from_env().await;
    let mut t = TenantSpec::new("acme", "acme-test", Region::Us);
    t.endpoint = endpoint;
    t.settings.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let spec = StackSpec { tenants: vec![t], database: Some(db.url.clone()), clerk: Clerk::Manual, ..StackSpec::default() };
    (Stack::start(&scratch(name), spec).await.expect("stack starts"), db)
}

/// One currency (GP keeps a customer's balance in one), every kind of money movement.
fn seed() -> SeedSpec {
    SeedSpec {
        customers: 6,
        invoices_per_customer: 5,
        currencies: vec!["USD".into()],
        days: 90,
        seed: 11,
        payment_rate: 0.9,
        partial_payment_rate: 0.3,
        credit_note_rate: 0.3,
        refund_rate: 0.3,
        void_rate: 0.15,
        voided_payment_rate: 0.2,
        ..SeedSpec::default()
    }
}

/// Drain until nothing runs; fail with the parked jobs' reasons if any parked.
async fn settle(s: &Stack) {
    let drained = s.drain("acme", Duration::from_secs(240)).await;
    let stuck = s.stuck("acme").await.unwrap();
    let why: Vec<_> = stuck.iter().map(|j| (&j.key, &j.last_error)).collect();
    drained.unwrap_or_else(|e| panic!("{e}: {why:#?}"));
    assert!(stuck.is_empty(), "nothing parks: {why:#?}");
}

/// Chargebee customer id → GP customer number, from the stored ledger documents.
async fn gp_customers(s: &Stack, ids: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for id in ids {
        let row = s.app.store.record("acme", &format!("customer/{id}")).await.unwrap().expect("customer written");
        let docs: Vec<LedgerDoc> = serde_json::from_str(row.ledger.as_deref().unwrap()).unwrap();
        let number = docs.iter().find_map(|d| match d {
            LedgerDoc::Customer(c) => Some(c.id.clone()),
            _ => None,
        });
        out.insert(id.clone(), number.expect("a GP customer"));
    }
    out
}

/// What Chargebee says each customer owes: amount due − unused payments − available credits.
fn chargebee_balances(s: &Stack) -> BTreeMap<String, i64> {
    let (site, control) = ("acme-test", s.cb.control());
    let mut due: BTreeMap<String, i64> = BTreeMap::new();
    for i in control.invoices(site).unwrap().into_iter().filter(|i| i.status != "voided" && !i.deleted) {
        *due.entry(i.customer_id).or_default() += i.amount_due;
    }
    for t in control.transactions(site).unwrap() {
        if t.kind == "payment" && t.status == "success" && !t.deleted {
            *due.entry(t.customer_id).or_default() -= t.amount_unused;
        }
    }
    for c in control.credit_notes(site).unwrap().into_iter().filter(|c| c.status != "voided" && !c.deleted) {
        *due.entry(c.customer_id).or_default() -= c.amount_available;
    }
    due
}

/// GP's open balance per customer: Σ remaining of debit documents − Σ unapplied credits
/// (voided documents have nothing remaining).
async fn gp_balances(s: &Stack) -> BTreeMap<String, i64> {
    let mut out: BTreeMap<String, i64> = BTreeMap::new();
    for d in s.gp.control().documents(FABRIKAM).await.unwrap() {
        let sign = if matches!(d.doc_type, DocType::CashReceipt | DocType::CreditMemo) { -1 } else { 1 };
        let remaining = if d.void.is_some() { 0 } else { d.remaining };
        *out.entry(d.customer_id).or_default() += sign * remaining;
    }
    out
}

async fn waits_then_balances_match(endpoint: &'static str) {
    let (s, _db) = stack(&format!("receivables-{endpoint}"), endpoint, &[]).await;
    let seeded = s.cb.control().seed("acme-test", &seed()).unwrap();
    println!("seeded: {seeded:?}");
    assert!(seeded.refunds > 0 && seeded.voided_payments > 0 && seeded.voided_invoices > 0, "{seeded:?}");
    s.backfill("acme").await.unwrap();
    settle(&s).await;

    // Nobody has posted: documents are in GP, unapplied; the applies wait, visibly.
    assert!(s.only_posting_waits("acme").await.unwrap(), "the settle steps wait for posting");
    let applied = s.gp.control().applies(FABRIKAM).await.unwrap();
    assert!(applied.is_empty(), "nothing applied before posting: {applied:?}");
    let lines = s.app.store.audit("acme", None, None).await.unwrap();
    let waiting = lines.iter().filter(|l| l.outcome == "waiting" && l.detail.contains("waiting for GP to post batch"));
    assert!(waiting.count() > 0, "the timeline shows the waits");

    // The clerk posts; the schedule sees it and the applies and voids land. A void can only
    // follow its receipt's posting, a refund's apply its debit memo's: post until none wait.
    for round in 0..4 {
        if !s.only_posting_waits("acme").await.unwrap() {
            break;
        }
        let posted = s.post_batches().await.unwrap();
        println!("round {round}: the clerk posted {posted} batch(es)");
        settle(&s).await;
    }
    let st = s.app.store.stats(Some("acme")).await.unwrap();
    assert_eq!(st.available + st.running + st.waiting, 0, "every settle step ran: {st:?}");

    let ids: Vec<String> = s.cb.control().customers("acme-test").unwrap().into_iter().map(|c| c.id).collect();
    let numbers = gp_customers(&s, &ids).await;
    let (cb, gp) = (chargebee_balances(&s), gp_balances(&s).await);
    for (id, number) in &numbers {
        let owed = cb.get(id).copied().unwrap_or(0);
        assert_eq!(gp.get(number).copied().unwrap_or(0), owed, "customer {id} ({number}): GP's open balance");
    }
    let memos = s.gp.control().documents_of(FABRIKAM, DocType::DebitMemo).await.unwrap();
    assert!(!memos.is_empty() && memos.iter().all(|d| d.remaining == 0), "refunds: debit memos, fully applied");

    // A payment GP holds, posted and applied, is voided in Chargebee: the receipt is voided in
    // GP (its applies undone), and the balances still agree.
    let control = s.cb.control();
    let paid = control.transactions("acme-test").unwrap().into_iter().find(|t| {
        t.kind == "payment" && t.status == "success" && !t.linked_invoices.is_empty() && t.linked_refunds.is_empty()
    });
    let paid = paid.expect("a payment to void");
    control.void_payment("acme-test", &paid.id).unwrap();
    s.backfill("acme").await.unwrap();
    settle(&s).await;
    let receipts = s.gp.control().documents_of(FABRIKAM, DocType::CashReceipt).await.unwrap();
    assert_eq!(receipts.iter().filter(|d| d.void.is_some()).count(), 1, "the voided payment's receipt is voided");
    let (cb, gp) = (chargebee_balances(&s), gp_balances(&s).await);
    for (id, number) in &numbers {
        let owed = cb.get(id).copied().unwrap_or(0);
        assert_eq!(gp.get(number).copied().unwrap_or(0), owed, "after the void: customer {id} ({number})");
    }

    // Replay of every record never applies twice.
    let before = s.gp.control().applies(FABRIKAM).await.unwrap();
    let every = mlc_store::JobFilter { connection: Some("acme".into()), ..Default::default() };
    assert!(s.app.store.replay(&every).await.unwrap() > 0);
    settle(&s).await;
    assert_eq!(s.gp.control().applies(FABRIKAM).await.unwrap(), before, "a replay applies nothing again");
    assert_eq!(gp_balances(&s).await, gp, "balances unchanged by the replay");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn econnect_applies_after_posting_and_balances_match_chargebee() {
    waits_then_balances_match("econnect").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soap_applies_after_posting_and_balances_match_chargebee() {
    waits_then_balances_match("soap").await
}
