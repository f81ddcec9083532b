//! `ml-connector serve`: the intake server and the workers in one process, until Ctrl-C/SIGTERM.

use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::app::App;

pub async fn serve(app: Arc<App>, intake: bool, stop: CancellationToken) -> anyhow::Result<()> {
    let workers = tokio::spawn(crate::worker::run(app.clone(), stop.clone()));
    let schedule = tokio::spawn(crate::schedule::run(app.clone(), stop.clone()));
    if intake {
        let listener = tokio::net::TcpListener::bind(&app.config.host.listen)
            .await
            .with_context(|| format!("binding {}", app.config.host.listen))?;
        tracing::info!("listening on http://{}", listener.local_addr()?);
        let s = stop.clone();
        axum::serve(listener, crate::intake::router(app.clone()))
            .with_graceful_shutdown(async move { s.cancelled().await })
            .await?;
    } else {
        stop.cancelled().await;
    }
    workers.await??;
    schedule.await?;
    Ok(())
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
