//! Every call into a component runs under its `call_timeout_ms`, wherever the host makes it:
//! a target that never answers `list-documents` is cut during reconciliation, and one that never
//! answers the fiscal-period re-check neither stalls the schedule nor blocks other work.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ml_connector::config::Config;
use ml_connector_tests::*;

/// A stand-in connection whose target is the hostile one in `mode = "hang"`, cut after 1 s: the
/// host built, not started (no workers take the test's jobs).
async fn hanging_target(name: &str) -> (std::sync::Arc<ml_connector::app::App>, Stub, TestDb) {
    init_tracing();
    let db = TestDb::from_env().await;
    let stub = start_stub().await;
    stub.add_invoice("inv_h", "cust_1", "USD", 1000);
    let extra = connection_block("hang", "standin-mapper", "hostile-target", 4, &stub, "mode = \"hang\"")
        .replace("doc_prefix = \"CB\"", "doc_prefix = \"CB\"\npoll_invoice = \"inv_h\"");
    let text = standin_config(&db.url, &shared_cache(), &stub, &[], &extra);
    let mut config: Config = toml::from_str(&text).unwrap();
    config.components.get_mut("hostile-target").unwrap().call_timeout_ms = 1_000;
    let dir = scratch(name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ml-connector.toml");
    std::fs::write(&path, config.to_toml().unwrap()).unwrap();
    let app = ml_connector::app::App::build(Config::load(&path).unwrap()).await.unwrap();
    (app, stub, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_hanging_in_list_documents_is_cut_during_reconcile() {
    let (app, _stub, _db) = hanging_target("hang-reconcile").await;
    let conn = app.connections["hang"].clone();
    let t = Instant::now();
    let err = ml_connector::reconcile::run(&app, &conn).await.expect_err("cut, not a hang");
    let err = format!("{err:#}");
    assert!(err.contains("1000 ms wall-clock limit") && err.contains("CUST_1"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(15), "cut at its limit, took {:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_hanging_in_the_period_recheck_does_not_stall_the_schedule() {
    let (app, _stub, _db) = hanging_target("hang-period").await;
    let store = app.store.clone();
    // A job parked on a closed period, as the pipeline leaves it.
    let job = mlc_store::NewJob {
        connection: "hang".into(),
        key: "ev_period".into(),
        kind: "trigger".into(),
        payload: b"{}".to_vec(),
        not_before: None,
        max_attempts: 3,
        record_key: Some("invoice/inv_h".into()),
    };
    store.enqueue(job).await.unwrap();
    let claimed = store.claim("test-owner", 60_000, 10).await.unwrap();
    let id = claimed.iter().find(|j| j.key == "ev_period").expect("claimed").id;
    store.wait_for(id, "test-owner", "period:2026-11-30", "period closed").await.unwrap();

    // The re-check itself returns at the call limit, releases nothing and says why.
    let t = Instant::now();
    assert_eq!(ml_connector::schedule::recheck_periods(&app).await.unwrap(), 0);
    assert!(t.elapsed() < Duration::from_secs(10), "took {:?}", t.elapsed());
    let lines = store.audit("hang", None, None).await.unwrap();
    assert!(lines.iter().any(|l| l.stage == "period-check" && l.detail.contains("wall-clock limit")), "{lines:#?}");

    // The schedule keeps sweeping while re-checks hang beside it.
    let mut config = app.config.clone();
    config.host.period_recheck_s = 1;
    config.connections[0].events_poll_s = Some(1);
    let app = ml_connector::app::App::build(config).await.unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let schedule = tokio::spawn(ml_connector::schedule::run(app.clone(), stop.clone()));
    let swept = wait_until(Duration::from_secs(8), async || {
        let jobs = store.jobs(&Default::default()).await.unwrap();
        jobs.iter().filter(|j| j.key.starts_with("events:")).count() >= 3
    })
    .await;
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), schedule).await.expect("the schedule stops").unwrap();
    assert!(swept, "events sweeps went on every second while the period re-check hung");
}
