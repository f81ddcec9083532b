//! One record through the stages, top-down: [`run_job`] → fetch (unless a poll page already
//! did) → map → wait for dependencies → write (customer first, then documents) → hand its
//! applies and voids to a settle job ([`settle`]), which waits for GP's posting. Every stage
//! appends to the record's timeline with its duration; stage outputs are kept on the record row
//! so a replay can restart from any stage.

mod deps;
mod dry_run;
mod outcome;
mod run;
mod settle;

use std::time::Instant;

use crate::app::{App, Connection};
use crate::bindings::mapper::exports::ml_connector::plugin::mapper_api::MappingError;
use crate::bindings::types::{LedgerDoc, SourceRecord, Trigger};
use crate::jobs::TriggerJob;
use crate::keys::RecordKey;
use crate::timeline::Label;

pub use deps::needs;
pub use outcome::{Outcome, Stage, doc_date, doc_label, kind_label, source_outcome};
use outcome::{outcome_str, summary, target_outcome};
use run::{Run, StageFailure};
pub use settle::run_settle;

/// A stage either goes on with its value or stops the run.
type Step<T> = anyhow::Result<Result<T, StageFailure>>;

pub async fn run(app: &App, conn: &Connection, trigger: &Trigger, job_id: Option<i64>) -> anyhow::Result<Outcome> {
    run_job(app, conn, &TriggerJob::new(trigger.clone()), job_id).await
}

/// A trigger job: fetch (unless a poll page already did) → map → wait → write.
pub async fn run_job(app: &App, conn: &Connection, job: &TriggerJob, job_id: Option<i64>) -> anyhow::Result<Outcome> {
    let key = RecordKey::of_trigger(&job.trigger).to_string();
    let run = &Run::new(app, conn, job_id);
    let outcome = match stages(run, job, &key).await? {
        Ok(()) => Outcome::Done,
        Err(f) => {
            let (label, detail) = f.outcome.label();
            if matches!(label, Label::Parked | Label::Waiting) {
                run.mark(&f.record_key, label.as_str(), Some(&detail)).await?;
            }
            tracing::info!(connection = %conn.id(), record = %f.record_key, stage = %f.stage, "{label}: {detail}");
            f.outcome
        }
    };
    // Lines no record write took along (a retry) are committed before the job settles.
    run.flush().await?;
    Ok(outcome)
}

async fn stages(run: &Run<'_>, job: &TriggerJob, key: &str) -> Step<()> {
    let records = match fetch(run, job, key).await? {
        Ok(r) => r,
        Err(f) => return Ok(Err(f)),
    };
    for rec in &records {
        if let Err(f) = record(run, rec).await? {
            return Ok(Err(f));
        }
    }
    Ok(Ok(()))
}

/// Stage 1: the records the trigger is about, re-fetched by id (never trusting a webhook body).
async fn fetch(run: &Run<'_>, job: &TriggerJob, key: &str) -> Step<Vec<SourceRecord>> {
    if let Some(rec) = &job.fetched {
        run.audit(Stage::Fetch, Label::Ok, key, Instant::now(), "fetched by the poll page (no call)").await?;
        return Ok(Ok(vec![rec.clone()]));
    }
    let t = Instant::now();
    let trigger = &job.trigger;
    let fetched = run
        .call(&run.conn.source, key, async |store, source| {
            source.ml_connector_plugin_source_api().call_fetch(store, trigger).await
        })
        .await?;
    match fetched {
        Ok(Ok(records)) => {
            run.audit(Stage::Fetch, Label::Ok, key, t, &format!("{} record(s)", records.len())).await?;
            Ok(Ok(records))
        }
        Ok(Err(e)) => run.fail(Stage::Fetch, key, t, source_outcome(e)).await,
        Err(failure) => run.failed_call(Stage::Fetch, key, t, failure).await,
    }
}

/// One fetched record: map, wait for what it needs, write — then one commit.
async fn record(run: &Run<'_>, rec: &SourceRecord) -> Step<()> {
    let (app, conn) = (run.app, run.conn);
    let rkey = RecordKey::of_record(rec).to_string();
    if app.store.record(conn.id(), &rkey).await?.is_some_and(|r| r.version > rec.version) {
        let detail = format!("version {} is older than the one already stored; skipped", rec.version);
        run.audit(Stage::Fetch, Label::Info, &rkey, Instant::now(), &detail).await?;
        return Ok(Ok(()));
    }
    let canonical = serde_json::to_string(rec)?;
    run.stage(run.row(&rkey, rec.version, "fetched", Some(canonical.clone()), None, None))?;
    let docs = match map(run, rec, &rkey).await? {
        Ok(d) => d,
        Err(f) => return Ok(Err(f)),
    };
    let ledger = serde_json::to_string(&docs)?;
    run.stage(run.row(&rkey, rec.version, "mapped", Some(canonical.clone()), Some(ledger.clone()), None))?;
    if conn.config.dry_run {
        dry_run::dry_run(run, &rkey, rec, &docs).await?;
        return Ok(Ok(()));
    }
    if let Some(wait) = agent_wait(app, conn) {
        return run.fail(Stage::Wait, &rkey, Instant::now(), wait).await;
    }
    // Dependencies: no document before its customer, no apply before its invoice.
    if let Some(wait) = deps::dependencies(app, conn, rec).await? {
        return run.fail(Stage::Wait, &rkey, Instant::now(), wait).await;
    }
    if let Err(f) = write(run, &rkey, &docs).await? {
        return Ok(Err(f));
    }
    // Written, and whatever waited for this record may go on: one commit.
    let row = run.row(&rkey, rec.version, "written", Some(canonical), Some(ledger), None);
    let done = run.commit(Some(row), Some(rkey.clone())).await?;
    // Applies and voids wait for GP's posting in a job of their own. Enqueued after the commit
    // and before this job's ack: a crash in between re-runs this job, which enqueues it again
    // (same key, one job).
    if docs.iter().any(settle::is_settlement) {
        let key = RecordKey::of_record(rec);
        let job = crate::jobs::settle_job(conn.id(), &key, rec.version, app.config.host.max_attempts)?;
        if let mlc_store::Enqueued::Created(_) = app.store.enqueue(job).await? {
            app.wake.notify_waiters();
        }
    }
    if done.released > 0 {
        app.wake.notify_waiters();
    }
    Ok(Ok(()))
}

/// Stage 2: the mapper (pure; settings as data) turns the record into ledger documents.
async fn map(run: &Run<'_>, rec: &SourceRecord, rkey: &str) -> Step<Vec<LedgerDoc>> {
    let t = Instant::now();
    let settings: Vec<(String, String)> =
        run.conn.config.settings.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mapped = run
        .call(&run.conn.mapper, rkey, async |store, mapper| {
            mapper.ml_connector_plugin_mapper_api().call_map(store, rec, &settings).await
        })
        .await?;
    match mapped {
        Ok(Ok(docs)) => {
            run.audit(Stage::Map, Label::Ok, rkey, t, &summary(&docs)).await?;
            Ok(Ok(docs))
        }
        Ok(Err(MappingError { field, message })) => {
            let reason = format!("mapping error at {field}: {message}");
            run.fail(Stage::Map, rkey, t, Outcome::Park { reason }).await
        }
        Err(failure) => run.failed_call(Stage::Map, rkey, t, failure).await,
    }
}

/// Stage 3: the target writes customers first (documents reference them), then documents;
/// applies and voids are the settle job's.
async fn write(run: &Run<'_>, rkey: &str, docs: &[LedgerDoc]) -> Step<()> {
    let mut ordered: Vec<&LedgerDoc> = docs.iter().filter(|d| matches!(d, LedgerDoc::Customer(_))).collect();
    ordered.extend(docs.iter().filter(|d| !matches!(d, LedgerDoc::Customer(_)) && !settle::is_settlement(d)));
    for doc in ordered {
        let t = Instant::now();
        let stage = if matches!(doc, LedgerDoc::Customer(_)) { Stage::EnsureCustomer } else { Stage::Write };
        let written = run
            .call(&run.conn.target, rkey, async |store, target| {
                let api = target.ml_connector_plugin_target_api();
                match doc {
                    LedgerDoc::Customer(c) => api.call_ensure_customer(store, c).await,
                    other => api.call_write_document(store, other).await,
                }
            })
            .await?;
        match written {
            Ok(Ok(outcome)) => {
                let detail = format!("{} {}", doc_label(doc), outcome_str(outcome));
                run.audit(stage, Label::Ok, rkey, t, &detail).await?
            }
            Ok(Err(e)) => return run.fail(stage, rkey, t, target_outcome(doc, e)).await,
            Err(failure) => return run.failed_call(stage, rkey, t, failure).await,
        }
    }
    Ok(Ok(()))
}

/// A connection through an agent with no tunnel to this process: its GP steps wait for one,
/// visibly ("offline since …"), instead of failing and burning attempts.
pub fn agent_wait(app: &App, conn: &Connection) -> Option<Outcome> {
    if !conn.config.via_agent() {
        return None;
    }
    let since = app.agents.offline_since(conn.id())?;
    let reason = format!("waiting for the agent: offline since {}", crate::agent::hub::since_text(since));
    Some(Outcome::Wait { wait_key: crate::keys::WaitKey::Agent, reason })
}

/// Records as canonical JSON (what a replay from the map stage would feed the mapper).
pub fn parse_record(json: &str) -> anyhow::Result<SourceRecord> {
    Ok(serde_json::from_str(json)?)
}
