//! Tunnel behaviour with a raw client: bytes after the head, half-close, malformed heads, the
//! idle cut (closing and silent), cut_all and shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use sandbox_proxy::{Proxy, ProxyConfig};
use support::{ESTABLISHED, echo_server, eventually, open_tunnel, raw, read_within, round_trip};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn idle_cut(after: Duration, silently: bool) -> ProxyConfig {
    ProxyConfig { idle_cut: Some(after), idle_cut_silently: silently, ..ProxyConfig::default() }
}

#[tokio::test]
async fn malformed_heads_get_400() {
    let proxy = Proxy::start(ProxyConfig::default()).await.unwrap();
    for bad in
        [&b"CONNECT example.com:443\r\n\r\n"[..], b"CONNECT example.com HTTP/1.1\r\n\r\n", b"hello there\r\n\r\n"]
    {
        let answer = raw(&proxy, bad).await;
        assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{answer}");
        assert!(answer.contains("\r\nConnection: close\r\n"), "{answer}");
    }
    assert_eq!(proxy.refused(), 0);
}

#[tokio::test]
async fn an_oversized_head_is_refused() {
    let proxy = Proxy::start(ProxyConfig::default()).await.unwrap();
    let mut request = b"CONNECT example.com:443 HTTP/1.1\r\n".to_vec();
    request.extend(format!("X-Pad: {}\r\n\r\n", "a".repeat(17 * 1024)).into_bytes());
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    let _ = conn.write_all(&request).await;
    let mut answer = vec![0u8; 46];
    tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut answer)).await.unwrap().unwrap();
    assert_eq!(answer, b"HTTP/1.1 431 Request Header Fields Too Large\r\n");
}

#[tokio::test]
async fn bytes_sent_with_the_head_reach_the_target() {
    let echo = echo_server().await;
    let proxy = Proxy::start(ProxyConfig::default()).await.unwrap();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    conn.write_all(format!("CONNECT {echo} HTTP/1.1\r\nHost: {echo}\r\n\r\nearly bird").as_bytes()).await.unwrap();
    let mut answer = vec![0u8; ESTABLISHED.len() + "early bird".len()];
    tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut answer)).await.unwrap().unwrap();
    assert_eq!(answer, [ESTABLISHED, b"early bird"].concat());
}

#[tokio::test]
async fn a_half_close_passes_through() {
    let echo = echo_server().await;
    let proxy = Proxy::start(ProxyConfig::default()).await.unwrap();
    let mut conn = open_tunnel(&proxy, echo).await;
    conn.write_all(b"last words").await.unwrap();
    conn.shutdown().await.unwrap();
    // The echo server only half-closes after our EOF reached it; then its EOF comes back.
    let mut back = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut back)).await.unwrap().unwrap();
    assert_eq!(back, b"last words");
    eventually("the tunnel closed", || proxy.tunnels_open() == 0).await;
}

#[tokio::test]
async fn an_idle_tunnel_is_closed() {
    let echo = echo_server().await;
    let proxy = Proxy::start(idle_cut(Duration::from_millis(400), false)).await.unwrap();
    let mut conn = open_tunnel(&proxy, echo).await;
    // Traffic keeps it alive well past the idle limit.
    for _ in 0..6 {
        round_trip(&mut conn, b"ping").await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(proxy.tunnels_open(), 1);
    // Then silence: the proxy closes it, and the client reads EOF.
    assert_eq!(read_within(&mut conn, Duration::from_secs(3)).await.unwrap(), 0);
    eventually("the tunnel is counted closed", || proxy.tunnels_open() == 0).await;
    assert_eq!(proxy.tunnels_opened(), 1);
}

#[tokio::test]
async fn a_silent_idle_cut_black_holes_the_tunnel() {
    let echo = echo_server().await;
    let proxy = Proxy::start(idle_cut(Duration::from_millis(300), true)).await.unwrap();
    let mut conn = open_tunnel(&proxy, echo).await;
    round_trip(&mut conn, b"ping").await;
    tokio::time::sleep(Duration::from_millis(700)).await;

    // The socket is still open and takes writes, but nothing comes back.
    conn.write_all(b"anyone there?").await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_millis(800), conn.read(&mut buf)).await;
    assert!(read.is_err(), "expected silence, got {read:?}");
    assert_eq!(proxy.tunnels_open(), 1);

    // cut_all still closes a black-holed tunnel.
    proxy.cut_all();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(3), conn.read_to_end(&mut rest)).await.unwrap();
    // Our unread bytes in the proxy's socket may turn its close into a reset.
    match closed {
        Ok(n) => assert_eq!(n, 0, "nothing was forwarded after the cut: {rest:?}"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    eventually("the tunnel is counted closed", || proxy.tunnels_open() == 0).await;
}

#[tokio::test]
async fn cut_all_severs_live_tunnels() {
    let echo = echo_server().await;
    let proxy = Proxy::start(ProxyConfig::default()).await.unwrap();
    let mut first = open_tunnel(&proxy, echo).await;
    let mut second = open_tunnel(&proxy, echo).await;
    round_trip(&mut first, b"one").await;
    round_trip(&mut second, b"two").await;
    assert_eq!((proxy.tunnels_opened(), proxy.tunnels_open()), (2, 2));

    proxy.cut_all();
    assert_eq!(read_within(&mut first, Duration::from_secs(3)).await.unwrap(), 0);
    assert_eq!(read_within(&mut second, Duration::from_secs(3)).await.unwrap(), 0);
    eventually("both tunnels counted closed", || proxy.tunnels_open() == 0).await;

    // The proxy itself keeps serving: a new tunnel works after the cut.
    let mut third = open_tunnel(&proxy, echo).await;
    round_trip(&mut third, b"three").await;
    assert_eq!((proxy.tunnels_opened(), proxy.tunnels_open()), (3, 1));
}

#[tokio::test]
async fn shutdown_closes_tunnels_and_the_listener() {
    let echo = echo_server().await;
    let proxy = Proxy::start(ProxyConfig::default()).await.unwrap();
    let addr = proxy.addr();
    let mut conn = open_tunnel(&proxy, echo).await;
    round_trip(&mut conn, b"hi").await;

    proxy.shutdown().await;
    assert_eq!(read_within(&mut conn, Duration::from_secs(3)).await.unwrap(), 0);
    assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed");
}
