//! [`Records`] in SQL: record rows under the version rule, and [`Records::commit`], a pipeline
//! step's audit lines, record row and release in one transaction.

use anyhow::Context;
use async_trait::async_trait;
use sqlx::Executor;

use super::queue::{lock_wait_key, release_on};
use super::timeline::append_audits_on;
use super::{Dialect, QueryExt, RowExt, RowsAffected, SqlStore, sql};
use crate::{Batch, Committed, RecordRow, Records};

/// Insert or update `row` unless a higher version is stored; true if written.
async fn put_record_on<'e, DB: Dialect>(e: impl Executor<'e, Database = DB>, row: &RecordRow) -> anyhow::Result<bool> {
    let r = sqlx::query(sql::<DB>(
        "INSERT INTO records (connection, record_key, version, state, canonical, ledger, last_error, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, {now}) \
         ON CONFLICT (connection, record_key) DO UPDATE SET version = excluded.version, state = excluded.state, \
         canonical = COALESCE(excluded.canonical, records.canonical), \
         ledger = COALESCE(excluded.ledger, records.ledger), \
         last_error = excluded.last_error, updated_at = excluded.updated_at \
         WHERE records.version <= excluded.version",
    ))
    .arg(row.connection.as_str())
    .arg(row.record_key.as_str())
    .arg(row.version)
    .arg(row.state.as_str())
    .arg(row.canonical.as_deref())
    .arg(row.ledger.as_deref())
    .arg(row.last_error.as_deref())
    .execute(e)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[async_trait]
impl<DB: Dialect> Records for SqlStore<DB> {
    async fn put_record(&self, row: &RecordRow) -> anyhow::Result<bool> {
        put_record_on(self.writes(), row).await
    }

    async fn record(&self, connection: &str, record_key: &str) -> anyhow::Result<Option<RecordRow>> {
        let row = sqlx::query(
            "SELECT connection, record_key, version, state, canonical, ledger, last_error, updated_at \
             FROM records WHERE connection = $1 AND record_key = $2",
        )
        .arg(connection)
        .arg(record_key)
        .fetch_optional(self.reads())
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(RecordRow {
            connection: r.col("connection")?,
            record_key: r.col("record_key")?,
            version: r.col("version")?,
            state: r.col("state")?,
            canonical: r.col("canonical")?,
            ledger: r.col("ledger")?,
            last_error: r.col("last_error")?,
            updated_at: r.col("updated_at")?,
        }))
    }

    async fn commit(&self, batch: &Batch) -> anyhow::Result<Committed> {
        let mut tx = self.begin("commit").await?;
        append_audits_on::<DB>(&mut tx, &batch.audits).await?;
        // The wait key's lock before the record is written: a job deciding to wait for this
        // record (`wait_for`) either sees it written or is released below.
        if let Some((_, wait_key)) = &batch.release {
            lock_wait_key(DB::on_conn(&mut tx), wait_key).await?;
        }
        let mut out = Committed::default();
        if let Some(row) = &batch.record {
            out.record_put = put_record_on(DB::on_conn(&mut tx), row).await?;
        }
        if let Some((connection, wait_key)) = &batch.release {
            out.released = release_on(DB::on_conn(&mut tx), connection, wait_key).await?;
        }
        tx.commit().await.context("commit")?;
        Ok(out)
    }
}
