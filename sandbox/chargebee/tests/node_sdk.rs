//! Wire proof with the official Chargebee Node SDK (tests/node, `npm ci` there first): paging,
//! a filtered event list, retrieve, a 404 and a 429 as the SDK reports them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Command;

use chargebee_sandbox::{ChargebeeConfig, Plan, Region, SiteConfig};
use support::*;

#[tokio::test]
async fn official_node_sdk_pages_retrieves_and_reports_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        dir.join("node_modules/chargebee/package.json").exists(),
        "the Chargebee Node SDK is not installed: run `npm ci` in {} (CI's .ci/run does)",
        dir.display()
    );
    let sb = start(ChargebeeConfig {
        sites: vec![
            SiteConfig::new("sdk-test", Region::Eu, Plan::Enterprise).limit(100_000),
            SiteConfig::new("sdk-tight-test", Region::Eu, Plan::Starter).limit(3),
            SiteConfig::new("elsewhere", Region::Us, Plan::Starter),
        ],
        ..ChargebeeConfig::default()
    })
    .await;
    let site = sb.site("sdk-test").unwrap();
    let tight = sb.site("sdk-tight-test").unwrap();
    let control = sb.control();
    control.seed(&site.name, &spec(9, 3)).unwrap();

    let port = sb.addr(Region::Eu).port().to_string();
    let (key, tight_key) = (site.api_key.clone(), tight.api_key.clone());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("sdk_check.mjs")
            .current_dir(&dir)
            .env("CB_PORT", port)
            .env("CB_KEY", key)
            .env("CB_TIGHT_KEY", tight_key)
            .output()
    })
    .await
    .unwrap()
    .expect("node runs (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "sdk_check.mjs failed: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    eprintln!("sdk_check.mjs: {stdout}");
    let out: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON from sdk_check.mjs");

    let invoices = control.invoices(&site.name).unwrap();
    assert_eq!(out["invoice_count"], invoices.len());
    assert_eq!(out["invoice_unique"], invoices.len());
    assert_eq!(out["invoice_pages"], invoices.len().div_ceil(7));

    let events = control.events(&site.name).unwrap();
    let filtered =
        events.iter().filter(|e| e.event_type == "payment_succeeded" || e.event_type == "invoice_generated").count();
    assert_eq!(out["filtered_event_count"], filtered);
    let picked = events.iter().find(|e| e.id == out["event"]["id"]).expect("retrieved a real event");
    assert_eq!(out["event"]["event_type"], picked.event_type.as_str());

    assert_eq!(out["not_found"]["api_error_code"], "resource_not_found");
    assert_eq!(out["not_found"]["http_status_code"], 404);

    assert_eq!(out["rate_limit"]["api_error_code"], "api_request_limit_exceeded");
    assert_eq!(out["rate_limit"]["http_status_code"], 429);
    assert_eq!(out["rate_limit"]["after_calls"], 4, "three allowed, the fourth refused");
    assert!(out["rate_limit"]["retry_after"].as_str().is_some_and(|s| s.parse::<u64>().is_ok()));

    let counters = control.counters(&tight.name).unwrap();
    assert_eq!((counters.accepted, counters.rate_limited), (3, 1));
    // Every SDK request reached the sandbox (nothing short-circuited in the client).
    let calls = control.counters(&site.name).unwrap().calls;
    assert!(calls >= out["invoice_pages"].as_u64().unwrap() + 3, "{calls}");
}
