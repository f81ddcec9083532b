//! The product end to end: Chargebee emulator → host with the real components
//! (chargebee-source, gp-mapper, gp-target) → GP emulator over SOAP with NTLM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use chargebee_sandbox::Region;
use chargebee_sandbox::{SeedSpec, WebhookConfig};
use gp_sandbox::DocType;
use ml_connector_tests::{TestDb, gp_sql, init_tracing, scratch};
use mlc_harness::stack::{Stack, StackSpec, TenantSpec, WEBHOOK_PASSWORD, WEBHOOK_USER};

const FABRIKAM: i32 = -1;

async fn stack(name: &str, spec: StackSpec) -> (Stack, TestDb) {
    init_tracing();
    let db = TestDb::from_env().await;
    let spec = StackSpec { database: Some(db.url.clone()), ..spec };
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
    let timeline = s.stuck("acme").await.unwrap();
    assert!(
        timeline.is_empty(),
        "parked or dead after backfill: {:#?}",
        timeline.iter().map(|j| (&j.key, &j.last_error)).collect::<Vec<_>>()
    );
    println!("after backfill: {stats:?}");

    let cb_invoices: Vec<_> = control
        .invoices(&site.name)
        .unwrap()
        .into_iter()
        .filter(|i| !i.deleted && i.status != "voided" && i.status != "pending")
        .collect();
    let gp_invoices = gp_docs(&s, DocType::Invoice).await;
    assert_eq!(gp_invoices.len(), cb_invoices.len(), "every Chargebee invoice is one GP invoice");
    let cb_customers = control.customers(&site.name).unwrap().len();
    let gp_customers = s.gp.control().customers(FABRIKAM).await.unwrap().len();
    assert_eq!(gp_customers, cb_customers, "customers synced");
    let payments = control
        .transactions(&site.name)
        .unwrap()
        .into_iter()
        .filter(|t| t.kind == "payment" && t.status == "success" && !t.deleted)
        .count();
    assert_eq!(gp_docs(&s, DocType::CashReceipt).await.len(), payments, "one cash receipt per payment");

    // New activity arrives by webhook: duplicated and out of order. Nothing new may be doubled.
    let before_events = control.events(&site.name).unwrap().len();
    let cust = control.customers(&site.name).unwrap()[0].id.clone();
    let inv = control
        .create_invoice(
            &site.name,
            chargebee_sandbox::InvoiceInput::new(
                &cust,
                vec![chargebee_sandbox::LineInput::adhoc("Extra seats", 2_500, 3)],
            ),
        )
        .unwrap();
    let sender = s
        .webhooks(
            "acme",
            WebhookConfig {
                duplicate_rate: 1.0,
                out_of_order: true,
                time_compression: 100_000.0,
                ..WebhookConfig::new(&s.webhook_url("acme"))
            }
            .basic(WEBHOOK_USER, WEBHOOK_PASSWORD),
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
    let n = s
        .app
        .store
        .replay(&mlc_store::JobFilter { connection: Some("acme".into()), ..Default::default() })
        .await
        .unwrap();
    assert!(n > 0);
    s.app.wake.notify_waiters();
    s.drain("acme", Duration::from_secs(120)).await.unwrap();
    assert_eq!(
        gp_docs(&s, DocType::Invoice).await.len(),
        cb_invoices.len() + 1,
        "replay of everything → no new GP documents"
    );
    assert_eq!(gp_docs(&s, DocType::CashReceipt).await.len(), payments);

    // Reconciliation: zero difference, to the cent, per customer and currency.
    let conn = s.app.connections["acme"].clone();
    let report = ml_connector::reconcile::run(&s.app, &conn).await.unwrap();
    report.print();
    assert!(report.is_clean() && report.lines.len() >= 2, "{report:#?}");

    // An invoice whose webhook never came: reconciliation names it; the events sweep (gap
    // detection) finds and writes it; reconciliation is clean again.
    let gap = control
        .create_invoice(
            &site.name,
            chargebee_sandbox::InvoiceInput::new(&cust, vec![chargebee_sandbox::LineInput::adhoc("Missed", 777, 1)]),
        )
        .unwrap();
    let report = ml_connector::reconcile::run(&s.app, &conn).await.unwrap();
    let missing: Vec<_> = report.differences.iter().filter(|d| d.what == "missing in GP").collect();
    assert_eq!(missing.len(), 1, "{report:#?}");
    assert_eq!(missing[0].record.as_deref(), Some(format!("invoice/{}", gap.id).as_str()));
    ml_connector::schedule::events_sweep(&s.app, &conn).await.unwrap();
    s.drain("acme", Duration::from_secs(60)).await.unwrap();
    let report = ml_connector::reconcile::run(&s.app, &conn).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
    s.shutdown().await;
}

/// Webhooks only, in the worst order (payment, then invoice, then customer); then GP loses a
/// committed create's response; then the invoice's fiscal period is closed and reopened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worst_order_lost_response_and_closed_period() {
    let (s, _db) = stack("e2e-faults", StackSpec::default()).await;
    let site = s.site("acme").unwrap();
    let control = s.cb.control();
    let sender =
        s.webhooks("acme", WebhookConfig::new(&s.webhook_url("acme")).basic(WEBHOOK_USER, WEBHOOK_PASSWORD)).unwrap();
    let cust = control
        .create_customer(
            &site.name,
            chargebee_sandbox::CustomerInput {
                company: Some("Worst Order Ltd".into()),
                email: Some("ap@worst.example".into()),
                preferred_currency_code: Some("USD".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let inv = control
        .create_invoice(
            &site.name,
            chargebee_sandbox::InvoiceInput::new(
                &cust.id,
                vec![chargebee_sandbox::LineInput::adhoc("Plan", 10_000, 1)],
            ),
        )
        .unwrap();
    let pay = control
        .record_payment(
            &site.name,
            chargebee_sandbox::PaymentInput {
                payment_method: "card".into(),
                reference_number: None,
                date: None,
                applications: vec![(inv.id.clone(), 4_000)],
            },
        )
        .unwrap();
    let mut events = control.events(&site.name).unwrap();
    events.reverse();
    assert_eq!(sender.deliver(events).await.failed(), 0);
    s.drain("acme", Duration::from_secs(60)).await.unwrap();
    let invoices = gp_docs(&s, DocType::Invoice).await;
    let receipts = gp_docs(&s, DocType::CashReceipt).await;
    if receipts.len() != 1 {
        for e in s.app.store.audit("acme", Some(&format!("payment/{}", pay.id)), None).await.unwrap() {
            println!("{} {} {}", e.stage, e.outcome, e.detail);
        }
    }
    assert_eq!((invoices.len(), receipts.len()), (1, 1), "one invoice, one receipt");
    assert_eq!(invoices[0].remaining, inv.total - 4_000, "the receipt is applied to its invoice");
    assert_eq!(receipts[0].amounts.document, pay.amount);
    let waited = s.app.store.audit("acme", Some(&format!("payment/{}", pay.id)), None).await.unwrap();
    assert!(waited.iter().any(|e| e.outcome == "waiting"), "the payment visibly waited: {waited:#?}");

    // GP commits the next invoice but the connection drops before the answer.
    s.gp.control().inject(gp_sandbox::FaultRule::once("CreateReceivablesInvoice", gp_sandbox::FaultKind::LostResponse));
    let before = control.events(&site.name).unwrap().len();
    let inv2 = control
        .create_invoice(
            &site.name,
            chargebee_sandbox::InvoiceInput::new(
                &cust.id,
                vec![chargebee_sandbox::LineInput::adhoc("Seats", 1_500, 4)],
            ),
        )
        .unwrap();
    assert_eq!(
        sender.deliver(control.events(&site.name).unwrap().into_iter().skip(before).collect()).await.failed(),
        0
    );
    s.drain("acme", Duration::from_secs(60)).await.unwrap();
    assert_eq!(gp_docs(&s, DocType::Invoice).await.len(), 2, "exactly one GP document for {}", inv2.id);
    let tl = s.app.store.audit("acme", Some(&format!("invoice/{}", inv2.id)), None).await.unwrap();
    assert!(tl.iter().any(|e| e.detail.contains("already present")), "the look-up found our own document: {tl:#?}");

    // The period of today's invoices is closed: parked with GP's message, then reopened.
    let today = gp_sandbox::date::Date::today();
    s.gp.control().set_period_closed(FABRIKAM, today.year, today.month, true).await.unwrap();
    let before = control.events(&site.name).unwrap().len();
    let inv3 = control
        .create_invoice(
            &site.name,
            chargebee_sandbox::InvoiceInput::new(&cust.id, vec![chargebee_sandbox::LineInput::adhoc("Late", 999, 1)]),
        )
        .unwrap();
    assert_eq!(
        sender.deliver(control.events(&site.name).unwrap().into_iter().skip(before).collect()).await.failed(),
        0
    );
    let key = format!("invoice/{}", inv3.id);
    let store = s.app.store.clone();
    let mut parked = None;
    for _ in 0..400 {
        if let Some(r) = store.record("acme", &key).await.unwrap().filter(|r| r.state == "parked") {
            parked = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let parked = parked.expect("record parked on the closed period");
    assert!(parked.last_error.as_deref().unwrap_or("").contains("fiscal period"), "{parked:?}");
    assert_eq!(gp_docs(&s, DocType::Invoice).await.len(), 2, "nothing written while closed");
    s.gp.control().set_period_closed(FABRIKAM, today.year, today.month, false).await.unwrap();
    s.drain("acme", Duration::from_secs(60)).await.unwrap();
    assert_eq!(gp_docs(&s, DocType::Invoice).await.len(), 3, "written once after the period reopened");
    assert_eq!(store.record("acme", &key).await.unwrap().unwrap().state, "written");
    s.shutdown().await;
}

/// Dry run: the whole pipeline, GP untouched, every record's timeline saying what it would do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_writes_nothing_and_explains_everything() {
    let mut spec = StackSpec::default();
    spec.tenants[0].dry_run = true;
    let (s, _db) = stack("e2e-dry", spec).await;
    let site = s.site("acme").unwrap();
    s.cb.control().seed(&site.name, &seed(3, 2)).unwrap();
    s.backfill("acme").await.unwrap();
    let st = s.drain("acme", Duration::from_secs(60)).await.unwrap();
    assert_eq!((st.parked, st.dead), (0, 0));
    assert!(gp_docs(&s, DocType::Invoice).await.is_empty(), "GP untouched");
    assert!(s.gp.control().customers(FABRIKAM).await.unwrap().is_empty(), "no customer created");
    let inv = &s.cb.control().invoices(&site.name).unwrap()[0];
    let key = format!("invoice/{}", inv.id);
    let rec = s.app.store.record("acme", &key).await.unwrap().expect("record");
    assert_eq!(rec.state, "dry-run");
    let tl = s.app.store.audit("acme", Some(&key), None).await.unwrap();
    assert!(tl.iter().any(|e| e.stage == "dry-run" && e.detail.starts_with("would create invoice")), "{tl:#?}");
    s.shutdown().await;
}

/// Two tenants in one host and one GP company: one on the default mapper, one on its own
/// mapper component. Each gets its own mapping; the default tenant's documents are exactly what
/// the default mapper produces, whatever the other runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_runs_its_own_mapper_and_the_other_is_unchanged() {
    let prefixes = |p: &str| -> Vec<(String, String)> {
        ["customer", "invoice", "credit_memo", "receipt"]
            .iter()
            .map(|k| (format!("map.{k}.prefix"), p.to_string()))
            .collect()
    };
    let mut acme = TenantSpec::new("acme", "acme-test", Region::Us);
    acme.settings = prefixes("A");
    let mut globex = TenantSpec::new("globex", "globex-eu-test", Region::Eu);
    globex.mapper = "tenant-mapper".into();
    globex.settings = prefixes("G");
    globex.settings.push(("map.tenant.label".into(), "Globex".into()));
    let (s, _db) = stack("e2e-tenants", StackSpec { tenants: vec![acme, globex], ..StackSpec::default() }).await;
    for (t, seed_no) in [("acme", 1), ("globex", 2)] {
        let site = s.site(t).unwrap();
        s.cb.control().seed(&site.name, &SeedSpec { seed: seed_no, ..seed(3, 2) }).unwrap();
        s.backfill(t).await.unwrap();
    }
    for t in ["acme", "globex"] {
        let st = s.drain(t, Duration::from_secs(120)).await.unwrap();
        let stuck = s.stuck(t).await.unwrap();
        let why: Vec<_> = stuck.iter().map(|j| (&j.key, &j.last_error)).collect();
        assert_eq!((st.parked, st.dead), (0, 0), "{t}: {st:?} {why:#?}");
        let conn = s.app.connections[t].clone();
        let report = ml_connector::reconcile::run(&s.app, &conn).await.unwrap();
        assert!(report.is_clean(), "{t}: {report:#?}");
    }
    let invoices = gp_docs(&s, DocType::Invoice).await;
    let (a, g): (Vec<_>, Vec<_>) = invoices.iter().partition(|d| d.number.starts_with('A'));
    assert!(!a.is_empty() && !g.is_empty() && g.iter().all(|d| d.number.starts_with('G')));
    assert!(g.iter().all(|d| d.description.as_deref().is_some_and(|x| x.starts_with("Globex "))), "{g:#?}");
    // acme's documents are the default mapper's, record for record.
    let conn = s.app.connections["acme"].clone();
    for d in &a {
        assert!(!d.description.as_deref().unwrap_or("").starts_with("Globex"), "{d:?}");
    }
    let rec = s
        .app
        .store
        .record("acme", &format!("invoice/{}", s.cb.control().invoices("acme-test").unwrap()[0].id))
        .await
        .unwrap()
        .unwrap();
    let canonical: ml_connector::bindings::types::SourceRecord =
        serde_json::from_str(rec.canonical.as_deref().unwrap()).unwrap();
    let settings: Vec<(String, String)> = conn.config.settings.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let scope = ml_connector::call::Scope::default();
    let fresh = ml_connector::call::call_component(&s.app, "acme", &conn.mapper, scope, async |store, mapper| {
        mapper.ml_connector_plugin_mapper_api().call_map(store, &canonical, &settings).await
    })
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    assert_eq!(
        serde_json::to_string(&fresh).unwrap(),
        rec.ledger.unwrap(),
        "acme's stored mapping is the default mapper's"
    );
    s.shutdown().await;
}

/// GP's company database through the product's own eConnect executor (the read queries of
/// docs/econnect.md), as an auditor with a SQL login would look.
/// Decimal text (`110.00000`) → minor units of a 2- or 0-decimal currency.
fn minor(text: &Option<String>, digits: u32) -> i64 {
    let t = text.as_deref().unwrap_or("0");
    let v: f64 = t.parse().unwrap_or_else(|_| panic!("{t:?} is no decimal"));
    (v * 10f64.powi(digits as i32)).round() as i64
}

/// The product end to end over eConnect (SQL Server, the company database) and over GP Web
/// Services: every document lands once and complete — its GL distributions are the mapped
/// accounts and balance, its tax details sum to its tax, a EUR invoice carries Chargebee's rate
/// (eConnect; GP Web Services' documents have no rate member, GP takes its rate table's) — and
/// a customer's e-mail change in Chargebee reaches GP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn econnect_writes_complete_documents_and_customer_changes() {
    complete_documents_and_customer_changes("econnect").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soap_writes_complete_documents_and_customer_changes() {
    complete_documents_and_customer_changes("soap").await
}

async fn complete_documents_and_customer_changes(endpoint: &'static str) {
    let mut t = TenantSpec::new("acme", "acme-test", Region::Us);
    t.endpoint = endpoint;
    t.settings.push(("map.exchange_rate".into(), "chargebee".into()));
    t.settings.push(("map.base_currency".into(), "USD".into()));
    let (s, _db) =
        stack(&format!("e2e-complete-{endpoint}"), StackSpec { tenants: vec![t], ..StackSpec::default() }).await;
    let site = s.site("acme").unwrap();
    let control = s.cb.control();
    control.seed(&site.name, &SeedSpec { currencies: vec!["USD".into(), "EUR".into()], ..seed(4, 3) }).unwrap();
    s.backfill("acme").await.unwrap();
    let drained = s.drain("acme", Duration::from_secs(180)).await;
    let stuck = s.stuck("acme").await.unwrap();
    let why: Vec<_> = stuck.iter().map(|j| (&j.key, &j.last_error)).collect();
    let st = drained.unwrap_or_else(|e| panic!("{e}: {why:#?}"));
    assert!(stuck.is_empty() && st.parked + st.dead == 0, "{why:#?}");

    let sql = gp_sql(&s);
    let invoices = gp_docs(&s, DocType::Invoice).await;
    assert_eq!(invoices.len(), control.invoices(&site.name).unwrap().len(), "every invoice once");
    let mut eur = 0;
    for inv in &invoices {
        let digits = inv.currency.decimal_digits;
        let key = ["1".to_string(), inv.number.clone()];
        let dist = sql.query(mlc_econnect::QueryName::Distributions, &key).await.unwrap().rows;
        let (mut debit, mut credit, mut tax_rows) = (0, 0, 0);
        for r in &dist {
            let (kind, account, d, c) =
                (r[1].as_deref().unwrap(), r[2].as_deref().unwrap(), minor(&r[3], digits), minor(&r[4], digits));
            (debit, credit) = (debit + d, credit + c);
            let expected = match kind {
                "3" => "000-1200-00",
                "9" => "000-4100-00",
                "10" => "000-4300-00",
                "12" => "000-7000-00",
                "13" => "000-2310-00",
                other => panic!("{}: unexpected distribution type {other}", inv.number),
            };
            assert_eq!(account, expected, "{}: DISTTYPE {kind} goes to the mapped account", inv.number);
            if kind == "3" {
                assert_eq!(d, inv.amounts.document, "{}: receivables debit = document amount", inv.number);
            }
            if kind == "13" {
                tax_rows += c;
            }
        }
        assert!(!dist.is_empty() && debit == credit, "{}: distributions balance: {dist:?}", inv.number);
        assert_eq!(tax_rows, inv.amounts.tax, "{}: tax distributions = tax", inv.number);
        let taxes = sql.query(mlc_econnect::QueryName::TaxDetails, &key).await.unwrap().rows;
        let detail_sum: i64 = taxes.iter().map(|r| minor(&r[1], digits)).sum();
        assert_eq!(detail_sum, inv.amounts.tax, "{}: tax details sum to the tax: {taxes:?}", inv.number);
        if inv.currency.iso_code == "EUR" && endpoint == "econnect" {
            eur += 1;
            let cb = control.invoices(&site.name).unwrap();
            let source = cb.iter().find(|i| inv.number.ends_with(&i.id.to_uppercase())).expect("its Chargebee invoice");
            let rate = s.gp.control().document_rate(FABRIKAM, DocType::Invoice, &inv.number).await.unwrap();
            let rate: f64 = rate.as_deref().expect("a EUR invoice carries its rate").parse().unwrap();
            assert!(
                (rate - source.exchange_rate).abs() < 1e-7,
                "{}: {rate} vs Chargebee's {}",
                inv.number,
                source.exchange_rate
            );
        }
    }
    assert!(eur > 0 || endpoint != "econnect", "the seed has EUR invoices");

    // An e-mail change in Chargebee reaches GP (the next poll picks the customer up).
    let customer = &control.customers(&site.name).unwrap()[0];
    let update = chargebee_sandbox::CustomerUpdate { email: Some("new-ap@acme.example".into()), ..Default::default() };
    control.update_customer(&site.name, &customer.id, update).unwrap();
    s.backfill("acme").await.unwrap();
    s.drain("acme", Duration::from_secs(60)).await.unwrap();
    let gp_id = s.gp.control().customers(FABRIKAM).await.unwrap();
    let found = gp_emails(&sql, &gp_id.iter().map(|c| c.id.clone()).collect::<Vec<_>>()).await;
    assert!(found.iter().any(|e| e == "new-ap@acme.example"), "GP's e-mails: {found:?}");
}

async fn gp_emails(sql: &mlc_econnect::Executor, customers: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for c in customers {
        let rows = sql.query(mlc_econnect::QueryName::CustomerEmail, &[c.clone(), "PRIMARY".into()]).await.unwrap();
        out.extend(rows.rows.into_iter().filter_map(|r| r.into_iter().next().flatten()));
    }
    out
}

/// A document GP refuses parks with GP's number and text on its timeline; once the AR team
/// fixes the cause in GP (here: sets up the card name the mapping uses), a replay writes each
/// refused document exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn econnect_refusal_parks_with_gps_number_and_replay_writes_once() {
    let mut t = TenantSpec::new("acme", "acme-test", Region::Us);
    t.endpoint = "econnect";
    for brand in ["visa", "mastercard", "american_express", "discover"] {
        t.settings.push((format!("map.card.{brand}"), "CB CARD".into()));
    }
    let (s, _db) = stack("e2e-econnect-refusal", StackSpec { tenants: vec![t], ..StackSpec::default() }).await;
    let site = s.site("acme").unwrap();
    let control = s.cb.control();
    control.seed(&site.name, &SeedSpec { currencies: vec!["USD".into()], ..seed(6, 4) }).unwrap();
    // Two open invoices paid by card (the customer's card brand is the emulator's).
    let open: Vec<_> = control.invoices(&site.name).unwrap().into_iter().filter(|i| i.amount_due > 0).take(2).collect();
    assert!(!open.is_empty(), "the seed leaves invoices to pay");
    for inv in &open {
        let pay = chargebee_sandbox::PaymentInput {
            payment_method: "card".into(),
            ..chargebee_sandbox::PaymentInput::single(&inv.id, inv.amount_due)
        };
        control.record_payment(&site.name, pay).unwrap();
    }
    let cards = control.transactions(&site.name).unwrap().iter().filter(|t| t.payment_method == "card").count();
    assert!(cards > 0, "card payments to book");
    s.backfill("acme").await.unwrap();
    let _ = s.drain("acme", Duration::from_secs(120)).await;
    let parked = s.stuck("acme").await.unwrap();
    assert!(!parked.is_empty(), "card receipts to an unknown card name park");
    for job in &parked {
        let error = job.last_error.as_deref().unwrap_or_default();
        assert!(error.contains("eConnect error 9038") && error.contains("CRCARDID"), "GP's number and text: {error}");
        let record = job.record_key.clone().expect("a record's job");
        let timeline = s.app.store.audit("acme", Some(&record), None).await.unwrap();
        assert!(
            timeline.iter().any(|e| e.outcome == "parked" && e.detail.contains("9038")),
            "{record}: the timeline shows GP's refusal: {timeline:#?}"
        );
    }
    let receipts_before = gp_docs(&s, DocType::CashReceipt).await.len();

    // The fix is in GP; the replay writes each refused receipt once.
    s.gp.control().add_card_name(FABRIKAM, "CB CARD").await.unwrap();
    let filter = mlc_store::JobFilter {
        connection: Some("acme".into()),
        states: vec![mlc_store::JobState::Parked],
        ..Default::default()
    };
    assert_eq!(s.app.store.replay(&filter).await.unwrap(), parked.len() as u64);
    s.app.wake.notify_waiters();
    s.drain("acme", Duration::from_secs(120)).await.unwrap();
    assert!(s.stuck("acme").await.unwrap().is_empty());
    let receipts = gp_docs(&s, DocType::CashReceipt).await;
    assert_eq!(receipts.len(), receipts_before + parked.len(), "each refused receipt once");
    let numbers: std::collections::BTreeSet<_> = receipts.iter().map(|r| &r.number).collect();
    assert_eq!(numbers.len(), receipts.len(), "no number twice");
}
