//! Per-record state (the latest version of a record and what happened to it) and the batch
//! that writes a pipeline step's bookkeeping in one transaction.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{AuditEvent, Millis};

/// Per-record state: the latest known version and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRow {
    pub connection: String,
    /// e.g. "invoice/inv_123"
    pub record_key: String,
    pub version: i64,
    /// received | fetched | mapped | written | waiting | parked | failed
    pub state: String,
    /// JSON outputs of each stage so a replay can restart from any stage.
    pub canonical: Option<String>,
    pub ledger: Option<String>,
    pub last_error: Option<String>,
    pub updated_at: Millis,
}

/// The bookkeeping of one pipeline step, written as one transaction: one durable commit instead
/// of one per row (the per-record cost that benches/overhead.rs measures).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Appended in order.
    pub audits: Vec<AuditEvent>,
    /// Put under [`Records::put_record`]'s version rule.
    pub record: Option<RecordRow>,
    /// `(connection, wait_key)`: the jobs waiting for it become available, as
    /// [`crate::JobQueue::release`].
    pub release: Option<(String, String)>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Committed {
    /// False when a higher version of the record was already stored (the row is untouched).
    pub record_put: bool,
    pub released: u64,
}

/// Record rows, and [`Records::commit`], the one write a record's happy path costs.
#[async_trait]
pub trait Records: Send + Sync + 'static {
    /// Insert or update a record's row. A row with a higher stored version is not overwritten
    /// by a lower one; returns false then.
    async fn put_record(&self, row: &RecordRow) -> anyhow::Result<bool>;

    async fn record(&self, connection: &str, record_key: &str) -> anyhow::Result<Option<RecordRow>>;

    /// Audit events, a record row and a release as one transaction (all or nothing).
    async fn commit(&self, batch: &Batch) -> anyhow::Result<Committed>;
}
