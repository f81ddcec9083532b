//! The audit timeline: append-only lines per record and job (the database refuses UPDATE and
//! DELETE on it by trigger).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{JobId, Millis};

/// One line of a record's append-only timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Assigned by the store; 0 when appending.
    pub id: i64,
    /// Assigned by the store (db clock); ignored when appending.
    pub at: Millis,
    pub connection: String,
    pub record_key: Option<String>,
    pub job_id: Option<JobId>,
    /// intake | fetch | map | write | ensure-customer | http | queue | ...
    pub stage: String,
    /// ok | info | retry | waiting | parked | failed | denied
    pub outcome: String,
    pub detail: String,
    /// sha256 of the component that acted, if any.
    pub component: Option<String>,
    pub duration_ms: Option<i64>,
}

#[async_trait]
pub trait Timeline: Send + Sync + 'static {
    /// Append to the timeline; returns the event id. There is no update or delete.
    async fn append_audit(&self, event: &AuditEvent) -> anyhow::Result<i64>;

    /// Events for a record (oldest first), or for a job when `record_key` is None.
    async fn audit(
        &self,
        connection: &str,
        record_key: Option<&str>,
        job_id: Option<JobId>,
    ) -> anyhow::Result<Vec<AuditEvent>>;
}
