//! The real chargebee-source component in the real host against the Chargebee emulator:
//! backfill of a seeded site within its call budget, resume from a saved cursor, the events walk,
//! fetch of each record kind (and with `chargebee.fetch_event`), intake of the emulator's events,
//! and the error mapping (404, 429, 5xx, refused key).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chargebee_sandbox::{ChargebeeConfig, ChargebeeSandbox, CustomerInput, Plan, Region, SeedSpec, SiteConfig};
use ml_connector::app::App;
use ml_connector::bindings::source::exports::ml_connector::plugin::source_api::{
    PollMode, PollPage, PollRequest, SourceError, Webhook,
};
use ml_connector::bindings::types::{RecordBody, RecordKind, SourceRecord, Trigger};
use ml_connector_tests::*;

const SITE: &str = "acme-test";
/// Seeded history ends here (fixed, so data and windows are deterministic).
const UNTIL: i64 = 1_764_000_000;
/// The event types the source acts on (its README).
const ACCEPTED: [&str; 8] = [
    "customer_created",
    "customer_changed",
    "invoice_generated",
    "invoice_updated",
    "payment_succeeded",
    "payment_refunded",
    "credit_note_created",
    "credit_note_updated",
];

struct Env {
    sandbox: ChargebeeSandbox,
    app: Arc<App>,
    _db: TestDb,
}

/// The emulator with one US site (a limit high enough for the walks), seeded with `spec`, and a
/// host whose connections all use chargebee-source against it:
/// `acme` (defaults), `acme-small` (page size 7), `acme-events` (fetch_event), `acme-badkey`.
async fn env(spec: Option<SeedSpec>) -> Env {
    init_tracing();
    let key = "test_acme_key_1";
    let config = ChargebeeConfig {
        sites: vec![SiteConfig::new(SITE, Region::Us, Plan::Enterprise).key(key)],
        ..Default::default()
    };
    let sandbox = ChargebeeSandbox::start(config).await.unwrap();
    if let Some(spec) = spec {
        sandbox.control().set_clock(Some(UNTIL));
        sandbox.control().seed(SITE, &spec).unwrap();
    }
    let origin = sandbox.origin(Region::Us);
    let db = TestDb::from_env().await;
    let mut cfg = format!(
        r#"[host]
database = "{db}"
cache_dir = "{cache}"

[secrets.cb-key]
scheme = "basic-api-key"
origin = "{origin}"
value = "{key}"

[secrets.cb-wrong-key]
scheme = "basic-api-key"
origin = "{origin}"
value = "test_not_a_key"
"#,
        db = db.url,
        cache = shared_cache().display(),
    );
    for name in ["chargebee-source", "standin-mapper", "standin-target"] {
        let (path, digest) = component(name);
        cfg.push_str(&format!(
            "\n[components.{name}]\npath = \"{}\"\nsha256 = \"{digest}\"\ncall_timeout_ms = 20000\n",
            path.display()
        ));
    }
    for (id, secret, extra) in [
        ("acme", "cb-key", ""),
        ("acme-small", "cb-key", "\"chargebee.page_size\" = \"7\"\n"),
        ("acme-events", "cb-key", "\"chargebee.fetch_event\" = \"true\"\n"),
        ("acme-badkey", "cb-wrong-key", ""),
    ] {
        cfg.push_str(&format!(
            r#"
[[connections]]
id = "{id}"
[connections.settings]
"chargebee.api_base" = "{origin}"
{extra}
[connections.source]
component = "chargebee-source"
allow_http = ["{origin}"]
allow_private_network = true
secrets = {{ chargebee-api-key = "{secret}" }}
[connections.mapper]
component = "standin-mapper"
[connections.target]
component = "standin-target"
"#
        ));
    }
    let dir = scratch("cb-source");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ml-connector.toml");
    std::fs::write(&path, cfg).unwrap();
    let config = ml_connector::config::Config::load(&path).unwrap();
    let app = App::build(config).await.unwrap();
    Env { sandbox, app, _db: db }
}

impl Env {
    /// A fresh instance per call, as the host runs them (a crash loses nothing but the call).
    async fn poll(&self, conn: &str, req: &PollRequest) -> Result<PollPage, SourceError> {
        let c = &self.app.connections[conn];
        let mut store = ml_connector::call::new_store(&self.app, conn, &c.source, Default::default()).unwrap();
        let inst = c.source.pre.instantiate_async(&mut store).await.unwrap();
        inst.ml_connector_plugin_source_api().call_poll(&mut store, req).await.unwrap()
    }

    async fn fetch(&self, conn: &str, trigger: &Trigger) -> Result<Vec<SourceRecord>, SourceError> {
        let c = &self.app.connections[conn];
        let mut store = ml_connector::call::new_store(&self.app, conn, &c.source, Default::default()).unwrap();
        let inst = c.source.pre.instantiate_async(&mut store).await.unwrap();
        inst.ml_connector_plugin_source_api().call_fetch(&mut store, trigger).await.unwrap()
    }

    async fn intake(&self, body: Vec<u8>) -> Result<Vec<Trigger>, SourceError> {
        let c = &self.app.connections["acme"];
        let mut store = ml_connector::call::new_store(&self.app, "acme", &c.source, Default::default()).unwrap();
        let inst = c.source.pre.instantiate_async(&mut store).await.unwrap();
        inst.ml_connector_plugin_source_api().call_intake(&mut store, &Webhook { headers: vec![], body }).await.unwrap()
    }

    /// Walk a whole window from `cursor`; returns the pages.
    async fn walk(
        &self,
        conn: &str,
        mode: PollMode,
        mut cursor: Option<String>,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Vec<PollPage> {
        let mut pages = vec![];
        loop {
            let page = self.poll(conn, &PollRequest { mode, cursor: cursor.clone(), since, until }).await.unwrap();
            cursor = page.next_cursor.clone();
            pages.push(page);
            if cursor.is_none() {
                return pages;
            }
            assert!(pages.len() < 10_000, "the walk does not end");
        }
    }

    fn calls(&self) -> u64 {
        self.sandbox.control().counters(SITE).unwrap().calls
    }
}

fn trigger(kind: RecordKind, id: &str) -> Trigger {
    Trigger { event_id: None, event_type: "test".into(), kind, resource_id: id.into(), occurred_at: 0 }
}

fn kind_str(k: RecordKind) -> &'static str {
    match k {
        RecordKind::Customer => "customer",
        RecordKind::Invoice => "invoice",
        RecordKind::Payment => "payment",
        RecordKind::CreditNote => "credit_note",
    }
}

/// Transactions the source turns into payments (README: "Payments and refunds").
fn ledger_transaction(kind: &str, status: &str) -> bool {
    matches!(kind, "payment" | "refund" | "payment_reversal") && matches!(status, "success" | "voided" | "late_failure")
}

fn spec(customers: usize, invoices_per_customer: usize) -> SeedSpec {
    SeedSpec { customers, invoices_per_customer, until: Some(UNTIL), days: 120, ..SeedSpec::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_reads_every_record_customers_first_within_the_call_budget() {
    // ~10,000 records (the issue's size): 1,000 customers with 5 invoices each and their payments and notes.
    let env = env(Some(spec(1000, 5))).await;
    let control = env.sandbox.control();
    let customers = control.customers(SITE).unwrap();
    let invoices = control.invoices(SITE).unwrap();
    let txns = control.transactions(SITE).unwrap();
    let notes = control.credit_notes(SITE).unwrap();
    let payments: Vec<_> = txns.iter().filter(|t| ledger_transaction(&t.kind, &t.status)).collect();
    assert!(txns.iter().any(|t| t.kind == "refund"), "the seed should include refunds");

    control.reset_counters();
    let pages = env.walk("acme", PollMode::Backfill, None, None, None).await;
    let calls = env.calls();
    let items: Vec<_> = pages.iter().flat_map(|p| p.items.iter()).collect();
    let total_records = customers.len() + invoices.len() + txns.len() + notes.len();

    // One list call per page of 100 and per phase: Σ max(1, ceil(n/100)) ≤ records/100 + 4.
    let pages_of = |n: usize| n.div_ceil(100).max(1) as u64;
    let expected_calls =
        pages_of(customers.len()) + pages_of(invoices.len()) + pages_of(txns.len()) + pages_of(notes.len());
    assert_eq!(calls, expected_calls, "calls for {total_records} records");
    assert!(calls <= total_records as u64 / 100 + 4);
    eprintln!(
        "backfill: {total_records} Chargebee records ({} ledger items) in {calls} calls over {} polls",
        items.len(),
        pages.len()
    );

    // Every item carries its record: no per-record fetch later.
    assert!(
        items.iter().all(|i| i.fetched.is_some() && i.trigger.event_id.is_none() && i.trigger.event_type == "backfill")
    );
    let count = |k: RecordKind| items.iter().filter(|i| i.trigger.kind == k).count();
    assert_eq!(count(RecordKind::Customer), customers.len());
    assert_eq!(count(RecordKind::Invoice), invoices.len());
    assert_eq!(count(RecordKind::Payment), payments.len());
    assert_eq!(count(RecordKind::CreditNote), notes.len());
    let ids: BTreeSet<(&str, &str)> =
        items.iter().map(|i| (kind_str(i.trigger.kind), i.trigger.resource_id.as_str())).collect();
    assert_eq!(ids.len(), items.len(), "no record twice");

    // Customers, then invoices, then payments, then credit notes.
    let order: Vec<RecordKind> = items.iter().map(|i| i.trigger.kind).collect();
    let rank = |k: RecordKind| {
        [RecordKind::Customer, RecordKind::Invoice, RecordKind::Payment, RecordKind::CreditNote]
            .iter()
            .position(|x| *x == k)
    };
    assert!(order.windows(2).all(|w| rank(w[0]) <= rank(w[1])), "phases out of order");

    // The records match the emulator's data, amounts as integers.
    let by_id: BTreeMap<&str, &SourceRecord> =
        items.iter().filter_map(|i| i.fetched.as_ref()).map(|r| (r.id.as_str(), r)).collect();
    for inv in &invoices {
        let r = by_id[inv.id.as_str()];
        assert_eq!(r.version, inv.resource_version);
        let RecordBody::Invoice(i) = &r.body else { panic!("{} is not an invoice", inv.id) };
        assert_eq!(
            (i.total, i.sub_total, i.tax, i.amount_paid, i.amount_due),
            (inv.total, inv.sub_total, inv.tax, inv.amount_paid, inv.amount_due),
            "{}",
            inv.id
        );
        assert_eq!((&i.currency, &i.status, &i.customer_id), (&inv.currency_code, &inv.status, &inv.customer_id));
        assert_eq!(i.lines.len(), inv.line_items.len());
        assert_eq!(
            i.lines.iter().map(|l| l.tax).sum::<i64>(),
            inv.line_items.iter().map(|l| l.tax_amount).sum::<i64>()
        );
    }
    for t in &payments {
        let RecordBody::Payment(p) = &by_id[t.id.as_str()].body else { panic!() };
        let sign = if t.kind == "payment" { 1 } else { -1 };
        assert_eq!(p.amount, sign * t.amount, "{}", t.id);
        assert_eq!(
            p.allocations.iter().map(|a| a.amount).sum::<i64>(),
            sign * t.linked_invoices.iter().map(|l| l.applied_amount).sum::<i64>()
        );
    }
    for cn in &notes {
        let RecordBody::CreditNote(c) = &by_id[cn.id.as_str()].body else { panic!() };
        assert_eq!(
            (c.total, c.sub_total, c.reference_invoice_id.as_deref()),
            (cn.total, cn.sub_total, Some(cn.reference_invoice_id.as_str()))
        );
        assert_eq!(c.allocations.len(), cn.allocations.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_resumes_from_a_saved_cursor_and_honours_the_window() {
    let env = env(Some(spec(15, 3))).await;
    let full = env.walk("acme-small", PollMode::Backfill, None, None, None).await;
    let all: Vec<(RecordKind, String)> =
        full.iter().flat_map(|p| p.items.iter()).map(|i| (i.trigger.kind, i.trigger.resource_id.clone())).collect();
    assert!(full.len() > 6, "page size 7 over {} records should take several polls", all.len());

    // A walk that "crashes" after three pages resumes from the saved cursor on a new instance.
    env.sandbox.control().reset_counters();
    let head = env.walk_n("acme-small", 3).await;
    let saved = head.last().unwrap().next_cursor.clone().expect("mid-walk cursor");
    let before = env.calls();
    let tail = env.walk("acme-small", PollMode::Backfill, Some(saved), None, None).await;
    assert_eq!(env.calls() - before, tail.len() as u64, "a resumed walk re-reads nothing");
    let resumed: Vec<(RecordKind, String)> = head
        .iter()
        .chain(tail.iter())
        .flat_map(|p| p.items.iter())
        .map(|i| (i.trigger.kind, i.trigger.resource_id.clone()))
        .collect();
    assert_eq!(resumed, all);

    // The window: only records updated at/after `since` and before `until`.
    let invoices = env.sandbox.control().invoices(SITE).unwrap();
    let mut stamps: Vec<i64> = invoices.iter().map(|i| i.updated_at).collect();
    stamps.sort();
    let (since, until) = (stamps[stamps.len() / 3], stamps[2 * stamps.len() / 3]);
    let windowed = env.walk("acme", PollMode::Backfill, None, Some(since), Some(until)).await;
    let got: BTreeSet<String> = windowed
        .iter()
        .flat_map(|p| p.items.iter())
        .filter(|i| i.trigger.kind == RecordKind::Invoice)
        .map(|i| i.trigger.resource_id.clone())
        .collect();
    let want: BTreeSet<String> =
        invoices.iter().filter(|i| i.updated_at >= since && i.updated_at < until).map(|i| i.id.clone()).collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    // A cursor of another mode or another component is refused, not misread.
    let wrong = PollRequest { mode: PollMode::Events, cursor: full[0].next_cursor.clone(), since: None, until: None };
    assert!(matches!(env.poll("acme", &wrong).await, Err(SourceError::Permanent(_))));
    let foreign = PollRequest { mode: PollMode::Backfill, cursor: Some("page=2".into()), since: None, until: None };
    assert!(matches!(env.poll("acme", &foreign).await, Err(SourceError::Permanent(_))));
}

impl Env {
    async fn walk_n(&self, conn: &str, n: usize) -> Vec<PollPage> {
        let mut pages: Vec<PollPage> = vec![];
        for _ in 0..n {
            let cursor = pages.last().and_then(|p| p.next_cursor.clone());
            pages.push(
                self.poll(conn, &PollRequest { mode: PollMode::Backfill, cursor, since: None, until: None })
                    .await
                    .unwrap(),
            );
        }
        pages
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_walk_yields_every_accepted_event_keyed_by_id() {
    let env = env(Some(spec(10, 3))).await;
    // A customer created and deleted: `customer_deleted` is a type the source ignores.
    let gone =
        CustomerInput { id: Some("cust_gone".into()), email: Some("gone@example.com".into()), ..Default::default() };
    env.sandbox.control().create_customer(SITE, gone).unwrap();
    env.sandbox.control().delete_customer(SITE, "cust_gone").unwrap();
    let events = env.sandbox.control().events(SITE).unwrap();
    let want: Vec<&str> =
        events.iter().filter(|e| ACCEPTED.contains(&e.event_type.as_str())).map(|e| e.id.as_str()).collect();
    assert!(events.len() > want.len(), "the seed should include event types the source ignores");
    env.sandbox.control().reset_counters();
    let pages = env.walk("acme-small", PollMode::Events, None, Some(0), Some(UNTIL + 1)).await;
    let got: Vec<&str> =
        pages.iter().flat_map(|p| p.items.iter()).map(|i| i.trigger.event_id.as_deref().unwrap()).collect();
    assert_eq!(got.iter().copied().collect::<BTreeSet<_>>(), want.iter().copied().collect::<BTreeSet<_>>());
    assert_eq!(got.len(), want.len());
    assert!(pages.iter().flat_map(|p| p.items.iter()).all(|i| i.fetched.is_none()));
    assert_eq!(env.calls(), pages.len() as u64, "one call per page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_reads_each_kind_and_maps_errors() {
    let env = env(Some(spec(6, 3))).await;
    let control = env.sandbox.control();
    let customer = control.customers(SITE).unwrap().into_iter().next().unwrap();
    let invoice = control.invoices(SITE).unwrap().into_iter().next().unwrap();
    let txns = control.transactions(SITE).unwrap();
    let payment = txns.iter().find(|t| t.kind == "payment" && t.status == "success").unwrap().clone();
    let note = control.credit_notes(SITE).unwrap().into_iter().next().expect("a credit note in the seed");

    let one = |r: Result<Vec<SourceRecord>, SourceError>| {
        let mut v = r.unwrap();
        assert_eq!(v.len(), 1);
        v.remove(0)
    };
    let r = one(env.fetch("acme", &trigger(RecordKind::Customer, &customer.id)).await);
    let RecordBody::Customer(c) = r.body else { panic!() };
    assert_eq!(
        (c.id, c.currency, c.email, c.net_term_days),
        (customer.id.clone(), customer.preferred_currency_code.clone(), customer.email.clone(), customer.net_term_days)
    );

    let r = one(env.fetch("acme", &trigger(RecordKind::Invoice, &invoice.id)).await);
    assert_eq!((r.version, r.deleted), (invoice.resource_version, false));
    let RecordBody::Invoice(i) = r.body else { panic!() };
    assert_eq!((i.total, i.currency, i.date), (invoice.total, invoice.currency_code.clone(), civil_date(invoice.date)));

    let r = one(env.fetch("acme", &trigger(RecordKind::Payment, &payment.id)).await);
    let RecordBody::Payment(p) = r.body else { panic!() };
    assert_eq!(
        (p.amount, p.method, p.allocations.len()),
        (payment.amount, payment.payment_method.clone(), payment.linked_invoices.len())
    );

    let r = one(env.fetch("acme", &trigger(RecordKind::CreditNote, &note.id)).await);
    let RecordBody::CreditNote(n) = r.body else { panic!() };
    assert_eq!((n.total, n.reference_invoice_id), (note.total, Some(note.reference_invoice_id.clone())));

    if let Some(refund) = txns.iter().find(|t| t.kind == "refund") {
        let r = one(env.fetch("acme", &trigger(RecordKind::Payment, &refund.id)).await);
        let RecordBody::Payment(p) = r.body else { panic!() };
        assert_eq!(p.amount, -refund.amount, "a refund is a negative payment");
    }

    // A deleted customer comes back as a deleted record.
    control.delete_customer(SITE, &customer.id).unwrap();
    assert!(one(env.fetch("acme", &trigger(RecordKind::Customer, &customer.id)).await).deleted);

    // 404 → not-found.
    assert!(matches!(
        env.fetch("acme", &trigger(RecordKind::Invoice, "inv_does_not_exist")).await,
        Err(SourceError::NotFound(_))
    ));
    // 5xx → transient.
    control.fail_next(1, 503, Some("/invoices"));
    assert!(matches!(
        env.fetch("acme", &trigger(RecordKind::Invoice, &invoice.id)).await,
        Err(SourceError::Transient(_))
    ));
    // A refused key → permanent.
    assert!(matches!(
        env.fetch("acme-badkey", &trigger(RecordKind::Invoice, &invoice.id)).await,
        Err(SourceError::Permanent(_))
    ));
    // Over the site's limit → rate-limited with the emulator's Retry-After.
    control.set_limit(SITE, 1).unwrap();
    let _ = env.fetch("acme", &trigger(RecordKind::Invoice, &invoice.id)).await;
    match env.fetch("acme", &trigger(RecordKind::Invoice, &invoice.id)).await {
        Err(SourceError::RateLimited(Some(ms))) => assert!(ms >= 1000, "{ms}"),
        other => panic!("expected rate-limited, got {other:?}"),
    }
}

fn civil_date(unix: i64) -> String {
    // Civil date of a unix time from the `time` crate, independently of the component's helper.
    let d = time::OffsetDateTime::from_unix_timestamp(unix).unwrap().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_and_fetch_event_mode_use_the_emulators_events() {
    let env = env(Some(spec(5, 2))).await;
    let events = env.sandbox.control().events(SITE).unwrap();
    let generated = events.iter().find(|e| e.event_type == "invoice_generated").unwrap();
    let ignored = events.iter().find(|e| !ACCEPTED.contains(&e.event_type.as_str()));

    // The webhook body is the bare event object.
    let triggers = env.intake(serde_json::to_vec(generated).unwrap()).await.unwrap();
    assert_eq!(triggers.len(), 1);
    let t = &triggers[0];
    let invoice_id = generated.content["invoice"]["id"].as_str().unwrap();
    assert_eq!(
        (t.event_id.as_deref(), t.kind, t.resource_id.as_str(), t.occurred_at),
        (Some(generated.id.as_str()), RecordKind::Invoice, invoice_id, generated.occurred_at)
    );
    if let Some(other) = ignored {
        assert!(
            env.intake(serde_json::to_vec(other).unwrap()).await.unwrap().is_empty(),
            "{} is not acted on",
            other.event_type
        );
    }
    assert!(matches!(env.intake(b"{\"id\":\"ev_x\"}".to_vec()).await, Err(SourceError::BadWebhook(_))));
    assert_eq!(env.calls(), 0, "intake never calls out");

    // fetch_event: the event is read from the API first; a lying trigger does not matter.
    env.sandbox.control().reset_counters();
    let lying = Trigger { resource_id: "inv_somebody_else".into(), ..t.clone() };
    let recs = env.fetch("acme-events", &lying).await.unwrap();
    assert_eq!(recs[0].id, invoice_id);
    let by_endpoint = env.sandbox.control().counters(SITE).unwrap().by_endpoint;
    assert_eq!(
        (by_endpoint.get("/api/v2/events/:id"), by_endpoint.get("/api/v2/invoices/:id")),
        (Some(&1), Some(&1)),
        "{by_endpoint:?}"
    );
    // Default mode: one call, the trigger's ids.
    env.sandbox.control().reset_counters();
    env.fetch("acme", t).await.unwrap();
    assert_eq!(env.calls(), 1);
}
