//! Test client helpers: reqwest with Basic auth the way the SDKs send it, and a pager that
//! follows `next_offset`.
// Helpers of #[test]s: a failed expectation here is a failed test (clippy.toml allows it in tests).
#![allow(dead_code, clippy::expect_used, clippy::panic)]

use chargebee_sandbox::{ChargebeeConfig, ChargebeeSandbox, SeedSpec, SiteInfo};
use serde_json::Value;

/// End of the seeded history: fixed so two runs generate the same data.
pub const UNTIL: i64 = 1_750_000_000;

pub fn spec(customers: usize, invoices_per_customer: usize) -> SeedSpec {
    SeedSpec { customers, invoices_per_customer, until: Some(UNTIL), ..SeedSpec::default() }
}

pub async fn start(config: ChargebeeConfig) -> ChargebeeSandbox {
    let _ = rustls::crypto::ring::default_provider().install_default();
    ChargebeeSandbox::start(config).await.expect("sandbox starts")
}

/// Default sites with a limit high enough that API tests never meet it.
pub fn roomy() -> ChargebeeConfig {
    let mut config = ChargebeeConfig::default();
    for s in &mut config.sites {
        s.limit = Some(1_000_000);
    }
    config
}

/// A started sandbox whose first site (US) is seeded with `spec`.
pub async fn seeded(spec: &SeedSpec) -> (ChargebeeSandbox, SiteInfo) {
    let sb = start(roomy()).await;
    let site = sb.sites()[0].clone();
    sb.control().seed(&site.name, spec).expect("seed");
    (sb, site)
}

pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl std::fmt::Debug for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.json)
    }
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// GET `origin + path_and_query`, Basic `key:` (or no header for `None`).
pub async fn get_at(client: &reqwest::Client, origin: &str, key: Option<&str>, path_and_query: &str) -> Resp {
    let mut req = client.get(format!("{origin}{path_and_query}"));
    if let Some(key) = key {
        req = req.basic_auth(key, Some(""));
    }
    let resp = req.send().await.expect("request completes");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    Resp { status, headers, json }
}

pub async fn get(client: &reqwest::Client, sb: &ChargebeeSandbox, site: &SiteInfo, path_and_query: &str) -> Resp {
    get_at(client, &sb.origin(site.region), Some(&site.api_key), path_and_query).await
}

/// Follows `next_offset` to the end; returns the resources (unwrapped from their key) and
/// the number of pages.
pub async fn list_all(
    client: &reqwest::Client,
    sb: &ChargebeeSandbox,
    site: &SiteInfo,
    resource: &str,
    key: &str,
    query: &str,
) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut offset: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut q = format!("/api/v2/{resource}?{query}");
        if let Some(o) = &offset {
            q.push_str("&offset=");
            q.push_str(&url_encode(o));
        }
        let r = get(client, sb, site, &q).await;
        assert_eq!(r.status, 200, "{q}: {r:?}");
        pages += 1;
        for item in r.json["list"].as_array().expect("list is an array") {
            out.push(item.get(key).unwrap_or_else(|| panic!("item without {key}: {item}")).clone());
        }
        match r.json.get("next_offset") {
            Some(Value::String(s)) => offset = Some(s.clone()),
            None => break,
            Some(other) => panic!("next_offset must be a string or absent, got {other}"),
        }
        assert!(pages < 10_000, "paging does not end");
    }
    (out, pages)
}

pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
