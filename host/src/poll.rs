//! Poll jobs: walk a source's pages (backfill by `updated_at`, or the Events API for gap
//! detection) and turn every hit into a trigger job.
//!
//! The walk's cursor is saved after each page, under the poll job's key, before the next page
//! is asked for: a host killed mid-walk resumes from the last saved page when the job's lease
//! lapses, re-reading at most one page. Hits are enqueued with idempotency keys (the event id,
//! or kind/id/version for backfill), so a re-read page and events the webhooks already
//! delivered are duplicates, and only what is missing becomes work.

use std::time::Instant;

use mlc_store::{AuditEvent, Enqueued, Job};
use serde::{Deserialize, Serialize};

use crate::app::{App, Connection};
use crate::bindings::source::exports::ml_connector::plugin::source_api::{PollMode, PollRequest};
use crate::caps::queue::{TriggerJob, fetched_job, record_kind_str};
use crate::pipeline::Outcome;

/// A "poll" job's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollJob {
    /// "backfill" or "events".
    pub mode: String,
    /// Unix seconds; the window is [since, until).
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// What one walk did, for the audit line and callers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollSummary {
    pub pages: u64,
    pub created: u64,
    pub duplicates: u64,
}

fn scope(connection: &str) -> String {
    format!("{connection}/#host")
}

fn cursor_key(job_key: &str) -> String {
    format!("poll-cursor:{job_key}")
}

/// Enqueue a walk. `key` names it (a second enqueue of the same key is a no-op).
pub async fn enqueue(app: &App, connection: &str, key: &str, job: &PollJob) -> anyhow::Result<Enqueued> {
    let enq = app
        .store
        .enqueue(mlc_store::NewJob {
            connection: connection.to_string(),
            key: key.to_string(),
            kind: "poll".into(),
            payload: serde_json::to_vec(job)?,
            not_before: None,
            max_attempts: app.config.host.max_attempts,
            record_key: None,
        })
        .await?;
    app.wake.notify_waiters();
    Ok(enq)
}

pub async fn run(app: &App, conn: &Connection, job: &Job) -> anyhow::Result<Outcome> {
    let req: PollJob = serde_json::from_slice(&job.payload)?;
    let mode = match req.mode.as_str() {
        "backfill" => PollMode::Backfill,
        "events" => PollMode::Events,
        other => return Ok(Outcome::Park { reason: format!("unknown poll mode {other:?}") }),
    };
    let id = &conn.config.id;
    let started = Instant::now();
    let mut sum = PollSummary::default();
    loop {
        let cursor = app
            .store
            .state_get(&scope(id), &cursor_key(&job.key))
            .await?
            .map(|c| String::from_utf8_lossy(&c).into_owned());
        let request = PollRequest { mode, cursor, since: req.since, until: req.until };
        let mut store = conn.source.store(app, id, None, Some(job.id))?;
        let inst = conn.source.pre.instantiate_async(&mut store).await?;
        let limit = std::time::Duration::from_millis(conn.source.component.config.call_timeout_ms);
        let page =
            match tokio::time::timeout(limit, inst.ml_connector_plugin_source_api().call_poll(&mut store, &request))
                .await
            {
                Ok(Ok(Ok(page))) => page,
                Ok(Ok(Err(e))) => {
                    let outcome = crate::pipeline::source_outcome(e);
                    audit(
                        app,
                        id,
                        job.id,
                        "retry",
                        &format!("poll page failed after {} page(s): {outcome:?}", sum.pages),
                    )
                    .await?;
                    return Ok(outcome);
                }
                Ok(Err(trap)) => {
                    return Ok(Outcome::Retry {
                        reason: format!(
                            "source trapped in poll: {}",
                            crate::pipeline::trap_message(&anyhow::Error::from(trap))
                        ),
                        after_ms: None,
                    });
                }
                Err(_) => {
                    return Ok(Outcome::Retry { reason: "poll page exceeded the call limit".into(), after_ms: None });
                }
            };
        sum.pages += 1;
        for item in page.items {
            let t = &item.trigger;
            let key = match (&t.event_id, &item.fetched) {
                (Some(ev), _) => ev.clone(),
                (None, Some(rec)) => format!("poll:{}/{}@{}", record_kind_str(rec.kind), rec.id, rec.version),
                (None, None) => format!("poll:{}/{}@{}", record_kind_str(t.kind), t.resource_id, t.occurred_at),
            };
            let nj = fetched_job(
                id,
                key,
                TriggerJob { trigger: item.trigger.clone(), fetched: item.fetched },
                None,
                app.config.host.max_attempts,
            )?;
            match app.store.enqueue(nj).await? {
                Enqueued::Created(_) => sum.created += 1,
                Enqueued::Duplicate(_) => sum.duplicates += 1,
            }
        }
        app.wake.notify_waiters();
        match page.next_cursor {
            Some(next) => app.store.state_put(&scope(id), &cursor_key(&job.key), next.as_bytes()).await?,
            None => {
                app.store.state_delete(&scope(id), &cursor_key(&job.key)).await?;
                let detail = format!(
                    "{} walk done in {} ms: {} page(s), {} new job(s), {} already known",
                    req.mode,
                    started.elapsed().as_millis(),
                    sum.pages,
                    sum.created,
                    sum.duplicates
                );
                audit(app, id, job.id, "ok", &detail).await?;
                return Ok(Outcome::Done);
            }
        }
    }
}

async fn audit(app: &App, connection: &str, job_id: i64, outcome: &str, detail: &str) -> anyhow::Result<()> {
    app.store
        .append_audit(&AuditEvent {
            id: 0,
            at: 0,
            connection: connection.to_string(),
            record_key: None,
            job_id: Some(job_id),
            stage: "poll".into(),
            outcome: outcome.into(),
            detail: detail.into(),
            component: None,
            duration_ms: None,
        })
        .await?;
    Ok(())
}
