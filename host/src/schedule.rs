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
use crate::keys::{Batch, WaitKey};
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

/// Ask each target whether the periods its parked records wait for are open again; release
/// the ones that are. One GP call per distinct date, not per record. Returns jobs released.
pub async fn recheck_periods(app: &App) -> anyhow::Result<u64> {
    let mut released = 0;
    for (id, conn) in &app.connections {
        let waiting = app
            .store
            .jobs(&JobFilter { connection: Some(id.clone()), states: vec![JobState::Waiting], ..Default::default() })
            .await?;
        let dates: BTreeSet<String> = waiting
            .into_iter()
            .filter_map(|j| match WaitKey::parse(j.wait_key.as_deref()?)? {
                WaitKey::Period(date) => Some(date),
                WaitKey::Record(_) | WaitKey::Posting(_) => None,
            })
            .collect();
        for date in dates {
            released += recheck_period(app, id, conn, date).await?;
        }
    }
    Ok(released)
}

/// One date's period: asked once, under the target's call limit (a target that hangs here is
/// cut at its `call_timeout_ms`, and the schedule goes on).
async fn recheck_period(app: &App, id: &str, conn: &Connection, date: String) -> anyhow::Result<u64> {
    let open = call_component(app, id, &conn.target, Scope::default(), async |store, target| {
        target.ml_connector_plugin_target_api().call_fiscal_period_open(store, &date).await
    })
    .await?;
    match open {
        Ok(Ok(true)) => {
            let n = app.store.release(id, &WaitKey::Period(date.clone()).to_string()).await?;
            app.wake.notify_waiters();
            note(app, id, "period-check", &format!("fiscal period of {date} is open again: {n} record(s) resume"))
                .await?;
            Ok(n)
        }
        Ok(Ok(false)) => Ok(0),
        Ok(Err(e)) => {
            tracing::warn!(connection = %id, "fiscal period check for {date}: {e:?}");
            Ok(0)
        }
        Err(failure) => {
            tracing::warn!(connection = %id, "fiscal period check for {date}: {failure}");
            note(app, id, "period-check", &format!("fiscal period check for {date}: {failure}")).await?;
            Ok(0)
        }
    }
}

/// Ask each target whether the batches its settle jobs wait for are posted; release the jobs of
/// the posted ones. One GP call per distinct batch. Returns jobs released.
pub async fn recheck_postings(app: &App) -> anyhow::Result<u64> {
    let mut released = 0;
    for (id, conn) in &app.connections {
        let waiting = app
            .store
            .jobs(&JobFilter { connection: Some(id.clone()), states: vec![JobState::Waiting], ..Default::default() })
            .await?;
        let batches: BTreeSet<Batch> = waiting
            .into_iter()
            .filter_map(|j| match WaitKey::parse(j.wait_key.as_deref()?)? {
                WaitKey::Posting(b) => Some(b),
                WaitKey::Record(_) | WaitKey::Period(_) => None,
            })
            .collect();
        for batch in batches {
            released += recheck_posting(app, id, conn, batch).await?;
        }
    }
    Ok(released)
}

async fn recheck_posting(app: &App, id: &str, conn: &Connection, batch: Batch) -> anyhow::Result<u64> {
    let key = BatchKey { source: batch.source.clone(), id: batch.id.clone() };
    let posted = call_component(app, id, &conn.target, Scope::default(), async |store, target| {
        target.ml_connector_plugin_target_api().call_batch_posted(store, &key).await
    })
    .await?;
    match posted {
        Ok(Ok(true)) => {
            let n = app.store.release(id, &WaitKey::Posting(batch.clone()).to_string()).await?;
            app.wake.notify_waiters();
            note(app, id, "posting-check", &format!("GP posted batch {batch}: {n} settle step(s) resume")).await?;
            Ok(n)
        }
        Ok(Ok(false)) => Ok(0),
        Ok(Err(e)) => {
            tracing::warn!(connection = %id, "batch posting check for {batch}: {e:?}");
            Ok(0)
        }
        Err(failure) => {
            tracing::warn!(connection = %id, "batch posting check for {batch}: {failure}");
            note(app, id, "posting-check", &format!("batch posting check for {batch}: {failure}")).await?;
            Ok(0)
        }
    }
}

async fn note(app: &App, connection: &str, check: &str, detail: &str) -> anyhow::Result<()> {
    app.store.append_audit(&Line::new(connection, check, Label::Info, detail).build()).await?;
    Ok(())
}
