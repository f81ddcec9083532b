//! curl, an independent client, dials through the proxy: tunnels, Basic auth, refusals, and
//! the answers to requests this proxy does not serve.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sandbox_proxy::{Proxy, ProxyConfig};
use support::{closed_port, curl, http_server, raw};

fn with_auth() -> ProxyConfig {
    ProxyConfig { auth: Some(("agent".into(), "s3cret".into())), ..ProxyConfig::default() }
}

#[tokio::test]
async fn an_open_proxy_tunnels_a_request() {
    let server = http_server().await;
    let proxy = Proxy::start(ProxyConfig::default()).await.unwrap();
    assert_eq!(proxy.url(), format!("http://127.0.0.1:{}", proxy.addr().port()));

    let out = curl(&proxy, &["--proxytunnel"], &format!("http://{server}/hello")).await;
    assert_eq!(out.exit, 0, "{out:?}");
    assert_eq!((out.connect_code.as_str(), out.http_code.as_str()), ("200", "200"));
    // Origin-form request line: it went through the tunnel, not proxied as a GET.
    assert_eq!(out.body, "served GET /hello HTTP/1.1");
    assert_eq!((proxy.tunnels_opened(), proxy.refused()), (1, 0));
    support::eventually("the tunnel closed after curl", || proxy.tunnels_open() == 0).await;
}

#[tokio::test]
async fn basic_auth_is_required_and_checked() {
    let server = http_server().await;
    let proxy = Proxy::start(with_auth()).await.unwrap();
    let url = format!("http://{server}/");

    let missing = curl(&proxy, &["--proxytunnel"], &url).await;
    assert_eq!(missing.connect_code, "407", "{missing:?}");
    assert_ne!(missing.exit, 0);

    let wrong = curl(&proxy, &["--proxytunnel", "--proxy-user", "agent:nope"], &url).await;
    assert_eq!(wrong.connect_code, "407", "{wrong:?}");
    assert_ne!(wrong.exit, 0);
    assert_eq!((proxy.refused(), proxy.tunnels_opened()), (2, 0));

    let right = curl(&proxy, &["--proxytunnel", "--proxy-user", "agent:s3cret"], &url).await;
    assert_eq!(right.exit, 0, "{right:?}");
    assert_eq!((right.connect_code.as_str(), right.body.as_str()), ("200", "served GET / HTTP/1.1"));
    assert_eq!((proxy.refused(), proxy.tunnels_opened()), (2, 1));
}

#[tokio::test]
async fn the_407_answer_challenges_for_basic() {
    let proxy = Proxy::start(with_auth()).await.unwrap();
    let answer = raw(&proxy, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n").await;
    let body = "proxy credentials required\n";
    assert_eq!(
        answer,
        format!(
            "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"sandbox-proxy\"\r\n\
             Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    );
    // A scheme other than Basic is no credential either.
    let bearer = raw(&proxy, b"CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: Bearer abc\r\n\r\n").await;
    assert!(bearer.starts_with("HTTP/1.1 407 Proxy Authentication Required\r\n"), "{bearer}");
    assert_eq!(proxy.refused(), 2);
}

#[tokio::test]
async fn refuse_connect_answers_403() {
    let server = http_server().await;
    let proxy = Proxy::start(ProxyConfig { refuse_connect: true, ..ProxyConfig::default() }).await.unwrap();
    let out = curl(&proxy, &["--proxytunnel"], &format!("http://{server}/")).await;
    assert_eq!(out.connect_code, "403", "{out:?}");
    assert_ne!(out.exit, 0);
    assert_eq!((proxy.refused(), proxy.tunnels_opened()), (1, 0));
}

#[tokio::test]
async fn only_allowed_ports_are_tunnelled() {
    let server = http_server().await;
    let url = format!("http://{server}/");
    let strict = Proxy::start(ProxyConfig { allowed_ports: Some(vec![443]), ..ProxyConfig::default() }).await.unwrap();
    let out = curl(&strict, &["--proxytunnel"], &url).await;
    assert_eq!(out.connect_code, "403", "{out:?}");
    assert_eq!(strict.refused(), 1);

    let allowing = ProxyConfig { allowed_ports: Some(vec![443, server.port()]), ..ProxyConfig::default() };
    let proxy = Proxy::start(allowing).await.unwrap();
    let out = curl(&proxy, &["--proxytunnel"], &url).await;
    assert_eq!((out.exit, out.connect_code.as_str()), (0, "200"), "{out:?}");
}

#[tokio::test]
async fn a_plain_get_is_not_served() {
    let server = http_server().await;
    let proxy = Proxy::start(ProxyConfig::default()).await.unwrap();
    // Without --proxytunnel curl asks the proxy to forward the GET itself.
    let out = curl(&proxy, &[], &format!("http://{server}/")).await;
    assert_eq!((out.exit, out.http_code.as_str()), (0, "405"), "{out:?}");
    assert_eq!(out.body, "this proxy only supports CONNECT\n");

    let answer = raw(&proxy, b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n").await;
    let body = "this proxy only supports CONNECT\n";
    assert_eq!(
        answer,
        format!(
            "HTTP/1.1 405 Method Not Allowed\r\nAllow: CONNECT\r\nContent-Type: text/plain\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    );
    assert_eq!((proxy.refused(), proxy.tunnels_opened()), (0, 0));
}

#[tokio::test]
async fn an_unreachable_target_is_a_502() {
    let port = closed_port().await;
    let proxy = Proxy::start(ProxyConfig::default()).await.unwrap();
    let out = curl(&proxy, &["--proxytunnel"], &format!("http://127.0.0.1:{port}/")).await;
    assert_eq!(out.connect_code, "502", "{out:?}");
    assert_ne!(out.exit, 0);
    assert_eq!((proxy.refused(), proxy.tunnels_opened()), (1, 0));
}
