//! The request head: read with a size and a time limit, parsed just far enough for CONNECT, and
//! the error answers a proxy sends before it closes.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest request head accepted (Squid's default `request_header_max_size` is 64 KiB; a CONNECT
/// needs far less).
pub(crate) const HEAD_LIMIT: usize = 16 * 1024;
/// How long a client may take to send its whole head.
pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed request head.
pub(crate) struct Head {
    pub method: String,
    pub target: String,
    headers: Vec<(String, String)>,
}

impl Head {
    /// The first header of that name (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What reading the head came to.
pub(crate) enum ReadOutcome {
    /// A head, and the bytes the client sent after it in the same reads (they belong upstream).
    Head(Head, Vec<u8>),
    /// The client closed (or failed) before finishing its head: nothing to answer.
    Closed,
    TooLarge,
    TimedOut,
    Malformed,
}

/// Reads until the blank line that ends the head, within [`HEAD_LIMIT`] and [`HEAD_TIMEOUT`].
pub(crate) async fn read_head<R: AsyncRead + Unpin>(stream: &mut R) -> ReadOutcome {
    tokio::time::timeout(HEAD_TIMEOUT, read_raw(stream)).await.unwrap_or(ReadOutcome::TimedOut)
}

async fn read_raw<R: AsyncRead + Unpin>(stream: &mut R) -> ReadOutcome {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return ReadOutcome::Closed,
            Ok(n) => n,
        };
        // The terminator may straddle two reads: search from a little before the new bytes.
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf[from..].windows(4).position(|w| w == b"\r\n\r\n") {
            let end = from + pos + 4;
            if end > HEAD_LIMIT {
                return ReadOutcome::TooLarge;
            }
            let rest = buf.split_off(end);
            return match parse(&buf) {
                Some(head) => ReadOutcome::Head(head, rest),
                None => ReadOutcome::Malformed,
            };
        }
        if buf.len() > HEAD_LIMIT {
            return ReadOutcome::TooLarge;
        }
    }
}

/// `METHOD SP target SP HTTP/1.x CRLF (name: value CRLF)* CRLF`; anything else is malformed.
fn parse(raw: &[u8]) -> Option<Head> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let token =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if parts.next().is_some() || !token(method) || target.is_empty() || !version.starts_with("HTTP/1.") {
        return None;
    }
    let mut headers = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        if !token(name) {
            return None;
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Some(Head { method: method.to_string(), target: target.to_string(), headers })
}

/// The host and port of a CONNECT target (`host:port`, `[v6]:port`); `None` when it is not one.
pub(crate) fn authority(target: &str) -> Option<(String, u16)> {
    let (host, port) = target.rsplit_once(':')?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
    let host = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.strip_suffix(']')?,
        None if host.contains(':') => return None,
        None => host,
    };
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// Whether the head carries `Proxy-Authorization: Basic base64(user:password)` for these.
pub(crate) fn authorized(head: &Head, user: &str, password: &str) -> bool {
    let Some((scheme, credentials)) = head.header("proxy-authorization").and_then(|v| v.split_once(' ')) else {
        return false;
    };
    scheme.eq_ignore_ascii_case("basic")
        && STANDARD.decode(credentials.trim()).is_ok_and(|d| d == format!("{user}:{password}").as_bytes())
}

/// An error answer: a status, any extra header lines, a short text body, then the close.
pub(crate) struct Answer {
    pub status: u16,
    reason: &'static str,
    extra: &'static str,
    body: String,
}

impl Answer {
    pub fn new(status: u16, body: impl Into<String>) -> Answer {
        let reason = match status {
            400 => "Bad Request",
            403 => "Forbidden",
            405 => "Method Not Allowed",
            407 => "Proxy Authentication Required",
            408 => "Request Timeout",
            431 => "Request Header Fields Too Large",
            _ => "Bad Gateway",
        };
        let extra = match status {
            405 => "Allow: CONNECT\r\n",
            407 => "Proxy-Authenticate: Basic realm=\"sandbox-proxy\"\r\n",
            _ => "",
        };
        Answer { status, reason, extra, body: format!("{}\n", body.into()) }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let Answer { status, reason, extra, body } = self;
        let len = body.len();
        format!(
            "HTTP/1.1 {status} {reason}\r\n{extra}Content-Type: text/plain\r\nContent-Length: {len}\r\n\
             Connection: close\r\n\r\n{body}"
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_forms() {
        assert_eq!(authority("example.com:443"), Some(("example.com".into(), 443)));
        assert_eq!(authority("[::1]:8443"), Some(("::1".into(), 8443)));
        assert_eq!(authority("example.com"), None);
        assert_eq!(authority("example.com:+443"), None);
        assert_eq!(authority("example.com:0"), None);
        assert_eq!(authority("::1:443"), None);
        assert_eq!(authority(":443"), None);
    }

    #[test]
    fn parse_rejects_bad_lines() {
        assert!(parse(b"CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n").is_some());
        assert!(parse(b"CONNECT a:1\r\n\r\n").is_none());
        assert!(parse(b"CONNECT  a:1 HTTP/1.1\r\n\r\n").is_none());
        assert!(parse(b"CONNECT a:1 HTTP/1.1\r\nno colon\r\n\r\n").is_none());
        assert!(parse(b"CONNECT a:1 SPDY/3\r\n\r\n").is_none());
    }
}
