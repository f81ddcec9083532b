//! Periodic work of `serve`: the events sweep (gap detection against the webhooks) and the
//! re-check of what GP-side waits wait for: a closed fiscal period (records parked on it) and an
//! unposted batch (applies and voids waiting for a clerk to post it).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use mlc_store::{JobFilter, JobState};
use tokio_util::sync::CancellationToken;

use crate::app::{App, Connection};
use crate::bindings::types::BatchKey;
use crate::call::{Scope, call_component};
use crate::jobs::{PollJob, PollMode};
use crate::keys::WaitKey;
use crate::timeline::{Label, Line};

/// Run both loops until `stop`.
pub async fn run(app: Arc<App>, stop: CancellationToken) {
    let recheck = Duration::from_secs(app.config.host.period_recheck_s.max(1));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_recheck = tokio::time::Instant::now();
    let mut last_sweep: std::collections::BTreeMap<String, tokio::time::Instant> = Default::default();
    let mut rechecking: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        tokio::select! {
            _ = stop.cancelled() => {
                if let Some(t) = rechecking {
                    t.abort();
                }
                return;
            }
            _ = tick.tick() => {}
        }
        if let Err(e) = release_agent_waits(&app).await {
            tracing::warn!("releasing jobs waiting for an agent: {e:#}");
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
        // The re-check asks GP; it runs beside the loop (one at a time), so a slow or hanging
        // target never holds up the sweeps.
        let idle = rechecking.as_ref().is_none_or(|t| t.is_finished());
        if idle && last_recheck.elapsed() >= recheck {
            last_recheck = tokio::time::Instant::now();
            let app = app.clone();
            rechecking = Some(tokio::spawn(async move {
                if let Err(e) = recheck_periods(&app).await {
                    tracing::warn!("fiscal period re-check: {e:#}");
                }
                if let Err(e) = recheck_postings(&app).await {
                    tracing::warn!("batch posting re-check: {e:#}");
                }
            }));
        }
    }
}

/// Jobs of a connection whose agent is connected to this process go on (a job that decided to
/// wait just as the agent connected is not left waiting for the next connect).
async fn release_agent_waits(app: &App) -> anyhow::Result<()> {
    for (id, conn) in &app.connections {
        if conn.config.via_agent()
            && app.agents.offline_since(id).is_none()
            && app.store.release(id, &WaitKey::Agent.to_string()).await? > 0
        {
            app.wake.notify_waiters();
        }
    }
    Ok(())
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
    // Named by its window alone: a second sweep over the same window is the same walk.
    let job = PollJob { mode: PollMode::Events, since: Some(since), until: Some(now) };
    crate::poll::enqueue(app, &conn.config.id, job.key(0), &job).await?;
    app.store.state_put(&scope, "events-watermark", now.to_string().as_bytes()).await?;
    Ok(())
}

/// What a GP-side wait waits for, as the schedule re-checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GpWait {
    /// A closed fiscal period (records parked on it).
    Period,
    /// An unposted batch (settle steps waiting for the clerk).
    Posting,
}

/// Ask each target whether the periods its parked records wait for are open again; release
/// the ones that are. One GP call per distinct date, not per record. Returns jobs released.
pub async fn recheck_periods(app: &App) -> anyhow::Result<u64> {
    recheck(app, GpWait::Period).await
}

/// Ask each target whether the batches its settle jobs wait for are posted; release the jobs of
/// the posted ones. One GP call per distinct batch. Returns jobs released.
pub async fn recheck_postings(app: &App) -> anyhow::Result<u64> {
    recheck(app, GpWait::Posting).await
}

async fn recheck(app: &App, kind: GpWait) -> anyhow::Result<u64> {
    let mut released = 0;
    for (id, conn) in &app.connections {
        let waiting = app
            .store
            .jobs(&JobFilter { connection: Some(id.clone()), states: vec![JobState::Waiting], ..Default::default() })
            .await?;
        let keys: BTreeSet<String> = waiting
            .into_iter()
            .filter_map(|j| j.wait_key)
            .filter(|k| match WaitKey::parse(k) {
                Some(WaitKey::Period(_)) => kind == GpWait::Period,
                Some(WaitKey::Posting(_)) => kind == GpWait::Posting,
                _ => false,
            })
            .collect();
        for key in keys.iter().filter_map(|k| WaitKey::parse(k)) {
            released += recheck_one(app, id, conn, key).await?;
        }
    }
    Ok(released)
}

/// One period or batch: asked once, under the target's call limit (a target that hangs here is
/// cut at its `call_timeout_ms`, and the schedule goes on).
async fn recheck_one(app: &App, id: &str, conn: &Connection, key: WaitKey) -> anyhow::Result<u64> {
    let (check, what, ready) = match &key {
        WaitKey::Period(date) => ("period-check", format!("fiscal period of {date}"), "is open again"),
        WaitKey::Posting(batch) => ("posting-check", format!("batch {batch}"), "is posted"),
        WaitKey::Record(_) | WaitKey::Agent => return Ok(0),
    };
    let answer = call_component(app, id, &conn.target, Scope::default(), async |store, target| {
        let api = target.ml_connector_plugin_target_api();
        match &key {
            WaitKey::Posting(b) => {
                api.call_batch_posted(store, &BatchKey { source: b.source.clone(), id: b.id.clone() }).await
            }
            WaitKey::Period(date) => api.call_fiscal_period_open(store, date).await,
            WaitKey::Record(_) | WaitKey::Agent => Ok(Ok(false)),
        }
    })
    .await?;
    match answer {
        Ok(Ok(true)) => {
            let n = app.store.release(id, &key.to_string()).await?;
            app.wake.notify_waiters();
            note(app, id, check, &format!("{what} {ready}: {n} waiting job(s) resume")).await?;
            Ok(n)
        }
        Ok(Ok(false)) => Ok(0),
        Ok(Err(e)) => {
            tracing::warn!(connection = %id, "{check} of {what}: {e:?}");
            Ok(0)
        }
        Err(failure) => {
            tracing::warn!(connection = %id, "{check} of {what}: {failure}");
            note(app, id, check, &format!("{check} of {what}: {failure}")).await?;
            Ok(0)
        }
    }
}

async fn note(app: &App, connection: &str, check: &str, detail: &str) -> anyhow::Result<()> {
    app.store.append_audit(&Line::new(connection, check, Label::Info, detail).build()).await?;
    Ok(())
}
