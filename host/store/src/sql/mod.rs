//! The SQL implementation of every store trait, written once and generic over the database.
//!
//! The two backends' SQL is the same text but for a few dialect pieces — the database clock,
//! `FOR UPDATE [SKIP LOCKED]`, how a write transaction begins and the lock a wait key takes —
//! which [`Dialect`] supplies ([`crate::sqlite`], [`crate::postgres`]), so the backends cannot
//! drift apart. One file per concern, as the traits: `queue.rs`, `records.rs`, `timeline.rs`,
//! `state.rs`, `secrets.rs`; `driver.rs` states what the code needs of sqlx.

mod driver;
mod queue;
mod records;
mod secrets;
mod state;
mod timeline;
mod tokens;

use anyhow::Context;
use sqlx::{AssertSqlSafe, Database, Executor, Pool, Transaction};

pub use driver::{Binds, BuilderExt, Driver, QueryExt, Reads, RowExt, RowsAffected};

/// A backend's SQL dialect: the pieces of SQL text in which SQLite and PostgreSQL differ.
pub trait Dialect: Driver {
    /// "sqlite" or "postgres", as [`crate::JobQueue::backend`] says.
    const BACKEND: &'static str;
    /// The database clock as unix ms, an SQL expression.
    const NOW: &'static str;
    /// Appended to the claim's read of a connection's limit row, to hold it against other
    /// claimers until the claim commits.
    const FOR_UPDATE: &'static str;
    /// Appended to the claim's choice of jobs, to pass over rows another claimer holds.
    const SKIP_LOCKED: &'static str;
    /// How a write transaction begins.
    const BEGIN: &'static str;
    /// A statement that locks wait key `$1` until the transaction ends, serialising a record's
    /// write-and-release with a job starting to wait for it (see [`crate::JobQueue::wait_for`]);
    /// `None` where the backend has one writer at a time anyway.
    const LOCK_WAIT_KEY: Option<&'static str>;
}

/// A store on one SQL database: reads go to `pool`, writes to `writer` (the same pool on
/// PostgreSQL; one connection on SQLite, see [`crate::SqliteStore`]).
pub struct SqlStore<DB: Database> {
    pub pool: Pool<DB>,
    pub writer: Pool<DB>,
}

impl<DB: Dialect> SqlStore<DB> {
    fn reads(&self) -> impl Executor<'_, Database = DB> {
        DB::on_pool(&self.pool)
    }

    fn writes(&self) -> impl Executor<'_, Database = DB> {
        DB::on_pool(&self.writer)
    }

    /// A write transaction, begun the dialect's way; `what` names the operation in errors.
    async fn begin(&self, what: &str) -> anyhow::Result<Transaction<'static, DB>> {
        self.writer.begin_with(DB::BEGIN).await.with_context(|| format!("{what}: begin"))
    }
}

/// The columns of a [`crate::Job`], in the order `queue.rs` reads them.
const JOB_COLUMNS: &str = "id, connection, key, kind, payload, record_key, state, attempt, max_attempts, run_at, \
                           lease_owner, lease_until, wait_key, last_error, created_at, updated_at";

/// `template` with the dialect filled in: `{now}`, `{for_update}`, `{skip_locked}` (see
/// [`Dialect`]) and `{job_columns}`. Every piece is a constant of this crate, never input, so
/// the text is safe to send as SQL; sqlx caches the statement by its text as before.
fn sql<DB: Dialect>(template: &str) -> AssertSqlSafe<String> {
    AssertSqlSafe(
        template
            .replace("{now}", DB::NOW)
            .replace("{for_update}", DB::FOR_UPDATE)
            .replace("{skip_locked}", DB::SKIP_LOCKED)
            .replace("{job_columns}", JOB_COLUMNS),
    )
}
