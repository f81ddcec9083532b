//! Periodic work of `serve`: the events sweep (gap detection against the webhooks) and the
//! fiscal-period re-check that resumes records parked on a closed period.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use mlc_store::{AuditEvent, JobFilter, JobState};
use tokio_util::sync::CancellationToken;

use crate::app::{App, Connection};
use crate::pipeline::PERIOD_WAIT;
use crate::poll::PollJob;

/// Run both loops until `stop`.
pub async fn run(app: Arc<App>, stop: CancellationToken) {
    let recheck = Duration::from_secs(app.config.host.period_recheck_s.max(1));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_recheck = tokio::time::Instant::now();
    let mut last_sweep: std::collections::BTreeMap<String, tokio::time::Instant> = Default::default();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        for (id, conn) in &app.connections {
            let Some(every) = conn.config.events_poll_s else { continue };
            let due = last_sweep.get(id).is_none_or(|t| t.elapsed() >= Duration::from_secs(every.max(1)));
            if due {
                last_sweep.insert(id.clone(), tokio::time::Instant::now());
                if let Err(e) = events_sweep(&app, conn).await {
                    tracing::warn!(connection = %id, "events sweep: {e:#}");
                }
            }
        }
        if last_recheck.elapsed() >= recheck {
            last_recheck = tokio::time::Instant::now();
            if let Err(e) = recheck_periods(&app).await {
                tracing::warn!("fiscal period re-check: {e:#}");
            }
        }
    }
}

/// Enqueue an events walk over [watermark − overlap, now). The overlap re-reads events whose
/// webhooks may still be in flight; their keys make them duplicates, so only gaps become jobs.
pub async fn events_sweep(app: &App, conn: &Connection) -> anyhow::Result<()> {
    let scope = format!("{}/#host", conn.config.id);
    // `until` is exclusive: include the current second (the next sweep's overlap re-reads it).
    let now = app.store.now().await? / 1000 + 1;
    let overlap = conn.config.events_overlap_s as i64;
    let watermark = app
        .store
        .state_get(&scope, "events-watermark")
        .await?
        .and_then(|v| String::from_utf8(v).ok()?.parse::<i64>().ok());
    let since = watermark.unwrap_or(now) - overlap;
    let key = format!("events:{since}:{now}");
    crate::poll::enqueue(
        app,
        &conn.config.id,
        &key,
        &PollJob { mode: "events".into(), since: Some(since), until: Some(now) },
    )
    .await?;
    app.store.state_put(&scope, "events-watermark", now.to_string().as_bytes()).await?;
    Ok(())
}

/// Ask each target whether the periods its parked records wait for are open again; release
/// the ones that are. One GP call per distinct date, not per record. Returns jobs released.
pub async fn recheck_periods(app: &App) -> anyhow::Result<u64> {
    let mut released = 0;
    for (id, conn) in &app.connections {
        let waiting = app
            .store
            .jobs(&JobFilter { connection: Some(id.clone()), states: vec![JobState::Waiting], ..Default::default() })
            .await?;
        let keys: BTreeSet<String> =
            waiting.into_iter().filter_map(|j| j.wait_key).filter(|k| k.starts_with(PERIOD_WAIT)).collect();
        for key in keys {
            let date = key[PERIOD_WAIT.len()..].to_string();
            let mut store = conn.target.store(app, id, None, None)?;
            let inst = conn.target.pre.instantiate_async(&mut store).await?;
            match inst.ml_connector_plugin_target_api().call_fiscal_period_open(&mut store, &date).await? {
                Ok(true) => {
                    let n = app.store.release(id, &key).await?;
                    released += n;
                    app.wake.notify_waiters();
                    note(app, id, &format!("fiscal period of {date} is open again: {n} record(s) resume")).await?;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(connection = %id, "fiscal period check for {date}: {e:?}"),
            }
        }
    }
    Ok(released)
}

async fn note(app: &App, connection: &str, detail: &str) -> anyhow::Result<()> {
    app.store
        .append_audit(&AuditEvent {
            id: 0,
            at: 0,
            connection: connection.into(),
            record_key: None,
            job_id: None,
            stage: "period-check".into(),
            outcome: "info".into(),
            detail: detail.into(),
            component: None,
            duration_ms: None,
        })
        .await?;
    Ok(())
}
