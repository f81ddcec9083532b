//! Durable store for ml-connector: the job queue, per-record state, the audit timeline,
//! component state (cursors), connection limits and encrypted secrets.
//!
//! One trait per concern ([`JobQueue`], [`Records`], [`Timeline`], [`ComponentState`],
//! [`SecretStore`], [`AdminTokens`]); [`Store`] is all of them, what the host holds as `Arc<dyn Store>`. Two
//! backends share one generic SQL implementation ([`sql::SqlStore`]): SQLite (embedded
//! default, one file, no setup) and PostgreSQL (several host replicas sharing one queue). Both
//! run the same test suite. All times are unix milliseconds taken from the *database's* clock,
//! so replicas on different machines agree on leases and run_at.

mod queue;
mod records;
mod secrets;
mod state;
mod timeline;
mod tokens;

pub mod postgres;
pub mod sql;
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

pub use postgres::PgStore;
pub use queue::{
    Backoff, Enqueued, Job, JobFilter, JobId, JobQueue, JobState, Millis, NewJob, QueueStats, Retried, Retry,
    backoff_delay,
};
pub use records::{Batch, Committed, RecordRow, Records};
pub use secrets::{SecretMeta, SecretStore};
pub use sqlite::SqliteStore;
pub use state::ComponentState;
pub use timeline::{AuditEvent, Timeline};
pub use tokens::{AdminToken, AdminTokens};

/// The whole store: every concern's trait. Implemented for anything that implements them all,
/// so a backend implements the five and callers keep one `Arc<dyn Store>`.
pub trait Store: JobQueue + Records + Timeline + ComponentState + SecretStore + AdminTokens {}

impl<T: JobQueue + Records + Timeline + ComponentState + SecretStore + AdminTokens> Store for T {}

/// Open a store from a URL: `sqlite://path/file.db` (created if missing) or
/// `postgres://...`. Runs the embedded migrations.
pub async fn open(url: &str) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(PgStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(std::sync::Arc::new(SqliteStore::connect(url).await?))
    } else {
        anyhow::bail!("unsupported database URL (use sqlite://file.db or postgres://…)")
    }
}
