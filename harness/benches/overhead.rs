//! Host overhead per record: one source → mapper → target pass through the sandboxed components,
//! beside a native-Rust baseline doing the same work (same HTTP calls to the same stand-in API
//! and ledger, same JSON, same mapping) in the same process. Prints figures; asserts nothing.
//!
//! Run: `cargo xtask components && cargo bench -p mlc-harness --bench overhead`
//! (`MLC_BENCH_RECORDS`, default 2000).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use base64::Engine;
use ml_connector::bindings::types::{RecordKind, Trigger};
use ml_connector_tests::*;
use serde_json::{Value, json};

fn per_record(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

/// The same work as stand-in source + mapper + target, in plain Rust.
async fn native_pass(client: &reqwest::Client, base: &str, id: &str, conn: &str) -> anyhow::Result<()> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let webhook = event(&format!("ev_{id}"), "invoice_generated", "invoice", id);
    let ev: Value = serde_json::from_slice(&webhook)?;
    let rid = ev["content"]["invoice"]["id"].as_str().unwrap_or_default().to_string();
    let rec: Value = client
        .get(format!("{base}/records/invoice/{rid}"))
        .header("authorization", format!("Basic {}", b64.encode("bench_key:")))
        .send()
        .await?
        .json()
        .await?;
    let customer = rec["customer_id"].as_str().unwrap_or_default().to_uppercase();
    let docs = [
        (
            "customer",
            customer.clone(),
            json!({"id": customer, "name": rec["customer_id"], "currency": rec["currency"]}),
        ),
        (
            "invoice",
            format!("CB-{rid}"),
            json!({"number": format!("CB-{rid}"), "customer": customer, "currency": rec["currency"], "total": rec["total"], "description": "mapped by standin-mapper v1"}),
        ),
    ];
    for (kind, number, doc) in docs {
        let status = client
            .post(format!("{base}/ledger/{conn}/documents/{kind}/{number}"))
            .header("authorization", format!("Basic {}", b64.encode("DOMAIN\\ledger:ledger-password-456")))
            .header("content-type", "application/json")
            .body(doc.to_string())
            .send()
            .await?
            .status();
        anyhow::ensure!(status.is_success(), "ledger said {status}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    ml_connector::install_crypto();
    let n: usize = std::env::var("MLC_BENCH_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let stub = start_stub().await;
    for i in 0..n {
        stub.add_invoice(&format!("inv_{i}"), &format!("cust_{}", i % 50), "USD", 1_000 + i as i64);
    }
    let db = TestDb::sqlite().await;
    let dir = scratch("bench");
    let cfg = standin_config(
        &db.url,
        &shared_cache(),
        &stub,
        &[("bench", "standin-mapper", 64), ("native", "standin-mapper", 64)],
        "",
    );
    let host = start_host(&dir, &cfg).await?;
    host.stop.cancel(); // no background workers: the benchmark drives the pipeline directly
    let app = host.app.clone();
    let conn = app.connections.get("bench").cloned().ok_or_else(|| anyhow::anyhow!("no connection"))?;
    let client = reqwest::Client::new();
    let trigger = |i: usize| Trigger {
        event_id: Some(format!("ev_{i}")),
        event_type: "invoice_generated".into(),
        kind: RecordKind::Invoice,
        resource_id: format!("inv_{i}"),
        occurred_at: 0,
    };

    // Warm up both paths (connection pools, instance pools, page cache).
    for i in 0..20.min(n) {
        native_pass(&client, &stub.base(), &format!("inv_{i}"), "native").await?;
        ml_connector::pipeline::run(&app, &conn, &trigger(i), None).await?;
    }
    stub.state.documents.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clear();

    let t = Instant::now();
    for i in 0..n {
        native_pass(&client, &stub.base(), &format!("inv_{i}"), "native").await?;
    }
    let native = t.elapsed();

    let t = Instant::now();
    for i in 0..n {
        match ml_connector::pipeline::run(&app, &conn, &trigger(i), None).await? {
            ml_connector::pipeline::Outcome::Done => {}
            other => anyhow::bail!("record {i}: {other:?}"),
        }
    }
    let hosted = t.elapsed();
    anyhow::ensure!(
        stub.documents("bench").len() >= n,
        "host path wrote {} documents for {n} records",
        stub.documents("bench").len()
    );

    // The host path's durable bookkeeping alone, as the pipeline does it per record: a read of
    // the stored version, then one transaction (fetch, map and write lines + written row +
    // release of waiters). A worker adds the job's claim and ack.
    let store = app.store.clone();
    let line = |i: usize, stage: &str| mlc_store::AuditEvent {
        id: 0,
        at: 0,
        connection: "bookkeeping".into(),
        record_key: Some(format!("invoice/x{i}")),
        job_id: None,
        stage: stage.into(),
        outcome: "ok".into(),
        detail: "bench".into(),
        component: Some("0".repeat(64)),
        duration_ms: Some(1),
    };
    let row = |i: usize, state: &str| mlc_store::RecordRow {
        connection: "bookkeeping".into(),
        record_key: format!("invoice/x{i}"),
        version: 1,
        state: state.into(),
        canonical: Some("{}".into()),
        ledger: Some("[]".into()),
        last_error: None,
        updated_at: 0,
    };
    let t = Instant::now();
    for i in 0..n {
        store.record("bookkeeping", &format!("invoice/x{i}")).await?;
        let audits = ["fetch", "map", "ensure-customer", "write"].iter().map(|s| line(i, s)).collect();
        let release = Some(("bookkeeping".to_string(), format!("invoice/x{i}")));
        store.commit(&mlc_store::Batch { audits, record: Some(row(i, "written")), release }).await?;
    }
    let bookkeeping = t.elapsed();

    let (nat, host_us, book) = (per_record(native, n), per_record(hosted, n), per_record(bookkeeping, n));
    let overhead = host_us - nat;
    println!("records: {n} (each: 1 fetch, 1 map, 2 ledger writes), store: SQLite");
    println!("native baseline        {nat:>9.1} µs/record");
    println!("host (3 components)    {host_us:>9.1} µs/record   ratio {:.2}x", host_us / nat);
    println!("host overhead          {overhead:>9.1} µs/record   (goal < 100)");
    println!("  of which durable audit + record row (1 read, 1 commit)  {book:>7.1} µs/record");
    println!("  of which sandbox (4 instantiations + calls + (de)serialisation)  {:>7.1} µs/record", overhead - book);
    Ok(())
}
