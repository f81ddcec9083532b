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
use ml_connector_tests::{TestDb, gp_sql, init_tracing, scratch};
use mlc_harness::stack::{Clerk, FABRIKAM, Stack, StackSpec, TenantSpec};

async fn stack(name: &str, endpoint: &'static str, settings: &[(&str, &str)]) -> (Stack, TestDb) {
    stack_with(name, endpoint, settings, 1).await
}

/// `recheck_s`: how often the schedule asks GP whether waited-for batches are posted.
async fn stack_with(name: &str, endpoint: &'static str, settings: &[(&str, &str)], recheck_s: u64) -> (Stack, TestDb) {
    init_tracing();
    let db = TestDb::from_env().await;
    let mut t = TenantSpec::new("acme", "acme-test", Region::Us);
    t.endpoint = endpoint;
    t.settings.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let spec = StackSpec {
        tenants: vec![t],
        database: Some(db.url.clone()),
        clerk: Clerk::Manual,
        recheck_s,
        ..StackSpec::default()
    };
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

async fn settle(s: &Stack) {
    ml_connector_tests::settle(s, "acme").await
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

/// A few customers whose invoices are paid in full, nothing else.
fn paid_in_full() -> SeedSpec {
    SeedSpec { customers: 2, invoices_per_customer: 2, payment_rate: 1.0, ..seed() }.only_payments()
}

trait OnlyPayments {
    fn only_payments(self) -> SeedSpec;
}

impl OnlyPayments for SeedSpec {
    fn only_payments(self) -> SeedSpec {
        SeedSpec {
            partial_payment_rate: 0.0,
            credit_note_rate: 0.0,
            refund_rate: 0.0,
            void_rate: 0.0,
            voided_payment_rate: 0.0,
            ..self
        }
    }
}

/// The host applied in GP and died before acknowledging the job: GP holds the apply, the
/// queue still has the job. Its re-run reads what GP holds first and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_apply_and_its_ack_applies_once() {
    // The schedule's posting re-check is this test's to make (never by itself).
    let (s, _db) = stack_with("receivables-crash", "econnect", &[], 3_600).await;
    s.cb.control().seed("acme-test", &paid_in_full()).unwrap();
    s.backfill("acme").await.unwrap();
    settle(&s).await;
    assert!(s.post_batches().await.unwrap() > 0);
    let waiting = mlc_store::JobFilter {
        connection: Some("acme".into()),
        states: vec![mlc_store::JobState::Waiting],
        ..Default::default()
    };
    let jobs = s.app.store.jobs(&waiting).await.unwrap();
    let job = jobs.iter().find(|j| j.kind == "settle").expect("a settle job waiting for posting");
    let sj: ml_connector::jobs::SettleJob = serde_json::from_slice(&job.payload).unwrap();

    // The run that applied, then "crashed": never acknowledged.
    let conn = s.app.connections["acme"].clone();
    let outcome = ml_connector::pipeline::run_settle(&s.app, &conn, &sj, Some(job.id)).await.unwrap();
    assert!(matches!(outcome, ml_connector::pipeline::Outcome::Done), "{outcome:?}");
    let once = s.gp.control().applies(FABRIKAM).await.unwrap();
    assert!(!once.is_empty(), "GP holds the apply");
    assert_eq!(s.app.store.job(job.id).await.unwrap().unwrap().state, mlc_store::JobState::Waiting);

    // The host back: the schedule sees the posting, the job runs again.
    assert!(ml_connector::schedule::recheck_postings(&s.app).await.unwrap() > 0);
    settle(&s).await;
    let st = s.app.store.stats(Some("acme")).await.unwrap();
    assert_eq!(st.waiting + st.available, 0, "{st:?}");
    let mut after = s.gp.control().applies(FABRIKAM).await.unwrap();
    after.retain(|a| once.iter().any(|o| o.from_number == a.from_number));
    assert_eq!(after, once, "the re-run applied nothing more");
    let tl = s.app.store.audit("acme", Some(&sj.record_key), None).await.unwrap();
    assert!(tl.iter().any(|l| l.detail.contains("already in GP")), "{tl:#?}");
    s.shutdown().await;
}

/// `gp.closed_period = next_open_period`: a document dated in a closed period goes into the
/// first open one (GL posting date), its document date kept, and the timeline says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_in_a_closed_period_lands_in_the_next_open_one() {
    let settings = [("gp.closed_period", "next_open_period")];
    let (s, _db) = stack("receivables-next-period", "econnect", &settings).await;
    let spec = SeedSpec { customers: 1, invoices_per_customer: 1, payment_rate: 0.0, days: 3, ..seed() };
    s.cb.control().seed("acme-test", &spec.only_payments()).unwrap();
    let invoice = s.cb.control().invoices("acme-test").unwrap().remove(0);
    let day = gp_sandbox::date::Date::from_days(invoice.date.div_euclid(86_400));
    s.gp.control().set_period_closed(FABRIKAM, day.year, day.month, true).await.unwrap();
    s.backfill("acme").await.unwrap();
    settle(&s).await;

    let docs = s.gp.control().documents_of(FABRIKAM, DocType::Invoice).await.unwrap();
    assert_eq!(docs.len(), 1, "written, not parked");
    let gl = docs[0].gl_posting_date.expect("a GL posting date");
    assert_eq!(docs[0].date, day, "document date kept");
    assert!(gl.days() > day.days() && gl.day == 1 && gl.month != day.month, "GL posting date {gl:?} for {day:?}");
    let tl = s.app.store.audit("acme", Some(&format!("invoice/{}", invoice.id)), None).await.unwrap();
    assert!(tl.iter().any(|l| l.detail.contains("next open period")), "{tl:#?}");
    s.shutdown().await;
}

/// GP refuses an apply (a clerk applied other cash to the invoice by hand first, so
/// Chargebee's amount is over what remains): the settle step parks with GP's message, and
/// both documents stay as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_gp_refuses_parks_with_its_message() {
    // The posting re-check is the test's (after the clerk's own apply).
    let (s, _db) = stack_with("receivables-refused", "econnect", &[], 3_600).await;
    let spec = SeedSpec { customers: 1, invoices_per_customer: 4, ..paid_in_full() };
    s.cb.control().seed("acme-test", &spec).unwrap();
    let txns = s.cb.control().transactions("acme-test").unwrap();
    let paid = txns.iter().find(|t| t.kind == "payment").expect("a payment").linked_invoices[0].invoice_id.clone();
    s.backfill("acme").await.unwrap();
    settle(&s).await;
    s.post_batches().await.unwrap();
    let row = s.app.store.record("acme", &format!("invoice/{paid}")).await.unwrap().expect("invoice written");
    let docs: Vec<LedgerDoc> = serde_json::from_str(row.ledger.as_deref().unwrap()).unwrap();
    let number = docs.iter().find_map(|d| match d {
        LedgerDoc::Invoice(i) => Some(i.number.clone()),
        _ => None,
    });
    let invoice = s.gp.control().document(FABRIKAM, DocType::Invoice, &number.unwrap()).await.unwrap().unwrap();
    let today = gp_sandbox::date::Date::today().iso();
    let (customer, number) = (&invoice.customer_id, &invoice.number);
    let receipt = format!(
        "<eConnect><RMCashReceiptsType><taRMCashReceiptInsert><CUSTNMBR>{customer}</CUSTNMBR>\
         <DOCNUMBR>CLERK-1</DOCNUMBR><DOCDATE>{today}</DOCDATE><ORTRXAMT>0.01</ORTRXAMT>\
         <GLPOSTDT>{today}</GLPOSTDT><BACHNUMB>CLERK</BACHNUMB><CSHRCTYP>1</CSHRCTYP>\
         <CHEKBKID>UPTOWN TRUST</CHEKBKID><CURNCYID>Z-US$</CURNCYID></taRMCashReceiptInsert>\
         </RMCashReceiptsType></eConnect>"
    );
    let sql = gp_sql(&s);
    sql.execute(&mlc_econnect::Document::parse(&receipt).unwrap()).await.unwrap();
    assert!(s.gp.control().post_batch(FABRIKAM, "CLERK", "RM_Cash").await.unwrap().is_posted());
    let apply = format!(
        "<eConnect><RMApplyType><taRMApply><APTODCNM>{number}</APTODCNM><APFRDCNM>CLERK-1</APFRDCNM>\
         <APPTOAMT>0.01</APPTOAMT><APFRDCTY>9</APFRDCTY><APTODCTY>1</APTODCTY><APPLYDATE>{today}</APPLYDATE>\
         <GLPOSTDT>{today}</GLPOSTDT></taRMApply></RMApplyType></eConnect>"
    );
    sql.execute(&mlc_econnect::Document::parse(&apply).unwrap()).await.unwrap();
    let before = s.gp.control().documents(FABRIKAM).await.unwrap();
    assert!(ml_connector::schedule::recheck_postings(&s.app).await.unwrap() > 0);
    let drained = s.drain("acme", Duration::from_secs(60)).await.unwrap();
    assert_eq!(drained.parked, 1, "{drained:?}");
    let parked = s.stuck("acme").await.unwrap().remove(0);
    let reason = parked.last_error.unwrap_or_default();
    assert!(parked.kind == "settle" && reason.contains("rejected by the ledger"), "{reason}");
    assert!(reason.to_lowercase().contains("remaining") || reason.contains("exceeds"), "GP's text: {reason}");
    assert_eq!(s.gp.control().documents(FABRIKAM).await.unwrap(), before, "both documents untouched");
    s.shutdown().await;
}
