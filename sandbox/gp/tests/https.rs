//! HTTPS: real clients (reqwest + rustls, curl) trust the sandbox's generated CA and nothing
//! else; NTLM, SOAP, SBA and the WSDL work over TLS as over plain TCP.

// Helpers as well as #[test] fns may stop a test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;

use gp_sandbox::{GpConfig, GpTls, Sandbox};
use reqwest::StatusCode;
use serde_json::json;
use support::*;

fn tls_config() -> GpConfig {
    GpConfig { tls: Some(GpTls::default()), ..GpConfig::default() }
}

/// A client trusting only `ca` (none: the system's roots, as any client without the CA), one
/// keep-alive connection per host so the NTLM-authenticated connection is the one reused.
fn client(ca: Option<&str>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b = reqwest::Client::builder().pool_max_idle_per_host(1);
    if let Some(pem) = ca {
        b = b.tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()]);
    }
    b.build().unwrap()
}

/// NTLM on the client's (single) connection, with a GET of `url`.
async fn login(http: &reqwest::Client, sb: &Sandbox, url: &str) {
    let status = ntlm_handshake(
        &sb.addr().to_string(),
        sb.credentials(),
        |_| {},
        async |authorization| {
            let r = http.get(url).header("authorization", authorization).send().await?;
            let (status, headers) = (r.status(), r.headers().clone());
            r.bytes().await?; // drained, so the connection goes back to the pool for the next leg
            Ok((status, headers))
        },
    )
    .await
    .unwrap();
    assert_eq!(status, StatusCode::OK, "NTLM over TLS");
}

#[tokio::test]
async fn reqwest_trusting_the_ca_gets_the_wsdl_and_calls_soap_and_sba_with_ntlm() {
    let sb = start_with(tls_config()).await;
    assert!(sb.is_tls());
    let port = sb.addr().port();
    assert_eq!(sb.soap_url(), format!("https://127.0.0.1:{port}{}", gp_sandbox::soap::PATH));
    assert!(sb.wsdl_url().starts_with("https://") && sb.sba_base_url().starts_with("https://"));
    let http = client(sb.ca_pem());

    login(&http, &sb, &sb.wsdl_url()).await;
    let wsdl = http.get(sb.wsdl_url()).send().await.unwrap();
    assert_eq!(wsdl.status(), StatusCode::OK);
    assert!(wsdl.text().await.unwrap().contains("LegacyDynamicsGP"), "the WSDL, on the authenticated connection");

    let soap = http
        .post(sb.soap_url())
        .header("soapaction", format!("\"{NS_GP}/GetCompanyList\""))
        .header("content-type", "text/xml; charset=utf-8")
        .body(envelope("GetCompanyList", &context(FABRIKAM)))
        .send()
        .await
        .unwrap();
    assert_eq!(soap.status(), StatusCode::OK);
    let body = soap.text().await.unwrap();
    assert!(body.contains("Contoso (Bermuda) Ltd.") && body.contains("Fabrikam, Inc."), "{body}");

    // SBA on the same port, Basic over TLS on a fresh client.
    let customers = format!("{}/Sales/Customers.json", sb.sba_company_url("Contoso (Bermuda) Ltd."));
    let created = client(sb.ca_pem())
        .post(customers)
        .header("authorization", basic(sb.credentials()))
        .json(&json!({"Payload": {"Key": {"Id": "TLS-CUST"}, "Name": "Over TLS", "CurrencyKey": {"ISOCode": "GBP"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let companies = sb.control().companies().await.unwrap();
    let contoso = companies.iter().find(|c| c.name.starts_with("Contoso")).unwrap();
    assert!(sb.control().customer(contoso.id, "TLS-CUST").await.unwrap().is_some());
}

/// The error chain as text (reqwest's Display hides the TLS reason).
fn chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

#[tokio::test]
async fn without_the_ca_or_with_another_sandboxs_ca_the_handshake_is_refused() {
    let sb = start_with(tls_config()).await;
    let other = start_with(tls_config()).await;
    for (what, ca) in [("no CA", None), ("another sandbox's CA", other.ca_pem())] {
        let err = client(ca).get(sb.wsdl_url()).send().await.expect_err(what);
        assert!(err.is_connect(), "{what}: refused while connecting: {}", chain(&err));
        // No CA: UnknownIssuer; another sandbox's CA (same name, other key): BadSignature.
        assert!(chain(&err).contains("invalid peer certificate"), "{what}: {}", chain(&err));
    }
    let plain = client(None).get(sb.wsdl_url().replacen("https://", "http://", 1)).send().await;
    assert!(plain.is_err(), "plain HTTP to the TLS port gets no HTTP answer");
    // The failed handshakes did not hurt the listener.
    let ok = client(sb.ca_pem()).get(sb.wsdl_url()).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::UNAUTHORIZED, "reached the server: NTLM wanted");
}

/// Runs curl for `url` with NTLM; returns (exit success, HTTP code, stderr).
fn curl(url: &str, user_spec: &str, cacert: Option<&std::path::Path>) -> (bool, String, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--output", "/dev/null", "--write-out", "%{http_code}"]).args([
        "--max-time",
        "20",
        "--ntlm",
        "-u",
        user_spec,
    ]);
    if let Some(ca) = cacert {
        cmd.arg("--cacert").arg(ca);
    }
    // Only the file given counts: no bundle from the environment.
    for var in ["CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"] {
        cmd.env_remove(var);
    }
    let out = cmd.arg(url).output().expect("this test needs curl (apt-get install curl)");
    let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success(), code, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_with_cacert_gets_the_wsdl_and_without_it_fails() {
    let sb = start_with(tls_config()).await;
    let ca = sb.ca_file().unwrap().to_path_buf();
    assert_eq!(std::fs::read_to_string(&ca).unwrap(), sb.ca_pem().unwrap(), "the CA file is the CA");
    let (url, user) = (sb.wsdl_url(), sb.credentials().user_spec());
    let (trusted, untrusted) =
        tokio::task::spawn_blocking(move || (curl(&url, &user, Some(&ca)), curl(&url, &user, None))).await.unwrap();
    assert_eq!(trusted, (true, "200".to_string(), String::new()), "curl --cacert CA");
    let (ok, code, stderr) = untrusted;
    assert!(!ok && code == "000", "without --cacert curl must refuse: {code} {stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
}

#[tokio::test]
async fn ca_file_default_lives_with_the_sandbox_and_a_given_path_is_used() {
    let sb = start_with(tls_config()).await;
    let default = sb.ca_file().unwrap().to_path_buf();
    assert!(default.is_file());
    sb.shutdown().await;
    assert!(!default.exists(), "the temporary CA file goes with the sandbox");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("certs/gp-ca.pem");
    let tls = GpTls { ca_file: Some(path.clone()), ..GpTls::default() };
    let sb = start_with(GpConfig { tls: Some(tls), ..GpConfig::default() }).await;
    assert_eq!(sb.ca_file(), Some(path.as_path()));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), sb.ca_pem().unwrap());

    let plain = start().await;
    assert!(!plain.is_tls() && plain.ca_pem().is_none() && plain.ca_file().is_none());
    assert!(plain.soap_url().starts_with("http://"));
}

#[tokio::test]
async fn urls_use_a_certificate_name_when_the_address_is_not_covered() {
    let tls = GpTls { names: vec!["gp.sandbox.test".into()], ca_file: None };
    let sb = start_with(GpConfig { tls: Some(tls), ..GpConfig::default() }).await;
    let port = sb.addr().port();
    assert_eq!(sb.wsdl_url(), format!("https://gp.sandbox.test:{port}{}?wsdl", gp_sandbox::soap::PATH));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(sb.ca_pem().unwrap().as_bytes()).unwrap()])
        .resolve("gp.sandbox.test", sb.addr())
        .build()
        .unwrap();
    let r = http.get(sb.wsdl_url()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "TLS accepted for the name; NTLM wanted");
}
