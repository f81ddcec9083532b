//! The host's own NTLM client (the `ntlm` secret scheme) against the GP emulator's NTLMv2
//! verifier: right account accepted, wrong password/user/domain refused, connections reused,
//! the pool never exceeds the connection's pacing limit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use gp_sandbox::{GpConfig, GpSandbox, Sandbox};
use ml_connector::caps::http::Origin;
use ml_connector::caps::http::ntlm::{NtlmPools, NtlmRequest};
use ml_connector::caps::secrets::{ResolvedSecret, SecretValue};
use ml_connector::config::SecretScheme;

const NS_GP: &str = "http://schemas.microsoft.com/dynamics/gp/2006/01";

fn secret(sandbox: &Sandbox, account: &str) -> Arc<ResolvedSecret> {
    Arc::new(ResolvedSecret {
        name: "gp".into(),
        scheme: SecretScheme::Ntlm,
        origin: Origin::parse(&sandbox.soap_url()).expect("origin"),
        value: SecretValue::new(account.to_string()),
        governor: None,
        on_agent: false,
    })
}

fn company_list(sandbox: &Sandbox) -> NtlmRequest {
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetCompanyList xmlns="{NS_GP}"><criteria/><context><OrganizationKey xmlns="http://schemas.microsoft.com/dynamics/2006/01" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CompanyKey"><Id>-1</Id></OrganizationKey><CurrencyType xmlns="http://schemas.microsoft.com/dynamics/2006/01">Transactional</CurrencyType></context></GetCompanyList></soap:Body></soap:Envelope>"#
    );
    NtlmRequest {
        method: hyper::Method::POST,
        url: url::Url::parse(&sandbox.soap_url()).expect("url"),
        headers: vec![
            ("content-type".into(), "text/xml; charset=utf-8".into()),
            ("soapaction".into(), format!("\"{NS_GP}/GetCompanyList\"")),
        ],
        body: body.into_bytes(),
    }
}

async fn start(config: GpConfig) -> Sandbox {
    GpSandbox::start(config).await.expect("GP sandbox starts")
}

#[tokio::test]
async fn right_account_is_accepted_and_the_connection_is_reused() {
    let sb = start(GpConfig::default()).await;
    let pools =
        NtlmPools::new(2, true, ml_connector::caps::http::tls::client_config(None).unwrap()).insecure_http(true);
    let s = secret(&sb, &sb.credentials().user_spec());
    let origin = s.origin.clone();
    for _ in 0..5 {
        let resp = pools.send(&s, &origin, company_list(&sb), Duration::from_secs(10)).await.expect("call succeeds");
        let body = String::from_utf8_lossy(&resp.body);
        assert_eq!(resp.status, 200, "{body}");
        assert!(body.contains("Fabrikam"), "{body}");
    }
    assert_eq!(pools.handshakes(), 1, "sequential calls reuse one authenticated connection");
    assert_eq!(sb.control().counters().calls.get("GetCompanyList").copied(), Some(5), "each call reached GP once");
}

#[tokio::test]
async fn wrong_password_user_or_domain_is_refused() {
    let sb = start(GpConfig::default()).await;
    let c = sb.credentials().clone();
    for account in [
        format!("{}\\{}:{}x", c.domain, c.user, c.password),
        format!("{}\\other:{}", c.domain, c.password),
        format!("OTHERDOM\\{}:{}", c.user, c.password),
    ] {
        let pools =
            NtlmPools::new(1, true, ml_connector::caps::http::tls::client_config(None).unwrap()).insecure_http(true);
        let s = secret(&sb, &account);
        let err =
            pools.send(&s, &s.origin.clone(), company_list(&sb), Duration::from_secs(10)).await.expect_err("refused");
        assert!(format!("{err:?}").contains("refused the Windows account"), "{account}: {err:?}");
    }
    assert_eq!(
        sb.control().counters().calls.get("GetCompanyList").copied().unwrap_or(0),
        0,
        "no refused call reached GP"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_size_caps_parallel_calls() {
    let sb = start(GpConfig { latency: Duration::from_millis(50), ..GpConfig::default() }).await;
    let pools = Arc::new(
        NtlmPools::new(3, true, ml_connector::caps::http::tls::client_config(None).unwrap()).insecure_http(true),
    );
    let s = secret(&sb, &sb.credentials().user_spec());
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let (pools, s, req) = (pools.clone(), s.clone(), company_list(&sb));
        tasks.push(tokio::spawn(async move {
            pools.send(&s, &s.origin.clone(), req, Duration::from_secs(30)).await.map(|r| r.status)
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task").expect("call"), 200);
    }
    let counters = sb.control().counters();
    println!("max in flight at GP: {}, handshakes: {}", counters.max_in_flight, pools.handshakes());
    assert!(counters.max_in_flight <= 3, "pool of 3 let {} calls through at once", counters.max_in_flight);
    assert!(pools.handshakes() <= 3, "at most one handshake per pooled connection, got {}", pools.handshakes());
    assert!(counters.max_in_flight >= 2, "24 calls with 50 ms latency should overlap");
}
