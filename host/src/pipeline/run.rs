//! One job's run of the pipeline and its bookkeeping: timeline lines and the record's row are
//! staged in memory and committed together, once per record on the happy path.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use mlc_store::{AuditEvent, RecordRow};

use crate::app::{App, Connection, RoleComponent};
use crate::call::{CallFailure, Scope, WorldPre, call_component};
use crate::caps::InstanceState;
use crate::timeline::{Label, Line};

use super::outcome::{Outcome, Stage};

/// The stage that failed and why, as the timeline shows it.
pub struct StageFailure {
    pub stage: Stage,
    pub record_key: String,
    pub outcome: Outcome,
}

/// One job's run: its bookkeeping goes to the store in as few commits as the recovery story
/// allows — one on the happy path. Audit lines wait in `pending` and the record's row (fetched,
/// then mapped) in `staged`; both are committed with the written row and the release of its
/// waiters, or, when the run stops short, with its final state. A crash loses only an attempt
/// the job's re-run repeats (the lease expires; GP look-ups keep the write idempotent).
pub struct Run<'a> {
    pub app: &'a App,
    pub conn: &'a Connection,
    pub job_id: Option<i64>,
    /// Shared with the run's component calls (their own audit lines, see `Caps::timeline`).
    pub pending: Arc<Mutex<Vec<AuditEvent>>>,
    /// The record's row as far as the run got, not yet committed.
    pub staged: Mutex<Option<RecordRow>>,
}

impl<'a> Run<'a> {
    /// A job's run, nothing staged yet.
    pub fn new(app: &'a App, conn: &'a Connection, job_id: Option<i64>) -> Run<'a> {
        Run { app, conn, job_id, pending: Arc::new(Mutex::new(Vec::new())), staged: Mutex::new(None) }
    }

    /// Add a line to the record's timeline (committed with the next record write).
    pub async fn audit(&self, stage: Stage, label: Label, key: &str, t: Instant, detail: &str) -> anyhow::Result<()> {
        let line = Line::new(self.conn.id(), stage.as_str(), label, detail)
            .record(Some(key))
            .job(self.job_id)
            .component(self.conn.digest(stage.role()))
            .took(t)
            .build();
        self.pending.lock().map_err(|_| anyhow::anyhow!("timeline lock poisoned"))?.push(line);
        Ok(())
    }

    /// Call a role's component for this run: its audit lines join the run's.
    pub async fn call<P: WorldPre, T>(
        &self,
        rc: &RoleComponent<P>,
        key: &str,
        f: impl AsyncFnOnce(&mut wasmtime::Store<InstanceState>, P::Instance) -> wasmtime::Result<T>,
    ) -> anyhow::Result<Result<T, CallFailure>> {
        let scope =
            Scope { record_key: Some(key.to_string()), job_id: self.job_id, timeline: Some(self.pending.clone()) };
        call_component(self.app, self.conn.id(), rc, scope, f).await
    }

    pub fn row(
        &self,
        key: &str,
        version: i64,
        state: &str,
        canonical: Option<String>,
        ledger: Option<String>,
        err: Option<&str>,
    ) -> RecordRow {
        RecordRow {
            connection: self.conn.config.id.clone(),
            record_key: key.to_string(),
            version,
            state: state.to_string(),
            canonical,
            ledger,
            last_error: err.map(crate::timeline::clip_error),
            updated_at: 0,
        }
    }

    /// The record's row as far as the run got (committed with the next commit).
    pub fn stage(&self, row: RecordRow) -> anyhow::Result<()> {
        *self.staged.lock().map_err(|_| anyhow::anyhow!("staged row lock poisoned"))? = Some(row);
        Ok(())
    }

    pub fn take_staged(&self) -> anyhow::Result<Option<RecordRow>> {
        Ok(self.staged.lock().map_err(|_| anyhow::anyhow!("staged row lock poisoned"))?.take())
    }

    /// The pending lines, `record` (else the staged row) and the release of `release`'s
    /// waiters, in one transaction.
    pub async fn commit(
        &self,
        record: Option<RecordRow>,
        release: Option<String>,
    ) -> anyhow::Result<mlc_store::Committed> {
        let record = match (record, self.take_staged()?) {
            // Another record's row (not expected: a run settles one record before the next).
            (Some(r), Some(other)) if other.record_key != r.record_key => {
                self.app.store.commit(&mlc_store::Batch { audits: vec![], record: Some(other), release: None }).await?;
                Some(r)
            }
            (r, staged) => r.or(staged),
        };
        let audits = std::mem::take(&mut *self.pending.lock().map_err(|_| anyhow::anyhow!("timeline lock poisoned"))?);
        if audits.is_empty() && record.is_none() && release.is_none() {
            return Ok(mlc_store::Committed::default());
        }
        let release = release.map(|k| (self.conn.config.id.clone(), k));
        self.app.store.commit(&mlc_store::Batch { audits, record, release }).await
    }

    pub async fn flush(&self) -> anyhow::Result<()> {
        self.commit(None, None).await.map(|_| ())
    }

    /// Put the record's row (with the pending lines); false if a newer version is stored.
    pub async fn put(
        &self,
        key: &str,
        version: i64,
        state: &str,
        canonical: Option<String>,
        ledger: Option<String>,
        err: Option<&str>,
    ) -> anyhow::Result<bool> {
        Ok(self.commit(Some(self.row(key, version, state, canonical, ledger, err)), None).await?.record_put)
    }

    /// Set the record's state, keeping its version and stage outputs (this run's, else stored).
    pub async fn mark(&self, key: &str, state: &str, err: Option<&str>) -> anyhow::Result<()> {
        let staged = self.staged.lock().map_err(|_| anyhow::anyhow!("staged row lock poisoned"))?.clone();
        let prev = match staged {
            Some(row) if row.record_key == key => Some(row),
            _ => self.app.store.record(&self.conn.config.id, key).await?,
        };
        let (version, canonical, ledger) = prev.map(|r| (r.version, r.canonical, r.ledger)).unwrap_or((0, None, None));
        self.put(key, version, state, canonical, ledger, err).await?;
        Ok(())
    }

    /// The stage ended short: its line on the timeline, and the failure the run stops with.
    pub async fn fail<T>(
        &self,
        stage: Stage,
        key: &str,
        t: Instant,
        outcome: Outcome,
    ) -> anyhow::Result<Result<T, StageFailure>> {
        let (label, mut detail) = outcome.label();
        if matches!(&outcome, Outcome::Wait { wait_key, .. } if wait_key.is_period()) {
            detail.push_str(" (waiting for the period to reopen)");
        }
        self.audit(stage, label, key, t, &detail).await?;
        Ok(Err(StageFailure { stage, record_key: key.to_string(), outcome }))
    }

    /// A component call that did not return is a retryable failure of its stage.
    pub async fn failed_call<T>(
        &self,
        stage: Stage,
        key: &str,
        t: Instant,
        failure: CallFailure,
    ) -> anyhow::Result<Result<T, StageFailure>> {
        self.fail(stage, key, t, Outcome::retry(failure.to_string())).await
    }
}
