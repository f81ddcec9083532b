//! HTTPS beside plain HTTP: a client trusting the printed CA reaches every region's HTTPS
//! origin and each site at its own host name (`{site}.chargebee.com`, whichever listener it
//! reaches); a client without the CA is refused. Over reqwest, curl and the official Node SDK.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Command;

use chargebee_sandbox::{ChargebeeConfig, ChargebeeSandbox, Plan, Region, SiteConfig, TlsOptions};
use support::*;

async fn https_sandbox() -> ChargebeeSandbox {
    let sb = start(ChargebeeConfig {
        sites: vec![
            SiteConfig::new("acme", Region::Us, Plan::Enterprise).limit(100_000),
            SiteConfig::new("globex-eu", Region::Eu, Plan::Enterprise).limit(100_000),
        ],
        tls: Some(TlsOptions { names: vec!["cb.sandbox.test".into()], ..TlsOptions::default() }),
        ..ChargebeeConfig::default()
    })
    .await;
    for site in sb.sites() {
        sb.control().seed(&site.name, &spec(3, 2)).expect("seed");
    }
    sb
}

/// A client that trusts only `ca_pem` and resolves every sandbox site name to `addr`.
fn trusting(ca_pem: &[u8], sb: &ChargebeeSandbox, region: Region) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let addr = sb.https_addr(region).expect("HTTPS is on");
    let mut b = reqwest::Client::builder().tls_certs_only([reqwest::Certificate::from_pem(ca_pem).expect("CA PEM")]);
    for name in ["acme.chargebee.com", "globex-eu.chargebee.com", "cb.sandbox.test"] {
        b = b.resolve(name, addr);
    }
    b.build().expect("client")
}

async fn get_url(c: &reqwest::Client, url: &str, key: &str) -> Result<(u16, serde_json::Value), reqwest::Error> {
    let r = c.get(url).basic_auth(key, Some("")).send().await?;
    let status = r.status().as_u16();
    Ok((status, r.json().await?))
}

#[tokio::test]
async fn the_printed_ca_opens_https_and_each_site_answers_on_its_own_host_name() {
    let sb = https_sandbox().await;
    let ca = std::fs::read(sb.ca_file().expect("CA file written")).unwrap();
    assert!(String::from_utf8_lossy(&ca).starts_with("-----BEGIN CERTIFICATE-----"));
    let acme = sb.site("acme").unwrap();
    let globex = sb.site("globex-eu").unwrap();
    let c = trusting(&ca, &sb, Region::Us);

    let url = format!("{}/invoices?limit=3&include_deleted=true", sb.site_url("acme").unwrap());
    assert!(url.starts_with("https://acme.chargebee.com:"), "{url}");
    let (status, json) = get_url(&c, &url, &acme.api_key).await.unwrap();
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["list"].as_array().unwrap().len(), 3);

    let origin = sb.https_origin(Region::Us).unwrap();
    let (status, _) = get_url(&c, &format!("{origin}/api/v2/events?limit=1"), &acme.api_key).await.unwrap();
    assert_eq!(status, 200, "https://localhost works too");
    let port = sb.https_addr(Region::Us).unwrap().port();
    let (status, _) =
        get_url(&c, &format!("https://cb.sandbox.test:{port}/api/v2/customers"), &acme.api_key).await.unwrap();
    assert_eq!(status, 200, "an extra --tls-name is on the certificate");

    // The EU site's host name on the US listener is served as that site (name, not port, decides).
    let url = format!("https://globex-eu.chargebee.com:{port}/api/v2/customers?limit=2");
    let (status, json) = get_url(&c, &url, &globex.api_key).await.unwrap();
    assert_eq!(status, 200, "{json}");
    // Another site's key on a site's host name, and a Chargebee host name of no site.
    let (status, json) = get_url(&c, &url, &acme.api_key).await.unwrap();
    assert_eq!((status, json["api_error_code"].as_str()), (401, Some("api_authentication_failed")));
    // (The certificate covers no unknown site, so that one is asked over plain HTTP by Host.)
    let r = client()
        .get(format!("{}/api/v2/customers", sb.origin(Region::Us)))
        .header(reqwest::header::HOST, "nope.chargebee.com")
        .basic_auth(&acme.api_key, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let json: serde_json::Value = r.json().await.unwrap();
    assert_eq!(json["api_error_code"], "site_not_found");
    assert!(json.get("type").is_none(), "{json}");

    // Plain HTTP stays on its own listeners.
    let plain = get(&client(), &sb, &acme, "/api/v2/invoices?limit=1").await;
    assert_eq!(plain.status, 200);
}

#[tokio::test]
async fn without_the_ca_or_with_another_one_the_handshake_fails() {
    let sb = https_sandbox().await;
    let acme = sb.site("acme").unwrap();
    let url = format!("{}/invoices", sb.https_origin(Region::Us).unwrap() + "/api/v2");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let system_roots = reqwest::Client::new();
    assert!(get_url(&system_roots, &url, &acme.api_key).await.is_err(), "system roots must not trust the sandbox");
    let other = sandbox_tls::SandboxTls::generate(&["localhost".into()]).unwrap();
    let wrong = trusting(other.ca_pem().as_bytes(), &sb, Region::Us);
    assert!(get_url(&wrong, &url, &acme.api_key).await.is_err(), "another CA must not verify");
}

fn curl(args: &[&str]) -> std::process::Output {
    Command::new("curl").args(args).output().expect("curl runs (is curl installed?)")
}

#[tokio::test]
async fn curl_with_cacert_and_resolve_reaches_the_site_host_name_and_without_it_is_refused() {
    let sb = https_sandbox().await;
    let acme = sb.site("acme").unwrap();
    let ca = sb.ca_file().unwrap().to_str().unwrap().to_string();
    let port = sb.https_addr(Region::Us).unwrap().port();
    let resolve = format!("acme.chargebee.com:{port}:127.0.0.1");
    let url = format!("https://acme.chargebee.com:{port}/api/v2/invoices?limit=2");
    let user = format!("{}:", acme.api_key);
    let out = tokio::task::spawn_blocking({
        let (ca, resolve, url, user) = (ca.clone(), resolve.clone(), url.clone(), user.clone());
        move || curl(&["-sS", "--fail", "--cacert", &ca, "--resolve", &resolve, "-u", &user, &url])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "curl --cacert: {}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["list"].as_array().unwrap().len(), 2);

    let out =
        tokio::task::spawn_blocking(move || curl(&["-sS", "--resolve", &resolve, "-u", &user, &url])).await.unwrap();
    assert!(!out.status.success(), "curl without the CA must fail");
    // 60: "Peer certificate cannot be authenticated with known CA certificates".
    assert_eq!(out.status.code(), Some(60), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn official_node_sdk_over_https_with_the_ca_and_refused_with_another() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        dir.join("node_modules/chargebee/package.json").exists(),
        "the Chargebee Node SDK is not installed: run `npm ci` in {} (CI's .ci/run does)",
        dir.display()
    );
    let sb = https_sandbox().await;
    let acme = sb.site("acme").unwrap();
    let port = sb.https_addr(Region::Us).unwrap().port().to_string();
    let other = sandbox_tls::SandboxTls::generate(&["localhost".into()]).unwrap();
    let wrong_ca = std::env::temp_dir().join(format!("cb-wrong-ca-{}.pem", std::process::id()));
    other.write_ca(&wrong_ca).unwrap();
    let run = |ca: std::path::PathBuf| {
        let (dir, key, port) = (dir.clone(), acme.api_key.clone(), port.clone());
        tokio::task::spawn_blocking(move || {
            Command::new("node")
                .args(["--require", "./hosts_entry.cjs", "sdk_https.mjs"])
                .current_dir(&dir)
                .env("NODE_EXTRA_CA_CERTS", ca)
                .env("CB_SITE", "acme")
                .env("CB_KEY", key)
                .env("CB_PORT", port)
                .output()
                .expect("node runs (is Node.js installed?)")
        })
    };
    let good = run(sb.ca_file().unwrap().to_path_buf()).await.unwrap();
    let stdout = String::from_utf8_lossy(&good.stdout);
    let out: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {stdout} {}", String::from_utf8_lossy(&good.stderr)));
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["count"], 5);
    assert_eq!(out["events"], 3);
    assert!(sb.control().invoices("acme").unwrap().iter().any(|i| i.id == out["first_id"]));

    let bad = run(wrong_ca.clone()).await.unwrap();
    let _ = std::fs::remove_file(&wrong_ca);
    let out: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&bad.stdout).trim()).unwrap();
    assert_eq!(out["ok"], false, "another CA must be refused: {out}");
    // A certificate failure (CERT_SIGNATURE_FAILURE, UNABLE_TO_VERIFY_LEAF_SIGNATURE, …), not DNS.
    assert!(out["code"].as_str().is_some_and(|c| c.contains("CERT") || c.contains("VERIFY")), "{out}");
}
