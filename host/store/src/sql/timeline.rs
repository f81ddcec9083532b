//! [`Timeline`] in SQL: audit lines are only ever inserted (the schema's triggers refuse UPDATE
//! and DELETE), one at a time or many in one statement for a batch.

use anyhow::Context;
use async_trait::async_trait;
use sqlx::{Executor, QueryBuilder};

use super::{BuilderExt, Dialect, QueryExt, RowExt, SqlStore, sql};
use crate::{AuditEvent, JobId, Timeline};

/// Audit lines per INSERT in a batch (8 parameters each: well under SQLite's and PostgreSQL's
/// parameter limits).
const AUDIT_ROWS_PER_INSERT: usize = 500;

fn audit_from_row<DB: Dialect>(row: &DB::Row) -> anyhow::Result<AuditEvent> {
    Ok(AuditEvent {
        id: row.col("id")?,
        at: row.col("at")?,
        connection: row.col("connection")?,
        record_key: row.col("record_key")?,
        job_id: row.col("job_id")?,
        stage: row.col("stage")?,
        outcome: row.col("outcome")?,
        detail: row.col("detail")?,
        component: row.col("component")?,
        duration_ms: row.col("duration_ms")?,
    })
}

pub(super) async fn append_audit_on<'e, DB: Dialect>(
    x: impl Executor<'e, Database = DB>,
    e: &AuditEvent,
) -> anyhow::Result<i64> {
    let row = sqlx::query(sql::<DB>(
        "INSERT INTO audit_events (at, connection, record_key, job_id, stage, outcome, detail, component, duration_ms) \
         VALUES ({now}, $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    ))
    .arg(e.connection.as_str())
    .arg(e.record_key.as_deref())
    .arg(e.job_id)
    .arg(e.stage.as_str())
    .arg(e.outcome.as_str())
    .arg(e.detail.as_str())
    .arg(e.component.as_deref())
    .arg(e.duration_ms)
    .fetch_one(x)
    .await
    .context("appending to the audit trail")?;
    Ok(row.col("id")?)
}

/// Append `audits` in order with one multi-row INSERT per chunk: on SQLite every statement is a
/// round trip to sqlx's worker thread, and those wake-ups are most of a commit's cost.
pub(super) async fn append_audits_on<DB: Dialect>(
    conn: &mut DB::Connection,
    audits: &[AuditEvent],
) -> anyhow::Result<()> {
    for chunk in audits.chunks(AUDIT_ROWS_PER_INSERT) {
        let mut q = QueryBuilder::<DB>::new(
            "INSERT INTO audit_events (at, connection, record_key, job_id, stage, outcome, detail, component, \
             duration_ms) VALUES ",
        );
        for (i, e) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" }).push(DB::NOW);
            q.push(", ").push_arg(e.connection.as_str());
            q.push(", ").push_arg(e.record_key.as_deref());
            q.push(", ").push_arg(e.job_id);
            q.push(", ").push_arg(e.stage.as_str());
            q.push(", ").push_arg(e.outcome.as_str());
            q.push(", ").push_arg(e.detail.as_str());
            q.push(", ").push_arg(e.component.as_deref());
            q.push(", ").push_arg(e.duration_ms).push(")");
        }
        q.build().execute(DB::on_conn(conn)).await.context("appending to the audit trail")?;
    }
    Ok(())
}

#[async_trait]
impl<DB: Dialect> Timeline for SqlStore<DB> {
    async fn append_audit(&self, e: &AuditEvent) -> anyhow::Result<i64> {
        append_audit_on(self.writes(), e).await
    }

    async fn audit(
        &self,
        connection: &str,
        record_key: Option<&str>,
        job_id: Option<JobId>,
    ) -> anyhow::Result<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT id, at, connection, record_key, job_id, stage, outcome, detail, component, duration_ms \
             FROM audit_events \
             WHERE connection = $1 AND ($2 IS NULL OR record_key = $2) AND ($3 IS NULL OR job_id = $3) ORDER BY id",
        )
        .arg(connection)
        .arg(record_key)
        .arg(job_id)
        .fetch_all(self.reads())
        .await?;
        rows.iter().map(audit_from_row::<DB>).collect()
    }
}
