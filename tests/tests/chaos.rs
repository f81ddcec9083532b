//! Chaos, bounded and seeded: while a backfill and a webhook stream run, the host crashes and
//! restarts, Chargebee answers 429 and 503, GP answers system faults, hangs past the client's
//! timeout and loses committed responses, and webhooks come twice and out of order. After
//! recovery: nothing lost, no duplicate GP document, reconciliation zero to the cent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use chargebee_sandbox::{InvoiceInput, LineInput, PaymentInput, Region, SeedSpec, WebhookConfig};
use gp_sandbox::{DocType, FaultKind};
use ml_connector_tests::{TestDb, init_tracing, scratch};
use mlc_harness::stack::{Stack, StackSpec, TenantSpec, WEBHOOK_PASSWORD, WEBHOOK_USER};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_faults_and_disorder_lose_nothing_and_post_nothing_twice() {
    init_tracing();
    let db = TestDb::from_env().await;
    let mut t = TenantSpec::new("acme", "acme-test", Region::Us);
    t.settings = vec![
        ("map.refunds".into(), "skip".into()),
        ("map.invoice.voided".into(), "skip".into()),
        ("gp.timeout_ms".into(), "1500".into()),
    ];
    let spec = StackSpec {
        tenants: vec![t],
        cb_limit: 60,
        cb_window: Duration::from_secs(1),
        database: Some(db.url.clone()),
        lease_ms: 2_000,
        ..StackSpec::default()
    };
    let mut s = Stack::start(&scratch("chaos"), spec).await.expect("stack");
    let site = s.site("acme").unwrap();
    let cb = s.cb.control();
    cb.seed(
        &site.name,
        &SeedSpec {
            customers: 8,
            invoices_per_customer: 3,
            currencies: vec!["USD".into(), "EUR".into(), "JPY".into()],
            days: 15,
            seed: 2026,
            credit_note_rate: 0.2,
            ..SeedSpec::default()
        },
    )
    .unwrap();

    // Faults on both sides, seeded.
    cb.fail_next(4, 503, None);
    cb.set_limit(&site.name, 25).unwrap(); // below the host's belief: 429s
    s.gp.control().set_random_faults(
        0.15,
        vec![FaultKind::SystemFault, FaultKind::LostResponse, FaultKind::Hang(Duration::from_millis(2_000))],
    );

    s.backfill("acme").await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    s.crash_and_restart().await.unwrap();

    // Live activity while recovering: delivered twice, out of order.
    let before = cb.events(&site.name).unwrap().len();
    for c in cb.customers(&site.name).unwrap().iter().take(5) {
        let inv =
            cb.create_invoice(&site.name, InvoiceInput::new(&c.id, vec![LineInput::adhoc("Chaos", 4_200, 1)])).unwrap();
        cb.record_payment(
            &site.name,
            PaymentInput {
                payment_method: "check".into(),
                reference_number: None,
                date: None,
                applications: vec![(inv.id.clone(), 1_000)],
            },
        )
        .unwrap();
    }
    let events: Vec<_> = cb.events(&site.name).unwrap().into_iter().skip(before).collect();
    let sender = s
        .webhooks(
            "acme",
            WebhookConfig {
                duplicate_rate: 1.0,
                out_of_order: true,
                seed: 9,
                time_compression: 100_000.0,
                ..WebhookConfig::new(&s.webhook_url("acme"))
            }
            .basic(WEBHOOK_USER, WEBHOOK_PASSWORD),
        )
        .unwrap();
    assert_eq!(sender.deliver(events).await.failed(), 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.crash_and_restart().await.unwrap();

    let st = s.drain("acme", Duration::from_secs(120)).await.unwrap();
    s.gp.control().clear_faults();
    let gp = s.gp.control().counters();
    println!(
        "jobs {st:?}; GP faults injected {}; Chargebee {:?}",
        gp.faults_injected,
        cb.counters(&site.name).unwrap()
    );
    assert!(gp.faults_injected > 0, "the chaos happened");
    let stuck = s.stuck("acme").await.unwrap();
    for j in &stuck {
        println!("stuck: {} {:?} {:?}", j.key, j.record_key, j.last_error);
    }
    assert_eq!((st.dead, st.parked), (0, 0), "nothing lost: {st:?}");

    let conn = s.app.connections["acme"].clone();
    let report = ml_connector::reconcile::run(&s.app, &conn).await.unwrap();
    report.print();
    assert!(report.is_clean(), "{report:#?}");
    let numbers: Vec<String> =
        s.gp.control()
            .documents(-1)
            .await
            .unwrap()
            .into_iter()
            .map(|d| format!("{:?}/{}", d.doc_type, d.number))
            .collect();
    let mut unique = numbers.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), numbers.len(), "no duplicate GP document");
    let invoices =
        cb.invoices(&site.name).unwrap().into_iter().filter(|i| i.status != "voided" && i.status != "pending").count();
    assert_eq!(s.gp.control().documents_of(-1, DocType::Invoice).await.unwrap().len(), invoices, "every invoice once");
    s.shutdown().await;
}
