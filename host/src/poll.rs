//! Poll jobs: walk a source's pages (backfill by `updated_at`, or the Events API for gap
//! detection) and turn every hit into a trigger job.
//!
//! The walk's cursor is saved after each page, under the poll job's key, before the next page
//! is asked for: a host killed mid-walk resumes from the last saved page when the job's lease
//! lapses, re-reading at most one page. Hits are enqueued with idempotency keys (the event id,
//! or kind/id/version for backfill), so a re-read page and events the webhooks already
//! delivered are duplicates, and only what is missing becomes work.

use std::time::Instant;

use mlc_store::{Enqueued, Job};

use crate::app::{App, Connection};
use crate::bindings::source::exports::ml_connector::plugin::source_api::{PollMode as WitPollMode, PollPage, PollRequest};
use crate::call::{Scope, call_component};
use crate::jobs::{PollJob, PollMode, TriggerJob, poll_job, trigger_job};
use crate::keys::{JobKey, RecordKey};
use crate::pipeline::Outcome;
use crate::timeline::{Label, Line};

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
pub async fn enqueue(app: &App, connection: &str, key: JobKey, job: &PollJob) -> anyhow::Result<Enqueued> {
    let enq = app.store.enqueue(poll_job(connection, key, job, app.config.host.max_attempts)?).await?;
    app.wake.notify_waiters();
    Ok(enq)
}

/// Enqueue a walk over `[since, until)` named by the store's clock; returns its key.
pub async fn enqueue_walk(
    app: &App,
    connection: &str,
    mode: PollMode,
    since: Option<i64>,
    until: Option<i64>,
) -> anyhow::Result<JobKey> {
    let key = JobKey::walk(mode, since, until, app.store.now().await?);
    enqueue(app, connection, key.clone(), &PollJob { mode, since, until }).await?;
    Ok(key)
}

pub async fn run(app: &App, conn: &Connection, job: &Job) -> anyhow::Result<Outcome> {
    let req: PollJob = serde_json::from_slice(&job.payload)?;
    let mode = match req.mode {
        PollMode::Backfill => WitPollMode::Backfill,
        PollMode::Events => WitPollMode::Events,
    };
    let id = conn.id();
    let started = Instant::now();
    let mut sum = PollSummary::default();
    loop {
        let cursor = app
            .store
            .state_get(&scope(id), &cursor_key(&job.key))
            .await?
            .map(|c| String::from_utf8_lossy(&c).into_owned());
        let request = PollRequest { mode, cursor, since: req.since, until: req.until };
        let page = call_component(app, id, &conn.source, Scope::default().job(Some(job.id)), async |store, source| {
            source.ml_connector_plugin_source_api().call_poll(store, &request).await
        })
        .await?;
        let page = match page {
            Ok(Ok(page)) => page,
            Ok(Err(e)) => {
                let outcome = crate::pipeline::source_outcome(e);
                let detail = format!("poll page failed after {} page(s): {outcome:?}", sum.pages);
                audit(app, id, job.id, Label::Retry, &detail).await?;
                return Ok(outcome);
            }
            Err(failure) => return Ok(Outcome::retry(format!("poll: {failure}"))),
        };
        sum.pages += 1;
        let next = page.next_cursor.clone();
        enqueue_hits(app, id, page, &mut sum).await?;
        match next {
            Some(next) => app.store.state_put(&scope(id), &cursor_key(&job.key), next.as_bytes()).await?,
            None => {
                app.store.state_delete(&scope(id), &cursor_key(&job.key)).await?;
                let detail = format!(
                    "{} walk done in {} ms: {} page(s), {} new job(s), {} already known",
                    req.mode.as_str(),
                    started.elapsed().as_millis(),
                    sum.pages,
                    sum.created,
                    sum.duplicates
                );
                audit(app, id, job.id, Label::Ok, &detail).await?;
                return Ok(Outcome::Done);
            }
        }
    }
}

/// Each hit of a page as a trigger job, keyed so a re-read page makes duplicates only.
async fn enqueue_hits(app: &App, id: &str, page: PollPage, sum: &mut PollSummary) -> anyhow::Result<()> {
    for item in page.items {
        let t = &item.trigger;
        let key = match (&t.event_id, &item.fetched) {
            (Some(ev), _) => JobKey::event(ev).map_err(|e| anyhow::anyhow!("event id from the source: {e}"))?,
            (None, Some(rec)) => JobKey::poll_hit(&RecordKey::of_record(rec), rec.version),
            (None, None) => JobKey::poll_hit(&RecordKey::of_trigger(t), t.occurred_at),
        };
        let job = TriggerJob { trigger: item.trigger, fetched: item.fetched };
        match app.store.enqueue(trigger_job(id, key, job, None, app.config.host.max_attempts)?).await? {
            Enqueued::Created(_) => sum.created += 1,
            Enqueued::Duplicate(_) => sum.duplicates += 1,
        }
    }
    app.wake.notify_waiters();
    Ok(())
}

async fn audit(app: &App, connection: &str, job_id: i64, label: Label, detail: &str) -> anyhow::Result<()> {
    app.store.append_audit(&Line::new(connection, "poll", label, detail).job(Some(job_id)).build()).await?;
    Ok(())
}
