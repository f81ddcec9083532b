//! The connector against both emulators, in one process. Prints figures; asserts only that the
//! work was done (a run that lost documents is not a measurement).
//!
//! Sections (all by default; name some to run only those):
//! - `source`  backfill read of ~10,000 Chargebee records through the chargebee-source component:
//!   records/s and calls per record, beside the official Node SDK's own list loop
//!   over the same four lists on the same emulator (needs `npm ci` in
//!   sandbox/chargebee/tests/node; skipped with a note otherwise).
//! - `ingest`  webhook intake latency p50/p99 at a fixed request rate (open loop), durable
//!   before 2xx, while the workers process what arrives.
//! - `gp`      documents/s written by the gp-target component against the GP emulator at
//!   service latency L and concurrency ceiling c, as a ratio to the limit c/L.
//! - `e2e`     ~10,000 Chargebee events end to end (webhooks, then a backfill of a second site):
//!   documents/s as a ratio to c/L and Chargebee calls per GP document.
//!
//! Run: `cargo xtask components && cargo bench -p mlc-harness --bench connector [-- SECTION…]`
//! Sizes: `MLC_BENCH_CUSTOMERS` (e2e/source seed, default 1000 → ~10k records/events),
//! `MLC_BENCH_L_MS` (20), `MLC_BENCH_C` (8), `MLC_BENCH_RATE` (ingest req/s, 200),
//! `MLC_BENCH_DATABASE` (a `postgres://…` URL; default an SQLite file), `MLC_BENCH_RECONCILE`
//! (also reconcile both e2e connections and time it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chargebee_sandbox::{Region, SeedSpec};
use gp_sandbox::Overload;
use ml_connector::bindings::source::exports::ml_connector::plugin::source_api::{PollMode, PollRequest};
use ml_connector::bindings::types::{Distribution, DistributionKind, GpCustomer, LedgerDoc, ReceivablesInvoice};
use ml_connector_tests::scratch;
use mlc_harness::stack::{Stack, StackSpec, TenantSpec, WEBHOOK_PASSWORD, WEBHOOK_USER};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Pacing {
    latency: Duration,
    ceiling: usize,
}

impl Pacing {
    fn from_env() -> Pacing {
        Pacing { latency: Duration::from_millis(env("MLC_BENCH_L_MS", 20)), ceiling: env("MLC_BENCH_C", 8) }
    }
    /// GP calls per second the emulator can serve at most.
    fn limit(&self) -> f64 {
        self.ceiling as f64 / self.latency.as_secs_f64()
    }
    fn gp(&self) -> gp_sandbox::GpConfig {
        gp_sandbox::GpConfig {
            latency: self.latency,
            ceiling: Some(self.ceiling),
            overload: Overload::Queue,
            ..Default::default()
        }
    }
}

/// Seeded history: ~10 records (and ~10 creation events) per customer.
fn seed(customers: usize) -> SeedSpec {
    // The currencies the emulator's Fabrikam company has checkbooks for (`fabrikam_mapping`).
    let currencies = ["USD", "EUR", "JPY"].map(String::from).to_vec();
    // No refunds: the default mapping parks them for a person by design (gp-mapper's README).
    SeedSpec { customers, invoices_per_customer: 5, currencies, days: 60, refund_rate: 0.0, ..SeedSpec::default() }
}

/// A stack whose Chargebee limit never binds (the benchmarks measure the connector, not the plan).
async fn stack(name: &str, tenants: Vec<TenantSpec>, gp: gp_sandbox::GpConfig) -> anyhow::Result<Stack> {
    stack_on(name, tenants, gp, std::env::var("MLC_BENCH_DATABASE").ok()).await
}

/// The same on a given database URL (none: an SQLite file in the stack's directory).
async fn stack_on(
    name: &str,
    tenants: Vec<TenantSpec>,
    gp: gp_sandbox::GpConfig,
    database: Option<String>,
) -> anyhow::Result<Stack> {
    let dir = scratch(name);
    Stack::start(&dir, StackSpec { tenants, cb_limit: 1_000_000, gp, workers: 32, database, ..StackSpec::default() })
        .await
}

fn tenant(id: &str, site: &str, max_in_flight: usize) -> TenantSpec {
    TenantSpec { max_in_flight: max_in_flight as i32, ..TenantSpec::new(id, site, Region::Us) }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    ml_connector::install_crypto();
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let want = |s: &str| args.is_empty() || args.iter().any(|a| a == s);
    if want("source") {
        source().await?;
    }
    if want("ingest") {
        ingest().await?;
    }
    if want("gp") {
        gp().await?;
    }
    if want("e2e") {
        e2e().await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------- source

async fn source() -> anyhow::Result<()> {
    let customers = env("MLC_BENCH_CUSTOMERS", 1000);
    let s = stack("bench-source", vec![tenant("acme", "acme-test", 8)], gp_sandbox::GpConfig::default()).await?;
    let site = s.site("acme")?;
    let control = s.cb.control();
    control.seed(&site.name, &seed(customers))?;
    let records = control.customers(&site.name)?.len()
        + control.invoices(&site.name)?.len()
        + control.transactions(&site.name)?.len()
        + control.credit_notes(&site.name)?.len();

    // The source component's backfill walk, page after page, as the host's poll jobs run it.
    let conn = s.app.connections["acme"].clone();
    control.reset_counters();
    let t = Instant::now();
    let (mut cursor, mut items, mut polls) = (None, 0usize, 0usize);
    loop {
        let mut store = ml_connector::call::new_store(&s.app, "acme", &conn.source, Default::default())?;
        let inst = conn.source.pre.instantiate_async(&mut store).await?;
        let req = PollRequest { mode: PollMode::Backfill, cursor: cursor.clone(), since: None, until: None };
        let page = inst
            .ml_connector_plugin_source_api()
            .call_poll(&mut store, &req)
            .await?
            .map_err(|e| anyhow::anyhow!("poll: {e:?}"))?;
        polls += 1;
        items += page.items.len();
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let ours = t.elapsed();
    let our_calls = control.counters(&site.name)?.calls;
    anyhow::ensure!(items > 0, "the walk read nothing");

    println!("== source: backfill read, {records} Chargebee records (customers, invoices, transactions, credit notes)");
    println!(
        "chargebee-source (Wasm, host HTTP)  {:>8.0} records/s   {our_calls} calls = {:.4} calls/record   {items} ledger items in {polls} polls",
        records as f64 / ours.as_secs_f64(),
        our_calls as f64 / records as f64
    );
    let node_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sandbox/chargebee/tests/node");
    if !node_dir.join("node_modules/chargebee").is_dir() {
        println!("official Node SDK list loop          skipped: run `npm ci` in {}", node_dir.display());
    } else {
        control.reset_counters();
        let port = url::Url::parse(&s.cb.origin(Region::Us))?.port().unwrap_or(80);
        let out = tokio::process::Command::new("node")
            .arg("sdk_list_loop.mjs")
            .current_dir(&node_dir)
            .env("CB_PORT", port.to_string())
            .env("CB_KEY", &site.api_key)
            .output()
            .await?;
        anyhow::ensure!(out.status.success(), "sdk_list_loop.mjs: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let (n, secs) = (v["records"].as_u64().unwrap_or(0), v["ms"].as_f64().unwrap_or(f64::NAN) / 1e3);
        let calls = control.counters(&site.name)?.calls;
        anyhow::ensure!(n as usize == records, "the SDK loop read {n} of {records} records");
        println!(
            "official Node SDK list loop         {:>8.0} records/s   {calls} calls = {:.4} calls/record   (ours/SDK throughput {:.2}x)",
            n as f64 / secs,
            calls as f64 / n as f64,
            (records as f64 / ours.as_secs_f64()) / (n as f64 / secs)
        );
    }
    s.shutdown().await;
    Ok(())
}

// ---------------------------------------------------------------------------------- ingest

/// Ingest twice in one run: the store as shipped (SQLite `synchronous=FULL`: the job is on disk
/// before the 200) and, as the baseline, `synchronous=NORMAL` — what durability costs.
async fn ingest() -> anyhow::Result<()> {
    if std::env::var("MLC_BENCH_DATABASE").is_ok() {
        return ingest_once(None).await.map(|_| ());
    }
    let full = ingest_once(None).await?;
    let normal = ingest_once(Some("normal")).await?;
    println!(
        "== ingest p99: synchronous=FULL {:.2} ms vs NORMAL {:.2} ms → FULL costs {:.2}× ({:+.2} ms)",
        ms(full),
        ms(normal),
        full.as_secs_f64() / normal.as_secs_f64().max(1e-9),
        ms(full) - ms(normal)
    );
    Ok(())
}

/// One ingest run; returns its p99.
async fn ingest_once(synchronous: Option<&str>) -> anyhow::Result<Duration> {
    let rate: f64 = env("MLC_BENCH_RATE", 200.0);
    let name = format!("bench-ingest-{}", synchronous.unwrap_or("full"));
    // SQLite in a file of its own, `?synchronous=normal` for the baseline.
    let database = synchronous.map(|mode| {
        let file = scratch(&format!("{name}-db")).with_extension("db");
        format!("sqlite://{}?synchronous={mode}", file.display())
    });
    let database = database.or_else(|| std::env::var("MLC_BENCH_DATABASE").ok());
    let s = stack_on(&name, vec![tenant("acme", "acme-test", 8)], gp_sandbox::GpConfig::default(), database).await?;
    let site = s.site("acme")?;
    s.cb.control().seed(&site.name, &seed(300))?;
    let bodies: Vec<Vec<u8>> =
        s.cb.control().events(&site.name)?.iter().map(serde_json::to_vec).collect::<Result<_, _>>()?;
    let n = bodies.len().min(3000);
    let client = reqwest::Client::new();
    let url = s.webhook_url("acme");
    let every = Duration::from_secs_f64(1.0 / rate);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut set = tokio::task::JoinSet::new();
    let t = Instant::now();
    for body in bodies.into_iter().take(n) {
        // Open loop: the schedule does not wait for answers, so a slow answer cannot hide queueing.
        let scheduled = tick.tick().await;
        let (client, url) = (client.clone(), url.clone());
        set.spawn(async move {
            let r = client
                .post(&url)
                .basic_auth(WEBHOOK_USER, Some(WEBHOOK_PASSWORD))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            let status = r.map(|r| r.status().as_u16()).unwrap_or(0);
            (status, scheduled.elapsed())
        });
    }
    let mut lat = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        let (status, d) = r?;
        anyhow::ensure!(status == 200, "intake answered {status}");
        lat.push(d);
    }
    let offered = n as f64 / t.elapsed().as_secs_f64();
    lat.sort();
    let jobs = s.app.store.stats(Some("acme")).await?;
    let sync = synchronous.unwrap_or("full");
    println!(
        "== ingest (synchronous={sync}): {n} webhooks at {rate:.0}/s offered ({offered:.0}/s achieved), answered 200 after the job is committed"
    );
    println!(
        "latency  p50 {:.2} ms   p90 {:.2} ms   p99 {:.2} ms   max {:.2} ms   (goal p99 < 10 ms)   store: {}",
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.90)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO)),
        if std::env::var("MLC_BENCH_DATABASE").is_ok() { "PostgreSQL" } else { "SQLite" }
    );
    println!("  jobs meanwhile: {jobs:?}");
    s.shutdown().await;
    Ok(percentile(&lat, 0.99))
}

// ---------------------------------------------------------------------------------- gp

/// Today's date, UTC, as GP wants it (the emulator's open fiscal years are this and next).
fn today() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    ml_connector_sdk::dates::iso_date(now as i64)
}

fn invoice(i: usize, customer: &str, date: &str) -> LedgerDoc {
    let (sales, tax) = (10_000 + i as i64, 800);
    let dist = |kind, account: &str, debit, credit| Distribution {
        kind,
        account: account.into(),
        debit,
        credit,
        reference: None,
    };
    LedgerDoc::Invoice(ReceivablesInvoice {
        description: Some("benchmark".into()),
        distributions: vec![
            dist(DistributionKind::Receivables, "000-1200-00", sales + tax, 0),
            dist(DistributionKind::Sales, "000-4100-00", 0, sales),
            dist(DistributionKind::Tax, "000-2300-00", 0, tax),
        ],
        ..ml_connector_tests::receivables_invoice(&format!("BENCH{i:07}"), customer, "BENCH", date, sales, tax)
    })
}

async fn gp() -> anyhow::Result<()> {
    let pacing = Pacing::from_env();
    let docs: usize = env("MLC_BENCH_GP_DOCS", (pacing.limit() * 10.0) as usize).max(pacing.ceiling * 4);
    let s =
        stack("bench-gp", vec![tenant("acme", "acme-test", pacing.ceiling)], gp_sandbox::GpConfig::default()).await?;
    let conn = s.app.connections["acme"].clone();
    let customers = ["BENCH-A", "BENCH-B", "BENCH-C", "BENCH-D"];
    for c in customers {
        let mut store = ml_connector::call::new_store(&s.app, "acme", &conn.target, Default::default())?;
        let inst = conn.target.pre.instantiate_async(&mut store).await?;
        let cust = GpCustomer {
            id: c.into(),
            source_id: c.into(),
            name: format!("Bench {c}"),
            short_name: None,
            email: None,
            phone: None,
            currency: "USD".into(),
            currency_id: "USD".into(),
            class_id: None,
            payment_terms: None,
            address: None,
        };
        inst.ml_connector_plugin_target_api()
            .call_ensure_customer(&mut store, &cust)
            .await?
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    // Pacing on from here: every call below waits L inside a ceiling of c.
    s.gp.control().set_latency(pacing.latency);
    s.gp.control().set_ceiling(Some(pacing.ceiling), Overload::Queue);
    s.gp.control().reset_counters();
    let date = today();
    // Twice the ceiling in flight at the host: its connection pool (size c) is the pacer.
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..pacing.ceiling * 2 {
        let (app, conn, next, date) = (s.app.clone(), conn.clone(), next.clone(), date.clone());
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= docs {
                    return Ok::<_, anyhow::Error>(());
                }
                let mut store = ml_connector::call::new_store(&app, "acme", &conn.target, Default::default())?;
                let inst = conn.target.pre.instantiate_async(&mut store).await?;
                let doc = invoice(i, customers[i % customers.len()], &date);
                inst.ml_connector_plugin_target_api()
                    .call_write_document(&mut store, &doc)
                    .await?
                    .map_err(|e| anyhow::anyhow!("invoice {i}: {e:?}"))?;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    let elapsed = t.elapsed();
    let counters = s.gp.control().counters();
    let calls: u64 = counters.calls.values().sum();
    anyhow::ensure!(
        counters.documents_written as usize == docs,
        "GP holds {} of {docs} documents",
        counters.documents_written
    );
    let rate = docs as f64 / elapsed.as_secs_f64();
    println!(
        "== gp: {docs} receivables invoices through gp-target (SOAP, NTLM pool of c) at L = {} ms, c = {}",
        pacing.latency.as_millis(),
        pacing.ceiling
    );
    println!(
        "documents/s {rate:>7.1}   limit c/L {:>7.1}/s   ratio {:.1}% (goal ≥ 95%)   GP calls {calls} ({:.2}/document), max in flight {}",
        pacing.limit(),
        100.0 * rate / pacing.limit(),
        calls as f64 / docs as f64,
        counters.max_in_flight
    );
    s.shutdown().await;
    Ok(())
}

// ---------------------------------------------------------------------------------- e2e

/// The creation events a Chargebee webhook endpoint is subscribed to for this sync.
const SUBSCRIBED: [&str; 4] = ["customer_created", "invoice_generated", "payment_succeeded", "credit_note_created"];

struct Run {
    elapsed: Duration,
    documents: u64,
    customers: u64,
    gp_calls: u64,
    cb_calls: u64,
}

impl Run {
    fn print(&self, what: &str, pacing: &Pacing) {
        let written = self.documents + self.customers;
        let gp_rate = self.gp_calls as f64 / self.elapsed.as_secs_f64();
        println!(
            "{what:<9} {written:>6} GP writes ({} documents + {} customers) in {:.1} s = {:.1}/s, ratio to c/L {:.1}%   GP calls {:.1}/s = {:.1}% of c/L   Chargebee calls {} = {:.3}/GP write",
            self.documents,
            self.customers,
            self.elapsed.as_secs_f64(),
            written as f64 / self.elapsed.as_secs_f64(),
            100.0 * written as f64 / self.elapsed.as_secs_f64() / pacing.limit(),
            gp_rate,
            100.0 * gp_rate / pacing.limit(),
            self.cb_calls,
            self.cb_calls as f64 / written.max(1) as f64
        );
    }
}

async fn measure(
    s: &Stack,
    tenant: &str,
    site: &str,
    go: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<Run> {
    s.cb.control().reset_counters();
    s.gp.control().reset_counters();
    let t = Instant::now();
    go.await?;
    let elapsed = loop {
        let stats = s.app.store.stats(Some(tenant)).await?;
        // A parked or dead job means a record did not make it: not a measurement.
        anyhow::ensure!(stats.parked == 0 && stats.dead == 0, "{tenant}: {stats:?}");
        if stats.available + stats.running + stats.waiting == 0 {
            break t.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let gp = s.gp.control().counters();
    Ok(Run {
        elapsed,
        documents: gp.documents_written,
        customers: gp.customers_written,
        gp_calls: gp.calls.values().sum(),
        cb_calls: s.cb.control().counters(site)?.calls,
    })
}

/// POST every body to the intake, `concurrency` at a time, each answered 200.
async fn post_all(url: String, bodies: Vec<Vec<u8>>, concurrency: usize) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let queue = Arc::new(std::sync::Mutex::new(bodies.into_iter()));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, queue) = (client.clone(), url.clone(), queue.clone());
        set.spawn(async move {
            loop {
                let Some(body) = queue.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.next() else {
                    return Ok::<_, anyhow::Error>(());
                };
                let r = client
                    .post(&url)
                    .basic_auth(WEBHOOK_USER, Some(WEBHOOK_PASSWORD))
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(r.status() == 200, "intake answered {}", r.status());
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    Ok(())
}

async fn e2e() -> anyhow::Result<()> {
    let pacing = Pacing::from_env();
    let customers = env("MLC_BENCH_CUSTOMERS", 1000);
    // Both sites write into one GP company: the second gets its own id prefixes, as an operator
    // would configure it (same numbers from two sites are otherwise a conflict, parked).
    let prefixed = ["map.customer.prefix", "map.invoice.prefix", "map.credit_memo.prefix", "map.receipt.prefix"]
        .map(|k| (k.to_string(), "F".to_string()));
    let tenants = vec![
        tenant("hooks", "hooks-test", pacing.ceiling),
        TenantSpec { settings: prefixed.to_vec(), ..tenant("fill", "fill-test", pacing.ceiling) },
    ];
    let s = stack("bench-e2e", tenants, pacing.gp()).await?;
    let (hooks, fill) = (s.site("hooks")?, s.site("fill")?);
    s.cb.control().seed(&hooks.name, &seed(customers))?;
    s.cb.control().seed(&fill.name, &SeedSpec { seed: 7, ..seed(customers) })?;

    let events: Vec<_> =
        s.cb.control()
            .events(&hooks.name)?
            .into_iter()
            .filter(|e| SUBSCRIBED.contains(&e.event_type.as_str()))
            .collect();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &events {
        *kinds.entry(e.event_type.as_str()).or_default() += 1;
    }
    println!(
        "== e2e: GP at L = {} ms, c = {} (limit c/L = {:.0} calls/s), host workers 32, store {}",
        pacing.latency.as_millis(),
        pacing.ceiling,
        pacing.limit(),
        if std::env::var("MLC_BENCH_DATABASE").is_ok() { "PostgreSQL" } else { "SQLite" }
    );
    println!("webhooks: {} events {kinds:?}", events.len());
    // Posted 16 at a time (Chargebee's own sender goes one by one; that would measure the
    // sender): the connector, not the delivery, sets the pace.
    let n_events = events.len();
    let bodies: Vec<Vec<u8>> = events.iter().map(serde_json::to_vec).collect::<Result<_, _>>()?;
    let run = measure(&s, "hooks", &hooks.name, post_all(s.webhook_url("hooks"), bodies, 16)).await?;
    anyhow::ensure!((run.documents + run.customers) as usize <= n_events, "more GP writes than events");
    run.print("webhooks", &pacing);

    let run = measure(&s, "fill", &fill.name, async {
        s.backfill("fill").await?;
        Ok(())
    })
    .await?;
    run.print("backfill", &pacing);
    // Reconciliation at this size takes minutes (CPU-bound, not yet profiled): opt in.
    if std::env::var("MLC_BENCH_RECONCILE").is_ok() {
        for t in ["hooks", "fill"] {
            let t0 = Instant::now();
            let report = ml_connector::reconcile::run(&s.app, &s.app.connections[t]).await?;
            anyhow::ensure!(report.is_clean(), "{t}: reconciliation found {} differences", report.differences.len());
            println!("reconciliation of {t}: clean, {:.1} s", t0.elapsed().as_secs_f64());
        }
    }
    s.shutdown().await;
    Ok(())
}
