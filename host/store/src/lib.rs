//! Durable store for ml-connector: the job queue, per-record state, the audit timeline,
//! component state (cursors), connection limits and encrypted secrets.
//!
//! One [`Store`] trait, two backends: SQLite (embedded default, one file, no setup) and
//! PostgreSQL (several host replicas sharing one queue). Both run the same test suite.
//! All times are unix milliseconds taken from the *database's* clock, so replicas on
//! different machines agree on leases and run_at.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub type Millis = i64;
pub type JobId = i64;

/// What to enqueue. `(connection, key)` is unique forever: a second enqueue of the same key is
/// a no-op that reports [`Enqueued::Duplicate`]. Re-running a finished job is an explicit
/// [`Store::replay`], never a new enqueue.
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
    /// mapping error); resumes only by [`Store::resume_parked`] or replay.
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

/// One line of a record's append-only timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Assigned by the store; 0 when appending.
    pub id: i64,
    /// Assigned by the store (db clock); ignored when appending.
    pub at: Millis,
    pub connection: String,
    pub record_key: Option<String>,
    pub job_id: Option<JobId>,
    /// intake | fetch | map | write | ensure-customer | http | queue | ...
    pub stage: String,
    /// ok | info | retry | waiting | parked | failed | denied
    pub outcome: String,
    pub detail: String,
    /// sha256 of the component that acted, if any.
    pub component: Option<String>,
    pub duration_ms: Option<i64>,
}

/// Per-record state: the latest known version and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRow {
    pub connection: String,
    /// e.g. "invoice/inv_123"
    pub record_key: String,
    pub version: i64,
    /// received | fetched | mapped | written | waiting | parked | failed
    pub state: String,
    /// JSON outputs of each stage so a replay can restart from any stage.
    pub canonical: Option<String>,
    pub ledger: Option<String>,
    pub last_error: Option<String>,
    pub updated_at: Millis,
}

/// The bookkeeping of one pipeline step, written as one transaction: one durable commit instead
/// of one per row (the per-record cost that benches/overhead.rs measures).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Appended in order.
    pub audits: Vec<AuditEvent>,
    /// Put under [`Store::put_record`]'s version rule.
    pub record: Option<RecordRow>,
    /// `(connection, wait_key)`: the jobs waiting for it become available, as [`Store::release`].
    pub release: Option<(String, String)>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Committed {
    /// False when a higher version of the record was already stored (the row is untouched).
    pub record_put: bool,
    pub released: u64,
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

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;

    /// The database clock, unix ms.
    async fn now(&self) -> anyhow::Result<Millis>;

    // ---------------------------------------------------------------- queue

    async fn enqueue(&self, job: NewJob) -> anyhow::Result<Enqueued>;

    /// [`Store::enqueue`] and, when the job is created, `audit` (its `job_id` set to the new
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
    /// available at once instead: checked atomically with [`Store::commit`]'s release, so a
    /// record written while the job decides to wait never leaves it waiting.
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

    // ---------------------------------------------------------------- records and audit

    /// Insert or update a record's row. A row with a higher stored version is not overwritten
    /// by a lower one; returns false then.
    async fn put_record(&self, row: &RecordRow) -> anyhow::Result<bool>;
    async fn record(&self, connection: &str, record_key: &str) -> anyhow::Result<Option<RecordRow>>;

    /// Audit events, a record row and a release as one transaction (all or nothing).
    async fn commit(&self, batch: &Batch) -> anyhow::Result<Committed>;

    /// Append to the timeline; returns the event id. There is no update or delete.
    async fn append_audit(&self, event: &AuditEvent) -> anyhow::Result<i64>;
    /// Events for a record (oldest first), or for a job when `record_key` is None.
    async fn audit(
        &self,
        connection: &str,
        record_key: Option<&str>,
        job_id: Option<JobId>,
    ) -> anyhow::Result<Vec<AuditEvent>>;

    // ---------------------------------------------------------------- component state

    async fn state_get(&self, scope: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>>;
    async fn state_put(&self, scope: &str, key: &str, value: &[u8]) -> anyhow::Result<()>;
    async fn state_delete(&self, scope: &str, key: &str) -> anyhow::Result<()>;

    // ---------------------------------------------------------------- secrets (ciphertext only)

    async fn secret_put(&self, name: &str, ciphertext: &[u8]) -> anyhow::Result<()>;
    async fn secret_get(&self, name: &str) -> anyhow::Result<Option<Vec<u8>>>;
}

/// Open a store from a URL: `sqlite://path/file.db` (created if missing) or
/// `postgres://...`. Runs the embedded migrations.
pub async fn open(url: &str) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(backend::postgres::PgStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(std::sync::Arc::new(backend::sqlite::SqliteStore::connect(url).await?))
    } else {
        anyhow::bail!("unsupported database URL (use sqlite://file.db or postgres://…)")
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

mod backend;
pub use backend::{postgres::PgStore, sqlite::SqliteStore};
