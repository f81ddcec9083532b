//! Dependency waits: no document before its customer is in GP, no apply before its invoice (or,
//! for a refund, before the credit notes it pays out). A
//! record whose dependency is missing waits on the dependency's key (visibly, no busy loop),
//! after making sure a job will bring it (a fetch of the missing record, keyed so that many
//! waiters make one job).

use crate::app::{App, Connection};
use crate::bindings::types::{RecordBody, SourceRecord, Trigger};
use crate::jobs::{TriggerJob, trigger_job};
use crate::keys::{JobKey, RecordKey, WaitKey};

use super::outcome::Outcome;

/// Records this one needs in GP first.
pub fn needs(rec: &SourceRecord) -> Vec<RecordKey> {
    let mut out = Vec::new();
    match &rec.body {
        RecordBody::Customer(_) => {}
        RecordBody::Invoice(i) => out.push(RecordKey::customer(&i.customer_id)),
        RecordBody::Payment(p) => {
            out.push(RecordKey::customer(&p.customer_id));
            out.extend(p.allocations.iter().map(|a| RecordKey::invoice(&a.invoice_id)));
            // A refund pays out refundable credit notes: their credit memos apply to its debit memo.
            out.extend(p.credit_notes.iter().map(|c| RecordKey::credit_note(&c.credit_note_id)));
        }
        RecordBody::CreditNote(c) => {
            out.push(RecordKey::customer(&c.customer_id));
            out.extend(c.reference_invoice_id.iter().map(RecordKey::invoice));
            out.extend(c.allocations.iter().map(|a| RecordKey::invoice(&a.invoice_id)));
        }
    }
    out.dedup();
    out
}

/// The first unmet dependency as a wait, after making sure a job will bring it.
pub async fn dependencies(app: &App, conn: &Connection, rec: &SourceRecord) -> anyhow::Result<Option<Outcome>> {
    if rec.deleted || !conn.config.wait_for_dependencies {
        return Ok(None);
    }
    for dep in needs(rec) {
        let key = dep.to_string();
        let written = app.store.record(conn.id(), &key).await?.is_some_and(|r| r.state == "written");
        if written {
            continue;
        }
        if !already_coming(app, conn, &key).await? {
            let trigger = Trigger {
                event_id: None,
                event_type: "dependency".into(),
                kind: dep.kind,
                resource_id: dep.id.clone(),
                occurred_at: 0,
            };
            let job = trigger_job(
                conn.id(),
                JobKey::dependency(&dep),
                TriggerJob::new(trigger),
                None,
                app.config.host.max_attempts,
            )?;
            if let mlc_store::Enqueued::Created(_) = app.store.enqueue(job).await? {
                app.wake.notify_waiters();
            }
        }
        return Ok(Some(Outcome::Wait {
            reason: format!("waiting for {dep} to be in GP first"),
            wait_key: WaitKey::Record(dep),
        }));
    }
    Ok(None)
}

/// Whether a job that will bring the record is queued already (a backfill page, a webhook):
/// then waiting is enough, and the source is not asked again.
async fn already_coming(app: &App, conn: &Connection, key: &str) -> anyhow::Result<bool> {
    use mlc_store::JobState::{Available, Running, Waiting};
    let filter = mlc_store::JobFilter {
        connection: Some(conn.id().to_string()),
        states: vec![Available, Running, Waiting],
        record_key_prefix: Some(key.to_string()),
        limit: Some(20),
        ..Default::default()
    };
    Ok(app.store.jobs(&filter).await?.iter().any(|j| j.record_key.as_deref() == Some(key)))
}
