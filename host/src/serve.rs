//! Starting the host: the webhook listener, the workers and the schedule, until a stop token is
//! cancelled. One [`start`] for `ml-connector serve`, the tests and the whole-stack harness, so
//! all of them run the same thing.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::App;

/// What one process runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where webhooks are taken (`host:port`; port 0 = any free port); `None` = workers only
    /// (another replica takes the webhooks).
    pub listen: Option<String>,
    /// The periodic work: events sweeps and fiscal-period re-checks.
    pub schedule: bool,
}

impl ServeOptions {
    /// Everything, listening where the config says.
    pub fn from_config(app: &App) -> ServeOptions {
        ServeOptions { listen: Some(app.config.host.listen.clone()), schedule: true }
    }
}

/// A started host.
pub struct Running {
    /// The webhook listener's address, when it listens.
    pub intake: Option<SocketAddr>,
    pub stop: CancellationToken,
    intake_task: Option<JoinHandle<anyhow::Result<()>>>,
    workers: Vec<JoinHandle<anyhow::Result<()>>>,
}

impl Running {
    /// `http://addr` of the webhook listener.
    pub fn base_url(&self) -> Option<String> {
        self.intake.map(|a| format!("http://{a}"))
    }

    /// Kill the workers and the schedule mid-flight (their jobs stay leased to a dead owner;
    /// nothing is acked) — what a crash does to them. The listener, if any, keeps running.
    pub fn abort_workers(&mut self) {
        for t in self.workers.drain(..) {
            t.abort();
        }
    }

    /// Wait until everything stopped (after `stop` is cancelled).
    pub async fn wait(self) -> anyhow::Result<()> {
        if let Some(t) = self.intake_task {
            t.await.context("intake task")??;
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
    let (mut intake, mut intake_task) = (None, None);
    if let Some(listen) = &options.listen {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr()?;
        tracing::info!("listening on http://{addr}");
        let (router, s) = (crate::intake::router(app.clone()), stop.clone());
        intake = Some(addr);
        intake_task = Some(tokio::spawn(async move {
            axum::serve(listener, router).with_graceful_shutdown(async move { s.cancelled().await }).await?;
            Ok(())
        }));
    }
    Ok(Running { intake, stop, intake_task, workers })
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
