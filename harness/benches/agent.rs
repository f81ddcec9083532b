//! GP through the local agent (`gp.via = "agent"`: the host's GP calls go over a reverse
//! HTTP/2 tunnel to an agent, which calls GP) against GP reached directly, in one process run.
//! Prints figures; asserts only that the work was done (same documents both ways, nothing
//! stuck, every call answered).
//!
//! Sections (both by default; name some to run only those):
//! - `throughput` a backfill of the same seeded Chargebee site (USD invoices and payments) into
//!   the GP emulator at service latency L and concurrency ceiling c, once direct and once
//!   through the agent: GP documents/s each way and the ratio agent/direct (goal ≥ 0.90).
//!   Nobody posts the batches, so the payments' applies (eConnect, after posting) are left
//!   waiting and are not timed.
//! - `latency`    with GP answering at once (L = 0), N sequential SOAP `GetCompanyList` calls,
//!   NTLM-authenticated and warm, direct (the host's own NTLM pool) and through the tunnel
//!   (the agent holds the account), interleaved call by call: p50/p99 each way and the
//!   latency the tunnel adds.
//!
//! Run: `cargo xtask components && cargo bench -p mlc-harness --bench agent [-- SECTION…]`
//! Sizes: `MLC_BENCH_CUSTOMERS` (200, × 3 invoices), `MLC_BENCH_L_MS` (20), `MLC_BENCH_C` (8),
//! `MLC_BENCH_ENDPOINT` (`soap`; `sba` or `econnect`: the emulator neither paces nor counts
//! eConnect calls, and at c ≥ 8 its SQLite pool starves — "database is locked", records park —
//! so run econnect with `MLC_BENCH_C=4`), `MLC_BENCH_CALLS` (300),
//! `MLC_BENCH_DATABASE` (a `postgres://…/db` URL: each stack gets a fresh database on that
//! server, since two hosts on one store would run each other's jobs; default SQLite files).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chargebee_sandbox::{Region, SeedSpec};
use gp_sandbox::Overload;
use ml_connector::agent::calls::HttpCall;
use ml_connector::caps::http::Origin;
use ml_connector::caps::http::ntlm::{NtlmPools, NtlmRequest};
use ml_connector::caps::secrets::{ResolvedSecret, SecretValue};
use ml_connector::config::SecretScheme;
use ml_connector_tests::scratch;
use mlc_harness::stack::{Clerk, FABRIKAM, Stack, StackSpec, TenantSpec};
use mlc_store::testing::PgTestDb;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// GP's service latency L and concurrency ceiling c, as in the connector bench.
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

fn endpoint() -> anyhow::Result<&'static str> {
    match std::env::var("MLC_BENCH_ENDPOINT").as_deref() {
        Err(_) | Ok("soap") => Ok("soap"),
        Ok("sba") => Ok("sba"),
        Ok("econnect") => Ok("econnect"),
        Ok(other) => anyhow::bail!("MLC_BENCH_ENDPOINT={other}: soap, sba or econnect"),
    }
}

fn store_name() -> &'static str {
    if std::env::var("MLC_BENCH_DATABASE").is_ok() { "PostgreSQL" } else { "SQLite" }
}

/// One stack, direct or through an agent, on its own store (kept alive beside the stack).
async fn stack(
    name: &str,
    via_agent: bool,
    tenant: TenantSpec,
    gp: gp_sandbox::GpConfig,
    clerk: Clerk,
) -> anyhow::Result<(Stack, Option<PgTestDb>)> {
    let db = match std::env::var("MLC_BENCH_DATABASE") {
        Ok(server) => Some(PgTestDb::create_on(&server, "mlc_bench_agent").await),
        Err(_) => None,
    };
    let database = db.as_ref().map(|d| d.url().to_string());
    let spec = StackSpec {
        tenants: vec![tenant],
        cb_limit: 1_000_000,
        gp,
        workers: 32,
        database,
        via_agent,
        clerk,
        ..StackSpec::default()
    };
    Ok((Stack::start(&scratch(name), spec).await?, db))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn route(via_agent: bool) -> &'static str {
    if via_agent { "agent" } else { "direct" }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    ml_connector::install_crypto();
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let want = |s: &str| args.is_empty() || args.iter().any(|a| a == s);
    if want("throughput") {
        throughput().await?;
    }
    if want("latency") {
        latency().await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------- throughput

/// Seeded history: customers × 3 USD invoices, most paid (the Fabrikam company's USD
/// checkbook); no credit notes or refunds, so every record is a plain GP write.
fn seed(customers: usize) -> SeedSpec {
    SeedSpec {
        customers,
        invoices_per_customer: 3,
        currencies: vec!["USD".into()],
        days: 60,
        seed: 11,
        credit_note_rate: 0.0,
        refund_rate: 0.0,
        ..SeedSpec::default()
    }
}

/// What one backfill did.
struct Fill {
    elapsed: Duration,
    /// New GP documents (invoices, receipts) in the Fabrikam company.
    documents: usize,
    customers: u64,
    gp_calls: u64,
    records: usize,
    /// Applies left waiting for GP's posting at the end.
    settles: i64,
}

impl Fill {
    fn rate(&self) -> f64 {
        self.documents as f64 / self.elapsed.as_secs_f64()
    }
}

/// Seed, backfill and drain; the wall time from the backfill's enqueue to the drained queue.
/// Nobody posts the batches (`Clerk::Manual`), so the drain ends with every document written
/// and the payments' applies waiting for GP's posting: what is timed is the GP writes at L and
/// c, not a clerk's Series Post, the schedule's re-check or the applies over eConnect (which
/// the emulator does not pace).
async fn fill(via_agent: bool, pacing: &Pacing, customers: usize, endpoint: &'static str) -> anyhow::Result<Fill> {
    let tenant = TenantSpec {
        endpoint,
        max_in_flight: pacing.ceiling as i32,
        ..TenantSpec::new("acme", "acme-test", Region::Us)
    };
    let name = format!("bench-agent-{}", route(via_agent));
    let (s, db) = stack(&name, via_agent, tenant, pacing.gp(), Clerk::Manual).await?;
    let site = s.site("acme")?;
    let control = s.cb.control();
    control.seed(&site.name, &seed(customers))?;
    let records = control.customers(&site.name)?.len()
        + control.invoices(&site.name)?.len()
        + control.transactions(&site.name)?.len();
    let before = s.gp.control().documents(FABRIKAM).await?.len();
    s.gp.control().reset_counters();
    let t = Instant::now();
    s.backfill("acme").await?;
    let queue = drain(&s, route(via_agent)).await?;
    let elapsed = t.elapsed();
    let stuck = s.stuck("acme").await?;
    anyhow::ensure!(stuck.is_empty(), "{}: {} jobs parked or dead", route(via_agent), stuck.len());
    let documents = s.gp.control().documents(FABRIKAM).await?.len() - before;
    anyhow::ensure!(documents > 0, "{}: the backfill wrote no GP documents", route(via_agent));
    let counters = s.gp.control().counters();
    s.shutdown().await;
    drop(db);
    Ok(Fill {
        elapsed,
        documents,
        customers: counters.customers_written,
        gp_calls: counters.calls.values().sum(),
        records,
        settles: queue.waiting,
    })
}

/// `Stack::drain`, failing as soon as a job parks or dies: its dependants would wait for ever,
/// and a run that lost records is no measurement.
async fn drain(s: &Stack, what: &str) -> anyhow::Result<mlc_store::QueueStats> {
    let end = Instant::now() + Duration::from_secs(600);
    loop {
        let stuck = s.stuck("acme").await?;
        if !stuck.is_empty() {
            let why: Vec<_> = stuck.iter().take(5).map(|j| (&j.key, &j.last_error)).collect();
            anyhow::bail!("{what}: {} jobs parked or dead, the first: {why:#?}", stuck.len());
        }
        if let Ok(queue) = s.drain("acme", Duration::from_secs(1)).await {
            return Ok(queue);
        }
        anyhow::ensure!(Instant::now() < end, "{what}: acme did not drain within 600 s");
    }
}

async fn throughput() -> anyhow::Result<()> {
    let pacing = Pacing::from_env();
    let customers = env("MLC_BENCH_CUSTOMERS", 200);
    let endpoint = endpoint()?;
    let direct = fill(false, &pacing, customers, endpoint).await?;
    let agent = fill(true, &pacing, customers, endpoint).await?;
    anyhow::ensure!(
        direct.documents == agent.documents,
        "direct wrote {} GP documents, through the agent {}",
        direct.documents,
        agent.documents
    );
    println!(
        "== throughput: backfill of {} Chargebee records ({customers} customers, USD invoices and payments), GP {endpoint} at L = {} ms, c = {} (c/L = {:.0} calls/s), store {}",
        direct.records,
        pacing.latency.as_millis(),
        pacing.ceiling,
        pacing.limit(),
        store_name()
    );
    for (what, f) in [("direct", &direct), ("agent", &agent)] {
        // The emulator counts (and paces) SOAP and SBA calls only, not eConnect's.
        let calls = match endpoint {
            "econnect" => "GP calls not counted (eConnect)".to_string(),
            _ => format!(
                "GP calls {} = {:.1}/s ({:.1}% of c/L)",
                f.gp_calls,
                f.gp_calls as f64 / f.elapsed.as_secs_f64(),
                100.0 * f.gp_calls as f64 / f.elapsed.as_secs_f64() / pacing.limit()
            ),
        };
        println!(
            "{what:<7} {:>5} GP documents (+ {} customers) in {:>6.2} s = {:>6.1} documents/s   {calls}   {} applies waiting for posting",
            f.documents,
            f.customers,
            f.elapsed.as_secs_f64(),
            f.rate(),
            f.settles
        );
    }
    println!("agent/direct documents/s {:.3} (goal ≥ 0.90)", agent.rate() / direct.rate());
    Ok(())
}

// ---------------------------------------------------------------------------------- latency

const NS_GP: &str = "http://schemas.microsoft.com/dynamics/gp/2006/01";

/// A SOAP `GetCompanyList`: a cheap read that still goes through NTLM and GP's dispatch.
fn company_list() -> (Vec<(String, String)>, Vec<u8>) {
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetCompanyList xmlns="{NS_GP}"><criteria/><context><OrganizationKey xmlns="http://schemas.microsoft.com/dynamics/2006/01" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CompanyKey"><Id>-1</Id></OrganizationKey><CurrencyType xmlns="http://schemas.microsoft.com/dynamics/2006/01">Transactional</CurrencyType></context></GetCompanyList></soap:Body></soap:Envelope>"#
    );
    let headers = vec![
        ("content-type".into(), "text/xml; charset=utf-8".into()),
        ("soapaction".into(), format!("\"{NS_GP}/GetCompanyList\"")),
    ];
    (headers, body.into_bytes())
}

/// The two ways to the same GP emulator, both NTLM with the same account.
struct Paths {
    stack: Stack,
    pools: NtlmPools,
    secret: Arc<ResolvedSecret>,
}

impl Paths {
    /// Direct: the host's NTLM pool (what `gp.via = "direct"` uses for GP calls).
    async fn direct(&self) -> anyhow::Result<Duration> {
        let (headers, body) = company_list();
        let req =
            NtlmRequest { method: "POST".parse()?, url: url::Url::parse(&self.stack.gp.soap_url())?, headers, body };
        let t = Instant::now();
        let resp = self
            .pools
            .send(&self.secret, &self.secret.origin, req, Duration::from_secs(10))
            .await
            .map_err(|e| anyhow::anyhow!("direct: {e:?}"))?;
        let took = t.elapsed();
        anyhow::ensure!(resp.status == 200, "direct: GP answered {}", resp.status);
        Ok(took)
    }

    /// Through the tunnel: what the `http` capability does for a connection routed to its agent.
    async fn tunnel(&self) -> anyhow::Result<Duration> {
        let (headers, body) = company_list();
        let call = HttpCall {
            method: "POST".parse()?,
            url: self.stack.gp.soap_url(),
            headers,
            body,
            timeout: Duration::from_secs(10),
        };
        let t = Instant::now();
        let resp = ml_connector::agent::calls::http(&self.stack.app.agents, "acme", call, Duration::from_secs(60))
            .await
            .map_err(|e| anyhow::anyhow!("tunnel: {e:?}"))?;
        let took = t.elapsed();
        anyhow::ensure!(resp.status == 200, "tunnel: GP answered {}", resp.status);
        Ok(took)
    }
}

async fn latency() -> anyhow::Result<()> {
    let n: usize = env("MLC_BENCH_CALLS", 300).max(1);
    let tenant = TenantSpec::new("acme", "acme-test", Region::Us);
    let (stack, db) =
        stack("bench-agent-latency", true, tenant, gp_sandbox::GpConfig::default(), Clerk::Manual).await?;
    let tls = ml_connector::caps::http::tls::client_config(None)?;
    let secret = Arc::new(ResolvedSecret {
        name: "gp".into(),
        scheme: SecretScheme::Ntlm,
        origin: Origin::parse(&stack.gp.soap_url())?,
        value: SecretValue::new(stack.gp.credentials().user_spec()),
        governor: None,
        on_agent: false,
    });
    let paths = Paths { pools: NtlmPools::new(1, true, tls).insecure_http(true), secret, stack };
    // Warm both: NTLM handshakes done, the tunnel's and the agent's connections open.
    let warm = 20;
    for _ in 0..warm {
        paths.direct().await?;
        paths.tunnel().await?;
    }
    paths.stack.gp.control().reset_counters();
    let (mut direct, mut tunnel) = (Vec::with_capacity(n), Vec::with_capacity(n));
    // Interleaved, one at a time: both see the same machine at the same moment.
    for _ in 0..n {
        direct.push(paths.direct().await?);
        tunnel.push(paths.tunnel().await?);
    }
    let calls = paths.stack.gp.control().counters().calls.get("GetCompanyList").copied().unwrap_or(0);
    anyhow::ensure!(calls as usize == 2 * n, "GP saw {calls} of {} GetCompanyList calls", 2 * n);
    direct.sort();
    tunnel.sort();
    println!(
        "== latency: {n} sequential SOAP GetCompanyList calls each way, NTLM, warm, GP latency 0, interleaved; store {}",
        store_name()
    );
    let p = |v: &[Duration], q| ms(percentile(v, q));
    println!("direct  p50 {:.3} ms   p99 {:.3} ms", p(&direct, 0.50), p(&direct, 0.99));
    println!("agent   p50 {:.3} ms   p99 {:.3} ms", p(&tunnel, 0.50), p(&tunnel, 0.99));
    println!(
        "added by the tunnel: p50 {:+.3} ms   p99 {:+.3} ms",
        p(&tunnel, 0.50) - p(&direct, 0.50),
        p(&tunnel, 0.99) - p(&direct, 0.99)
    );
    paths.stack.shutdown().await;
    drop(db);
    Ok(())
}
