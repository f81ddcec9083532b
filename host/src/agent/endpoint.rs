//! The host's agent endpoint (`[agents] listen`, TLS): `GET /agent/v1/connect` checks who is
//! asking, switches the connection to reverse HTTP/2 and keeps the tunnel: HTTP/2 PINGs (hyper's
//! keep-alive) cut a half-open link within `ping_s + ping_timeout_s`; every `status_s` the host
//! asks the agent's status (the application heartbeat) and re-reads its credential, so a
//! revocation closes a live tunnel, told why.
//!
//! Refusals, each with a JSON `{"error"}` that says what to do: 400 not an upgrade; 426 a
//! protocol outside what this host speaks; 401 no, a wrong or a revoked credential; 403 a
//! credential that is not an agent's, or is another connection's; 404 a connection this host
//! does not run through an agent; 409 a credential already in use by another live agent (each
//! agent has its own).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::hub::{Hello, Tunnel, since_text};
use super::{
    CONNECT_PATH, Goodbye, H_CONNECTION, H_HOST_PROTOCOL, H_HOST_VERSION, H_INSTANCE, H_PROTOCOL, H_VERSION,
    MIN_PROTOCOL, PROTOCOL, UPGRADE, VERSION, calls,
};
use crate::app::App;
use crate::intake::error;
use crate::keys::WaitKey;
use crate::listener::Peer;

pub fn router(app: Arc<App>) -> Router {
    Router::new().route(CONNECT_PATH, get(connect)).route("/healthz", get(|| async { "ok" })).with_state(app)
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().trim()
}

/// A refusal, logged on this side with the same words the agent gets.
fn refuse(status: StatusCode, peer: &Peer, message: String) -> Response {
    tracing::warn!(peer = %peer.0, "agent refused ({status}): {message}");
    error(status, message)
}

async fn connect(
    State(app): State<Arc<App>>,
    axum::Extension(peer): axum::Extension<Peer>,
    mut req: Request,
) -> Response {
    let hello = match admit(&app, &peer, req.headers()).await {
        Ok(h) => h,
        Err(r) => return r,
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    tracing::info!(connection = %hello.connection, credential = %hello.credential, instance = %hello.instance, version = %hello.version, peer = %peer.0, "agent connecting");
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                if let Err(e) = keep(app, hello, upgraded).await {
                    tracing::warn!("agent tunnel ended: {e:#}");
                }
            }
            Err(e) => tracing::warn!(peer = %peer.0, "agent upgrade failed: {e}"),
        }
    });
    let mut resp = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let h = resp.headers_mut();
    h.insert("connection", axum::http::HeaderValue::from_static("upgrade"));
    h.insert("upgrade", axum::http::HeaderValue::from_static(UPGRADE));
    h.insert(H_HOST_PROTOCOL, axum::http::HeaderValue::from(PROTOCOL));
    h.insert(H_HOST_VERSION, axum::http::HeaderValue::from_static(VERSION));
    resp
}

/// Who is asking, or the refusal.
async fn admit(app: &App, peer: &Peer, h: &HeaderMap) -> Result<Hello, Response> {
    if !header(h, "upgrade").eq_ignore_ascii_case(UPGRADE) {
        return Err(refuse(StatusCode::BAD_REQUEST, peer, format!("this endpoint takes `Upgrade: {UPGRADE}` only")));
    }
    let protocol = header(h, H_PROTOCOL).parse::<u32>().unwrap_or(0);
    if !(MIN_PROTOCOL..=PROTOCOL).contains(&protocol) {
        let agent = header(h, H_VERSION);
        return Err(refuse(
            StatusCode::UPGRADE_REQUIRED,
            peer,
            format!(
                "agent {agent:?} speaks protocol {protocol}; this host ({VERSION}) speaks {MIN_PROTOCOL}..={PROTOCOL}: install an agent of the host's version"
            ),
        ));
    }
    let token = header(h, "authorization").strip_prefix("Bearer ").unwrap_or_default().trim();
    let credential = credential(app, peer, token).await?;
    let connection = header(h, H_CONNECTION).to_string();
    if credential.connection.as_deref() != Some(connection.as_str()) {
        let own = credential.connection.as_deref().unwrap_or("none");
        return Err(refuse(
            StatusCode::FORBIDDEN,
            peer,
            format!("credential {:?} is for connection {own}, not {connection:?}", credential.name),
        ));
    }
    if !app.connections.get(&connection).is_some_and(|c| c.config.via_agent()) {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            peer,
            format!("connection {connection:?} does not reach GP through an agent on this host (gp.via = \"agent\")"),
        ));
    }
    let instance = header(h, H_INSTANCE).to_string();
    if instance.is_empty() || instance.len() > 64 || !instance.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(refuse(StatusCode::BAD_REQUEST, peer, format!("{H_INSTANCE} must be 1–64 of [A-Za-z0-9-]")));
    }
    let hello = Hello {
        connection,
        credential: credential.name,
        instance,
        version: header(h, H_VERSION).chars().take(32).collect(),
        protocol,
        peer: peer.0,
    };
    in_use(app, peer, &hello).await?;
    if let Err(e) = app.store.token_used(&hello.credential).await {
        tracing::warn!("noting the use of agent credential {}: {e:#}", hello.credential);
    }
    Ok(hello)
}

/// The live agent credential this token is, or 401/403.
async fn credential(app: &App, peer: &Peer, token: &str) -> Result<mlc_store::AdminToken, Response> {
    let unauthorized = |m: String| refuse(StatusCode::UNAUTHORIZED, peer, m);
    if token.is_empty() {
        return Err(unauthorized("an agent credential is needed (ml-connector agent-token create)".into()));
    }
    let digest = crate::admin::tokens::digest(token);
    let internal = |e: anyhow::Error| refuse(StatusCode::SERVICE_UNAVAILABLE, peer, format!("store: {e:#}"));
    if let Some(t) = app.store.token_by_hash(&digest).await.map_err(internal)? {
        if t.scope != crate::admin::tokens::AGENT_SCOPE {
            return Err(refuse(StatusCode::FORBIDDEN, peer, format!("token {:?} is not an agent credential", t.name)));
        }
        return Ok(t);
    }
    let revoked = app.store.token_list().await.map_err(internal)?.into_iter().find(|t| t.hash == digest);
    Err(unauthorized(match revoked.and_then(|t| t.revoked_at.map(|at| (t.name, at))) {
        Some((name, at)) => format!("agent credential {name:?} was revoked at {}", since_text(at)),
        None => "unknown agent credential".into(),
    }))
}

/// A credential serves one agent at a time: another instance with it is refused while the
/// current one answers; a tunnel that no longer answers (a dead agent's) is closed and replaced.
async fn in_use(app: &App, peer: &Peer, hello: &Hello) -> Result<(), Response> {
    let Some(old) = app.agents.by_credential(&hello.connection, &hello.credential) else { return Ok(()) };
    if old.instance != hello.instance && calls::status(&old, Duration::from_secs(3)).await.is_ok() {
        return Err(refuse(
            StatusCode::CONFLICT,
            peer,
            format!(
                "agent credential {:?} is in use by agent {} at {} since {}; each agent needs its own credential (ml-connector agent-token create)",
                hello.credential,
                old.instance,
                old.peer,
                since_text(old.connected_at)
            ),
        ));
    }
    tracing::info!(connection = %hello.connection, old = %old.instance, "replacing agent {}'s stale tunnel", old.instance);
    old.close.cancel();
    app.agents.remove(&old);
    Ok(())
}

/// Run one tunnel until it drops, is closed, or the host stops.
async fn keep(app: Arc<App>, hello: Hello, upgraded: hyper::upgrade::Upgraded) -> anyhow::Result<()> {
    let cfg = &app.config.agents;
    let (sender, driver) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(cfg.ping_s.max(1)))
        .keep_alive_timeout(Duration::from_secs(cfg.ping_timeout_s.max(1)))
        .keep_alive_while_idle(true)
        .initial_stream_window_size(1 << 20)
        .initial_connection_window_size(8 << 20)
        .handshake(upgraded)
        .await?;
    let mut driver = tokio::spawn(driver);
    let tunnel = Arc::new(Tunnel::new(app.agents.next_id(), hello, sender));
    let report = match calls::status(&tunnel, Duration::from_secs(10)).await {
        Ok(r) => r,
        Err(e) => {
            driver.abort();
            anyhow::bail!("agent {} did not answer its first status: {e:#}", tunnel.instance);
        }
    };
    app.agents.add(tunnel.clone());
    tracing::info!(connection = %tunnel.connection, instance = %tunnel.instance, version = %report.version, http = ?report.http, econnect = ?report.econnect, "agent connected");
    let released = app.store.release(&tunnel.connection, &WaitKey::Agent.to_string()).await?;
    if released > 0 {
        app.wake.notify_waiters();
    }
    let why = heartbeat(&app, &tunnel, &mut driver).await;
    app.agents.remove(&tunnel);
    driver.abort();
    tracing::warn!(connection = %tunnel.connection, instance = %tunnel.instance, "agent tunnel closed: {why}");
    Ok(())
}

/// Status and credential checks until the tunnel ends; returns why it ended.
async fn heartbeat(
    app: &App,
    tunnel: &Arc<Tunnel>,
    driver: &mut tokio::task::JoinHandle<Result<(), hyper::Error>>,
) -> String {
    let every = Duration::from_secs(app.config.agents.status_s.max(1));
    let mut misses = 0;
    loop {
        tokio::select! {
            r = &mut *driver => return match r {
                Ok(Ok(())) => "the agent closed it".into(),
                Ok(Err(e)) => format!("{e}"),
                Err(e) => format!("{e}"),
            },
            _ = tunnel.close.cancelled() => return "closed by the host".into(),
            _ = app.agents.stopping.cancelled() => {
                calls::goodbye(tunnel, Goodbye::Shutdown, "the host is stopping").await;
                return "the host is stopping".into();
            }
            _ = tokio::time::sleep(every) => {}
        }
        match credential_live(app, &tunnel.credential).await {
            Ok(false) => {
                let text = format!("agent credential {:?} was revoked", tunnel.credential);
                calls::goodbye(tunnel, Goodbye::Revoked, &text).await;
                return text;
            }
            Ok(true) => {}
            Err(e) => tracing::warn!("re-reading agent credential {}: {e:#}", tunnel.credential),
        }
        match calls::status(tunnel, Duration::from_secs(10)).await {
            Ok(_) => misses = 0,
            Err(e) => {
                misses += 1;
                tracing::warn!(connection = %tunnel.connection, instance = %tunnel.instance, "agent status failed ({misses}): {e:#}");
                if misses >= 2 {
                    return "two status checks unanswered".into();
                }
            }
        }
    }
}

/// Whether the named credential is still live (not revoked, not deleted).
async fn credential_live(app: &App, name: &str) -> anyhow::Result<bool> {
    Ok(app.store.token_list().await?.iter().any(|t| t.name == name && t.revoked_at.is_none()))
}
