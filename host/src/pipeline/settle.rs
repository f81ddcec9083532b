//! The settle step: a written record's applies and voids. GP applies and voids **posted**
//! documents, and its batches are posted by a person, so this runs as a job of its own
//! ([`crate::jobs::SettleJob`]) after the record's write: each apply or void goes to the
//! target's `settle`, which checks what GP holds first (a retry, a replay or a crash between the
//! apply and the ack never applies twice). An unposted batch makes the job wait on it, visibly;
//! the schedule asks GP whether the batch is posted and releases the job (`schedule`).

use std::time::Instant;

use crate::app::{App, Connection};
use crate::bindings::target::exports::ml_connector::plugin::target_api::SettleOutcome;
use crate::bindings::types::LedgerDoc;
use crate::jobs::SettleJob;
use crate::keys::{Batch, WaitKey};
use crate::timeline::Label;

use super::Step;
use super::outcome::{Outcome, Stage, doc_label, target_outcome};
use super::run::Run;

/// Whether the document is the settle step's (an apply or a void), not the write stage's.
pub fn is_settlement(doc: &LedgerDoc) -> bool {
    matches!(doc, LedgerDoc::Apply(_) | LedgerDoc::Void(_))
}

/// One settle job: every apply and void of the record's stored ledger documents, in order.
pub async fn run_settle(app: &App, conn: &Connection, job: &SettleJob, job_id: Option<i64>) -> anyhow::Result<Outcome> {
    let run = &Run::new(app, conn, job_id);
    let key = &job.record_key;
    let t = Instant::now();
    let row = app.store.record(conn.id(), key).await?;
    let docs: Vec<LedgerDoc> = match row {
        Some(r) if r.version > job.version => {
            let detail = format!("version {} was written since; its own settle step applies", r.version);
            run.audit(Stage::Apply, Label::Info, key, t, &detail).await?;
            run.flush().await?;
            return Ok(Outcome::Done);
        }
        Some(r) if r.version == job.version => match r.ledger {
            Some(ledger) => serde_json::from_str(&ledger)?,
            None => return Ok(Outcome::Park { reason: format!("{key}: no ledger documents stored to settle") }),
        },
        _ => {
            return Ok(Outcome::Park {
                reason: format!("{key}: version {} is not the stored one; replay the record", job.version),
            });
        }
    };
    let outcome = match settle_all(run, key, &docs).await? {
        Ok(()) => Outcome::Done,
        Err(f) => {
            let (label, detail) = f.outcome.label();
            tracing::info!(connection = %conn.id(), record = %key, stage = %f.stage, "{label}: {detail}");
            f.outcome
        }
    };
    run.flush().await?;
    Ok(outcome)
}

async fn settle_all(run: &Run<'_>, key: &str, docs: &[LedgerDoc]) -> Step<()> {
    if let Some(wait) = super::agent_wait(run.app, run.conn) {
        return run.fail(Stage::Apply, key, Instant::now(), wait).await;
    }
    for doc in docs.iter().filter(|d| is_settlement(d)) {
        if let Err(f) = settle_one(run, key, doc).await? {
            return Ok(Err(f));
        }
    }
    Ok(Ok(()))
}

async fn settle_one(run: &Run<'_>, key: &str, doc: &LedgerDoc) -> Step<()> {
    let stage = if matches!(doc, LedgerDoc::Void(_)) { Stage::Void } else { Stage::Apply };
    let label = doc_label(doc);
    let t = Instant::now();
    let settled = run
        .call(&run.conn.target, key, async |store, target| {
            target.ml_connector_plugin_target_api().call_settle(store, doc).await
        })
        .await?;
    let detail = match settled {
        Ok(Ok(SettleOutcome::Written(what))) => format!("{label}: {what}"),
        Ok(Ok(SettleOutcome::AlreadyDone)) => format!("{label}: already in GP"),
        Ok(Ok(SettleOutcome::Nothing(why))) => format!("{label}: nothing to do in GP ({why})"),
        Ok(Ok(SettleOutcome::Unposted(b))) => {
            let batch = Batch { source: b.source, id: b.id };
            let reason =
                format!("{label}: waiting for GP to post batch {batch} (GP applies and voids posted documents)");
            return run.fail(stage, key, t, Outcome::Wait { wait_key: WaitKey::Posting(batch), reason }).await;
        }
        Ok(Err(e)) => return run.fail(stage, key, t, target_outcome(doc, e)).await,
        Err(failure) => return run.failed_call(stage, key, t, failure).await,
    };
    run.audit(stage, Label::Ok, key, t, &detail).await?;
    Ok(Ok(()))
}
