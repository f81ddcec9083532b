//! The SQLite backend, the embedded default: its dialect and how a store is opened.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult, SqliteSynchronous};
use sqlx::{Executor, Pool, Sqlite, SqliteConnection};

use crate::sql::{Dialect, Driver, RowsAffected, SqlStore};

/// The embedded default: one file, WAL with `synchronous = FULL` — a commit is on disk before it
/// returns, so a webhook answered 200 survives a power cut (NORMAL could lose the last
/// transactions of a WAL; the cost is one fsync per commit, measured in the ingest benchmark).
/// Reads use a pool; every write goes through one
/// connection (`writer`), so this process's writers queue in order instead of meeting
/// SQLITE_BUSY and sleeping in SQLite's busy handler (1, 2, 5, 10… ms: measured ~10 ms per
/// commit with 8 jobs running). `BEGIN IMMEDIATE` and the busy timeout still serialise
/// against other processes on the same file.
pub type SqliteStore = SqlStore<Sqlite>;

impl SqlStore<Sqlite> {
    pub async fn connect(url: &str) -> anyhow::Result<SqliteStore> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(15))
            .foreign_keys(true);
        if let Some(dir) = opts.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(opts.clone()).await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await.context("migrating the SQLite store")?;
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await?;
        Ok(SqliteStore { pool, writer })
    }
}

impl Dialect for Sqlite {
    const BACKEND: &'static str = "sqlite";
    const NOW: &'static str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
    // No row locks: `BEGIN IMMEDIATE` takes the database's one write lock for the transaction.
    const FOR_UPDATE: &'static str = "";
    const SKIP_LOCKED: &'static str = "";
    const BEGIN: &'static str = "BEGIN IMMEDIATE";
    const LOCK_WAIT_KEY: Option<&'static str> = None;
}

impl Driver for Sqlite {
    fn on_pool(pool: &Pool<Sqlite>) -> impl Executor<'_, Database = Sqlite> {
        pool
    }
    fn on_conn(conn: &mut SqliteConnection) -> impl Executor<'_, Database = Sqlite> {
        conn
    }
}

impl RowsAffected for SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        SqliteQueryResult::rows_affected(self)
    }
}
