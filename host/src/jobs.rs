//! Jobs as the host enqueues them: their kinds and payloads (a trigger to run through the
//! pipeline, or a walk over the source's pages), and the one builder of each.

use mlc_store::NewJob;
use serde::{Deserialize, Serialize};

use crate::bindings::types::{SourceRecord, Trigger};
use crate::keys::{JobKey, RecordKey};

/// The two kinds of job, as the store's `kind` column names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// One record through the pipeline ([`TriggerJob`]).
    Trigger,
    /// A walk over the source's pages ([`PollJob`]).
    Poll,
    /// The applies and voids of a written record, once GP has posted ([`SettleJob`]).
    Settle,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Trigger => "trigger",
            JobKind::Poll => "poll",
            JobKind::Settle => "settle",
        }
    }

    pub fn parse(text: &str) -> Option<JobKind> {
        match text {
            "trigger" => Some(JobKind::Trigger),
            "poll" => Some(JobKind::Poll),
            "settle" => Some(JobKind::Settle),
            _ => None,
        }
    }
}

/// A trigger job's payload: the trigger, and the record when a poll page already fetched it
/// from the source's API (then the job makes no fetch call of its own).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TriggerJob {
    #[serde(flatten)]
    pub trigger: Trigger,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched: Option<SourceRecord>,
}

/// What a walk reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PollMode {
    /// Everything updated in the window, customers first.
    Backfill,
    /// The Events API, for events no webhook delivered.
    Events,
}

impl PollMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PollMode::Backfill => "backfill",
            PollMode::Events => "events",
        }
    }
}

/// A poll job's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollJob {
    pub mode: PollMode,
    /// Unix seconds; the window is [since, until).
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// The job for a trigger (webhook intake, guests, dependency fetches), or for a record a poll
/// page already fetched.
pub fn trigger_job(
    connection: &str,
    key: JobKey,
    job: TriggerJob,
    not_before: Option<i64>,
    max_attempts: i32,
) -> anyhow::Result<NewJob> {
    let record = RecordKey::of_trigger(&job.trigger);
    Ok(NewJob {
        connection: connection.to_string(),
        key: key.into_string(),
        kind: JobKind::Trigger.as_str().into(),
        payload: serde_json::to_vec(&job)?,
        not_before,
        max_attempts,
        record_key: Some(record.to_string()),
    })
}

/// A settle job's payload: the record whose stored ledger documents hold the applies and voids,
/// at the version that was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettleJob {
    pub record_key: String,
    pub version: i64,
}

/// The job that settles a written record (its key names record and version: once per version).
pub fn settle_job(connection: &str, record: &RecordKey, version: i64, max_attempts: i32) -> anyhow::Result<NewJob> {
    let job = SettleJob { record_key: record.to_string(), version };
    Ok(NewJob {
        connection: connection.to_string(),
        key: JobKey::settle(record, version).into_string(),
        kind: JobKind::Settle.as_str().into(),
        payload: serde_json::to_vec(&job)?,
        not_before: None,
        max_attempts,
        record_key: Some(record.to_string()),
    })
}

/// The job for a walk.
pub fn poll_job(connection: &str, key: JobKey, job: &PollJob, max_attempts: i32) -> anyhow::Result<NewJob> {
    Ok(NewJob {
        connection: connection.to_string(),
        key: key.into_string(),
        kind: JobKind::Poll.as_str().into(),
        payload: serde_json::to_vec(job)?,
        not_before: None,
        max_attempts,
        record_key: None,
    })
}

impl PollJob {
    /// The walk's job key, named by its window and `at` (when it was asked for; 0 = the window
    /// alone names it).
    pub fn key(&self, at: i64) -> JobKey {
        let (since, until) = (self.since.unwrap_or(0), self.until.unwrap_or(0));
        JobKey::composed(format!("{}:{since}:{until}:{at}", self.mode.as_str()))
    }
}

impl TriggerJob {
    /// A trigger the job will fetch itself.
    pub fn new(trigger: Trigger) -> TriggerJob {
        TriggerJob { trigger, fetched: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_keep_their_wire_form() {
        let j = PollJob { mode: PollMode::Backfill, since: None, until: Some(3) };
        let text = serde_json::to_string(&j).unwrap_or_default();
        assert_eq!(text, r#"{"mode":"backfill","since":null,"until":3}"#);
        assert_eq!(JobKind::parse(JobKind::Poll.as_str()), Some(JobKind::Poll));
        let walk = PollJob { mode: PollMode::Events, since: Some(5), until: None };
        assert_eq!(walk.key(9).as_str(), "events:5:0:9");
    }
}
