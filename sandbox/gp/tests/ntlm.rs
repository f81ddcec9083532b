//! NTLM against real clients: curl (libcurl's NTLMv2) and the `sspi` crate.

// Helpers as well as #[test] fns may stop a test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use gp_sandbox::{Credentials, GpConfig};
use hyper::{Method, StatusCode};
use support::*;

/// Runs `curl --ntlm` and returns the final HTTP status.
fn curl_status(url: &str, user_spec: &str) -> u16 {
    let out = std::process::Command::new("curl")
        .args([
            "--silent",
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_code}",
            "--max-time",
            "20",
            "--ntlm",
            "-u",
            user_spec,
            url,
        ])
        .output()
        .expect("curl is installed (apt-get install curl)");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0)
}

fn spec(c: &Credentials, domain: &str, user: &str, password: &str) -> String {
    let _ = c;
    format!("{domain}\\{user}:{password}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_ntlm_right_password_passes_everything_else_is_refused() {
    let sb = start().await;
    let c = sb.credentials().clone();
    let url = sb.soap_url();
    let url2 = url.clone();
    let c2 = c.clone();
    let results = tokio::task::spawn_blocking(move || {
        [
            curl_status(&url2, &c2.user_spec()),
            curl_status(&url2, &spec(&c2, &c2.domain.to_lowercase(), &c2.user.to_uppercase(), &c2.password)),
            curl_status(&url2, &spec(&c2, &c2.domain, &c2.user, "wrong-password")),
            curl_status(&url2, &spec(&c2, &c2.domain, &c2.user, &c2.password.to_uppercase())),
            curl_status(&url2, &spec(&c2, &c2.domain, "someone-else", &c2.password)),
            curl_status(&url2, &spec(&c2, "OTHERDOMAIN", &c2.user, &c2.password)),
        ]
    })
    .await
    .unwrap();
    assert_eq!(
        results,
        [200, 200, 401, 401, 401, 401],
        "right, case-folded user/domain, wrong pw, case-changed pw, wrong user, wrong domain"
    );
    // The WSDL is served to authenticated callers.
    let wsdl = format!("{url}?wsdl");
    let user = c.user_spec();
    let code = tokio::task::spawn_blocking(move || curl_status(&wsdl, &user)).await.unwrap();
    assert_eq!(code, 200);
}

#[tokio::test]
async fn sspi_client_right_password_is_accepted_and_connection_stays_authenticated() {
    let sb = start().await;
    let mut c = Client::connect(&sb).await;
    assert_eq!(c.ntlm(gp_sandbox::soap::PATH, sb.credentials()).await.unwrap(), StatusCode::OK);
    // Later requests on the same connection carry no Authorization header.
    let a = c.soap("GetCompanyList", &context(FABRIKAM)).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert!(a.body.contains("Fabrikam, Inc."));
    // A new connection is not authenticated.
    let mut fresh = Client::connect(&sb).await;
    let a = fresh.soap("GetCompanyList", &context(FABRIKAM)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.headers.get("www-authenticate").unwrap(), "NTLM");
}

#[tokio::test]
async fn sspi_client_wrong_password_user_or_domain_is_refused() {
    let sb = start().await;
    let good = sb.credentials().clone();
    let cases = [
        Credentials { password: "not-it".into(), ..good.clone() },
        Credentials { user: "intruder".into(), ..good.clone() },
        Credentials { domain: "ELSEWHERE".into(), ..good.clone() },
    ];
    for creds in cases {
        let mut c = Client::connect(&sb).await;
        assert_eq!(c.ntlm(gp_sandbox::soap::PATH, &creds).await.unwrap(), StatusCode::UNAUTHORIZED, "{creds:?}");
        // And the connection did not become authenticated.
        let a = c.soap("GetCompanyList", &context(FABRIKAM)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_forged_authenticate_without_challenge_is_refused() {
    let sb = start().await;
    // A type 3 that was never preceded by a challenge on this connection must fail.
    let mut c = Client::connect(&sb).await;
    let mut type3 = b"NTLMSSP\0".to_vec();
    type3.extend_from_slice(&3u32.to_le_bytes());
    type3.resize(120, 0);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&type3);
    let a = c.send(Method::GET, gp_sandbox::soap::PATH, &[("authorization", format!("NTLM {b64}"))], "").await.unwrap();
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    // After a failed attempt the same connection can still log in properly.
    assert_eq!(c.ntlm(gp_sandbox::soap::PATH, sb.credentials()).await.unwrap(), StatusCode::OK);
}

#[tokio::test]
async fn basic_is_off_for_soap_and_on_for_sba_by_default() {
    let sb = start().await;
    let auth = basic(sb.credentials());
    let mut c = Client::connect(&sb).await;
    let a = c
        .send(
            Method::POST,
            gp_sandbox::soap::PATH,
            &[("authorization", auth.clone())],
            &envelope("GetCompanyList", &context(FABRIKAM)),
        )
        .await
        .unwrap();
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let path = "/GPService/Tenants(DefaultTenant)/Companies".to_string();
    let a = c.json(Method::GET, &path, None, &auth).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let wrong = Credentials { password: "x".into(), ..sb.credentials().clone() };
    let a = c.json(Method::GET, &path, None, &basic(&wrong)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.headers.get_all("www-authenticate").iter().any(|v| v.to_str().unwrap().starts_with("Basic")));

    let sb2 = start_with(GpConfig { soap_basic: true, sba_basic: false, ..GpConfig::default() }).await;
    let mut c2 = Client::connect(&sb2).await;
    let a = c2
        .send(
            Method::POST,
            gp_sandbox::soap::PATH,
            &[("authorization", basic(sb2.credentials()))],
            &envelope("GetCompanyList", &context(FABRIKAM)),
        )
        .await
        .unwrap();
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let a = c2.json(Method::GET, &path, None, &basic(sb2.credentials())).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sba_accepts_ntlm() {
    let sb = start().await;
    let mut c = Client::connect(&sb).await;
    let path = "/GPService/Tenants(DefaultTenant)/Companies";
    assert_eq!(c.ntlm(path, sb.credentials()).await.unwrap(), StatusCode::OK);
    let a = c.send(Method::GET, path, &[], "").await.unwrap();
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("Contoso (Bermuda) Ltd."), "{a:?}");
}

/// MsvAvFlags of an AUTHENTICATE message's NTLMv2 response, if present.
fn av_flags(type3: &[u8]) -> Option<u32> {
    let len = u16::from_le_bytes([type3[20], type3[21]]) as usize;
    let off = u32::from_le_bytes([type3[24], type3[25], type3[26], type3[27]]) as usize;
    let mut rest = &type3[off + 16 + 28..off + len];
    while rest.len() >= 4 {
        let id = u16::from_le_bytes([rest[0], rest[1]]);
        let l = u16::from_le_bytes([rest[2], rest[3]]) as usize;
        if id == 0 {
            break;
        }
        if id == 6 {
            return Some(u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]));
        }
        rest = &rest[4 + l..];
    }
    None
}

#[tokio::test]
async fn a_tampered_mic_is_refused() {
    let sb = start().await;
    let mut seen_flags = None;
    let mut c = Client::connect(&sb).await;
    let status = c
        .ntlm_with(gp_sandbox::soap::PATH, sb.credentials(), |m| {
            seen_flags = av_flags(m);
            m[72] ^= 0xff; // first MIC byte
        })
        .await
        .unwrap();
    assert_eq!(seen_flags.map(|f| f & 2), Some(2), "sspi sends a MIC when the challenge carries a timestamp");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Untouched, the same client passes on a fresh connection.
    let mut c = Client::connect(&sb).await;
    assert_eq!(c.ntlm(gp_sandbox::soap::PATH, sb.credentials()).await.unwrap(), StatusCode::OK);
}

#[tokio::test]
async fn an_authenticate_message_cannot_be_replayed() {
    use base64::Engine as _;
    let b64 = |m: &[u8]| base64::engine::general_purpose::STANDARD.encode(m);
    let sb = start().await;
    let mut captured = Vec::new();
    let mut a = Client::connect(&sb).await;
    let status = a.ntlm_with(gp_sandbox::soap::PATH, sb.credentials(), |m| captured = m.clone()).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    // Same connection: its challenge was used up.
    let again = a
        .send(Method::GET, gp_sandbox::soap::PATH, &[("authorization", format!("NTLM {}", b64(&captured)))], "")
        .await
        .unwrap();
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    // Another connection: never challenged, so refused.
    let mut b = Client::connect(&sb).await;
    let replay = b
        .send(Method::GET, gp_sandbox::soap::PATH, &[("authorization", format!("NTLM {}", b64(&captured)))], "")
        .await
        .unwrap();
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    let after = b.soap("GetCompanyList", &context(FABRIKAM)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}
