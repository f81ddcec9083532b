//! NTLM for `http`: how a guest reaches Dynamics GP with a Windows account it never sees.
//!
//! NTLM authenticates a *connection*, not a request: NEGOTIATE → 401 CHALLENGE → AUTHENTICATE
//! on one keep-alive connection, after which IIS serves that connection's requests without a
//! header. So the host keeps, per connection role and secret, a pool of authenticated HTTP/1.1
//! connections whose size is the connection's pacing limit (`max_in_flight`): at most that many
//! calls reach GP at once from this role, and each reuses a warm, authenticated connection.
//! The NTLMv2 client is the `sspi` crate; TLS (https) is rustls with the platform's roots.
//!
//! Hardening: plain `http://` is refused unless the role allows it (`insecure_http`); bodies
//! the handshake reads and discards (challenge, 401) are read up to [`MAX_DRAIN`] only, so an
//! endless 401 body cannot exhaust memory; a 429's Retry-After is capped; the host owns the
//! connection's headers (a guest's `authorization`, `host`, `connection`… are refused).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use sspi::{
    AuthIdentity, BufferType, ClientRequestFlags, CredentialUse, DataRepresentation, Ntlm, SecurityBuffer, Sspi,
    SspiImpl, Username,
};
use tokio::sync::Semaphore;

use crate::bindings::host::ml_connector::plugin::http::{HttpError, Response};

use super::origin::{Origin, is_private};
use crate::caps::secrets::value::ResolvedSecret;

/// Largest response body handed to a guest (same as plain HTTP).
const MAX_BODY: usize = 16 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes read from a body the handshake discards (a challenge's or a 401's): IIS sends a
/// small HTML page; more is a hostile or broken server, and the connection is dropped.
pub const MAX_DRAIN: usize = 64 * 1024;

/// A request as the NTLM path sends it (already checked against the role's policy).
pub struct NtlmRequest {
    pub method: hyper::Method,
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Pools of one connection role, one per (secret, origin); created on first use.
pub struct NtlmPools {
    size: usize,
    allow_private_network: bool,
    insecure_http: bool,
    max_retry_after: Duration,
    tls: Arc<rustls::ClientConfig>,
    pools: Mutex<HashMap<(String, String), Arc<Pool>>>,
}

impl NtlmPools {
    pub fn new(size: usize, allow_private_network: bool, tls: Arc<rustls::ClientConfig>) -> NtlmPools {
        NtlmPools {
            size: size.max(1),
            allow_private_network,
            insecure_http: false,
            max_retry_after: super::guard::DEFAULT_MAX_RETRY_AFTER,
            tls,
            pools: Mutex::new(HashMap::new()),
        }
    }

    /// Allow NTLM over plain `http://` (refused by default: see the role's `allow_insecure_ntlm`).
    pub fn insecure_http(mut self, allow: bool) -> NtlmPools {
        self.insecure_http = allow;
        self
    }

    /// Ceiling on a 429's Retry-After (default an hour).
    pub fn max_retry_after(mut self, max: Duration) -> NtlmPools {
        self.max_retry_after = max;
        self
    }

    /// Send with the secret's Windows account. `timeout` bounds the whole call, waiting for a
    /// pool slot included; a call that times out after sending is ambiguous (GP may have
    /// committed), which is why the GP target looks the document up before writing again.
    pub async fn send(
        &self,
        secret: &Arc<ResolvedSecret>,
        origin: &Origin,
        req: NtlmRequest,
        timeout: Duration,
    ) -> Result<Response, HttpError> {
        if origin.scheme == "http" && !self.insecure_http {
            return Err(HttpError::Denied(format!(
                "NTLM over plain http to {origin} is refused (use https, or allow_insecure_ntlm on a trusted network)"
            )));
        }
        let pool = {
            let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
            pools
                .entry((secret.name.clone(), origin.to_string()))
                .or_insert_with(|| {
                    Arc::new(Pool::new(
                        secret.clone(),
                        origin.clone(),
                        self.size,
                        self.allow_private_network,
                        self.max_retry_after,
                        self.tls.clone(),
                    ))
                })
                .clone()
        };
        match tokio::time::timeout(timeout, pool.send(req)).await {
            Ok(r) => r,
            Err(_) => Err(HttpError::Timeout),
        }
    }

    /// Authenticated connections currently idle, over all pools (for tests and metrics).
    pub fn idle_connections(&self) -> usize {
        let pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools.values().map(|p| p.idle.lock().unwrap_or_else(|p| p.into_inner()).len()).sum()
    }

    /// NTLM handshakes made so far, over all pools (a warm pool makes none per call).
    pub fn handshakes(&self) -> u64 {
        let pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools.values().map(|p| p.handshakes.load(std::sync::atomic::Ordering::Relaxed)).sum()
    }
}

struct Pool {
    tls: Arc<rustls::ClientConfig>,
    secret: Arc<ResolvedSecret>,
    origin: Origin,
    allow_private_network: bool,
    max_retry_after: Duration,
    slots: Semaphore,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
    handshakes: std::sync::atomic::AtomicU64,
}

/// Why a call failed, and whether the request may have reached GP.
enum Failure {
    /// Nothing was sent (connect, TLS, handshake): safe to try another connection.
    BeforeSend(HttpError),
    /// The request went out; what GP did is unknown.
    AfterSend(HttpError),
    /// The server answered 401 to an authenticated connection: it dropped the connection's
    /// authentication (IIS recycled); the request was not processed.
    Reauthenticate,
}

impl Pool {
    fn new(
        secret: Arc<ResolvedSecret>,
        origin: Origin,
        size: usize,
        allow_private_network: bool,
        max_retry_after: Duration,
        tls: Arc<rustls::ClientConfig>,
    ) -> Pool {
        Pool {
            tls,
            secret,
            origin,
            allow_private_network,
            max_retry_after,
            slots: Semaphore::new(size),
            idle: Mutex::new(Vec::new()),
            handshakes: 0.into(),
        }
    }

    async fn send(&self, req: NtlmRequest) -> Result<Response, HttpError> {
        let _slot = self.slots.acquire().await.map_err(|_| HttpError::Protocol("NTLM pool closed".into()))?;
        let request = to_hyper(&req, &self.origin)?;
        // A pooled connection may have been closed by GP while idle (then nothing was sent), or
        // have lost its authentication (401, nothing processed): both go to a fresh connection,
        // where the request itself rides on the handshake's AUTHENTICATE leg.
        while let Some(mut conn) = self.take_idle() {
            match exchange(&mut conn, request.clone(), self.max_retry_after).await {
                Ok(resp) => {
                    self.put_idle(conn);
                    return Ok(resp);
                }
                Err(Failure::BeforeSend(_) | Failure::Reauthenticate) => continue,
                Err(Failure::AfterSend(e)) => return Err(e),
            }
        }
        let mut conn = self.connect().await?;
        let resp = self.authenticate(&mut conn, request).await?;
        self.handshakes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.put_idle(conn);
        Ok(resp)
    }

    fn take_idle(&self) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(c) = idle.pop() {
            if !c.is_closed() {
                return Some(c);
            }
        }
        None
    }

    fn put_idle(&self, conn: SendRequest<Full<Bytes>>) {
        if !conn.is_closed() {
            self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        }
    }

    /// A new connection, not yet authenticated.
    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, HttpError> {
        let addr = self.resolve().await?;
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|_| HttpError::Connect(format!("connecting to {} timed out", self.origin)))?
            .map_err(|e| HttpError::Connect(format!("{}: {e}", self.origin)))?;
        let _ = tcp.set_nodelay(true);
        if self.origin.scheme == "https" {
            let tls = tokio_rustls::TlsConnector::from(self.tls.clone());
            let name = rustls::pki_types::ServerName::try_from(self.origin.host.trim_matches(['[', ']']).to_string())
                .map_err(|e| HttpError::Connect(format!("{}: {e}", self.origin)))?;
            let stream = tls
                .connect(name, tcp)
                .await
                .map_err(|e| HttpError::Connect(format!("TLS with {}: {e}", self.origin)))?;
            handshake(stream).await
        } else {
            handshake(tcp).await
        }
    }

    /// Resolve the host, refusing private addresses unless the role is granted them (as the
    /// plain HTTP path's resolver does).
    async fn resolve(&self) -> Result<SocketAddr, HttpError> {
        let host = self.origin.host.trim_matches(['[', ']']);
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, self.origin.port)],
            Err(_) => tokio::net::lookup_host((host, self.origin.port))
                .await
                .map_err(|e| HttpError::Connect(format!("resolving {host}: {e}")))?
                .collect(),
        };
        addrs.into_iter().find(|a| self.allow_private_network || !is_private(a.ip())).ok_or_else(|| {
            HttpError::Connect(format!("{host} resolves to no public address (private networks are not granted)"))
        })
    }

    /// NEGOTIATE → CHALLENGE → AUTHENTICATE on this connection, as curl does it: the NEGOTIATE
    /// leg is the request without its body, the AUTHENTICATE leg is the request itself, so the
    /// handshake costs one extra round trip and no extra call. A 401 to it means refused.
    async fn authenticate(
        &self,
        sender: &mut SendRequest<Full<Bytes>>,
        request: hyper::Request<Full<Bytes>>,
    ) -> Result<Response, HttpError> {
        let refused = |why: String| HttpError::Protocol(format!("NTLM with {} failed: {why}", self.origin));
        let (user, password) = split_account(self.secret.value.expose())
            .map_err(|e| refused(format!("secret {:?}: {e}", self.secret.name)))?;
        let (domain, user) = match user.split_once('\\') {
            Some((d, u)) => (Some(d), u),
            None => (None, user),
        };
        let mut ntlm = Ntlm::new();
        let identity = AuthIdentity {
            username: Username::new(user, domain).map_err(|e| refused(e.to_string()))?,
            password: password.to_string().into(),
        };
        let mut acq = ntlm
            .acquire_credentials_handle()
            .with_credential_use(CredentialUse::Outbound)
            .with_auth_data(&identity)
            .execute(&mut ntlm)
            .map_err(|e| refused(e.to_string()))?;
        let target = format!("HTTP/{}", self.origin.host);
        let first =
            context_step(&mut ntlm, &mut acq.credentials_handle, &target, None).map_err(|e| refused(e.to_string()))?;
        let negotiate = B64.encode(&first);

        let (parts, body) = request.into_parts();
        let mut probe = hyper::Request::from_parts(parts.clone(), Full::new(Bytes::new()));
        probe.headers_mut().insert(hyper::header::AUTHORIZATION, header_value(&format!("NTLM {negotiate}"))?);
        probe.headers_mut().remove(hyper::header::CONTENT_TYPE);
        sender.ready().await.map_err(|e| HttpError::Connect(e.to_string()))?;
        let challenge = sender
            .send_request(probe)
            .await
            .map_err(|e| HttpError::Connect(format!("NTLM handshake with {}: {e}", self.origin)))?;
        if challenge.status() != hyper::StatusCode::UNAUTHORIZED {
            return Err(refused(format!("expected 401 with a challenge, got {}", challenge.status())));
        }
        let token = challenge
            .headers()
            .get_all(hyper::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("NTLM "))
            .ok_or_else(|| refused("the server offered no NTLM challenge".into()))?;
        let token = B64.decode(token.trim()).map_err(|e| refused(format!("challenge is not base64: {e}")))?;
        drain(challenge).await.map_err(refused)?;

        let last = context_step(&mut ntlm, &mut acq.credentials_handle, &target, Some(token))
            .map_err(|e| refused(e.to_string()))?;
        let authenticate = B64.encode(&last);
        let mut real = hyper::Request::from_parts(parts, body);
        real.headers_mut().insert(hyper::header::AUTHORIZATION, header_value(&format!("NTLM {authenticate}"))?);
        match exchange(sender, real, self.max_retry_after).await {
            Ok(resp) => Ok(resp),
            Err(Failure::Reauthenticate) => Err(HttpError::Protocol(format!(
                "{} refused the Windows account of secret {:?} (wrong user, domain or password)",
                self.origin, self.secret.name
            ))),
            Err(Failure::BeforeSend(e) | Failure::AfterSend(e)) => Err(e),
        }
    }
}

/// One leg of the client's NTLM context: no input → NEGOTIATE; the server's CHALLENGE → AUTHENTICATE.
fn context_step(
    ntlm: &mut Ntlm,
    handle: &mut <Ntlm as SspiImpl>::CredentialsHandle,
    target: &str,
    input: Option<Vec<u8>>,
) -> sspi::Result<Vec<u8>> {
    let mut input: Vec<SecurityBuffer> =
        input.map(|t| vec![SecurityBuffer::new(t, BufferType::Token)]).unwrap_or_default();
    let mut out = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
    let mut b = ntlm
        .initialize_security_context()
        .with_credentials_handle(handle)
        .with_context_requirements(ClientRequestFlags::ALLOCATE_MEMORY)
        .with_target_data_representation(DataRepresentation::Native)
        .with_target_name(target)
        .with_input(&mut input)
        .with_output(&mut out);
    ntlm.initialize_security_context_impl(&mut b)?.resolve_to_result()?;
    Ok(std::mem::take(&mut out[0].buffer))
}

fn header_value(v: &str) -> Result<hyper::header::HeaderValue, HttpError> {
    hyper::header::HeaderValue::from_str(v).map_err(|e| HttpError::Protocol(e.to_string()))
}

/// `DOMAIN\user:password` (the password may contain ':').
fn split_account(value: &str) -> Result<(&str, &str), String> {
    let (user, password) = value.split_once(':').ok_or("value must be DOMAIN\\user:password")?;
    if user.is_empty() || password.is_empty() {
        return Err("value must be DOMAIN\\user:password".into());
    }
    Ok((user, password))
}

fn host_header(origin: &Origin) -> String {
    let default = if origin.scheme == "https" { 443 } else { 80 };
    if origin.port == default { origin.host.clone() } else { format!("{}:{}", origin.host, origin.port) }
}

fn to_hyper(req: &NtlmRequest, origin: &Origin) -> Result<hyper::Request<Full<Bytes>>, HttpError> {
    let mut path = req.url.path().to_string();
    if let Some(q) = req.url.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut b =
        hyper::Request::builder().method(req.method.clone()).uri(path).header(hyper::header::HOST, host_header(origin));
    // The connection and its authentication are ours to manage: a guest's `authorization`,
    // `host`, `connection`… are refused (the capability refuses them first; this is for direct
    // callers of the pool).
    super::guard::check_headers(&req.headers, true).map_err(HttpError::Denied)?;
    for (name, value) in &req.headers {
        b = b.header(name.as_str(), value.as_str());
    }
    b.body(Full::new(Bytes::from(req.body.clone()))).map_err(|e| HttpError::Protocol(format!("bad request: {e}")))
}

async fn handshake<S>(stream: S) -> Result<SendRequest<Full<Bytes>>, HttpError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| HttpError::Connect(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// One request on an authenticated connection.
async fn exchange(
    conn: &mut SendRequest<Full<Bytes>>,
    req: hyper::Request<Full<Bytes>>,
    max_retry_after: Duration,
) -> Result<Response, Failure> {
    conn.ready().await.map_err(|e| Failure::BeforeSend(HttpError::Connect(e.to_string())))?;
    let resp = conn.send_request(req).await.map_err(|e| {
        // hyper tells us when the request never left (e.g. the connection was already closed).
        if e.is_canceled() {
            Failure::BeforeSend(HttpError::Connect(e.to_string()))
        } else {
            Failure::AfterSend(HttpError::Protocol(format!(
                "connection failed after the request was sent (the remote may have acted on it): {e}"
            )))
        }
    })?;
    let status = resp.status().as_u16();
    if status == 401 {
        // Whether or not the body fits, this connection is done: the caller drops it.
        let _ = drain(resp).await;
        return Err(Failure::Reauthenticate);
    }
    if status == 429 {
        let after = super::guard::cap_retry_after(super::retry_after_ms(resp.headers()), max_retry_after);
        return Err(Failure::AfterSend(HttpError::RateLimited(after)));
    }
    let headers = resp
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let mut body = resp.into_body();
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            Failure::AfterSend(HttpError::Protocol(format!(
                "connection failed while reading the response (the remote may have acted on it): {e}"
            )))
        })?;
        if let Some(chunk) = frame.data_ref() {
            if buf.len() + chunk.len() > MAX_BODY {
                return Err(Failure::AfterSend(HttpError::Protocol(format!("response body over {MAX_BODY} bytes"))));
            }
            buf.extend_from_slice(chunk);
        }
    }
    Ok(Response { status, headers, body: buf })
}

/// Read and discard a body, at most [`MAX_DRAIN`] bytes of it. `Err` when it is longer (or the
/// read fails): the connection then has unread bytes and must not be used again.
async fn drain(resp: hyper::Response<hyper::body::Incoming>) -> Result<(), String> {
    let mut body = http_body_util::Limited::new(resp.into_body(), MAX_DRAIN);
    while let Some(frame) = body.frame().await {
        frame.map_err(|e| format!("discarding a response body: {e} (limit {MAX_DRAIN} bytes)"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_parsing() {
        assert_eq!(split_account("GP\\svc:pa:ss").expect("valid"), ("GP\\svc", "pa:ss"));
        assert!(split_account("GP\\svc").is_err());
        assert!(split_account(":x").is_err());
        assert!(split_account("GP\\svc:").is_err());
    }
}
