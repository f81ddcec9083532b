//! `queue`: a guest (e.g. a source's poll) enqueues follow-up triggers. The host prefixes the
//! connection, so a guest can only enqueue work for the connection it runs for.

use std::sync::Arc;

use mlc_store::{Enqueued, NewJob};
use tokio::sync::Notify;

use crate::bindings::host::ml_connector::plugin::queue::{Enqueued as WitEnqueued, Host};
use crate::bindings::types::{RecordKind, SourceRecord, Trigger};

use super::InstanceState;

/// Enqueues one instance may make (a poll page is at most 100 triggers).
const MAX_ENQUEUES: usize = 1000;

pub struct QueueCap {
    pub max_attempts: i32,
    /// Wakes this process's workers after an enqueue.
    pub wake: Arc<Notify>,
    pub enqueued: usize,
}

pub fn record_kind_str(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Customer => "customer",
        RecordKind::Invoice => "invoice",
        RecordKind::Payment => "payment",
        RecordKind::CreditNote => "credit_note",
    }
}

/// `invoice/inv_123`: how records are named in jobs, audit and the records table.
pub fn record_key(trigger: &Trigger) -> String {
    format!("{}/{}", record_kind_str(trigger.kind), trigger.resource_id)
}

/// A "trigger" job's payload: the trigger, and the record when a poll page already fetched it
/// from the source's API (then the job makes no fetch call of its own).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TriggerJob {
    #[serde(flatten)]
    pub trigger: Trigger,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched: Option<SourceRecord>,
}

/// The job for a trigger, as webhook intake, polls and guests enqueue it.
pub fn trigger_job(
    connection: &str,
    key: String,
    trigger: &Trigger,
    not_before: Option<i64>,
    max_attempts: i32,
) -> anyhow::Result<NewJob> {
    fetched_job(connection, key, TriggerJob { trigger: trigger.clone(), fetched: None }, not_before, max_attempts)
}

pub fn fetched_job(
    connection: &str,
    key: String,
    job: TriggerJob,
    not_before: Option<i64>,
    max_attempts: i32,
) -> anyhow::Result<NewJob> {
    let trigger = &job.trigger;
    Ok(NewJob {
        connection: connection.to_string(),
        key,
        kind: "trigger".into(),
        payload: serde_json::to_vec(&job)?,
        not_before,
        max_attempts,
        record_key: Some(record_key(trigger)),
    })
}

impl Host for InstanceState {
    async fn enqueue(
        &mut self,
        key: String,
        trigger: Trigger,
        not_before: Option<i64>,
    ) -> anyhow::Result<Result<WitEnqueued, String>> {
        if key.is_empty() || key.len() > 200 {
            return Ok(Err("job key must be 1..=200 bytes".into()));
        }
        if self.caps.queue.enqueued >= MAX_ENQUEUES {
            return Ok(Err(format!("at most {MAX_ENQUEUES} enqueues per call")));
        }
        let job = trigger_job(&self.caps.call.connection, key, &trigger, not_before, self.caps.queue.max_attempts)?;
        let outcome = self.caps.store.enqueue(job).await?;
        self.caps.queue.enqueued += 1;
        Ok(Ok(match outcome {
            Enqueued::Created(_) => {
                self.caps.queue.wake.notify_waiters();
                WitEnqueued::Created
            }
            Enqueued::Duplicate(_) => WitEnqueued::Duplicate,
        }))
    }
}
