//! Test helpers: tiny upstream servers behind the proxy, curl as an independent client, and a
//! raw CONNECT client for the tunnel-level behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use sandbox_proxy::Proxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const ESTABLISHED: &[u8] = b"HTTP/1.1 200 Connection established\r\n\r\n";

/// An echo server: writes back every byte, and half-closes after the client does.
pub async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = conn.read(&mut buf).await {
                    if conn.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
                let _ = conn.shutdown().await;
            });
        }
    });
    addr
}

/// An HTTP server answering every request with `served <request line>`, so a test can tell a
/// request that went through a tunnel (origin-form line) from one a proxy forwarded.
pub async fn http_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(n @ 1..) => head.extend_from_slice(&buf[..n]),
                        _ => return,
                    }
                }
                let text = String::from_utf8_lossy(&head);
                let body = format!("served {}", text.lines().next().unwrap_or(""));
                let reply =
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                let _ = conn.write_all(reply.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    addr
}

/// A port nothing listens on (bound, then released).
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// What curl reported: its exit code, the proxy's CONNECT status, the final HTTP status, the body.
#[derive(Debug)]
pub struct Curl {
    pub exit: i32,
    pub connect_code: String,
    pub http_code: String,
    pub body: String,
    pub stderr: String,
}

/// Runs curl through the proxy (`-x`), with extra arguments, to `url`.
pub async fn curl(proxy: &Proxy, extra: &[&str], url: &str) -> Curl {
    let output = tokio::process::Command::new("curl")
        .args(["-q", "-sS", "--max-time", "10", "-x", &proxy.url()])
        .args(extra)
        .args(["-w", "\n%{http_connect} %{http_code}", url])
        .env_remove("no_proxy")
        .env_remove("NO_PROXY")
        .output()
        .await
        .expect("curl runs (apt-get install -y curl)");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let (body, codes) = stdout.rsplit_once('\n').unwrap();
    let (connect_code, http_code) = codes.split_once(' ').unwrap();
    Curl {
        exit: output.status.code().unwrap_or(-1),
        connect_code: connect_code.to_string(),
        http_code: http_code.to_string(),
        body: body.to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Sends `request` raw to the proxy and returns everything it answers until it closes.
pub async fn raw(proxy: &Proxy, request: &[u8]) -> String {
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    conn.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut answer)).await.unwrap().unwrap();
    String::from_utf8(answer).unwrap()
}

/// Opens a tunnel to `target` with a raw CONNECT and checks the exact `200` answer.
pub async fn open_tunnel(proxy: &Proxy, target: SocketAddr) -> TcpStream {
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    conn.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes()).await.unwrap();
    let mut answer = vec![0u8; ESTABLISHED.len()];
    tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut answer)).await.unwrap().unwrap();
    assert_eq!(answer, ESTABLISHED);
    conn
}

/// Writes `bytes` and reads the same number back (through an echo server).
pub async fn round_trip(conn: &mut TcpStream, bytes: &[u8]) {
    conn.write_all(bytes).await.unwrap();
    let mut back = vec![0u8; bytes.len()];
    tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut back)).await.unwrap().unwrap();
    assert_eq!(back, bytes);
}

/// Reads once, failing the test if nothing (not even EOF) arrives within `wait`.
pub async fn read_within(conn: &mut TcpStream, wait: Duration) -> std::io::Result<usize> {
    let mut buf = [0u8; 64];
    tokio::time::timeout(wait, conn.read(&mut buf)).await.expect("a read result (EOF or data) in time")
}

/// Waits (up to 5 s) until `check` holds.
pub async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..100 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}
