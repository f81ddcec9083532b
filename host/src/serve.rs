//! Starting the host: the webhook listener, the admin listener, the workers and the schedule,
//! until a stop token is cancelled. One [`start`] for `ml-connector serve`, the tests and the
//! whole-stack harness, so all of them run the same thing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::listener::Listener;

/// What one process runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where webhooks are taken (`host:port`; port 0 = any free port); `None` = no webhook
    /// listener (another replica takes the webhooks).
    pub listen: Option<String>,
    /// Where the admin API listens; `None` = no admin plane in this process.
    pub admin: Option<String>,
    /// The periodic work: events sweeps and fiscal-period re-checks.
    pub schedule: bool,
    /// Where local agents dial in (`[agents] listen`); `None` = no agent endpoint here.
    pub agents: Option<String>,
}

impl ServeOptions {
    /// Everything, listening where the config says.
    pub fn from_config(app: &App) -> ServeOptions {
        let (host, admin) = (&app.config.host, &app.config.admin);
        ServeOptions {
            listen: Some(host.listen.clone()),
            admin: Some(admin.listen.clone()),
            schedule: true,
            agents: app.config.agents.listen.clone(),
        }
    }
}

/// A started host.
pub struct Running {
    /// The webhook listener's address, when it listens.
    pub intake: Option<SocketAddr>,
    /// The admin listener's address, when it listens.
    pub admin: Option<SocketAddr>,
    /// The agent endpoint's address, when it listens.
    pub agents: Option<SocketAddr>,
    pub stop: CancellationToken,
    listeners: Vec<Listener>,
    workers: Vec<JoinHandle<anyhow::Result<()>>>,
}

impl Running {
    /// `http(s)://addr` of the webhook listener.
    pub fn base_url(&self) -> Option<String> {
        self.url_of(self.intake?)
    }

    /// `https://addr` of the agent endpoint.
    pub fn agents_url(&self) -> Option<String> {
        self.url_of(self.agents?)
    }

    /// `http(s)://addr` of the admin listener.
    pub fn admin_url(&self) -> Option<String> {
        self.url_of(self.admin?)
    }

    fn url_of(&self, addr: SocketAddr) -> Option<String> {
        let listener = self.listeners.iter().find(|l| l.addr == addr)?;
        Some(format!("{}://{addr}", if listener.tls { "https" } else { "http" }))
    }

    /// Kill the workers and the schedule mid-flight (their jobs stay leased to a dead owner;
    /// nothing is acked) — what a crash does to them. The listeners keep running.
    pub fn abort_workers(&mut self) {
        for t in self.workers.drain(..) {
            t.abort();
        }
    }

    /// Wait until everything stopped (after `stop` is cancelled).
    pub async fn wait(self) -> anyhow::Result<()> {
        for l in self.listeners {
            l.task.await.context("listener task")??;
        }
        for t in self.workers {
            t.await.context("worker task")??;
        }
        Ok(())
    }
}

/// Start what `options` asks for on `app`; everything stops when `stop` is cancelled.
pub async fn start(app: Arc<App>, options: ServeOptions, stop: CancellationToken) -> anyhow::Result<Running> {
    let mut workers = vec![tokio::spawn(crate::worker::run(app.clone(), stop.clone()))];
    if options.schedule {
        let (a, s) = (app.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            crate::schedule::run(a, s).await;
            Ok(())
        }));
    }
    let mut listeners = Vec::new();
    let (mut intake, mut admin, mut agents) = (None, None, None);
    if let Some(listen) = &options.listen {
        let host = &app.config.host;
        let router = crate::intake::router(app.clone());
        let l = crate::listener::serve(listen, host.tls.as_ref(), host.limits, router, stop.clone()).await?;
        tracing::info!("webhooks on {}://{}", if l.tls { "https" } else { "http" }, l.addr);
        intake = Some(l.addr);
        listeners.push(l);
        workers.push(tokio::spawn(summarise_denials(app.clone(), stop.clone())));
    }
    if let Some(listen) = &options.admin {
        let cfg = &app.config.admin;
        let router = crate::admin::router(app.clone());
        let l = crate::listener::serve(listen, cfg.tls.as_ref(), cfg.limits, router, stop.clone()).await?;
        tracing::info!("admin plane on {}://{}", if l.tls { "https" } else { "http" }, l.addr);
        admin = Some(l.addr);
        listeners.push(l);
    }
    if let Some(listen) = &options.agents {
        let cfg = &app.config.agents;
        let tls = cfg.tls.as_ref().context("[agents] listen needs [agents.tls]")?;
        let router = crate::agent::endpoint::router(app.clone());
        let l = crate::listener::serve(listen, Some(tls), cfg.limits, router, stop.clone()).await?;
        tracing::info!("agent endpoint on https://{}", l.addr);
        agents = Some(l.addr);
        listeners.push(l);
    }
    // Tunnels say goodbye when the host stops (agents redial another replica, or this one later).
    let (hub, s) = (app.agents.clone(), stop.clone());
    tokio::spawn(async move {
        s.cancelled().await;
        hub.stopping.cancel();
    });
    Ok(Running { intake, admin, agents, stop, listeners, workers })
}

/// Refused webhooks, one timeline line per connection and period.
async fn summarise_denials(app: Arc<App>, stop: CancellationToken) -> anyhow::Result<()> {
    let period = Duration::from_secs(app.config.host.denial_summary_s.max(1));
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(period) => {}
        }
        if let Err(e) = app.denials.flush(app.store.as_ref(), period).await {
            tracing::warn!("summarising refused webhooks: {e:#}");
        }
    }
    app.denials.flush(app.store.as_ref(), period).await.map(|_| ())
}

/// `ml-connector serve`: run until `stop`.
pub async fn serve(app: Arc<App>, options: ServeOptions, stop: CancellationToken) -> anyhow::Result<()> {
    start(app, options, stop).await?.wait().await
}

/// Cancel on Ctrl-C or SIGTERM.
pub fn shutdown_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
        t.cancel();
    });
    token
}
