//! [`JobQueue`] in SQL: enqueue, claim under a lease, and the fenced updates of a worker.
//!
//! Claim, per connection with due work (in random order, so one busy connection cannot starve
//! the others): lock that connection's limit row (PostgreSQL `FOR UPDATE`; SQLite's
//! `BEGIN IMMEDIATE` serialises all writers), count its running jobs with live leases, then take
//! at most limit − running due jobs (`FOR UPDATE SKIP LOCKED` on PostgreSQL). Counting inside
//! the claim without the row lock lets concurrent claimers overshoot (measured: limit 4 → 16).

use anyhow::Context;
use async_trait::async_trait;
use rand::seq::SliceRandom;
use sqlx::{AssertSqlSafe, Executor, QueryBuilder};

use super::timeline::append_audit_on;
use super::{BuilderExt, Dialect, QueryExt, RowExt, RowsAffected, SqlStore, sql};
use crate::{
    AuditEvent, Backoff, Enqueued, Job, JobFilter, JobId, JobQueue, JobState, Millis, NewJob, QueueStats, Retried,
    Retry, backoff_delay,
};

fn job_from_row<DB: Dialect>(row: &DB::Row) -> anyhow::Result<Job> {
    let state: String = row.col("state")?;
    Ok(Job {
        id: row.col("id")?,
        connection: row.col("connection")?,
        key: row.col("key")?,
        kind: row.col("kind")?,
        payload: row.col("payload")?,
        record_key: row.col("record_key")?,
        state: JobState::parse(&state).with_context(|| format!("unknown job state {state:?} in the store"))?,
        attempt: row.col("attempt")?,
        max_attempts: row.col("max_attempts")?,
        run_at: row.col("run_at")?,
        lease_owner: row.col("lease_owner")?,
        lease_until: row.col("lease_until")?,
        wait_key: row.col("wait_key")?,
        last_error: row.col("last_error")?,
        created_at: row.col("created_at")?,
        updated_at: row.col("updated_at")?,
    })
}

/// `WHERE` clauses of a job filter, appended to `q` (which ends inside a WHERE).
fn push_filter<DB: Dialect>(q: &mut QueryBuilder<DB>, f: &JobFilter) {
    if let Some(c) = &f.connection {
        q.push(" AND connection = ").push_arg(c.as_str());
    }
    for (i, s) in f.states.iter().enumerate() {
        q.push(if i == 0 { " AND state IN (" } else { ", " }).push_arg(s.as_str());
    }
    if !f.states.is_empty() {
        q.push(")");
    }
    if let Some(p) = &f.record_key_prefix {
        // substr/length instead of LIKE: no escaping of % and _ in record keys.
        let len = i32::try_from(p.chars().count()).unwrap_or(i32::MAX);
        q.push(" AND substr(record_key, 1, ").push_arg(len).push(") = ").push_arg(p.as_str());
    }
    if let Some(t) = f.created_after {
        q.push(" AND created_at >= ").push_arg(t);
    }
    if let Some(t) = f.created_before {
        q.push(" AND created_at < ").push_arg(t);
    }
}

// The statements a transaction shares with the single-statement methods, on any executor (the
// pool or an open transaction).

/// The new job's id, or None when `(connection, key)` exists already.
pub(super) async fn insert_job<'e, DB: Dialect>(
    e: impl Executor<'e, Database = DB>,
    job: &NewJob,
) -> anyhow::Result<Option<i64>> {
    let row = sqlx::query(sql::<DB>(
        "INSERT INTO jobs (connection, key, kind, payload, record_key, state, attempt, max_attempts, run_at, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'available', 0, $6, COALESCE($7, {now}), {now}, {now}) \
         ON CONFLICT (connection, key) DO NOTHING RETURNING id",
    ))
    .arg(job.connection.as_str())
    .arg(job.key.as_str())
    .arg(job.kind.as_str())
    .arg(job.payload.as_slice())
    .arg(job.record_key.as_deref())
    .arg(job.max_attempts.max(1))
    .arg(job.not_before)
    .fetch_optional(e)
    .await
    .context("enqueue")?;
    Ok(row.map(|r| r.col("id")).transpose()?)
}

async fn existing_job<'e, DB: Dialect>(e: impl Executor<'e, Database = DB>, job: &NewJob) -> anyhow::Result<i64> {
    let row = sqlx::query("SELECT id FROM jobs WHERE connection = $1 AND key = $2")
        .arg(job.connection.as_str())
        .arg(job.key.as_str())
        .fetch_one(e)
        .await
        .context("enqueue: reading the existing job")?;
    Ok(row.col("id")?)
}

pub(super) async fn release_on<'e, DB: Dialect>(
    e: impl Executor<'e, Database = DB>,
    connection: &str,
    wait_key: &str,
) -> anyhow::Result<u64> {
    let r = sqlx::query(sql::<DB>(
        "UPDATE jobs SET state = 'available', run_at = {now}, wait_key = NULL, updated_at = {now} \
         WHERE connection = $1 AND state = 'waiting' AND wait_key = $2",
    ))
    .arg(connection)
    .arg(wait_key)
    .execute(e)
    .await?;
    Ok(r.rows_affected())
}

/// Serialises a record's write-and-release with a job starting to wait for it (see
/// [`JobQueue::wait_for`]); nothing where the backend has one writer at a time anyway.
pub(super) async fn lock_wait_key<'e, DB: Dialect>(
    e: impl Executor<'e, Database = DB>,
    wait_key: &str,
) -> anyhow::Result<()> {
    if let Some(lock) = DB::LOCK_WAIT_KEY {
        sqlx::query(lock).arg(wait_key).execute(e).await.context("locking the wait key")?;
    }
    Ok(())
}

/// A fenced update: `set` applies only while `owner` holds the running job's lease. `$1` is the
/// job id, `$2` the owner; further parameters are bound by `bind`.
fn fenced<DB: Dialect>(set: &str) -> sqlx::AssertSqlSafe<String> {
    sql::<DB>(&format!(
        "UPDATE jobs SET {set}, lease_owner = NULL, lease_until = NULL, updated_at = {{now}} \
         WHERE id = $1 AND lease_owner = $2 AND state = 'running'"
    ))
}

impl<DB: Dialect> SqlStore<DB> {
    /// Claim up to `want` due jobs of one connection, within its limit, in one transaction.
    async fn claim_from(&self, connection: &str, owner: &str, lease_ms: Millis, want: i64) -> anyhow::Result<Vec<Job>> {
        let mut tx = self.begin("claim").await?;
        let limit = sqlx::query(sql::<DB>("SELECT max_running FROM connections WHERE id = $1{for_update}"))
            .arg(connection)
            .fetch_optional(DB::on_conn(&mut tx))
            .await?;
        let take = match limit {
            None => want,
            Some(limit) => {
                let running = sqlx::query(sql::<DB>(
                    "SELECT COUNT(*) AS n FROM jobs WHERE connection = $1 AND state = 'running' AND lease_until >= {now}",
                ))
                .arg(connection)
                .fetch_one(DB::on_conn(&mut tx))
                .await?;
                (i64::from(limit.col::<i32>("max_running")?) - running.col::<i64>("n")?).min(want)
            }
        };
        if take <= 0 {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let rows = sqlx::query(sql::<DB>(
            "WITH c AS (SELECT id FROM jobs WHERE connection = $1 AND ((state = 'available' AND run_at <= {now}) \
             OR (state = 'running' AND lease_until < {now})) ORDER BY run_at, id LIMIT $2{skip_locked}) \
             UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_owner = $3, lease_until = {now} + $4, \
             updated_at = {now} WHERE id IN (SELECT id FROM c) RETURNING {job_columns}",
        ))
        .arg(connection)
        .arg(take)
        .arg(owner)
        .arg(lease_ms)
        .fetch_all(DB::on_conn(&mut tx))
        .await
        .context("claim")?;
        tx.commit().await.context("claim: commit")?;
        rows.iter().map(job_from_row::<DB>).collect()
    }

    /// A worker's fenced update with one text parameter `$3`; false if fenced.
    async fn settle(&self, id: JobId, owner: &str, set: &str, text: &str) -> anyhow::Result<bool> {
        let r = sqlx::query(fenced::<DB>(set)).arg(id).arg(owner).arg(text).execute(self.writes()).await?;
        Ok(r.rows_affected() == 1)
    }
}

#[async_trait]
impl<DB: Dialect> JobQueue for SqlStore<DB> {
    fn backend(&self) -> &'static str {
        DB::BACKEND
    }

    async fn now(&self) -> anyhow::Result<Millis> {
        Ok(sqlx::query(sql::<DB>("SELECT {now} AS ms")).fetch_one(self.reads()).await?.col("ms")?)
    }

    async fn enqueue(&self, job: NewJob) -> anyhow::Result<Enqueued> {
        if let Some(id) = insert_job(self.writes(), &job).await? {
            return Ok(Enqueued::Created(id));
        }
        Ok(Enqueued::Duplicate(existing_job(self.writes(), &job).await?))
    }

    async fn enqueue_audited(&self, job: NewJob, audit: AuditEvent) -> anyhow::Result<Enqueued> {
        let mut tx = self.begin("enqueue").await?;
        let out = match insert_job(DB::on_conn(&mut tx), &job).await? {
            Some(id) => {
                append_audit_on(DB::on_conn(&mut tx), &AuditEvent { job_id: Some(id), ..audit }).await?;
                Enqueued::Created(id)
            }
            None => Enqueued::Duplicate(existing_job(DB::on_conn(&mut tx), &job).await?),
        };
        tx.commit().await.context("enqueue: commit")?;
        Ok(out)
    }

    async fn set_connection_limit(&self, connection: &str, max_running: i32) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO connections (id, max_running) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET max_running = excluded.max_running",
        )
        .arg(connection)
        .arg(max_running.max(1))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn claim(&self, owner: &str, lease_ms: Millis, max: usize) -> anyhow::Result<Vec<Job>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        // An expired lease whose attempts are used up is dead, not claimable again.
        sqlx::query(sql::<DB>(
            "UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_until = NULL, updated_at = {now}, \
             last_error = 'lease expired after ' || attempt || ' attempt(s); last error: ' || COALESCE(last_error, 'none') \
             WHERE state = 'running' AND lease_until < {now} AND attempt >= max_attempts",
        ))
        .execute(self.writes())
        .await
        .context("claim: dead-lettering expired leases")?;
        let rows = sqlx::query(sql::<DB>(
            "SELECT DISTINCT connection FROM jobs WHERE (state = 'available' AND run_at <= {now}) \
             OR (state = 'running' AND lease_until < {now})",
        ))
        .fetch_all(self.writes())
        .await?;
        let mut connections = rows.iter().map(|r| r.col::<String>("connection")).collect::<Result<Vec<_>, _>>()?;
        connections.shuffle(&mut rand::rng());
        let mut out = Vec::new();
        for connection in connections {
            let want = (max - out.len()) as i64;
            if want <= 0 {
                break;
            }
            out.extend(self.claim_from(&connection, owner, lease_ms, want).await?);
        }
        out.sort_by_key(|j| (j.run_at, j.id));
        Ok(out)
    }

    async fn heartbeat(&self, id: JobId, owner: &str, lease_ms: Millis) -> anyhow::Result<bool> {
        let r = sqlx::query(sql::<DB>(
            "UPDATE jobs SET lease_until = {now} + $3, updated_at = {now} \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        ))
        .arg(id)
        .arg(owner)
        .arg(lease_ms)
        .execute(self.writes())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn ack(&self, id: JobId, owner: &str) -> anyhow::Result<bool> {
        let r = sqlx::query(fenced::<DB>("state = 'done'")).arg(id).arg(owner).execute(self.writes()).await?;
        Ok(r.rows_affected() == 1)
    }

    async fn retry(
        &self,
        id: JobId,
        owner: &str,
        error: &str,
        how: Retry,
        backoff: Backoff,
    ) -> anyhow::Result<Retried> {
        let held = sqlx::query(
            "SELECT attempt, max_attempts FROM jobs WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .arg(id)
        .arg(owner)
        .fetch_optional(self.writes())
        .await?;
        let Some(held) = held else { return Ok(Retried::LostLease) };
        let (attempt, max_attempts): (i32, i32) = (held.col("attempt")?, held.col("max_attempts")?);
        let (delay, give_back): (Millis, i32) = match how {
            Retry::Backoff if attempt >= max_attempts => {
                let dead = self.settle(id, owner, "state = 'dead', last_error = $3", error).await?;
                return Ok(if dead { Retried::Dead } else { Retried::LostLease });
            }
            Retry::Backoff => (backoff_delay(backoff, attempt), 0),
            // A snooze: the remote asked us to wait; that is not a failed attempt.
            Retry::After { delay_ms } => (delay_ms.max(0), 1),
        };
        let set = "state = 'available', run_at = {now} + $3, last_error = $4, \
                   attempt = CASE WHEN attempt >= $5 THEN attempt - $5 ELSE 0 END";
        let row = sqlx::query(AssertSqlSafe(format!("{} RETURNING run_at", fenced::<DB>(set).0)))
            .arg(id)
            .arg(owner)
            .arg(delay)
            .arg(error)
            .arg(give_back)
            .fetch_optional(self.writes())
            .await?;
        Ok(match row {
            Some(row) => Retried::At(row.col("run_at")?),
            None => Retried::LostLease,
        })
    }

    async fn park(&self, id: JobId, owner: &str, reason: &str) -> anyhow::Result<bool> {
        self.settle(id, owner, "state = 'parked', last_error = $3", reason).await
    }

    async fn wait_for(&self, id: JobId, owner: &str, wait_key: &str, reason: &str) -> anyhow::Result<bool> {
        let mut tx = self.begin("wait").await?;
        lock_wait_key(DB::on_conn(&mut tx), wait_key).await?;
        // Under the lock a concurrent write of the record has either committed (seen here: go on
        // at once) or will release this job after we commit.
        let written = sqlx::query(
            "SELECT 1 FROM records r JOIN jobs j ON j.connection = r.connection \
             WHERE j.id = $1 AND r.record_key = $2 AND r.state = 'written'",
        )
        .arg(id)
        .arg(wait_key)
        .fetch_optional(DB::on_conn(&mut tx))
        .await?;
        let (state, key) = if written.is_some() { ("available", None) } else { ("waiting", Some(wait_key)) };
        let set = "state = $3, wait_key = $4, last_error = $5, run_at = {now}, \
                   attempt = CASE WHEN attempt > 0 THEN attempt - 1 ELSE 0 END";
        let r = sqlx::query(fenced::<DB>(set))
            .arg(id)
            .arg(owner)
            .arg(state)
            .arg(key)
            .arg(reason)
            .execute(DB::on_conn(&mut tx))
            .await?;
        tx.commit().await.context("wait: commit")?;
        Ok(r.rows_affected() == 1)
    }

    async fn release(&self, connection: &str, wait_key: &str) -> anyhow::Result<u64> {
        release_on(self.writes(), connection, wait_key).await
    }

    async fn resume_parked(&self, filter: &JobFilter) -> anyhow::Result<u64> {
        let mut q = QueryBuilder::<DB>::new(
            sql::<DB>("UPDATE jobs SET state = 'available', attempt = 0, run_at = {now}, updated_at = {now} WHERE state = 'parked'").0,
        );
        push_filter(&mut q, filter);
        Ok(q.build().execute(self.writes()).await?.rows_affected())
    }

    async fn replay(&self, filter: &JobFilter) -> anyhow::Result<u64> {
        let mut q = QueryBuilder::<DB>::new(
            sql::<DB>(
                "UPDATE jobs SET state = 'available', attempt = 0, run_at = {now}, wait_key = NULL, \
                 lease_owner = NULL, lease_until = NULL, updated_at = {now} WHERE state <> 'running'",
            )
            .0,
        );
        push_filter(&mut q, filter);
        Ok(q.build().execute(self.writes()).await?.rows_affected())
    }

    async fn job(&self, id: JobId) -> anyhow::Result<Option<Job>> {
        let row = sqlx::query(sql::<DB>("SELECT {job_columns} FROM jobs WHERE id = $1"))
            .arg(id)
            .fetch_optional(self.reads())
            .await?;
        row.as_ref().map(job_from_row::<DB>).transpose()
    }

    async fn job_by_key(&self, connection: &str, key: &str) -> anyhow::Result<Option<Job>> {
        let row = sqlx::query(sql::<DB>("SELECT {job_columns} FROM jobs WHERE connection = $1 AND key = $2"))
            .arg(connection)
            .arg(key)
            .fetch_optional(self.reads())
            .await?;
        row.as_ref().map(job_from_row::<DB>).transpose()
    }

    async fn jobs(&self, filter: &JobFilter) -> anyhow::Result<Vec<Job>> {
        let mut q = QueryBuilder::<DB>::new(sql::<DB>("SELECT {job_columns} FROM jobs WHERE 1 = 1").0);
        push_filter(&mut q, filter);
        q.push(" ORDER BY id");
        if let Some(limit) = filter.limit {
            q.push(" LIMIT ").push_arg(limit);
        }
        let rows = q.build().fetch_all(self.reads()).await?;
        rows.iter().map(job_from_row::<DB>).collect()
    }

    async fn stats(&self, connection: Option<&str>) -> anyhow::Result<QueueStats> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM jobs WHERE ($1 IS NULL OR connection = $1) GROUP BY state")
                .arg(connection)
                .fetch_all(self.reads())
                .await?;
        let mut s = QueueStats::default();
        for row in rows {
            let (state, n): (String, i64) = (row.col("state")?, row.col("n")?);
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
}
