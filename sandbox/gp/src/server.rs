//! The HTTP side: one hyper HTTP/1.1 connection per TCP connection (NTLM state lives there),
//! over plain TCP or TLS, routing to the endpoints ([`crate::endpoints`]), pacing and injected
//! faults.
//!
//! hyper's connection-level API is used on purpose: a framework that pools or hides
//! connections cannot tie NTLM state to the socket, and cannot drop a socket with a TCP reset
//! after committing (the "lost response" fault).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use sandbox_tls::{Conn, SandboxTls};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::{self, AuthConfig, AuthOutcome, ConnAuth};
use crate::endpoints::Endpoint;
use crate::faults::{Counters, FaultKind, Faults, Pacing};
use crate::schema::Schema;
use crate::service::Service;

pub type HttpResponse = Response<Full<Bytes>>;

/// Largest request body accepted (a big SOAP batch is a few hundred KB).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Everything a request handler needs; one per sandbox.
pub struct Shared {
    pub service: Service,
    pub schema: Arc<Schema>,
    pub auth: AuthConfig,
    pub pacing: Pacing,
    pub faults: Faults,
    pub counters: Arc<Counters>,
    /// Refuse requests that break the WSDL contract instead of ignoring unknown members.
    pub strict_schema: bool,
    /// SBA tenant name (`DefaultTenant`).
    pub tenant: String,
    /// The RMApply Web Services extension is installed: SOAP documents may carry applies in
    /// `Extensions` (off: refused).
    pub rmapply_extension: bool,
    pub shutdown: watch::Receiver<bool>,
}

/// What a front end wants done with the request.
pub enum Reply {
    Respond(HttpResponse),
    /// Close the connection without answering; `reset` sends a TCP RST instead of a FIN.
    Drop {
        reset: bool,
    },
}

/// Returned to hyper to make it drop the connection without writing a response.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose (injected fault)")
    }
}

impl std::error::Error for DropConnection {}

pub fn response(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> HttpResponse {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

pub fn plain(status: StatusCode, text: &str) -> HttpResponse {
    response(status, "text/plain; charset=utf-8", text.to_string())
}

fn unauthorized(offers: Vec<HeaderValue>) -> HttpResponse {
    let mut r = plain(StatusCode::UNAUTHORIZED, "401 - Unauthorized: Access is denied due to invalid credentials.");
    for o in offers {
        r.headers_mut().append(WWW_AUTHENTICATE, o);
    }
    r
}

/// Resolves once shutdown is signalled (without holding the channel's read guard).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Waits `d`, or less if the sandbox shuts down.
async fn wait_or_shutdown(d: Duration, shutdown: &watch::Receiver<bool>) {
    let mut rx = shutdown.clone();
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = stopped(&mut rx) => {}
    }
}

impl Shared {
    /// Runs one business call under the concurrency ceiling, latency and injected faults.
    /// `label` is what the call is counted as; `operation` is what fault rules match.
    pub async fn paced<F, R>(&self, operation: &str, label: &str, render_fault: R, work: F) -> Reply
    where
        F: Future<Output = HttpResponse>,
        R: FnOnce(&FaultKind) -> HttpResponse,
    {
        self.counters.call(label);
        let Some(_slot) = self.pacing.enter(&self.counters).await else {
            return Reply::Respond(plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "503 - Service Unavailable: server too busy",
            ));
        };
        // The call takes L in all: the work runs inside the latency, not after it.
        let done_at = tokio::time::Instant::now() + self.pacing.latency();
        let fault = self.faults.take(operation);
        if fault.is_some() {
            self.counters.fault_injected();
        }
        match &fault {
            Some(f @ (FaultKind::HttpStatus(_) | FaultKind::SystemFault)) => {
                sleep_until_precisely(done_at).await;
                return Reply::Respond(render_fault(f));
            }
            Some(FaultKind::Hang(d)) => {
                sleep_until_precisely(done_at).await;
                wait_or_shutdown(*d, &self.shutdown).await;
                return Reply::Drop { reset: false };
            }
            Some(FaultKind::Reset) => {
                sleep_until_precisely(done_at).await;
                return Reply::Drop { reset: true };
            }
            _ => {}
        }
        let answer = work.await;
        sleep_until_precisely(done_at).await;
        match fault {
            Some(FaultKind::LostResponse) => Reply::Drop { reset: true },
            Some(FaultKind::HangAfterCommit(d)) => {
                wait_or_shutdown(d, &self.shutdown).await;
                Reply::Drop { reset: false }
            }
            _ => Reply::Respond(answer),
        }
    }
}

/// Sleep until `deadline` to within a fraction of a millisecond. tokio's timer rounds up to
/// its 1 ms tick, which would make every call ~0.5 ms slower than the configured L (2.5 % at
/// L = 20 ms, enough to distort a c/L benchmark); the last stretch is a thread sleep instead.
async fn sleep_until_precisely(deadline: tokio::time::Instant) {
    let coarse = deadline.checked_sub(Duration::from_millis(2));
    if let Some(c) = coarse.filter(|c| *c > tokio::time::Instant::now()) {
        tokio::time::sleep_until(c).await;
    }
    let rest = deadline.saturating_duration_since(tokio::time::Instant::now());
    if !rest.is_zero() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
    }
}

/// The connection (plain or TLS), able to end with a reset: on drop, if asked, SO_LINGER 0
/// makes the close an RST (what a crashed or recycled IIS worker looks like to the client).
struct ConnIo {
    stream: Conn,
    reset: Arc<AtomicBool>,
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let tcp = match &self.stream {
                Conn::Plain(tcp) => tcp,
                Conn::Tls(tls) => tls.get_ref().0,
            };
            // Linger 0 does not block on close; it discards unsent data and sends RST (under
            // TLS too: no close_notify, the socket just dies).
            let _ = socket2::SockRef::from(tcp).set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

async fn handle(
    shared: Arc<Shared>,
    conn: Arc<Mutex<ConnAuth>>,
    reset: Arc<AtomicBool>,
    req: Request<Incoming>,
) -> Result<HttpResponse, DropConnection> {
    let (parts, body) = req.into_parts();
    // Read the whole body first: an NTLM client may resend it with each handshake leg, and
    // the connection can only be reused once it is consumed.
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large or interrupted"));
        }
    };
    let Some(endpoint) = Endpoint::for_path(parts.uri.path()) else {
        return Ok(plain(StatusCode::NOT_FOUND, "404 - Not Found"));
    };
    let allow_basic = endpoint.allows_basic(&shared.auth);
    let outcome = match conn.lock() {
        Ok(mut state) => auth::authenticate(&shared.auth, &mut state, &parts.headers, allow_basic),
        Err(_) => AuthOutcome::Unauthorized(vec![HeaderValue::from_static("NTLM")]),
    };
    let user = match outcome {
        AuthOutcome::Allowed { user } => user,
        AuthOutcome::Unauthorized(offers) => return Ok(unauthorized(offers)),
    };
    tracing::debug!(%user, path = %parts.uri.path(), "GP sandbox request");
    let reply = endpoint.handle(&shared, &parts, body).await;
    match reply {
        Reply::Respond(r) => Ok(r),
        Reply::Drop { reset: rst } => {
            reset.store(rst, Ordering::SeqCst);
            Err(DropConnection)
        }
    }
}

/// A client that connects but never finishes the TLS handshake is dropped after this long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until shutdown, over TLS when `tls` is given. Each connection is served
/// on its own task (the TLS handshake too, so a slow client holds up no one).
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, tls: Option<SandboxTls>) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stopped(&mut shutdown) => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "GP sandbox: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let conn = match tls {
                None => Conn::Plain(stream),
                Some(tls) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
                    Ok(Ok(conn)) => conn,
                    Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "GP sandbox: TLS handshake failed"),
                    Err(_) => return tracing::debug!(%peer, "GP sandbox: TLS handshake timed out"),
                },
            };
            serve_connection(conn, shared, peer).await;
        });
    }
}

/// One HTTP/1.1 keep-alive connection with its own NTLM state, until the client leaves or the
/// sandbox shuts down (then the request in progress finishes first).
async fn serve_connection(stream: Conn, shared: Arc<Shared>, peer: SocketAddr) {
    let reset = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(ConnIo { stream, reset: reset.clone() });
    let conn_auth = Arc::new(Mutex::new(ConnAuth::default()));
    let svc_shared = shared.clone();
    let svc = service_fn(move |req| handle(svc_shared.clone(), conn_auth.clone(), reset.clone(), req));
    let conn = http1::Builder::new().keep_alive(true).serve_connection(io, svc);
    tokio::pin!(conn);
    let mut stop = shared.shutdown.clone();
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "GP sandbox connection ended");
    }
}
