//! A real client (reqwest + rustls) trusts the generated CA and reaches a server by each name;
//! without the CA, and with another sandbox's CA, it is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sandbox_tls::SandboxTls;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn serve_once(tls: SandboxTls) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let tls = tls.clone();
            tokio::spawn(async move {
                let Ok(mut conn) = tls.accept(tcp).await else { return };
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf).await;
                let sni = conn.sni().unwrap_or("-").to_string();
                let body = format!("sni={sni}");
                let reply =
                    format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                let _ = conn.write_all(reply.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    addr
}

fn client(ca: Option<&str>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Only the given CA (none: nothing is trusted), never the machine's roots.
    let roots: Vec<reqwest::Certificate> =
        ca.map(|pem| reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()).into_iter().collect();
    reqwest::Client::builder()
        .tls_certs_only(roots)
        .resolve("acme.chargebee.com", "127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn trusted_ca_reaches_every_name_and_sni_is_seen() {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "acme.chargebee.com".to_string()];
    let tls = SandboxTls::generate(&names).unwrap();
    let addr = serve_once(tls.clone()).await;
    let c = client(Some(tls.ca_pem()));
    let port = addr.port();
    let by_ip = c.get(format!("https://127.0.0.1:{port}/")).send().await.unwrap().text().await.unwrap();
    assert_eq!(by_ip, "sni=-", "no SNI for an IP address");
    let by_name = c.get(format!("https://acme.chargebee.com:{port}/")).send().await.unwrap().text().await.unwrap();
    assert_eq!(by_name, "sni=acme.chargebee.com");
    let local = c.get(format!("https://localhost:{port}/")).send().await.unwrap().text().await.unwrap();
    assert_eq!(local, "sni=localhost");
}

#[tokio::test]
async fn unknown_or_wrong_ca_and_uncovered_name_are_refused() {
    let tls = SandboxTls::generate(&sandbox_tls::default_names()).unwrap();
    let other = SandboxTls::generate(&sandbox_tls::default_names()).unwrap();
    let addr = serve_once(tls.clone()).await;
    let url = format!("https://127.0.0.1:{}/", addr.port());
    assert!(client(None).get(&url).send().await.is_err(), "no CA: refused");
    assert!(client(Some(other.ca_pem())).get(&url).send().await.is_err(), "another sandbox's CA: refused");
    let uncovered = format!("https://acme.chargebee.com:{}/", addr.port());
    assert!(client(Some(tls.ca_pem())).get(&uncovered).send().await.is_err(), "a name the certificate lacks");
}

#[test]
fn ca_file_is_written_and_names_are_checked() {
    let dir = std::env::temp_dir().join(format!("sandbox-tls-{}", std::process::id()));
    let tls = SandboxTls::generate(&["localhost".to_string()]).unwrap();
    let path = dir.join("nested/ca.pem");
    tls.write_ca(&path).unwrap();
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(pem, tls.ca_pem());
    assert!(SandboxTls::generate(&[]).is_err());
    assert!(SandboxTls::generate(&["bad name with spaces".to_string()]).is_err());
    let _ = std::fs::remove_dir_all(dir);
}
