//! One trigger through the three stages: source.fetch → mapper.map → target (ensure customer,
//! write documents). Every stage appends to the record's timeline with its duration; stage
//! outputs are kept on the record row so a replay can restart from any stage.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mlc_store::{AuditEvent, RecordRow};

use crate::app::{App, Connection};
use crate::bindings::mapper::exports::ml_connector::plugin::mapper_api::MappingError;
use crate::bindings::source::exports::ml_connector::plugin::source_api::SourceError;
use crate::bindings::target::exports::ml_connector::plugin::target_api::{TargetError, WriteOutcome};
use crate::bindings::types::{LedgerDoc, RecordBody, RecordKind, SourceRecord, Trigger};
use crate::caps::queue::{TriggerJob, record_key};

/// How a pipeline run ended, for the worker to settle the job.
#[derive(Debug)]
pub enum Outcome {
    Done,
    /// Try again later; `after_ms` = Retry-After when the remote gave one (not an attempt).
    Retry {
        reason: String,
        after_ms: Option<u64>,
    },
    /// Needs a change elsewhere (conflict, mapping error, denied).
    Park {
        reason: String,
    },
    /// Cannot go on until `wait_key` is released: a record it depends on is written
    /// ("customer/c1", "invoice/i1"), or a closed fiscal period reopens ("period:2026-11-03").
    Wait {
        wait_key: String,
        reason: String,
    },
}

/// The stage that failed and why, as the timeline shows it.
struct StageFailure {
    stage: &'static str,
    record_key: String,
    outcome: Outcome,
}

pub async fn run(app: &App, conn: &Connection, trigger: &Trigger, job_id: Option<i64>) -> anyhow::Result<Outcome> {
    run_job(app, conn, &TriggerJob { trigger: trigger.clone(), fetched: None }, job_id).await
}

/// A trigger job: fetch (unless a poll page already did) → map → write.
pub async fn run_job(app: &App, conn: &Connection, job: &TriggerJob, job_id: Option<i64>) -> anyhow::Result<Outcome> {
    let trigger = &job.trigger;
    let key = record_key(trigger);
    let run = &Run { app, conn, job_id, pending: Arc::new(Mutex::new(Vec::new())), staged: Mutex::new(None) };
    let outcome = match stages(run, job, &key).await? {
        Ok(()) => Outcome::Done,
        Err(f) => {
            let (state, detail) = match &f.outcome {
                Outcome::Retry { reason, .. } => ("retry", reason.clone()),
                Outcome::Park { reason } => ("parked", reason.clone()),
                // A closed period is a parked record (GP's message) whose job waits to resume.
                Outcome::Wait { wait_key, reason } if wait_key.starts_with(PERIOD_WAIT) => ("parked", reason.clone()),
                Outcome::Wait { reason, .. } => ("waiting", reason.clone()),
                Outcome::Done => ("ok", String::new()),
            };
            if state != "retry" && state != "ok" {
                run.mark(&f.record_key, state, Some(&detail)).await?;
            }
            tracing::info!(connection = %conn.config.id, record = %f.record_key, stage = f.stage, "{state}: {detail}");
            f.outcome
        }
    };
    // Lines no record write took along (a retry) are committed before the job settles.
    run.flush().await?;
    Ok(outcome)
}

/// Wait keys of jobs held by a closed fiscal period: `period:<date>`.
pub const PERIOD_WAIT: &str = "period:";

async fn stages(run: &Run<'_>, job: &TriggerJob, key: &str) -> anyhow::Result<Result<(), StageFailure>> {
    let (app, conn) = (run.app, run.conn);
    let trigger = &job.trigger;
    let records = match &job.fetched {
        Some(rec) => {
            run.audit("fetch", "ok", key, Instant::now(), "fetched by the poll page (no call)").await?;
            vec![rec.clone()]
        }
        None => {
            // Stage 1: fetch. A trap (guest bug, CPU/memory limit) is a retryable failure.
            let t = Instant::now();
            let fetched = run
                .guarded("fetch", key, t, async {
                    let mut store = run.store(&conn.source, key.to_string())?;
                    let inst = conn.source.pre.instantiate_async(&mut store).await?;
                    Ok::<_, anyhow::Error>(inst.ml_connector_plugin_source_api().call_fetch(&mut store, trigger).await?)
                })
                .await?;
            let records = match fetched {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => return run.fail("fetch", key, t, source_outcome(e)).await,
                Err(f) => return Ok(Err(f)),
            };
            run.audit("fetch", "ok", key, t, &format!("{} record(s)", records.len())).await?;
            records
        }
    };

    for rec in &records {
        let rkey = format!("{}/{}", crate::caps::queue::record_kind_str(rec.kind), rec.id);
        if app.store.record(&conn.config.id, &rkey).await?.is_some_and(|r| r.version > rec.version) {
            run.audit(
                "fetch",
                "info",
                &rkey,
                Instant::now(),
                &format!("version {} is older than the one already stored; skipped", rec.version),
            )
            .await?;
            continue;
        }
        run.stage(run.row(&rkey, rec.version, "fetched", Some(serde_json::to_string(rec)?), None, None))?;
        // Stage 2: map (pure; settings as data).
        let t = Instant::now();
        let settings: Vec<(String, String)> =
            conn.config.settings.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let mapped = run
            .guarded("map", &rkey, t, async {
                let mut store = run.store(&conn.mapper, rkey.clone())?;
                let inst = conn.mapper.pre.instantiate_async(&mut store).await?;
                Ok::<_, anyhow::Error>(
                    inst.ml_connector_plugin_mapper_api().call_map(&mut store, rec, &settings).await?,
                )
            })
            .await?;
        let docs = match mapped {
            Ok(Ok(d)) => d,
            Ok(Err(MappingError { field, message })) => {
                return run
                    .fail("map", &rkey, t, Outcome::Park { reason: format!("mapping error at {field}: {message}") })
                    .await;
            }
            Err(f) => return Ok(Err(f)),
        };
        run.audit("map", "ok", &rkey, t, &summary(&docs)).await?;
        run.stage(run.row(
            &rkey,
            rec.version,
            "mapped",
            Some(serde_json::to_string(rec)?),
            Some(serde_json::to_string(&docs)?),
            None,
        ))?;

        if conn.config.dry_run {
            dry_run(run, &rkey, rec, &docs).await?;
            continue;
        }

        // Dependencies: no document before its customer, no apply before its invoice.
        if let Some(wait) = dependencies(app, conn, rec).await? {
            let t = Instant::now();
            return run.fail("wait", &rkey, t, wait).await;
        }

        // Stage 3: write, customers first (documents reference them).
        let mut ordered: Vec<&LedgerDoc> = docs.iter().filter(|d| matches!(d, LedgerDoc::Customer(_))).collect();
        ordered.extend(docs.iter().filter(|d| !matches!(d, LedgerDoc::Customer(_))));
        for doc in ordered {
            let t = Instant::now();
            let stage = if matches!(doc, LedgerDoc::Customer(_)) { "ensure-customer" } else { "write" };
            let written = run
                .guarded(stage, &rkey, t, async {
                    let mut store = run.store(&conn.target, rkey.clone())?;
                    let inst = conn.target.pre.instantiate_async(&mut store).await?;
                    let api = inst.ml_connector_plugin_target_api();
                    Ok::<_, anyhow::Error>(match doc {
                        LedgerDoc::Customer(c) => api.call_ensure_customer(&mut store, c).await?,
                        other => api.call_write_document(&mut store, other).await?,
                    })
                })
                .await?;
            match written {
                Ok(Ok(outcome)) => {
                    run.audit(stage, "ok", &rkey, t, &format!("{} {}", doc_label(doc), outcome_str(outcome))).await?
                }
                Ok(Err(e)) => return run.fail(stage, &rkey, t, target_outcome(doc, e)).await,
                Err(f) => return Ok(Err(f)),
            }
        }
        // Written, and whatever waited for this record may go on: one commit.
        let row = run.row(
            &rkey,
            rec.version,
            "written",
            Some(serde_json::to_string(rec)?),
            Some(serde_json::to_string(&docs)?),
            None,
        );
        let done = run.commit(Some(row), Some(rkey.clone())).await?;
        if done.released > 0 {
            app.wake.notify_waiters();
        }
    }
    Ok(Ok(()))
}

/// Dry run: what the write stage would do, compared with what GP holds (read-only look-ups),
/// on the timeline and the record (state "dry-run"); GP is not written.
async fn dry_run(run: &Run<'_>, rkey: &str, rec: &SourceRecord, docs: &[LedgerDoc]) -> anyhow::Result<()> {
    use crate::bindings::types::DocKind;
    let mut lines = Vec::new();
    for doc in docs {
        let t = Instant::now();
        let (kind, number) = match doc {
            LedgerDoc::Customer(c) => {
                lines.push(format!("would ensure customer {}", c.id));
                continue;
            }
            LedgerDoc::Invoice(d) => (DocKind::Invoice, d.number.clone()),
            LedgerDoc::CashReceipt(d) => (DocKind::CashReceipt, d.number.clone()),
            LedgerDoc::CreditMemo(d) => (DocKind::CreditMemo, d.number.clone()),
        };
        let mut store = run.store(&run.conn.target, rkey.to_string())?;
        let inst = run.conn.target.pre.instantiate_async(&mut store).await?;
        let found = inst.ml_connector_plugin_target_api().call_find_document(&mut store, kind, &number).await?;
        let line = match found {
            Ok(None) => format!("would create {}", doc_label(doc)),
            Ok(Some(theirs)) => match ledger_diff(doc, &theirs) {
                d if d.is_empty() => format!("{} is already in GP, the same", doc_label(doc)),
                d => format!("{} differs from GP: {}", doc_label(doc), d.join("; ")),
            },
            Err(e) => format!("{}: GP look-up failed: {e:?}", doc_label(doc)),
        };
        run.audit("dry-run", "info", rkey, t, &line).await?;
        lines.push(line);
    }
    run.put(
        rkey,
        rec.version,
        "dry-run",
        Some(serde_json::to_string(rec)?),
        Some(serde_json::to_string(docs)?),
        Some(&lines.join("\n")),
    )
    .await?;
    Ok(())
}

/// (customer, date, currency, amount) of a ledger document.
fn ledger_key(doc: &LedgerDoc) -> Option<(String, String, String, i64)> {
    match doc {
        LedgerDoc::Customer(_) => None,
        LedgerDoc::Invoice(d) => Some((d.customer_id.clone(), d.date.clone(), d.currency.clone(), d.total)),
        LedgerDoc::CashReceipt(d) => Some((d.customer_id.clone(), d.date.clone(), d.currency.clone(), d.amount)),
        LedgerDoc::CreditMemo(d) => Some((d.customer_id.clone(), d.date.clone(), d.currency.clone(), d.total)),
    }
}

fn ledger_diff(ours: &LedgerDoc, theirs: &LedgerDoc) -> Vec<String> {
    let (Some(a), Some(b)) = (ledger_key(ours), ledger_key(theirs)) else { return vec!["different kinds".into()] };
    let mut out = Vec::new();
    if a.0 != b.0 {
        out.push(format!("customer {} vs GP {}", a.0, b.0));
    }
    if a.1 != b.1 {
        out.push(format!("date {} vs GP {}", a.1, b.1));
    }
    if !a.2.eq_ignore_ascii_case(&b.2) {
        out.push(format!("currency {} vs GP {}", a.2, b.2));
    }
    if a.3 != b.3 {
        out.push(format!("amount {} vs GP {}", a.3, b.3));
    }
    out
}

/// Records this one needs in GP first, as record keys.
pub fn needs(rec: &SourceRecord) -> Vec<String> {
    let customer = |id: &str| format!("customer/{id}");
    let invoice = |id: &str| format!("invoice/{id}");
    let mut out = Vec::new();
    match &rec.body {
        RecordBody::Customer(_) => {}
        RecordBody::Invoice(i) => out.push(customer(&i.customer_id)),
        RecordBody::Payment(p) => {
            out.push(customer(&p.customer_id));
            out.extend(p.allocations.iter().map(|a| invoice(&a.invoice_id)));
        }
        RecordBody::CreditNote(c) => {
            out.push(customer(&c.customer_id));
            out.extend(c.reference_invoice_id.iter().map(|i| invoice(i)));
            out.extend(c.allocations.iter().map(|a| invoice(&a.invoice_id)));
        }
    }
    out.dedup();
    out
}

/// The first unmet dependency as a wait, after making sure a job will bring it (a fetch of
/// the missing record, keyed so that many waiters make one job).
async fn dependencies(app: &App, conn: &Connection, rec: &SourceRecord) -> anyhow::Result<Option<Outcome>> {
    if rec.deleted || !conn.config.wait_for_dependencies {
        return Ok(None);
    }
    for dep in needs(rec) {
        let written = app.store.record(&conn.config.id, &dep).await?.is_some_and(|r| r.state == "written");
        if written {
            continue;
        }
        let (kind, id) = dep.split_once('/').unwrap_or(("customer", dep.as_str()));
        let kind = match kind {
            "invoice" => RecordKind::Invoice,
            _ => RecordKind::Customer,
        };
        // A job that will bring it may already be queued (a backfill page, a webhook): then
        // waiting is enough, and Chargebee is not asked again.
        let pending = app
            .store
            .jobs(&mlc_store::JobFilter {
                connection: Some(conn.config.id.clone()),
                states: vec![
                    mlc_store::JobState::Available,
                    mlc_store::JobState::Running,
                    mlc_store::JobState::Waiting,
                ],
                record_key_prefix: Some(dep.clone()),
                limit: Some(20),
                ..Default::default()
            })
            .await?
            .iter()
            .any(|j| j.record_key.as_deref() == Some(dep.as_str()));
        if !pending {
            let trigger = Trigger {
                event_id: None,
                event_type: "dependency".into(),
                kind,
                resource_id: id.to_string(),
                occurred_at: 0,
            };
            let job = crate::caps::queue::trigger_job(
                &conn.config.id,
                format!("dep:{dep}"),
                &trigger,
                None,
                app.config.host.max_attempts,
            )?;
            if let mlc_store::Enqueued::Created(_) = app.store.enqueue(job).await? {
                app.wake.notify_waiters();
            }
        }
        return Ok(Some(Outcome::Wait {
            wait_key: dep.clone(),
            reason: format!("waiting for {dep} to be in GP first"),
        }));
    }
    Ok(None)
}

/// The root cause of a trap in one line, e.g. the CPU budget or memory limit message.
pub fn trap_message(e: &anyhow::Error) -> String {
    let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    chain.join(": ")
}

pub fn source_outcome(e: SourceError) -> Outcome {
    match e {
        // A 429 is not the record's fault: snooze without using an attempt. The key's governor
        // already paused every caller; without a Retry-After, come back after a jittered second or two.
        SourceError::RateLimited(after_ms) => Outcome::Retry {
            reason: "source rate limit".into(),
            after_ms: Some(after_ms.filter(|ms| *ms > 0).unwrap_or_else(|| 1_000 + rand::random::<u64>() % 2_000)),
        },
        SourceError::Transient(m) => Outcome::Retry { reason: m, after_ms: None },
        SourceError::NotFound(m) => Outcome::Park { reason: format!("not found at the source: {m}") },
        SourceError::BadWebhook(m) | SourceError::Permanent(m) => Outcome::Park { reason: m },
    }
}

fn target_outcome(doc: &LedgerDoc, e: TargetError) -> Outcome {
    let label = doc_label(doc);
    match e {
        TargetError::PeriodClosed(m) => Outcome::Wait {
            wait_key: format!("{PERIOD_WAIT}{}", doc_date(doc).unwrap_or_default()),
            reason: format!("{label}: {m} (reopen the fiscal period in GP; the record resumes by itself)"),
        },
        TargetError::Conflict(m) => Outcome::Park { reason: format!("{label}: conflict, nothing overwritten: {m}") },
        TargetError::Rejected(m) => Outcome::Park { reason: format!("{label}: rejected by the ledger: {m}") },
        TargetError::Permanent(m) => Outcome::Park { reason: format!("{label}: {m}") },
        TargetError::MissingDependency(m) | TargetError::Transient(m) => {
            Outcome::Retry { reason: format!("{label}: {m}"), after_ms: None }
        }
    }
}

pub fn doc_date(doc: &LedgerDoc) -> Option<String> {
    match doc {
        LedgerDoc::Customer(_) => None,
        LedgerDoc::Invoice(d) => Some(d.date.clone()),
        LedgerDoc::CashReceipt(d) => Some(d.date.clone()),
        LedgerDoc::CreditMemo(d) => Some(d.date.clone()),
    }
}

fn outcome_str(o: WriteOutcome) -> &'static str {
    match o {
        WriteOutcome::Created => "created",
        WriteOutcome::Updated => "updated",
        WriteOutcome::AlreadyPresent => "already present",
    }
}

pub fn doc_label(doc: &LedgerDoc) -> String {
    match doc {
        LedgerDoc::Customer(c) => format!("customer {}", c.id),
        LedgerDoc::Invoice(d) => format!("invoice {}", d.number),
        LedgerDoc::CashReceipt(d) => format!("cash receipt {}", d.number),
        LedgerDoc::CreditMemo(d) => format!("credit memo {}", d.number),
    }
}

fn summary(docs: &[LedgerDoc]) -> String {
    docs.iter().map(doc_label).collect::<Vec<_>>().join(", ")
}

/// One job's run: its bookkeeping goes to the store in as few commits as the recovery story
/// allows — one on the happy path. Audit lines wait in `pending` and the record's row (fetched,
/// then mapped) in `staged`; both are committed with the written row and the release of its
/// waiters, or, when the run stops short, with its final state. A crash loses only an attempt
/// the job's re-run repeats (the lease expires; GP look-ups keep the write idempotent).
struct Run<'a> {
    app: &'a App,
    conn: &'a Connection,
    job_id: Option<i64>,
    /// Shared with the run's component calls (their own audit lines, see `Caps::timeline`).
    pending: Arc<Mutex<Vec<AuditEvent>>>,
    /// The record's row as far as the run got, not yet committed.
    staged: Mutex<Option<RecordRow>>,
}

impl Run<'_> {
    /// Add a line to the record's timeline (committed with the next record write).
    async fn audit(&self, stage: &str, outcome: &str, key: &str, t: Instant, detail: &str) -> anyhow::Result<()> {
        let component = match stage {
            "fetch" => &self.conn.source.component.digest,
            "map" => &self.conn.mapper.component.digest,
            _ => &self.conn.target.component.digest,
        };
        let line = AuditEvent {
            id: 0,
            at: 0,
            connection: self.conn.config.id.clone(),
            record_key: Some(key.to_string()),
            job_id: self.job_id,
            stage: stage.to_string(),
            outcome: outcome.to_string(),
            detail: detail.to_string(),
            component: Some(component.clone()),
            duration_ms: Some(t.elapsed().as_millis() as i64),
        };
        self.pending.lock().map_err(|_| anyhow::anyhow!("timeline lock poisoned"))?.push(line);
        Ok(())
    }

    /// A sandboxed store for one component call of this run; its audit lines join the run's.
    fn store<P>(
        &self,
        role: &crate::app::Role<P>,
        key: String,
    ) -> anyhow::Result<wasmtime::Store<crate::caps::InstanceState>> {
        let mut store = role.store(self.app, &self.conn.config.id, Some(key), self.job_id)?;
        store.data_mut().caps.timeline = Some(self.pending.clone());
        Ok(store)
    }

    fn row(
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
            last_error: err.map(str::to_string),
            updated_at: 0,
        }
    }

    /// The record's row as far as the run got (committed with the next commit).
    fn stage(&self, row: RecordRow) -> anyhow::Result<()> {
        *self.staged.lock().map_err(|_| anyhow::anyhow!("staged row lock poisoned"))? = Some(row);
        Ok(())
    }

    fn take_staged(&self) -> anyhow::Result<Option<RecordRow>> {
        Ok(self.staged.lock().map_err(|_| anyhow::anyhow!("staged row lock poisoned"))?.take())
    }

    /// The pending lines, `record` (else the staged row) and the release of `release`'s
    /// waiters, in one transaction.
    async fn commit(&self, record: Option<RecordRow>, release: Option<String>) -> anyhow::Result<mlc_store::Committed> {
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

    async fn flush(&self) -> anyhow::Result<()> {
        self.commit(None, None).await.map(|_| ())
    }

    /// Put the record's row (with the pending lines); false if a newer version is stored.
    async fn put(
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
    async fn mark(&self, key: &str, state: &str, err: Option<&str>) -> anyhow::Result<()> {
        let staged = self.staged.lock().map_err(|_| anyhow::anyhow!("staged row lock poisoned"))?.clone();
        let prev = match staged {
            Some(row) if row.record_key == key => Some(row),
            _ => self.app.store.record(&self.conn.config.id, key).await?,
        };
        let (version, canonical, ledger) = prev.map(|r| (r.version, r.canonical, r.ledger)).unwrap_or((0, None, None));
        self.put(key, version, state, canonical, ledger, err).await?;
        Ok(())
    }

    /// Run one component call under its wall-clock limit; a trap or timeout becomes a failure of
    /// the stage (audited), never a crash of the host.
    async fn guarded<T>(
        &self,
        stage: &'static str,
        key: &str,
        t: Instant,
        call: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<Result<T, StageFailure>> {
        let limit = match stage {
            "fetch" => self.conn.source.component.config.call_timeout_ms,
            "map" => self.conn.mapper.component.config.call_timeout_ms,
            _ => self.conn.target.component.config.call_timeout_ms,
        };
        let reason = match tokio::time::timeout(Duration::from_millis(limit), call).await {
            Ok(Ok(v)) => return Ok(Ok(v)),
            Ok(Err(trap)) => format!("component trapped: {}", trap_message(&trap)),
            Err(_) => format!("component call exceeded its {limit} ms wall-clock limit"),
        };
        self.fail(stage, key, t, Outcome::Retry { reason, after_ms: None }).await
    }

    async fn fail<T>(
        &self,
        stage: &'static str,
        key: &str,
        t: Instant,
        outcome: Outcome,
    ) -> anyhow::Result<Result<T, StageFailure>> {
        let (label, detail) = match &outcome {
            Outcome::Retry { reason, after_ms: Some(ms) } => ("retry", format!("{reason} (retry after {ms} ms)")),
            Outcome::Retry { reason, .. } => ("retry", reason.clone()),
            Outcome::Park { reason } => ("parked", reason.clone()),
            Outcome::Wait { wait_key, reason } if wait_key.starts_with(PERIOD_WAIT) => {
                ("parked", format!("{reason} (waiting for the period to reopen)"))
            }
            Outcome::Wait { reason, .. } => ("waiting", reason.clone()),
            Outcome::Done => ("ok", String::new()),
        };
        self.audit(stage, label, key, t, &detail).await?;
        Ok(Err(StageFailure { stage, record_key: key.to_string(), outcome }))
    }
}

/// Records as canonical JSON (what a replay from the map stage would feed the mapper).
pub fn parse_record(json: &str) -> anyhow::Result<SourceRecord> {
    Ok(serde_json::from_str(json)?)
}
