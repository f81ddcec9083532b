//! The agent process (`ml-connector agent`): one tunnel to each host replica, each kept up by
//! its own loop — dial (through the proxy), ask to upgrade, serve HTTP/2 on the connection until
//! it drops, then redial after a backoff with full jitter (base 1 s, cap 60 s, reset after a
//! tunnel that lived a minute), so a restarted host is not hit by every agent in the same second.
//! A refusal that needs a person — a wrong, revoked or foreign credential, an incompatible
//! version, a proxy that refuses CONNECT — stops the agent with the host's own words (exit 2):
//! retrying would not help and would hide it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::StatusCode;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::config::AgentConfig;
use super::service::{Session, Targets, handle};
use super::{
    CONNECT_PATH, Goodbye, H_CONNECTION, H_HOST_VERSION, H_INSTANCE, H_PROTOCOL, H_VERSION, PROTOCOL, UPGRADE, VERSION,
};

/// A running agent.
pub struct Agent {
    pub config: AgentConfig,
    pub targets: Arc<Targets>,
    token: String,
    tls: Arc<rustls::ClientConfig>,
    proxy: Option<url::Url>,
}

/// Why the agent stopped on its own.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Fatal(pub String);

impl Agent {
    /// Read the token and credentials, open the targets; nothing is dialed yet.
    pub fn new(config: AgentConfig) -> anyhow::Result<Agent> {
        config.validate()?;
        // GP's own certificates: the platform's roots plus `targets_ca`.
        let targets_tls = crate::caps::http::tls::client_config(config.targets_ca.as_deref())?;
        let instance = uuid::Uuid::new_v4().to_string();
        let targets = Arc::new(Targets::open(&config, instance, targets_tls)?);
        // The host: the platform's roots plus `ca`; HTTP/1.1 for the upgrade.
        let mut host_tls = (*crate::caps::http::tls::client_config(config.ca.as_deref())?).clone();
        host_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let tls = Arc::new(host_tls);
        let proxy = config.proxy_url()?;
        let token = config.read_token()?;
        Ok(Agent { config, targets, token, tls, proxy })
    }

    /// Keep a tunnel to every host until `stop`; `Err` when a refusal needs a person.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) -> anyhow::Result<()> {
        if let Some(p) = &self.proxy {
            tracing::info!(proxy = %format!("{}:{}", p.host_str().unwrap_or_default(), p.port_or_known_default().unwrap_or(0)), "dialing through a proxy");
        }
        let mut loops = tokio::task::JoinSet::new();
        for host in self.config.hosts.clone() {
            let (agent, stop) = (self.clone(), stop.clone());
            loops.spawn(async move { agent.keep(&host, stop).await });
        }
        let mut fatal = None;
        while let Some(r) = loops.join_next().await {
            if let Ok(Err(e)) = r {
                tracing::error!("{e}");
                fatal.get_or_insert(e);
                stop.cancel();
            }
        }
        match fatal {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// One host's tunnel, redialed until `stop` or a fatal refusal.
    async fn keep(&self, host: &str, stop: CancellationToken) -> Result<(), Fatal> {
        let url = url::Url::parse(host).map_err(|e| Fatal(format!("{host}: {e}")))?;
        let mut attempt: u32 = 0;
        loop {
            let began = Instant::now();
            match self.session(&url, &stop).await {
                Ok(Some((Goodbye::Revoked, text))) => {
                    return Err(Fatal(format!(
                        "{host}: the host closed the tunnel: {text}; this credential is revoked (create a new one: ml-connector agent-token create)"
                    )));
                }
                Ok(Some((Goodbye::Shutdown, text))) => tracing::warn!(%host, "the host closed the tunnel: {text}"),
                Ok(None) if stop.is_cancelled() => return Ok(()),
                Ok(None) => tracing::warn!(%host, "the tunnel dropped"),
                Err(Refusal::Fatal(m)) => return Err(Fatal(format!("{host}: {m}"))),
                Err(Refusal::Retry(m)) => tracing::warn!(%host, "{m}"),
            }
            if began.elapsed() > Duration::from_secs(60) {
                attempt = 0;
            }
            let delay = backoff(self.config.backoff_base_ms, self.config.backoff_cap_ms, attempt);
            attempt = attempt.saturating_add(1);
            tracing::info!(%host, "redialing in {} ms", delay.as_millis());
            tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// Dial, upgrade, serve until the tunnel ends; the host's goodbye if it said one.
    async fn session(&self, url: &url::Url, stop: &CancellationToken) -> Result<Option<(Goodbye, String)>, Refusal> {
        let tls = super::dial::dial(url, self.proxy.as_ref(), self.tls.clone())
            .await
            .map_err(|e| if e.fatal { Refusal::Fatal(e.message) } else { Refusal::Retry(e.message) })?;
        let upgraded = self.upgrade(url, tls).await?;
        tracing::info!(host = %url, instance = %self.targets.report().instance, "tunnel up");
        let session = Arc::new(Session::default());
        let (targets, s) = (self.targets.clone(), session.clone());
        let service = hyper::service::service_fn(move |req| handle(targets.clone(), s.clone(), req));
        let cfg = &self.config;
        let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .keep_alive_interval(Duration::from_secs(cfg.ping_s.max(1)))
            .keep_alive_timeout(Duration::from_secs(cfg.ping_timeout_s.max(1)))
            .max_concurrent_streams(u32::try_from(cfg.max_in_flight + 2).unwrap_or(u32::MAX))
            .initial_stream_window_size(1 << 20)
            .initial_connection_window_size(8 << 20)
            .serve_connection(upgraded, service);
        tokio::pin!(conn);
        let drain = |conn: std::pin::Pin<&mut _>| {
            hyper::server::conn::http2::Connection::graceful_shutdown(conn);
        };
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::warn!(host = %url, "tunnel: {e}");
                }
            }
            _ = session.closing.notified() => {
                drain(conn.as_mut());
                let _ = tokio::time::timeout(Duration::from_secs(5), conn.as_mut()).await;
            }
            _ = stop.cancelled() => {
                // GOAWAY: no new calls; the ones in flight finish (at most 30 s).
                drain(conn.as_mut());
                let _ = tokio::time::timeout(Duration::from_secs(30), conn.as_mut()).await;
            }
        }
        Ok(session.goodbye.lock().unwrap_or_else(|p| p.into_inner()).take())
    }

    /// `GET /agent/v1/connect` with `Upgrade`; the upgraded stream, or the host's refusal.
    async fn upgrade(
        &self,
        url: &url::Url,
        tls: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    ) -> Result<hyper::upgrade::Upgraded, Refusal> {
        let retry = |m: String| Refusal::Retry(m);
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(|e| retry(format!("{e}")))?;
        tokio::spawn(async move {
            let _ = conn.with_upgrades().await;
        });
        let authority = url.host_str().unwrap_or_default().to_string();
        let host_header = match url.port() {
            Some(p) => format!("{authority}:{p}"),
            None => authority,
        };
        let req = hyper::Request::get(CONNECT_PATH)
            .header("host", host_header)
            .header("connection", "upgrade")
            .header("upgrade", UPGRADE)
            .header("authorization", format!("Bearer {}", self.token))
            .header(H_PROTOCOL, PROTOCOL)
            .header(H_VERSION, VERSION)
            .header(H_CONNECTION, self.config.connection.as_str())
            .header(H_INSTANCE, self.targets.report().instance)
            .body(Empty::<Bytes>::new())
            .map_err(|e| Refusal::Fatal(e.to_string()))?;
        let resp = tokio::time::timeout(Duration::from_secs(15), sender.send_request(req))
            .await
            .map_err(|_| retry("the host did not answer the upgrade in time".into()))?
            .map_err(|e| retry(format!("upgrade: {e}")))?;
        let status = resp.status();
        if status == StatusCode::SWITCHING_PROTOCOLS {
            let host_version = resp.headers().get(H_HOST_VERSION).and_then(|v| v.to_str().ok()).unwrap_or("?");
            tracing::info!(host = %url, host_version, "the host accepted this agent");
            return hyper::upgrade::on(resp).await.map_err(|e| retry(format!("upgrade: {e}")));
        }
        let body = Limited::new(resp.into_body(), 64 * 1024).collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let said = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        let m = format!("the host refused this agent ({status}): {said}");
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::UPGRADE_REQUIRED => {
                Refusal::Fatal(m)
            }
            _ => Refusal::Retry(m),
        })
    }
}

/// Why a dial or an upgrade failed.
#[derive(Debug)]
enum Refusal {
    Fatal(String),
    Retry(String),
}

/// Full jitter: uniform in [0, min(cap, base × 2^attempt)], at least 50 ms.
pub fn backoff(base_ms: u64, cap_ms: u64, attempt: u32) -> Duration {
    let ceiling = base_ms.saturating_mul(1u64 << attempt.min(20)).min(cap_ms).max(50);
    Duration::from_millis(rand::rng().random_range(50..=ceiling))
}

/// `ml-connector agent --config agent.toml`.
pub async fn run_from(path: &std::path::Path, stop: CancellationToken) -> anyhow::Result<()> {
    let cfg = AgentConfig::load(path)?;
    let agent = Arc::new(Agent::new(cfg).context("starting the agent")?);
    tracing::info!(connection = %agent.config.connection, version = VERSION, http = ?agent.targets.report().http, econnect = ?agent.targets.report().econnect, "agent starting");
    agent.run(stop).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_jittered_and_capped() {
        for attempt in 0..30 {
            let d = backoff(1_000, 60_000, attempt).as_millis() as u64;
            assert!((50..=60_000).contains(&d), "attempt {attempt}: {d}");
            assert!(d <= 1_000u64.saturating_mul(1 << attempt.min(20)).max(50));
        }
        let spread: std::collections::BTreeSet<u128> = (0..20).map(|_| backoff(1_000, 60_000, 5).as_millis()).collect();
        assert!(spread.len() > 10, "full jitter spreads redials: {spread:?}");
    }
}
