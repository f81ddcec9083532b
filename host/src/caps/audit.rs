//! `audit`: the guest says what happened; the host stamps connection, record, job, component
//! digest and time, and appends to the record's append-only timeline.

use mlc_store::AuditEvent;

use crate::bindings::host::ml_connector::plugin::audit::{Host, Outcome};

use super::{CallContext, InstanceState};

const MAX_DETAIL: usize = 8192;
const MAX_STAGE: usize = 64;

pub fn outcome_str(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Info => "info",
        Outcome::Retry => "retry",
        Outcome::Waiting => "waiting",
        Outcome::Parked => "parked",
        Outcome::Failed => "failed",
        Outcome::Denied => "denied",
    }
}

/// An event for this call, as the host itself also records them (e.g. a denied request).
pub fn event(call: &CallContext, stage: &str, outcome: &str, detail: &str) -> AuditEvent {
    AuditEvent {
        id: 0,
        at: 0,
        connection: call.connection.clone(),
        record_key: call.record_key.clone(),
        job_id: call.job_id,
        stage: truncate(stage, MAX_STAGE).to_string(),
        outcome: outcome.to_string(),
        detail: truncate(detail, MAX_DETAIL).to_string(),
        component: Some(call.digest.clone()),
        duration_ms: None,
    }
}

pub fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl Host for InstanceState {
    async fn append(&mut self, stage: String, outcome: Outcome, detail: String) -> anyhow::Result<()> {
        let stage = format!("{}:{}", self.caps.call.role, stage);
        let ev = event(&self.caps.call, &stage, outcome_str(outcome), &detail);
        self.caps.audit(ev).await
    }
}
