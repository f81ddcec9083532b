//! The two backends. Their SQL is the same text but for three dialect pieces — the database
//! clock, `FOR UPDATE [SKIP LOCKED]` and how a write transaction begins — so one macro body
//! serves both and the backends cannot drift apart.
//!
//! Claim, per connection with due work (in random order, so one busy connection cannot starve
//! the others): lock that connection's limit row (PostgreSQL `FOR UPDATE`; SQLite's
//! `BEGIN IMMEDIATE` serialises all writers), count its running jobs with live leases, then take
//! at most limit − running due jobs (`FOR UPDATE SKIP LOCKED` on PostgreSQL). Counting inside
//! the claim without the row lock lets concurrent claimers overshoot (measured: limit 4 → 16).

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use rand::seq::SliceRandom;
use sqlx::{QueryBuilder, Row};

use crate::{
    AuditEvent, Backoff, Batch, Committed, Enqueued, Job, JobFilter, JobId, JobState, Millis, NewJob, QueueStats,
    RecordRow, Retried, Retry, Store, backoff_delay,
};

macro_rules! job_cols {
    () => {
        "id, connection, key, kind, payload, record_key, state, attempt, max_attempts, run_at, lease_owner, lease_until, wait_key, last_error, created_at, updated_at"
    };
}

/// Audit lines per INSERT in a batch (8 parameters each: well under SQLite's and PostgreSQL's
/// parameter limits).
const AUDIT_ROWS_PER_INSERT: usize = 500;

macro_rules! store_impl {
    ($Store:ident, $DB:ty, backend = $name:literal, now = $now:literal, skip_locked = $sl:literal, for_update = $fu:literal, begin = $begin:literal, lock_wait_key = $lwk:literal) => {
        fn job_from_row(row: &<$DB as sqlx::Database>::Row) -> anyhow::Result<Job> {
            let state: String = row.try_get("state")?;
            Ok(Job {
                id: row.try_get("id")?,
                connection: row.try_get("connection")?,
                key: row.try_get("key")?,
                kind: row.try_get("kind")?,
                payload: row.try_get("payload")?,
                record_key: row.try_get("record_key")?,
                state: JobState::parse(&state).with_context(|| format!("unknown job state {state:?} in the store"))?,
                attempt: row.try_get("attempt")?,
                max_attempts: row.try_get("max_attempts")?,
                run_at: row.try_get("run_at")?,
                lease_owner: row.try_get("lease_owner")?,
                lease_until: row.try_get("lease_until")?,
                wait_key: row.try_get("wait_key")?,
                last_error: row.try_get("last_error")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            })
        }

        fn audit_from_row(row: &<$DB as sqlx::Database>::Row) -> anyhow::Result<AuditEvent> {
            Ok(AuditEvent {
                id: row.try_get("id")?,
                at: row.try_get("at")?,
                connection: row.try_get("connection")?,
                record_key: row.try_get("record_key")?,
                job_id: row.try_get("job_id")?,
                stage: row.try_get("stage")?,
                outcome: row.try_get("outcome")?,
                detail: row.try_get("detail")?,
                component: row.try_get("component")?,
                duration_ms: row.try_get("duration_ms")?,
            })
        }

        /// `WHERE` clauses of a job filter, appended to `q` (which ends inside a WHERE).
        fn push_filter(q: &mut QueryBuilder<$DB>, f: &JobFilter) {
            if let Some(c) = &f.connection {
                q.push(" AND connection = ").push_bind(c.clone());
            }
            if !f.states.is_empty() {
                q.push(" AND state IN (");
                let mut sep = q.separated(", ");
                for s in &f.states {
                    sep.push_bind(s.as_str());
                }
                q.push(")");
            }
            if let Some(p) = &f.record_key_prefix {
                // substr/length instead of LIKE: no escaping of % and _ in record keys.
                q.push(" AND substr(record_key, 1, ").push_bind(i32::try_from(p.chars().count()).unwrap_or(i32::MAX)).push(") = ").push_bind(p.clone());
            }
            if let Some(t) = f.created_after {
                q.push(" AND created_at >= ").push_bind(t);
            }
            if let Some(t) = f.created_before {
                q.push(" AND created_at < ").push_bind(t);
            }
        }

        // The statements a batch shares with the single-row methods, on any executor (the pool
        // or an open transaction).
        async fn insert_job<'e, E: sqlx::Executor<'e, Database = $DB>>(e: E, job: &NewJob) -> anyhow::Result<Option<i64>> {
            sqlx::query_scalar(concat!(
                "INSERT INTO jobs (connection, key, kind, payload, record_key, state, attempt, max_attempts, run_at, created_at, updated_at) ",
                "VALUES ($1, $2, $3, $4, $5, 'available', 0, $6, COALESCE($7, ", $now, "), ", $now, ", ", $now, ") ",
                "ON CONFLICT (connection, key) DO NOTHING RETURNING id"
            ))
            .bind(&job.connection)
            .bind(&job.key)
            .bind(&job.kind)
            .bind(&job.payload)
            .bind(&job.record_key)
            .bind(job.max_attempts.max(1))
            .bind(job.not_before)
            .fetch_optional(e)
            .await
            .context("enqueue")
        }

        async fn existing_job<'e, E: sqlx::Executor<'e, Database = $DB>>(e: E, job: &NewJob) -> anyhow::Result<i64> {
            sqlx::query_scalar("SELECT id FROM jobs WHERE connection = $1 AND key = $2")
                .bind(&job.connection)
                .bind(&job.key)
                .fetch_one(e)
                .await
                .context("enqueue: reading the existing job")
        }

        async fn put_record_on<'e, E: sqlx::Executor<'e, Database = $DB>>(e: E, row: &RecordRow) -> anyhow::Result<bool> {
            let r = sqlx::query(concat!(
                "INSERT INTO records (connection, record_key, version, state, canonical, ledger, last_error, updated_at) ",
                "VALUES ($1, $2, $3, $4, $5, $6, $7, ", $now, ") ",
                "ON CONFLICT (connection, record_key) DO UPDATE SET version = excluded.version, state = excluded.state, ",
                "canonical = COALESCE(excluded.canonical, records.canonical), ledger = COALESCE(excluded.ledger, records.ledger), ",
                "last_error = excluded.last_error, updated_at = excluded.updated_at ",
                "WHERE records.version <= excluded.version"
            ))
            .bind(&row.connection)
            .bind(&row.record_key)
            .bind(row.version)
            .bind(&row.state)
            .bind(&row.canonical)
            .bind(&row.ledger)
            .bind(&row.last_error)
            .execute(e)
            .await?;
            Ok(r.rows_affected() == 1)
        }

        async fn append_audit_on<'e, E: sqlx::Executor<'e, Database = $DB>>(x: E, e: &AuditEvent) -> anyhow::Result<i64> {
            sqlx::query_scalar(concat!(
                "INSERT INTO audit_events (at, connection, record_key, job_id, stage, outcome, detail, component, duration_ms) ",
                "VALUES (", $now, ", $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
            ))
            .bind(&e.connection)
            .bind(&e.record_key)
            .bind(e.job_id)
            .bind(&e.stage)
            .bind(&e.outcome)
            .bind(&e.detail)
            .bind(&e.component)
            .bind(e.duration_ms)
            .fetch_one(x)
            .await
            .context("appending to the audit trail")
        }

        async fn release_on<'e, E: sqlx::Executor<'e, Database = $DB>>(e: E, connection: &str, wait_key: &str) -> anyhow::Result<u64> {
            let r = sqlx::query(concat!(
                "UPDATE jobs SET state = 'available', run_at = ", $now, ", wait_key = NULL, updated_at = ", $now, " ",
                "WHERE connection = $1 AND state = 'waiting' AND wait_key = $2"
            ))
            .bind(connection)
            .bind(wait_key)
            .execute(e)
            .await?;
            Ok(r.rows_affected())
        }

        /// Serialises a record's write-and-release with a job starting to wait for it (see
        /// [`Store::wait_for`]); empty where the backend has one writer at a time anyway.
        async fn lock_wait_key<'e, E: sqlx::Executor<'e, Database = $DB>>(e: E, wait_key: &str) -> anyhow::Result<()> {
            if !$lwk.is_empty() {
                sqlx::query($lwk).bind(wait_key).execute(e).await.context("locking the wait key")?;
            }
            Ok(())
        }

        #[async_trait]
        impl Store for $Store {
            fn backend(&self) -> &'static str {
                $name
            }

            async fn now(&self) -> anyhow::Result<Millis> {
                Ok(sqlx::query_scalar(concat!("SELECT ", $now)).fetch_one(&self.pool).await?)
            }

            async fn enqueue(&self, job: NewJob) -> anyhow::Result<Enqueued> {
                if let Some(id) = insert_job(&self.writer, &job).await? {
                    return Ok(Enqueued::Created(id));
                }
                Ok(Enqueued::Duplicate(existing_job(&self.writer, &job).await?))
            }

            async fn enqueue_audited(&self, job: NewJob, audit: AuditEvent) -> anyhow::Result<Enqueued> {
                let mut tx = self.writer.begin_with($begin).await.context("enqueue: begin")?;
                let out = match insert_job(&mut *tx, &job).await? {
                    Some(id) => {
                        append_audit_on(&mut *tx, &AuditEvent { job_id: Some(id), ..audit }).await?;
                        Enqueued::Created(id)
                    }
                    None => Enqueued::Duplicate(existing_job(&mut *tx, &job).await?),
                };
                tx.commit().await.context("enqueue: commit")?;
                Ok(out)
            }

            async fn set_connection_limit(&self, connection: &str, max_running: i32) -> anyhow::Result<()> {
                sqlx::query("INSERT INTO connections (id, max_running) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET max_running = excluded.max_running")
                    .bind(connection)
                    .bind(max_running.max(1))
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn claim(&self, owner: &str, lease_ms: Millis, max: usize) -> anyhow::Result<Vec<Job>> {
                if max == 0 {
                    return Ok(Vec::new());
                }
                // An expired lease whose attempts are used up is dead, not claimable again.
                sqlx::query(concat!(
                    "UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_until = NULL, updated_at = ", $now, ", ",
                    "last_error = 'lease expired after ' || attempt || ' attempt(s); last error: ' || COALESCE(last_error, 'none') ",
                    "WHERE state = 'running' AND lease_until < ", $now, " AND attempt >= max_attempts"
                ))
                .execute(&self.writer)
                .await
                .context("claim: dead-lettering expired leases")?;
                let mut connections: Vec<String> = sqlx::query_scalar(concat!(
                    "SELECT DISTINCT connection FROM jobs WHERE (state = 'available' AND run_at <= ", $now, ") ",
                    "OR (state = 'running' AND lease_until < ", $now, ")"
                ))
                .fetch_all(&self.writer)
                .await?;
                connections.shuffle(&mut rand::rng());
                let mut out = Vec::new();
                for connection in connections {
                    let want = (max - out.len()) as i64;
                    if want <= 0 {
                        break;
                    }
                    let mut tx = self.writer.begin_with($begin).await.context("claim: begin")?;
                    let limit: Option<i32> = sqlx::query_scalar(concat!("SELECT max_running FROM connections WHERE id = $1", $fu))
                        .bind(&connection)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let take = match limit {
                        None => want,
                        Some(limit) => {
                            let running: i64 = sqlx::query_scalar(concat!(
                                "SELECT COUNT(*) FROM jobs WHERE connection = $1 AND state = 'running' AND lease_until >= ", $now
                            ))
                            .bind(&connection)
                            .fetch_one(&mut *tx)
                            .await?;
                            (i64::from(limit) - running).min(want)
                        }
                    };
                    if take <= 0 {
                        tx.commit().await?;
                        continue;
                    }
                    let rows = sqlx::query(concat!(
                        "WITH c AS (SELECT id FROM jobs WHERE connection = $1 AND ((state = 'available' AND run_at <= ", $now, ") ",
                        "OR (state = 'running' AND lease_until < ", $now, ")) ORDER BY run_at, id LIMIT $2", $sl, ") ",
                        "UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_owner = $3, lease_until = ", $now, " + $4, ",
                        "updated_at = ", $now, " WHERE id IN (SELECT id FROM c) RETURNING ", job_cols!()
                    ))
                    .bind(&connection)
                    .bind(take)
                    .bind(owner)
                    .bind(lease_ms)
                    .fetch_all(&mut *tx)
                    .await
                    .context("claim")?;
                    tx.commit().await.context("claim: commit")?;
                    for row in &rows {
                        out.push(job_from_row(row)?);
                    }
                }
                out.sort_by_key(|j| (j.run_at, j.id));
                Ok(out)
            }

            async fn heartbeat(&self, id: JobId, owner: &str, lease_ms: Millis) -> anyhow::Result<bool> {
                let r = sqlx::query(concat!(
                    "UPDATE jobs SET lease_until = ", $now, " + $3, updated_at = ", $now, " ",
                    "WHERE id = $1 AND lease_owner = $2 AND state = 'running'"
                ))
                .bind(id)
                .bind(owner)
                .bind(lease_ms)
                .execute(&self.writer)
                .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn ack(&self, id: JobId, owner: &str) -> anyhow::Result<bool> {
                let r = sqlx::query(concat!(
                    "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, updated_at = ", $now, " ",
                    "WHERE id = $1 AND lease_owner = $2 AND state = 'running'"
                ))
                .bind(id)
                .bind(owner)
                .execute(&self.writer)
                .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn retry(&self, id: JobId, owner: &str, error: &str, how: Retry, backoff: Backoff) -> anyhow::Result<Retried> {
                let held: Option<(i32, i32)> = sqlx::query_as("SELECT attempt, max_attempts FROM jobs WHERE id = $1 AND lease_owner = $2 AND state = 'running'")
                    .bind(id)
                    .bind(owner)
                    .fetch_optional(&self.writer)
                    .await?;
                let Some((attempt, max_attempts)) = held else { return Ok(Retried::LostLease) };
                let (delay, give_back) = match how {
                    Retry::Backoff if attempt >= max_attempts => {
                        let r = sqlx::query(concat!(
                            "UPDATE jobs SET state = 'dead', last_error = $3, lease_owner = NULL, lease_until = NULL, updated_at = ", $now, " ",
                            "WHERE id = $1 AND lease_owner = $2 AND state = 'running'"
                        ))
                        .bind(id)
                        .bind(owner)
                        .bind(error)
                        .execute(&self.writer)
                        .await?;
                        return Ok(if r.rows_affected() == 1 { Retried::Dead } else { Retried::LostLease });
                    }
                    Retry::Backoff => (backoff_delay(backoff, attempt), 0),
                    // A snooze: the remote asked us to wait; that is not a failed attempt.
                    Retry::After { delay_ms } => (delay_ms.max(0), 1),
                };
                let run_at: Option<i64> = sqlx::query_scalar(concat!(
                    "UPDATE jobs SET state = 'available', run_at = ", $now, " + $3, last_error = $4, ",
                    "attempt = CASE WHEN attempt >= $5 THEN attempt - $5 ELSE 0 END, ",
                    "lease_owner = NULL, lease_until = NULL, updated_at = ", $now, " ",
                    "WHERE id = $1 AND lease_owner = $2 AND state = 'running' RETURNING run_at"
                ))
                .bind(id)
                .bind(owner)
                .bind(delay)
                .bind(error)
                .bind(give_back)
                .fetch_optional(&self.writer)
                .await?;
                Ok(run_at.map_or(Retried::LostLease, Retried::At))
            }

            async fn park(&self, id: JobId, owner: &str, reason: &str) -> anyhow::Result<bool> {
                let r = sqlx::query(concat!(
                    "UPDATE jobs SET state = 'parked', last_error = $3, lease_owner = NULL, lease_until = NULL, updated_at = ", $now, " ",
                    "WHERE id = $1 AND lease_owner = $2 AND state = 'running'"
                ))
                .bind(id)
                .bind(owner)
                .bind(reason)
                .execute(&self.writer)
                .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn wait_for(&self, id: JobId, owner: &str, wait_key: &str, reason: &str) -> anyhow::Result<bool> {
                let mut tx = self.writer.begin_with($begin).await.context("wait: begin")?;
                lock_wait_key(&mut *tx, wait_key).await?;
                // Under the lock a concurrent write of the record has either committed (seen
                // here: go on at once) or will release this job after we commit.
                let written: Option<i32> = sqlx::query_scalar(
                    "SELECT 1 FROM records r JOIN jobs j ON j.connection = r.connection WHERE j.id = $1 AND r.record_key = $2 AND r.state = 'written'",
                )
                .bind(id)
                .bind(wait_key)
                .fetch_optional(&mut *tx)
                .await?;
                let (state, key) = if written.is_some() { ("available", None) } else { ("waiting", Some(wait_key)) };
                let r = sqlx::query(concat!(
                    "UPDATE jobs SET state = $3, wait_key = $4, last_error = $5, run_at = ", $now, ", ",
                    "attempt = CASE WHEN attempt > 0 THEN attempt - 1 ELSE 0 END, ",
                    "lease_owner = NULL, lease_until = NULL, updated_at = ", $now, " ",
                    "WHERE id = $1 AND lease_owner = $2 AND state = 'running'"
                ))
                .bind(id)
                .bind(owner)
                .bind(state)
                .bind(key)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
                tx.commit().await.context("wait: commit")?;
                Ok(r.rows_affected() == 1)
            }

            async fn release(&self, connection: &str, wait_key: &str) -> anyhow::Result<u64> {
                release_on(&self.writer, connection, wait_key).await
            }

            async fn resume_parked(&self, filter: &JobFilter) -> anyhow::Result<u64> {
                let mut q = QueryBuilder::<$DB>::new(concat!(
                    "UPDATE jobs SET state = 'available', attempt = 0, run_at = ", $now, ", updated_at = ", $now, " WHERE state = 'parked'"
                ));
                push_filter(&mut q, filter);
                Ok(q.build().execute(&self.writer).await?.rows_affected())
            }

            async fn replay(&self, filter: &JobFilter) -> anyhow::Result<u64> {
                let mut q = QueryBuilder::<$DB>::new(concat!(
                    "UPDATE jobs SET state = 'available', attempt = 0, run_at = ", $now, ", wait_key = NULL, ",
                    "lease_owner = NULL, lease_until = NULL, updated_at = ", $now, " WHERE state <> 'running'"
                ));
                push_filter(&mut q, filter);
                Ok(q.build().execute(&self.writer).await?.rows_affected())
            }

            async fn job(&self, id: JobId) -> anyhow::Result<Option<Job>> {
                let row = sqlx::query(concat!("SELECT ", job_cols!(), " FROM jobs WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
                row.as_ref().map(job_from_row).transpose()
            }

            async fn job_by_key(&self, connection: &str, key: &str) -> anyhow::Result<Option<Job>> {
                let row = sqlx::query(concat!("SELECT ", job_cols!(), " FROM jobs WHERE connection = $1 AND key = $2"))
                    .bind(connection)
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(job_from_row).transpose()
            }

            async fn jobs(&self, filter: &JobFilter) -> anyhow::Result<Vec<Job>> {
                let mut q = QueryBuilder::<$DB>::new(concat!("SELECT ", job_cols!(), " FROM jobs WHERE 1 = 1"));
                push_filter(&mut q, filter);
                q.push(" ORDER BY id");
                if let Some(limit) = filter.limit {
                    q.push(" LIMIT ").push_bind(limit);
                }
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.iter().map(job_from_row).collect()
            }

            async fn stats(&self, connection: Option<&str>) -> anyhow::Result<QueueStats> {
                let rows: Vec<(String, i64)> = sqlx::query_as("SELECT state, COUNT(*) FROM jobs WHERE ($1 IS NULL OR connection = $1) GROUP BY state")
                    .bind(connection)
                    .fetch_all(&self.pool)
                    .await?;
                let mut s = QueueStats::default();
                for (state, n) in rows {
                    match JobState::parse(&state) {
                        Some(JobState::Available) => s.available = n,
                        Some(JobState::Running) => s.running = n,
                        Some(JobState::Waiting) => s.waiting = n,
                        Some(JobState::Parked) => s.parked = n,
                        Some(JobState::Done) => s.done = n,
                        Some(JobState::Dead) => s.dead = n,
                        None => anyhow::bail!("unknown job state {state:?} in the store"),
                    }
                }
                Ok(s)
            }

            async fn put_record(&self, row: &RecordRow) -> anyhow::Result<bool> {
                put_record_on(&self.writer, row).await
            }

            async fn commit(&self, batch: &Batch) -> anyhow::Result<Committed> {
                let mut tx = self.writer.begin_with($begin).await.context("commit: begin")?;
                // One multi-row INSERT per chunk: on SQLite every statement is a round trip to
                // sqlx's worker thread, and those wake-ups are most of a commit's cost.
                for chunk in batch.audits.chunks(AUDIT_ROWS_PER_INSERT) {
                    let mut q = QueryBuilder::<$DB>::new("INSERT INTO audit_events (at, connection, record_key, job_id, stage, outcome, detail, component, duration_ms) ");
                    q.push_values(chunk, |mut b, e| {
                        b.push($now)
                            .push_bind(e.connection.clone())
                            .push_bind(e.record_key.clone())
                            .push_bind(e.job_id)
                            .push_bind(e.stage.clone())
                            .push_bind(e.outcome.clone())
                            .push_bind(e.detail.clone())
                            .push_bind(e.component.clone())
                            .push_bind(e.duration_ms);
                    });
                    q.build().execute(&mut *tx).await.context("appending to the audit trail")?;
                }
                if let Some((_, wait_key)) = &batch.release {
                    lock_wait_key(&mut *tx, wait_key).await?;
                }
                let mut out = Committed::default();
                if let Some(row) = &batch.record {
                    out.record_put = put_record_on(&mut *tx, row).await?;
                }
                if let Some((connection, wait_key)) = &batch.release {
                    out.released = release_on(&mut *tx, connection, wait_key).await?;
                }
                tx.commit().await.context("commit")?;
                Ok(out)
            }

            async fn record(&self, connection: &str, record_key: &str) -> anyhow::Result<Option<RecordRow>> {
                let row = sqlx::query("SELECT connection, record_key, version, state, canonical, ledger, last_error, updated_at FROM records WHERE connection = $1 AND record_key = $2")
                    .bind(connection)
                    .bind(record_key)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(r) = row else { return Ok(None) };
                Ok(Some(RecordRow {
                    connection: r.try_get("connection")?,
                    record_key: r.try_get("record_key")?,
                    version: r.try_get("version")?,
                    state: r.try_get("state")?,
                    canonical: r.try_get("canonical")?,
                    ledger: r.try_get("ledger")?,
                    last_error: r.try_get("last_error")?,
                    updated_at: r.try_get("updated_at")?,
                }))
            }

            async fn append_audit(&self, e: &AuditEvent) -> anyhow::Result<i64> {
                append_audit_on(&self.writer, e).await
            }

            async fn audit(&self, connection: &str, record_key: Option<&str>, job_id: Option<JobId>) -> anyhow::Result<Vec<AuditEvent>> {
                let rows = sqlx::query(
                    "SELECT id, at, connection, record_key, job_id, stage, outcome, detail, component, duration_ms FROM audit_events \
                     WHERE connection = $1 AND ($2 IS NULL OR record_key = $2) AND ($3 IS NULL OR job_id = $3) ORDER BY id",
                )
                .bind(connection)
                .bind(record_key)
                .bind(job_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(audit_from_row).collect()
            }

            async fn state_get(&self, scope: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
                Ok(sqlx::query_scalar("SELECT value FROM component_state WHERE scope = $1 AND key = $2").bind(scope).bind(key).fetch_optional(&self.pool).await?)
            }

            async fn state_put(&self, scope: &str, key: &str, value: &[u8]) -> anyhow::Result<()> {
                sqlx::query(concat!(
                    "INSERT INTO component_state (scope, key, value, updated_at) VALUES ($1, $2, $3, ", $now, ") ",
                    "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
                ))
                .bind(scope)
                .bind(key)
                .bind(value)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn state_delete(&self, scope: &str, key: &str) -> anyhow::Result<()> {
                sqlx::query("DELETE FROM component_state WHERE scope = $1 AND key = $2").bind(scope).bind(key).execute(&self.writer).await?;
                Ok(())
            }

            async fn secret_put(&self, name: &str, ciphertext: &[u8]) -> anyhow::Result<()> {
                sqlx::query(concat!(
                    "INSERT INTO secrets (name, ciphertext, updated_at) VALUES ($1, $2, ", $now, ") ",
                    "ON CONFLICT (name) DO UPDATE SET ciphertext = excluded.ciphertext, updated_at = excluded.updated_at"
                ))
                .bind(name)
                .bind(ciphertext)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn secret_get(&self, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
                Ok(sqlx::query_scalar("SELECT ciphertext FROM secrets WHERE name = $1").bind(name).fetch_optional(&self.pool).await?)
            }
        }
    };
}

pub mod sqlite {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

    /// The embedded default: one file, WAL. Reads use a pool; every write goes through one
    /// connection (`writer`), so this process's writers queue in order instead of meeting
    /// SQLITE_BUSY and sleeping in SQLite's busy handler (1, 2, 5, 10… ms: measured ~10 ms per
    /// commit with 8 jobs running). `BEGIN IMMEDIATE` and the busy timeout still serialise
    /// against other processes on the same file.
    pub struct SqliteStore {
        pub pool: sqlx::SqlitePool,
        pub writer: sqlx::SqlitePool,
    }

    impl SqliteStore {
        pub async fn connect(url: &str) -> anyhow::Result<SqliteStore> {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
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

    store_impl!(
        SqliteStore,
        sqlx::Sqlite,
        backend = "sqlite",
        now = "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
        skip_locked = "",
        for_update = "",
        begin = "BEGIN IMMEDIATE",
        lock_wait_key = ""
    );
}

pub mod postgres {
    use super::*;
    use sqlx::postgres::PgPoolOptions;

    /// For several host replicas sharing one queue. `writer` is the same pool: PostgreSQL's row
    /// locks need no single writer.
    pub struct PgStore {
        pub pool: sqlx::PgPool,
        pub writer: sqlx::PgPool,
    }

    impl PgStore {
        pub async fn connect(url: &str) -> anyhow::Result<PgStore> {
            let pool =
                PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(15)).connect(url).await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await.context("migrating the PostgreSQL store")?;
            Ok(PgStore { writer: pool.clone(), pool })
        }
    }

    store_impl!(
        PgStore,
        sqlx::Postgres,
        backend = "postgres",
        now = "(extract(epoch from clock_timestamp()) * 1000)::bigint",
        skip_locked = " FOR UPDATE SKIP LOCKED",
        for_update = " FOR UPDATE",
        begin = "BEGIN",
        // Two-key advisory locks are a key space of their own; 0x6d6c63 = "mlc".
        lock_wait_key = "SELECT pg_advisory_xact_lock(7171171, hashtext($1))"
    );
}
