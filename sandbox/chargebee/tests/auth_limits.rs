//! Auth bound to a region, per-site rate limits with and without Retry-After, faults.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use base64::Engine as _;
use chargebee_sandbox::{ChargebeeConfig, FaultRule, Plan, Region, SiteConfig};
use support::*;

#[tokio::test]
async fn wrong_key_other_region_and_missing_header_are_401() {
    let sb = start(roomy()).await;
    let c = client();
    let us = sb.sites().into_iter().find(|s| s.region == Region::Us).unwrap();
    let eu = sb.sites().into_iter().find(|s| s.region == Region::Eu).unwrap();
    let path = "/api/v2/invoices";

    let ok = get_at(&c, &sb.origin(Region::Us), Some(&us.api_key), path).await;
    assert_eq!(ok.status, 200);
    // The same host under `localhost`, as an SDK configured with site 'localhost' sends it.
    let port = sb.addr(Region::Us).port();
    let ok = get_at(&c, &format!("http://localhost:{port}"), Some(&us.api_key), path).await;
    assert_eq!(ok.status, 200);

    let cases = [
        ("unknown key", sb.origin(Region::Us), Some("test_not_a_key".to_string())),
        ("EU key at the US origin", sb.origin(Region::Us), Some(eu.api_key.clone())),
        ("US key at the AU origin", sb.origin(Region::Au), Some(us.api_key.clone())),
        ("no header", sb.origin(Region::Eu), None),
    ];
    for (what, origin, key) in &cases {
        let r = get_at(&c, origin, key.as_deref(), path).await;
        assert_eq!(r.status, 401, "{what}");
        assert_eq!(r.json["api_error_code"], "api_authentication_failed", "{what}");
        assert_eq!(r.json["http_status_code"], 401);
        assert!(r.json.get("type").is_none(), "{what}: 401s carry no type");
    }
    let control = sb.control();
    assert_eq!(control.auth_refused(), cases.len() as u64);
    assert_eq!(control.counters(&eu.name).unwrap().wrong_region, 1);
    assert_eq!(control.counters(&us.name).unwrap().wrong_region, 1);
    assert_eq!(control.counters(&us.name).unwrap().accepted, 2);

    // The Go SDK sends base64(key) without the colon.
    let go_style = base64::engine::general_purpose::STANDARD.encode(&eu.api_key);
    let r = c
        .get(format!("{}/api/v2/customers", sb.origin(Region::Eu)))
        .header("authorization", format!("Basic {go_style}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn tight(limit: u32, window: Duration, retry_after: bool) -> ChargebeeConfig {
    ChargebeeConfig {
        sites: vec![SiteConfig::new("tight-test", Region::Us, Plan::Starter).limit(limit)],
        window,
        retry_after,
        ..ChargebeeConfig::default()
    }
}

#[tokio::test]
async fn over_the_limit_is_429_with_retry_after_when_switched_on() {
    let sb = start(tight(5, Duration::from_secs(2), true)).await;
    let site = sb.sites()[0].clone();
    let c = client();
    for _ in 0..5 {
        assert_eq!(get(&c, &sb, &site, "/api/v2/invoices").await.status, 200);
    }
    let r = get(&c, &sb, &site, "/api/v2/invoices").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.json["api_error_code"], "api_request_limit_exceeded");
    assert_eq!(r.json["type"], "operation_failed");
    let secs: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&secs), "Retry-After {secs}");

    sb.control().set_retry_after(false);
    let r = get(&c, &sb, &site, "/api/v2/invoices").await;
    assert_eq!(r.status, 429);
    assert!(r.headers.get("retry-after").is_none());

    let counters = sb.control().counters(&site.name).unwrap();
    assert_eq!((counters.calls, counters.accepted, counters.rate_limited), (7, 5, 2));
    assert_eq!(counters.max_rolling_accepted, 5);

    // A plan without an override gets the plan's per-minute figure.
    let plain = start(ChargebeeConfig {
        sites: vec![SiteConfig::new("big", Region::Eu, Plan::Enterprise)],
        ..ChargebeeConfig::default()
    })
    .await;
    assert_eq!(plain.sites()[0].limit, 3500);
}

/// A client that waits Retry-After never gets more than the limit through in any window,
/// and gets everything done.
#[tokio::test]
async fn a_client_that_honours_retry_after_stays_within_the_limit() {
    let limit = 4;
    let sb = start(tight(limit, Duration::from_secs(1), true)).await;
    let site = sb.sites()[0].clone();
    let c = client();
    let started = Instant::now();
    let mut done = 0;
    let mut waits = 0;
    while done < 12 {
        let r = get(&c, &sb, &site, "/api/v2/events?limit=1").await;
        if r.status == 429 {
            let secs: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
            waits += 1;
            tokio::time::sleep(Duration::from_secs(secs)).await;
        } else {
            assert_eq!(r.status, 200);
            done += 1;
        }
    }
    let counters = sb.control().counters(&site.name).unwrap();
    assert!(waits >= 2, "the limit was never met");
    assert_eq!(counters.accepted, 12);
    assert!(counters.max_rolling_accepted <= u64::from(limit), "{counters:?}");
    assert_eq!(counters.max_rolling_accepted, u64::from(limit));
    assert!(started.elapsed() >= Duration::from_secs(2), "12 calls at 4/s take at least 2 s");
}

/// Without Retry-After the only safe client is one that paces itself; one that hammers is
/// refused (and with `count_refused` stays refused until it backs off).
#[tokio::test]
async fn hammering_without_retry_after_is_refused_and_counted() {
    let mut config = tight(3, Duration::from_millis(1500), false);
    config.count_refused = true;
    let sb = start(config).await;
    let site = sb.sites()[0].clone();
    let c = client();
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(get(&c, &sb, &site, "/api/v2/customers").await.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 3);
    assert!(statuses[3..].iter().all(|s| *s == 429));
    let counters = sb.control().counters(&site.name).unwrap();
    assert_eq!(counters.rate_limited, 7);
    assert!(counters.max_rolling_accepted <= 3);
}

#[tokio::test]
async fn injected_5xx_drops_and_latency() {
    let sb = start(roomy()).await;
    let site = sb.sites()[0].clone();
    let c = client();
    let control = sb.control();

    control.fail_next(2, 503, Some("/invoices"));
    // Another path is not affected.
    assert_eq!(get(&c, &sb, &site, "/api/v2/customers").await.status, 200);
    for _ in 0..2 {
        let r = get(&c, &sb, &site, "/api/v2/invoices").await;
        assert_eq!(r.status, 503);
        assert_eq!(r.json["api_error_code"], "internal_temporary_error");
        assert_eq!(r.json["type"], "operation_failed");
        assert_eq!(r.json["http_status_code"], 503);
    }
    assert_eq!(get(&c, &sb, &site, "/api/v2/invoices").await.status, 200);

    control.inject(FaultRule::status(500).site(&site.name));
    let r = get(&c, &sb, &site, "/api/v2/events").await;
    assert_eq!((r.status, r.json["api_error_code"].as_str()), (500, Some("internal_error")));

    control.drop_next(1, Some("/api/v2/events"));
    let err = c
        .get(format!("{}/api/v2/events", sb.origin(site.region)))
        .basic_auth(&site.api_key, Some(""))
        .send()
        .await
        .expect_err("connection closed without a response");
    assert!(!err.is_status(), "{err}");
    assert_eq!(get(&c, &sb, &site, "/api/v2/events").await.status, 200);

    let counters = control.counters(&site.name).unwrap();
    assert_eq!(counters.faults_served, 4);
    assert_eq!(counters.connections_dropped, 1);
    assert!(control.pending_faults().is_empty());

    control.set_latency(Duration::from_millis(300), Some("/api/v2/customers"));
    let t = Instant::now();
    assert_eq!(get(&c, &sb, &site, "/api/v2/customers").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    assert_eq!(get(&c, &sb, &site, "/api/v2/invoices").await.status, 200);
    assert!(t.elapsed() < Duration::from_millis(300));
    control.clear_faults();
}
