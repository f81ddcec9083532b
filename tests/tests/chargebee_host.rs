//! The host side of Chargebee: the per-key rate governor and 429 handling, the region → origin
//! binding of API keys, and webhook redelivery after a crash — with the real source component
//! against the Chargebee emulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use chargebee_sandbox::{Region, SeedSpec, WebhookConfig};
use gp_sandbox::DocType;
use ml_connector_tests::{TestDb, init_tracing, scratch};
use mlc_harness::stack::{Stack, StackSpec, TenantSpec, WEBHOOK_PASSWORD, WEBHOOK_USER};

async fn stack(name: &str, limit: u32, window: Duration) -> (Stack, TestDb) {
    init_tracing();
    let db = TestDb::from_env().await;
    let mut t = TenantSpec::new("acme", "acme-test", Region::Us);
    t.settings = vec![("map.refunds".into(), "skip".into()), ("map.invoice.voided".into(), "skip".into())];
    let spec = StackSpec {
        tenants: vec![t],
        cb_limit: limit,
        cb_window: window,
        database: Some(db.url.clone()),
        ..StackSpec::default()
    };
    (Stack::start(&scratch(name), spec).await.expect("stack"), db)
}

/// Seed, then deliver every event by webhook (each costs a fetch) and wait for GP.
async fn webhook_everything(s: &Stack) -> usize {
    let site = s.site("acme").unwrap();
    let control = s.cb.control();
    control
        .seed(
            &site.name,
            &SeedSpec {
                customers: 6,
                invoices_per_customer: 4,
                currencies: vec!["USD".into(), "EUR".into()],
                days: 10,
                seed: 11,
                ..SeedSpec::default()
            },
        )
        .unwrap();
    let events = control.events(&site.name).unwrap();
    let sender =
        s.webhooks("acme", WebhookConfig::new(&s.webhook_url("acme")).basic(WEBHOOK_USER, WEBHOOK_PASSWORD)).unwrap();
    assert_eq!(sender.deliver(events).await.failed(), 0);
    let st = s.drain("acme", Duration::from_secs(240)).await.unwrap();
    let stuck = s.stuck("acme").await.unwrap();
    let why: Vec<_> = stuck.iter().map(|j| (&j.key, &j.last_error)).collect();
    assert_eq!((st.parked, st.dead), (0, 0), "{st:?} {why:#?}");
    control.invoices(&site.name).unwrap().iter().filter(|i| i.status != "voided" && i.status != "pending").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governor_keeps_every_window_under_the_plan_limit() {
    // 12 calls per 500 ms window at the emulator, and the host paced to the same figure.
    let (s, _db) = stack("cb-governor", 12, Duration::from_millis(500)).await;
    let invoices = webhook_everything(&s).await;
    let c = s.cb.control().counters("acme-test").unwrap();
    println!(
        "calls {} accepted {} 429s {} max in any window {}",
        c.calls, c.accepted, c.rate_limited, c.max_rolling_accepted
    );
    assert!(c.max_rolling_accepted <= 12, "the emulator saw {} calls in one window", c.max_rolling_accepted);
    assert_eq!(c.rate_limited, 0, "the governor should keep the key out of 429s");
    assert_eq!(s.gp.control().documents_of(-1, DocType::Invoice).await.unwrap().len(), invoices);
    s.shutdown().await;
}

async fn storm(retry_after: bool) {
    // The host believes it may make 40 calls per window; the emulator allows 8: a 429 storm.
    let (s, _db) = stack(if retry_after { "cb-storm-ra" } else { "cb-storm" }, 40, Duration::from_millis(500)).await;
    let control = s.cb.control();
    control.set_limit("acme-test", 8).unwrap();
    control.set_retry_after(retry_after);
    let invoices = webhook_everything(&s).await;
    let c = control.counters("acme-test").unwrap();
    println!(
        "retry-after {retry_after}: calls {} accepted {} 429s {} max in any window {}",
        c.calls, c.accepted, c.rate_limited, c.max_rolling_accepted
    );
    assert!(c.rate_limited > 0, "the storm happened");
    assert!(c.max_rolling_accepted <= 8);
    assert_eq!(
        s.gp.control().documents_of(-1, DocType::Invoice).await.unwrap().len(),
        invoices,
        "every record fetched and written"
    );
    let jobs = s.app.store.stats(Some("acme")).await.unwrap();
    assert_eq!(jobs.dead, 0, "429s never use up a job's attempts");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_storm_with_retry_after() {
    storm(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_storm_without_retry_after() {
    storm(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_bound_to_another_region_is_refused_before_anything_is_sent() {
    let (s, _db) = stack("cb-region", 100, Duration::from_secs(60)).await;
    // The same config, but the key pinned to the EU origin while the site lives in the US.
    let eu = s.cb.origin(Region::Eu);
    let mut bad = s.config.clone();
    bad.secrets.get_mut("cb-acme").unwrap().origin = Some(eu.clone());
    let path = scratch("cb-region-bad").with_extension("toml");
    std::fs::write(&path, bad.to_toml().unwrap()).unwrap();
    // Refused at load (the Chargebee binding is resolved when the host is built).
    let loaded = ml_connector::config::Config::load(&path).unwrap();
    let err = ml_connector::app::App::build(loaded).await.err().expect("refused");
    assert!(format!("{err:#}").contains("may only reach its own site's region"), "{err:#}");

    // At run time: the source asked to call the EU origin with the US key is denied by the host.
    let conn = s.app.connections["acme"].clone();
    let secret = conn.source.policy.secrets.as_ref().unwrap().get("chargebee-api-key").unwrap().clone();
    let url = url::Url::parse(&format!("{eu}/api/v2/invoices")).unwrap();
    let denied = conn.source.policy.http.as_ref().unwrap().check(&url, Some(&secret)).expect_err("denied");
    assert!(denied.contains("not on this component's allowlist") || denied.contains("bound to"), "{denied}");
    let c = s.cb.control().counters("acme-test").unwrap();
    assert_eq!((c.calls, c.wrong_region), (0, 0), "not a byte reached Chargebee");
    s.shutdown().await;
}
