//! The job queue: what a job is, how it moves between states, and the [`JobQueue`] trait that
//! enqueues, claims under a lease and settles jobs.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::AuditEvent;

pub type Millis = i64;
pub type JobId = i64;

/// What to enqueue. `(connection, key)` is unique forever: a second enqueue of the same key is
/// a no-op that reports [`Enqueued::Duplicate`]. Re-running a finished job is an explicit
/// [`JobQueue::replay`], never a new enqueue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewJob {
    pub connection: String,
    pub key: String,
    /// What the worker does with it, e.g. "trigger", "poll".
    pub kind: String,
    /// JSON the worker understands for `kind`.
    pub payload: Vec<u8>,
    /// Not claimable before this time (db clock, unix ms).
    pub not_before: Option<Millis>,
    pub max_attempts: i32,
    /// Record this job is about (e.g. "invoice/inv_123"), for audit and replay filters.
    pub record_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    Created(JobId),
    Duplicate(JobId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Claimable once run_at has passed.
    Available,
    /// Claimed; owned by `lease_owner` until `lease_until`. An expired lease is claimable again.
    Running,
    /// Waiting for `wait_key` to be released (a customer or invoice to exist in GP).
    Waiting,
    /// Stopped with a reason that needs a change elsewhere (closed fiscal period, conflict,
    /// mapping error); resumes only by [`JobQueue::resume_parked`] or replay.
    Parked,
    Done,
    /// Out of attempts; `last_error` says why.
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Available => "available",
            JobState::Running => "running",
            JobState::Waiting => "waiting",
            JobState::Parked => "parked",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }
    pub fn parse(s: &str) -> Option<JobState> {
        Some(match s {
            "available" => JobState::Available,
            "running" => JobState::Running,
            "waiting" => JobState::Waiting,
            "parked" => JobState::Parked,
            "done" => JobState::Done,
            "dead" => JobState::Dead,
            _ => return None,
        })
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub connection: String,
    pub key: String,
    pub kind: String,
    pub payload: Vec<u8>,
    pub record_key: Option<String>,
    pub state: JobState,
    /// Attempts started so far (incremented by each claim; a snooze gives one back).
    pub attempt: i32,
    pub max_attempts: i32,
    pub run_at: Millis,
    pub lease_owner: Option<String>,
    pub lease_until: Option<Millis>,
    pub wait_key: Option<String>,
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// How to reschedule a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Capped exponential backoff with jitter ([`backoff_delay`]); counts as an
    /// attempt; after `max_attempts` the job is dead.
    Backoff,
    /// Not before `delay_ms` from now (a Retry-After). Does not use up an attempt ("snooze");
    /// never shortened by jitter.
    After { delay_ms: Millis },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retried {
    /// Rescheduled at this db time.
    At(Millis),
    Dead,
    /// The caller no longer holds the lease (fenced): nothing changed.
    LostLease,
}

/// Backoff parameters; see [`backoff_delay`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base_ms: Millis,
    pub cap_ms: Millis,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base_ms: 1_000, cap_ms: 300_000 }
    }
}

/// Delay before retry `attempt` (1-based): equal jitter over `min(cap, base · 2^(attempt−1))`,
/// so retries spread out (no lockstep after an outage) but still grow.
pub fn backoff_delay(b: Backoff, attempt: i32) -> Millis {
    use rand::Rng;
    let exp = attempt.saturating_sub(1).clamp(0, 32) as u32;
    let ceiling = b.base_ms.max(1).saturating_mul(1i64 << exp).min(b.cap_ms.max(1));
    let half = ceiling / 2;
    half + rand::rng().random_range(0..=ceiling - half)
}

/// Filter for listing and replaying jobs. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub connection: Option<String>,
    pub states: Vec<JobState>,
    pub record_key_prefix: Option<String>,
    pub created_after: Option<Millis>,
    pub created_before: Option<Millis>,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStats {
    pub available: i64,
    pub running: i64,
    pub waiting: i64,
    pub parked: i64,
    pub done: i64,
    pub dead: i64,
}

/// The durable job queue. Every update by a worker is fenced by its lease: a worker that lost
/// the lease changes nothing and is told so.
#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;

    /// The database clock, unix ms: the clock of every lease and run_at.
    async fn now(&self) -> anyhow::Result<Millis>;

    async fn enqueue(&self, job: NewJob) -> anyhow::Result<Enqueued>;

    /// [`JobQueue::enqueue`] and, when the job is created, `audit` (its `job_id` set to the new
    /// job's) in the same transaction: the intake's "queued" line costs no second commit.
    async fn enqueue_audited(&self, job: NewJob, audit: AuditEvent) -> anyhow::Result<Enqueued>;

    /// Set the most jobs of `connection` that may run at once (the GP pacing limit). Holds
    /// across every process sharing the database. Connections without a row are unlimited.
    async fn set_connection_limit(&self, connection: &str, max_running: i32) -> anyhow::Result<()>;

    /// Claim up to `max` due jobs for `owner` with a lease of `lease_ms`, never exceeding any
    /// connection's limit (counting running jobs with unexpired leases), and skipping rows other
    /// claimers hold. Expired leases are claimable again; one whose attempts are used up becomes
    /// dead instead. Each claimed job's attempt is incremented.
    async fn claim(&self, owner: &str, lease_ms: Millis, max: usize) -> anyhow::Result<Vec<Job>>;

    /// Extend the lease; false if `owner` no longer holds it.
    async fn heartbeat(&self, id: JobId, owner: &str, lease_ms: Millis) -> anyhow::Result<bool>;

    /// Mark done; false if `owner` no longer holds the lease (fenced, nothing changed).
    async fn ack(&self, id: JobId, owner: &str) -> anyhow::Result<bool>;

    /// Reschedule after a failure, or dead-letter when attempts are used up.
    async fn retry(&self, id: JobId, owner: &str, error: &str, how: Retry, backoff: Backoff)
    -> anyhow::Result<Retried>;

    /// Stop the job with a reason that needs outside action; false if fenced.
    async fn park(&self, id: JobId, owner: &str, reason: &str) -> anyhow::Result<bool>;

    /// Put the job to wait for `wait_key` (no attempt used); false if fenced. When `wait_key`
    /// names a record of the job's connection that is already written, the job is made
    /// available at once instead: checked atomically with [`crate::Records::commit`]'s release,
    /// so a record written while the job decides to wait never leaves it waiting.
    async fn wait_for(&self, id: JobId, owner: &str, wait_key: &str, reason: &str) -> anyhow::Result<bool>;

    /// Make every job of `connection` waiting for `wait_key` available now. Returns how many.
    async fn release(&self, connection: &str, wait_key: &str) -> anyhow::Result<u64>;

    /// Make parked jobs matching the filter available again (attempts reset). Returns how many.
    async fn resume_parked(&self, filter: &JobFilter) -> anyhow::Result<u64>;

    /// Explicit replay: jobs matching the filter (any state but running) become available with
    /// attempts reset. Returns how many.
    async fn replay(&self, filter: &JobFilter) -> anyhow::Result<u64>;

    async fn job(&self, id: JobId) -> anyhow::Result<Option<Job>>;
    async fn job_by_key(&self, connection: &str, key: &str) -> anyhow::Result<Option<Job>>;
    async fn jobs(&self, filter: &JobFilter) -> anyhow::Result<Vec<Job>>;
    async fn stats(&self, connection: Option<&str>) -> anyhow::Result<QueueStats>;
}
