//! The agent's way out: TCP to the host (or to the corporate proxy, then `CONNECT host:443`),
//! then TLS with the host's name. The CONNECT exchange is written here (a request head and a
//! status line) rather than taken from hyper-util's `Tunnel`, so a refusal names the proxy's own
//! status and text ("403 Forbidden", "407 … give user:password in `proxy`") and no byte past
//! the proxy's head is read before TLS starts.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_HEAD: usize = 16 * 1024;

/// A dial's failure: `fatal` ones need a person (a proxy that refuses us), others are retried.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DialError {
    pub message: String,
    pub fatal: bool,
}

fn retry(message: String) -> DialError {
    DialError { message, fatal: false }
}

/// `(host, port)` of an `https://` URL.
pub fn host_port(url: &url::Url) -> anyhow::Result<(String, u16)> {
    let host = url.host_str().context("no host")?.trim_matches(['[', ']']).to_string();
    Ok((host, url.port_or_known_default().unwrap_or(443)))
}

/// A TLS stream to `host`, through `proxy` when given.
pub async fn dial(
    host: &url::Url,
    proxy: Option<&url::Url>,
    tls: Arc<rustls::ClientConfig>,
) -> Result<TlsStream<TcpStream>, DialError> {
    let (name, port) = host_port(host).map_err(|e| DialError { message: format!("{host}: {e}"), fatal: true })?;
    let tcp = match proxy {
        None => tcp(&name, port).await.map_err(|e| retry(format!("connecting to {name}:{port}: {e:#}")))?,
        Some(p) => through_proxy(p, &name, port).await?,
    };
    let server = rustls::pki_types::ServerName::try_from(name.clone())
        .map_err(|e| DialError { message: format!("{name}: {e}"), fatal: true })?;
    match tokio::time::timeout(CONNECT_TIMEOUT, tokio_rustls::TlsConnector::from(tls).connect(server, tcp)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => {
            let hint = if proxy.is_some() {
                format!(
                    "; if the proxy inspects TLS, exempt {name} from inspection (the agent trusts only the host's certificate chain)"
                )
            } else {
                String::new()
            };
            Err(retry(format!("TLS with {name}:{port} failed: {e}{hint}")))
        }
        Err(_) => Err(retry(format!("TLS with {name}:{port} timed out"))),
    }
}

async fn tcp(host: &str, port: u16) -> anyhow::Result<TcpStream> {
    let s = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host, port))).await.context("timed out")??;
    s.set_nodelay(true)?;
    Ok(s)
}

/// `CONNECT host:port` through an HTTP proxy; the socket after its `200` is a raw pipe.
async fn through_proxy(proxy: &url::Url, host: &str, port: u16) -> Result<TcpStream, DialError> {
    let (ph, pp) = (proxy.host_str().unwrap_or_default(), proxy.port_or_known_default().unwrap_or(3128));
    let mut s = tcp(ph, pp).await.map_err(|e| retry(format!("connecting to the proxy {ph}:{pp}: {e:#}")))?;
    let authority = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if !proxy.username().is_empty() {
        let user = percent_decode(proxy.username());
        let pass = percent_decode(proxy.password().unwrap_or_default());
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        head.push_str(&format!("Proxy-Authorization: Basic {basic}\r\n"));
    }
    head.push_str("\r\n");
    let io = async {
        s.write_all(head.as_bytes()).await?;
        read_head(&mut s).await
    };
    let reply = match tokio::time::timeout(CONNECT_TIMEOUT, io).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(retry(format!("the proxy {ph}:{pp} broke the CONNECT exchange: {e:#}"))),
        Err(_) => return Err(retry(format!("the proxy {ph}:{pp} did not answer CONNECT in time"))),
    };
    let status_line = reply.lines().next().unwrap_or_default().trim().to_string();
    let code = status_line.split_whitespace().nth(1).and_then(|c| c.parse::<u16>().ok()).unwrap_or(0);
    match code {
        200..=299 => Ok(s),
        407 => Err(DialError {
            message: format!(
                "the proxy {ph}:{pp} wants credentials ({status_line}); give them in `proxy = \"http://user:password@{ph}:{pp}\"` (Basic only; for NTLM proxies run cntlm or px locally)"
            ),
            fatal: true,
        }),
        403 | 405 => Err(DialError {
            message: format!(
                "the proxy {ph}:{pp} refused CONNECT to {authority} ({status_line}); ask for {authority} to be allowed"
            ),
            fatal: true,
        }),
        _ => Err(retry(format!("the proxy {ph}:{pp} answered CONNECT to {authority} with {status_line:?}"))),
    }
}

/// The proxy's response head, read a byte at a time so nothing after it is consumed.
async fn read_head(s: &mut TcpStream) -> anyhow::Result<String> {
    let mut buf = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await? == 0 {
            bail!("the proxy closed the connection");
        }
        buf.push(byte[0]);
        if buf.len() > MAX_HEAD {
            bail!("the proxy's answer head is over {MAX_HEAD} bytes");
        }
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}
