//! The host's HTTP listeners (webhooks, admin), built to face the internet: a connection limit,
//! hyper's header-read timeout (slowloris), a request timeout that covers reading the body
//! (tower-http), optional TLS from certificate/key files that `SIGHUP` reloads, and graceful
//! shutdown. An axum `Router` is served on each accepted connection.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Certificate chain and private key files (PEM) for a listener's TLS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What one listener tolerates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListenerLimits {
    /// A client must send its request headers within this (slowloris is cut here).
    pub header_timeout_ms: u64,
    /// The whole request, body included, within this.
    pub request_timeout_ms: u64,
    /// Connections open at once; further ones wait in the kernel's backlog.
    pub max_connections: usize,
}

impl Default for ListenerLimits {
    fn default() -> Self {
        ListenerLimits { header_timeout_ms: 10_000, request_timeout_ms: 30_000, max_connections: 512 }
    }
}

/// The client's address, as a request extension.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// A running listener.
pub struct Listener {
    pub addr: SocketAddr,
    pub tls: bool,
    pub task: JoinHandle<anyhow::Result<()>>,
}

/// Bind `addr` and serve `router` until `stop`.
pub async fn serve(
    addr: &str,
    tls: Option<&TlsFiles>,
    limits: ListenerLimits,
    router: Router,
    stop: CancellationToken,
) -> anyhow::Result<Listener> {
    let tcp = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let local = tcp.local_addr()?;
    let tls = match tls {
        Some(files) => Some(ReloadableTls::load(files.clone())?),
        None => None,
    };
    if let Some(t) = &tls {
        t.reload_on_sighup(stop.clone());
    }
    let router = router.layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        Duration::from_millis(limits.request_timeout_ms),
    ));
    let has_tls = tls.is_some();
    let task = tokio::spawn(accept_loop(tcp, tls, limits, router, stop));
    Ok(Listener { addr: local, tls: has_tls, task })
}

async fn accept_loop(
    tcp: tokio::net::TcpListener,
    tls: Option<ReloadableTls>,
    limits: ListenerLimits,
    router: Router,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let permit = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            p = slots.clone().acquire_owned() => p?,
        };
        let (stream, peer) = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            a = tcp.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            },
        };
        // Request/response traffic: without this, a small write after another (an HTTP/2
        // frame into an agent's tunnel) waits for the peer's delayed ACK, ~40 ms (Nagle).
        let _ = stream.set_nodelay(true);
        let router = router.clone().layer(axum::Extension(Peer(peer)));
        let (tls, stop) = (tls.clone(), stop.clone());
        tokio::spawn(async move {
            let header = Duration::from_millis(limits.header_timeout_ms);
            match tls {
                None => connection(stream, router, header, stop).await,
                Some(tls) => match tokio::time::timeout(header, tls.acceptor().accept(stream)).await {
                    Ok(Ok(stream)) => connection(stream, router, header, stop).await,
                    Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                },
            }
            drop(permit);
        });
    }
}

/// One HTTP/1.1 connection, its headers read within `header`, closed gracefully on `stop`.
async fn connection<S>(stream: S, router: Router, header: Duration, stop: CancellationToken)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(router);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header);
    // With upgrades: the agent endpoint switches its connections to reverse HTTP/2.
    let conn = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!("connection closed: {e}");
            }
        }
        _ = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(5), conn).await;
        }
    }
}

/// A server TLS config that `SIGHUP` reloads from its files (a renewed certificate is picked
/// up without a restart; a bad file keeps the old one and says why).
#[derive(Clone)]
struct ReloadableTls {
    files: TlsFiles,
    current: Arc<RwLock<Arc<rustls::ServerConfig>>>,
}

impl ReloadableTls {
    fn load(files: TlsFiles) -> anyhow::Result<ReloadableTls> {
        let config = server_config(&files.cert, &files.key)?;
        Ok(ReloadableTls { files, current: Arc::new(RwLock::new(config)) })
    }

    fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let config = self.current.read().map(|c| c.clone()).unwrap_or_else(|p| p.into_inner().clone());
        tokio_rustls::TlsAcceptor::from(config)
    }

    fn reload_on_sighup(&self, stop: CancellationToken) {
        let this = self.clone();
        tokio::spawn(async move {
            let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
                tracing::warn!("cannot listen for SIGHUP: TLS certificates will not reload");
                return;
            };
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = hup.recv() => this.reload(),
                }
            }
        });
    }

    fn reload(&self) {
        match server_config(&self.files.cert, &self.files.key) {
            Ok(config) => {
                if let Ok(mut current) = self.current.write() {
                    *current = config;
                }
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
            }
            Err(e) => tracing::error!("TLS reload failed, keeping the current certificate: {e:#}"),
        }
    }
}

fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} is not a PEM certificate chain", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "{} holds no certificate", cert.display());
    let key =
        PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading the private key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("TLS certificate and key")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
