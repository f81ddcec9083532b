//! The whole product with the tenant on SBA (the SOAP runs are in e2e.rs).

use std::time::Duration;

use gp_sandbox::DocType;
use ml_connector_tests::*;

use crate::support::FABRIKAM;

/// The whole product with the tenant on SBA: backfill, drain, replay, reconciliation — every
/// Chargebee record once in GP, nothing over SOAP. (The SOAP runs are in e2e.rs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sba_end_to_end_backfill_replay_and_reconcile_clean() {
    use mlc_harness::stack::{Stack, StackSpec, TenantSpec};
    init_tracing();
    let db = TestDb::from_env().await;
    let mut tenant = TenantSpec::new("acme", "acme-test", chargebee_sandbox::Region::Us);
    tenant.endpoint = "sba";
    tenant.settings = vec![("map.refunds".into(), "skip".into()), ("map.invoice.voided".into(), "skip".into())];
    let spec = StackSpec { tenants: vec![tenant], database: Some(db.url.clone()), ..StackSpec::default() };
    let s = Stack::start(&scratch("gp-target-sba-e2e"), spec).await.expect("stack starts");
    let site = s.site("acme").unwrap();
    let cb = s.cb.control();
    cb.seed(
        &site.name,
        &chargebee_sandbox::SeedSpec {
            customers: 4,
            invoices_per_customer: 3,
            currencies: vec!["USD".into(), "EUR".into(), "JPY".into()],
            days: 20,
            seed: 11,
            ..Default::default()
        },
    )
    .unwrap();

    s.backfill("acme").await.unwrap();
    let drained = s.drain("acme", Duration::from_secs(180)).await;
    let stuck = s.stuck("acme").await.unwrap();
    let st = drained.unwrap_or_else(|e| {
        panic!("{e}\nparked: {:#?}", stuck.iter().map(|j| (&j.key, &j.last_error)).collect::<Vec<_>>())
    });
    assert!(
        stuck.is_empty() && st.parked + st.dead == 0,
        "{:#?}",
        stuck.iter().map(|j| (&j.key, &j.last_error)).collect::<Vec<_>>()
    );

    let gp = s.gp.control();
    let docs = |t| async move { gp.documents_of(FABRIKAM, t).await.unwrap() };
    let invoices = cb
        .invoices(&site.name)
        .unwrap()
        .into_iter()
        .filter(|i| !i.deleted && i.status != "voided" && i.status != "pending")
        .count();
    let payments = cb
        .transactions(&site.name)
        .unwrap()
        .into_iter()
        .filter(|t| t.kind == "payment" && t.status == "success" && !t.deleted)
        .count();
    let counts = (
        docs(DocType::Invoice).await.len(),
        docs(DocType::CashReceipt).await.len(),
        gp.customers(FABRIKAM).await.unwrap().len(),
    );
    assert_eq!(counts, (invoices, payments, cb.customers(&site.name).unwrap().len()), "every record once");
    assert!(!docs(DocType::CreditMemo).await.is_empty(), "the seed's credit notes went through SBA too");
    let calls = gp.counters().calls;
    assert!(calls.get("sba:CreateReceivablesInvoice").copied().unwrap_or(0) >= invoices as u64, "{calls:?}");
    assert!(calls.keys().all(|k| k.starts_with("sba:")), "nothing over SOAP: {calls:?}");

    // Replaying everything writes nothing new.
    let before = gp.documents(FABRIKAM).await.unwrap().len();
    assert!(
        s.app
            .store
            .replay(&mlc_store::JobFilter { connection: Some("acme".into()), ..Default::default() })
            .await
            .unwrap()
            > 0
    );
    s.app.wake.notify_waiters();
    s.drain("acme", Duration::from_secs(120)).await.unwrap();
    assert_eq!(gp.documents(FABRIKAM).await.unwrap().len(), before, "replay → no new GP documents");

    // Reconciliation reads GP over SBA (list-documents): zero difference.
    let conn = s.app.connections["acme"].clone();
    let report = ml_connector::reconcile::run(&s.app, &conn).await.unwrap();
    assert!(report.is_clean() && report.lines.len() >= 2, "{report:#?}");
    s.shutdown().await;
}
