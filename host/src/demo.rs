//! `ml-connector demo`: the whole host path end to end on the embedded SQLite store, with nothing
//! to install beyond the build. Until the Chargebee source and GP target components land, the
//! demo runs the stand-in components (tests/components) against the stand-in billing API and
//! ledger (sandbox/standin): webhooks (with duplicates) → durable jobs → source → mapper →
//! target, then a summary and one record's audit timeline.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use crate::app::App;
use crate::config::Config;

const CURRENCIES: [&str; 4] = ["USD", "EUR", "GBP", "JPY"];

/// Where `cargo xtask components` puts the built components.
fn components_dir() -> PathBuf {
    std::env::var_os("MLC_COMPONENTS").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target/components"))
}

fn manifest() -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let path = components_dir().join("manifest.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{} not found: build the components first (`cargo xtask components`, or run the demo with `cargo xtask demo`)", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

pub async fn run(records: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let m = manifest()?;
    let work = PathBuf::from(".mlc/demo");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let stub = standin_sandbox::start_stub().await;
    for i in 0..records {
        let currency = CURRENCIES[i % CURRENCIES.len()];
        stub.state.records.lock().map_err(|_| anyhow::anyhow!("stub poisoned"))?.insert(
            ("invoice".into(), format!("inv_{i:05}")),
            json!({"id": format!("inv_{i:05}"), "customer_id": format!("cust_{:03}", i % 17), "currency": currency,
                   "total": 1_000 + (i as i64 * 137) % 90_000, "date": "2026-11-20", "version": 1}),
        );
    }
    let digest = |name: &str| -> anyhow::Result<String> {
        Ok(m.get(name).and_then(|v| v.as_str()).with_context(|| format!("component {name} missing from the manifest"))?.to_string())
    };
    let dir = std::fs::canonicalize(components_dir())?;
    let origin = format!("http://{}", stub.addr);
    let cfg = format!(
        r#"[host]
database = "sqlite://{db}"
cache_dir = "{cache}"
workers = 8
poll_ms = 20

[secrets.api-key]
scheme = "basic-api-key"
origin = "{origin}"
value = "demo_api_key"

[secrets.ledger-key]
scheme = "basic"
origin = "{origin}"
value = "DEMO\\gp-user:demo-password"

[secrets.webhook]
scheme = "basic"
origin = "http://127.0.0.1:1"
value = "chargebee:demo-hook"

[components.source]
path = "{dir}/standin-source.wasm"
sha256 = "{s}"
[components.mapper]
path = "{dir}/standin-mapper.wasm"
sha256 = "{mp}"
[components.target]
path = "{dir}/standin-target.wasm"
sha256 = "{t}"

[[connections]]
id = "demo"
max_in_flight = 4
webhook_secret = "webhook"
wait_for_dependencies = false
[connections.settings]
api_base = "{origin}"
ledger_base = "{origin}/ledger/demo"
doc_prefix = "CB"
[connections.source]
component = "source"
allow_http = ["{origin}"]
allow_private_network = true
secrets = {{ api-key = "api-key" }}
[connections.mapper]
component = "mapper"
[connections.target]
component = "target"
allow_http = ["{origin}"]
allow_private_network = true
secrets = {{ ledger-key = "ledger-key" }}
"#,
        db = std::fs::canonicalize(&work)?.join("demo.db").display(),
        cache = std::fs::canonicalize(&work)?.join("cache").display(),
        dir = dir.display(),
        s = digest("standin-source")?,
        mp = digest("standin-mapper")?,
        t = digest("standin-target")?,
    );
    let cfg_path = work.join("demo.toml");
    std::fs::write(&cfg_path, cfg)?;
    let app = App::build(Config::load(&cfg_path)?).await?;
    println!("host up in {} ms (3 components loaded and compiled)", started.elapsed().as_millis());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let stop = tokio_util::sync::CancellationToken::new();
    let router = crate::intake::router(app.clone());
    let s = stop.clone();
    tokio::spawn(async move { axum::serve(listener, router).with_graceful_shutdown(async move { s.cancelled().await }).await });
    let workers = tokio::spawn(crate::worker::run(app.clone(), stop.clone()));

    let client = reqwest::Client::new();
    let t = Instant::now();
    let (mut created, mut dups) = (0, 0);
    // Every 10th event is delivered twice, as Chargebee may.
    for i in 0..records {
        let body = json!({"id": format!("ev_{i:05}"), "event_type": "invoice_generated", "occurred_at": 1_764_000_000 + i,
                          "object": "event", "api_version": "v2", "content": {"invoice": {"id": format!("inv_{i:05}")}}});
        for _ in 0..if i % 10 == 0 { 2 } else { 1 } {
            let r: serde_json::Value = client
                .post(format!("{base}/webhooks/demo"))
                .basic_auth("chargebee", Some("demo-hook"))
                .json(&body)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            created += r["enqueued"].as_i64().unwrap_or(0);
            dups += r["duplicates"].as_i64().unwrap_or(0);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let st = app.store.stats(Some("demo")).await?;
        if st.available + st.running + st.waiting == 0 {
            break;
        }
        if Instant::now() > deadline {
            bail!("demo did not finish within 120 s: {st:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = t.elapsed();
    stop.cancel();
    workers.await??;

    let stats = app.store.stats(Some("demo")).await?;
    let docs = stub.documents("demo");
    let invoices = docs.iter().filter(|((k, _), _)| k == "invoice").count();
    let customers = docs.iter().filter(|((k, _), _)| k == "customer").count();
    println!("webhooks: {created} queued, {dups} duplicate deliveries ignored");
    println!("jobs: {} done, {} parked, {} dead", stats.done, stats.parked, stats.dead);
    println!("ledger: {invoices} invoices, {customers} customers written in {:.2} s ({:.0} records/s)", elapsed.as_secs_f64(), records as f64 / elapsed.as_secs_f64());
    let total_calls: usize = stub.state.write_calls.lock().map_err(|_| anyhow::anyhow!("stub poisoned"))?.values().sum();
    println!("ledger write calls: {total_calls} (one per document per record; re-sent customers answer 'already present')");
    println!("\ntimeline of invoice/inv_00000:");
    for e in app.store.audit("demo", Some("invoice/inv_00000"), None).await? {
        println!("  {:<16} {:<7} {:>5} ms  {}", e.stage, e.outcome, e.duration_ms.unwrap_or(0), e.detail);
    }
    if stats.done != records as i64 || invoices != records {
        bail!("demo incomplete: {records} records, {} jobs done, {invoices} invoices in the ledger", stats.done);
    }
    println!("\nok: {records} records end to end in {:.2} s total; store at {}", started.elapsed().as_secs_f64(), work.join("demo.db").display());
    Ok(())
}
