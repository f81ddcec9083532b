//! Workers: claim due jobs (the store enforces per-connection limits across replicas), run each
//! through the pipeline while a heartbeat keeps the lease, then ack, retry, or park — all fenced
//! by lease owner, so a worker that lost its lease changes nothing.

use std::sync::Arc;
use std::time::Duration;

use mlc_store::{Backoff, Job, Retried, Retry};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::jobs::{JobKind, TriggerJob};
use crate::pipeline::{self, Outcome};
use crate::timeline::clip_error as clip;

/// Run workers until `stop` is cancelled; in-flight jobs finish first (or their leases lapse).
pub async fn run(app: Arc<App>, stop: CancellationToken) -> anyhow::Result<()> {
    let slots = Arc::new(Semaphore::new(app.config.host.workers.max(1)));
    let mut tasks = JoinSet::new();
    let poll = Duration::from_millis(app.config.host.poll_ms.max(10));
    while !stop.is_cancelled() {
        while tasks.try_join_next().is_some() {}
        let free = slots.available_permits();
        let jobs = if free > 0 {
            match app.store.claim(&app.owner, app.config.host.lease_ms, free).await {
                Ok(j) => j,
                Err(e) => {
                    tracing::error!("claiming jobs failed: {e:#}");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let claimed = jobs.len();
        for job in jobs {
            let permit = slots.clone().acquire_owned().await?;
            let app = app.clone();
            tasks.spawn(async move {
                let id = job.id;
                if let Err(e) = run_job(&app, job).await {
                    tracing::error!(job = id, "job failed in the host: {e:#}");
                }
                drop(permit);
            });
        }
        if claimed == 0 || slots.available_permits() == 0 {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = app.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One job, start to settle.
pub async fn run_job(app: &App, job: Job) -> anyhow::Result<()> {
    let owner = app.owner.clone();
    let lease = app.config.host.lease_ms;
    // Heartbeat at a third of the lease; if it is lost, stop working on the job at once.
    let lost = CancellationToken::new();
    // Aborted when this future is dropped too (a cancelled job must not keep its lease alive).
    let hb = AbortOnDrop({
        let store = app.store.clone();
        let lost = lost.clone();
        let (id, owner) = (job.id, owner.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis((lease / 3).max(50) as u64)).await;
                match store.heartbeat(id, &owner, lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(job = id, "lease lost; abandoning the job to its new owner");
                        lost.cancel();
                        return;
                    }
                    Err(e) => tracing::warn!(job = id, "heartbeat failed: {e:#}"),
                }
            }
        })
    });
    let result = tokio::select! {
        r = execute(app, &job) => Some(r.map(|o| agent_dropped(app, &job, o))),
        _ = lost.cancelled() => None,
    };
    drop(hb);
    let Some(result) = result else { return Ok(()) };
    let backoff = Backoff { base_ms: app.config.host.backoff_base_ms, cap_ms: app.config.host.backoff_cap_ms };
    // A reason may carry guest text: stored clipped, never whole.
    let result = result.map(|outcome| match outcome {
        Outcome::Park { reason } => Outcome::Park { reason: clip(&reason) },
        Outcome::Wait { wait_key, reason } => Outcome::Wait { wait_key, reason: clip(&reason) },
        Outcome::Retry { reason, after_ms } => Outcome::Retry { reason: clip(&reason), after_ms },
        Outcome::Done => Outcome::Done,
    });
    let settled = match result {
        Ok(Outcome::Done) => app.store.ack(job.id, &owner).await?,
        Ok(Outcome::Park { reason }) => app.store.park(job.id, &owner, &reason).await?,
        // The store checks under a lock whether the record got written meanwhile.
        Ok(Outcome::Wait { wait_key, reason }) => {
            app.store.wait_for(job.id, &owner, &wait_key.to_string(), &reason).await?
        }
        Ok(Outcome::Retry { reason, after_ms }) => {
            let how = match after_ms {
                Some(ms) => Retry::After { delay_ms: ms as i64 },
                None => Retry::Backoff,
            };
            match app.store.retry(job.id, &owner, &reason, how, backoff).await? {
                Retried::Dead => {
                    tracing::warn!(job = job.id, "dead-lettered after {} attempts: {reason}", job.attempt);
                    true
                }
                Retried::At(_) => true,
                Retried::LostLease => false,
            }
        }
        Err(e) => {
            // A host-side failure (store, bad payload): retry with backoff; dead after N.
            let reason = format!("host error: {e:#}");
            !matches!(app.store.retry(job.id, &owner, &reason, Retry::Backoff, backoff).await?, Retried::LostLease)
        }
    };
    if !settled {
        tracing::warn!(job = job.id, "lease lost before the job settled; its new owner decides");
    }
    Ok(())
}

/// A retry because the agent's tunnel dropped mid-run waits for the agent instead (no attempt
/// burnt while it is offline; the next run's look-up settles what the dropped call did).
fn agent_dropped(app: &App, job: &Job, outcome: Outcome) -> Outcome {
    match (&outcome, app.connections.get(&job.connection)) {
        (Outcome::Retry { .. }, Some(conn)) => pipeline::agent_wait(app, conn).unwrap_or(outcome),
        _ => outcome,
    }
}

async fn execute(app: &App, job: &Job) -> anyhow::Result<Outcome> {
    let conn = app.connections.get(&job.connection).ok_or_else(|| {
        anyhow::anyhow!("job {} belongs to connection {:?}, which this host does not configure", job.id, job.connection)
    })?;
    match JobKind::parse(&job.kind) {
        Some(JobKind::Trigger) => {
            let tj: TriggerJob = serde_json::from_slice(&job.payload)?;
            pipeline::run_job(app, conn, &tj, Some(job.id)).await
        }
        Some(JobKind::Poll) => crate::poll::run(app, conn, job).await,
        Some(JobKind::Settle) => {
            let sj: crate::jobs::SettleJob = serde_json::from_slice(&job.payload)?;
            pipeline::run_settle(app, conn, &sj, Some(job.id)).await
        }
        None => Ok(Outcome::Park { reason: format!("unknown job kind {:?}", job.kind) }),
    }
}
