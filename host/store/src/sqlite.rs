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
        let (url, synchronous) = synchronous_of(url)?;
        if synchronous != SqliteSynchronous::Full {
            tracing::warn!(
                "SQLite store with synchronous={synchronous:?}: a power cut can lose webhooks already answered 200"
            );
        }
        let opts = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
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

/// `?synchronous=full|normal` on the URL (default full): `normal` trades the last commits'
/// durability on a power cut for speed — for measuring what FULL costs, not for production.
fn synchronous_of(url: &str) -> anyhow::Result<(String, SqliteSynchronous)> {
    let Some((base, query)) = url.split_once('?') else { return Ok((url.to_string(), SqliteSynchronous::Full)) };
    let mut kept = Vec::new();
    let mut sync = SqliteSynchronous::Full;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("synchronous", "full")) => sync = SqliteSynchronous::Full,
            Some(("synchronous", "normal")) => sync = SqliteSynchronous::Normal,
            Some(("synchronous", other)) => anyhow::bail!("synchronous={other:?}: use full (default) or normal"),
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    Ok((url, sync))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn synchronous_defaults_to_full_and_normal_is_explicit() {
        assert_eq!(synchronous_of("sqlite://a.db").unwrap(), ("sqlite://a.db".into(), SqliteSynchronous::Full));
        let (url, sync) = synchronous_of("sqlite://a.db?synchronous=normal&mode=rwc").unwrap();
        assert_eq!((url.as_str(), sync), ("sqlite://a.db?mode=rwc", SqliteSynchronous::Normal));
        assert!(synchronous_of("sqlite://a.db?synchronous=off").is_err());
    }
}
