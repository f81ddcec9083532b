//! The product end to end: Chargebee emulator → host with the real components
//! (chargebee-source, gp-mapper, gp-target) → GP emulator over SOAP with NTLM.

use std::time::Duration;

use chargebee_sandbox::{SeedSpec, WebhookConfig};
use gp_sandbox::DocType;
use ml_connector::stack::{Stack, StackSpec, WEBHOOK_PASSWORD, WEBHOOK_USER};
use ml_connector_tests::{TestDb, init_tracing, scratch};

const FABRIKAM: i32 = -1;

async fn stack(name: &str, spec: StackSpec) -> (Stack, TestDb) {
    init_tracing();
    let db = TestDb::from_env().await;
    let spec = StackSpec {
        database: Some(db.url.clone()),
        extra: String::new(),
        ..spec
    };
    let mut spec = spec;
    for t in &mut spec.tenants {
        t.settings.push(("map.refunds".into(), "skip".into()));
        t.settings.push(("map.invoice.voided".into(), "skip".into()));
    }
    (Stack::start(&scratch(name), spec).await.expect("stack starts"), db)
}

fn seed(customers: usize, invoices: usize) -> SeedSpec {
    SeedSpec {
        customers,
        invoices_per_customer: invoices,
        currencies: vec!["USD".into(), "EUR".into(), "JPY".into()],
        days: 20,
        seed: 7,
        ..SeedSpec::default()
    }
}

/// GP documents of one type in Fabrikam.
async fn gp_docs(s: &Stack, t: DocType) -> Vec<gp_sandbox::model::Document> {
    s.gp.control().documents_of(FABRIKAM, t).await.expect("GP documents")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_then_webhooks_land_every_document_once() {
    let (s, _db) = stack("e2e-backfill", StackSpec::default()).await;
    let site = s.site("acme").unwrap();
    let control = s.cb.control();
    let summary = control.seed(&site.name, &seed(4, 3)).unwrap();
    println!("seeded: {summary:?}");

    s.backfill("acme").await.unwrap();
    let stats = s.drain("acme", Duration::from_secs(180)).await.unwrap();
    let timeline = s.app.store.jobs(&mlc_store::JobFilter { connection: Some("acme".into()), states: vec![mlc_store::JobState::Parked, mlc_store::JobState::Dead], ..Default::default() }).await.unwrap();
    assert!(timeline.is_empty(), "parked or dead after backfill: {:#?}", timeline.iter().map(|j| (&j.key, &j.last_error)).collect::<Vec<_>>());
    println!("after backfill: {stats:?}");

    let cb_invoices: Vec<_> = control.invoices(&site.name).unwrap().into_iter().filter(|i| !i.deleted && i.status != "voided" && i.status != "pending").collect();
    let gp_invoices = gp_docs(&s, DocType::Invoice).await;
    assert_eq!(gp_invoices.len(), cb_invoices.len(), "every Chargebee invoice is one GP invoice");
    let cb_customers = control.customers(&site.name).unwrap().len();
    let gp_customers = s.gp.control().customers(FABRIKAM).await.unwrap().len();
    assert_eq!(gp_customers, cb_customers, "customers synced");
    let payments = control.transactions(&site.name).unwrap().into_iter().filter(|t| t.kind == "payment" && t.status == "success" && !t.deleted).count();
    assert_eq!(gp_docs(&s, DocType::CashReceipt).await.len(), payments, "one cash receipt per payment");

    // New activity arrives by webhook: duplicated and out of order. Nothing new may be doubled.
    let before_events = control.events(&site.name).unwrap().len();
    let cust = control.customers(&site.name).unwrap()[0].id.clone();
    let inv = control.create_invoice(&site.name, chargebee_sandbox::InvoiceInput::new(&cust, vec![chargebee_sandbox::LineInput::adhoc("Extra seats", 2_500, 3)])).unwrap();
    let sender = s
        .webhooks(
            "acme",
            WebhookConfig { duplicate_rate: 1.0, out_of_order: true, time_compression: 100_000.0, ..WebhookConfig::new(&s.webhook_url("acme")) }.basic(WEBHOOK_USER, WEBHOOK_PASSWORD),
        )
        .unwrap();
    let events: Vec<_> = control.events(&site.name).unwrap().into_iter().skip(before_events).collect();
    let report = sender.deliver(events).await;
    assert_eq!(report.failed(), 0, "{report:?}");
    s.drain("acme", Duration::from_secs(60)).await.unwrap();
    let gp_invoices = gp_docs(&s, DocType::Invoice).await;
    assert_eq!(gp_invoices.len(), cb_invoices.len() + 1, "the webhook's invoice landed once");
    let _ = inv;

    // Replaying every record writes nothing new.
    let n = s.app.store.replay(&mlc_store::JobFilter { connection: Some("acme".into()), ..Default::default() }).await.unwrap();
    assert!(n > 0);
    s.app.wake.notify_waiters();
    s.drain("acme", Duration::from_secs(120)).await.unwrap();
    assert_eq!(gp_docs(&s, DocType::Invoice).await.len(), cb_invoices.len() + 1, "replay of everything → no new GP documents");
    assert_eq!(gp_docs(&s, DocType::CashReceipt).await.len(), payments);
    s.shutdown().await;
}
