//! `audit`: the guest says what happened; the host stamps connection, record, job, component
//! digest and time, and appends to the record's append-only timeline.

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::host::ml_connector::plugin::audit::{Host, Outcome, add_to_linker};
use crate::timeline::{Label, Line};

use super::{CallContext, Capability, ConfigureEnv, InstanceState, granted};

pub fn link(linker: &mut Linker<InstanceState>) -> anyhow::Result<()> {
    Ok(add_to_linker::<InstanceState, HasSelf<InstanceState>>(linker, |s| s)?)
}

/// How much one call may add to the timeline.
#[derive(Debug, Clone)]
pub struct AuditPolicy {
    /// Lines per call; past it lines are dropped and one line says so.
    pub max_lines: usize,
    /// Detail bytes per call (each line's detail is also clipped to `timeline::MAX_DETAIL`).
    pub max_bytes: usize,
}

pub fn configure(_env: &ConfigureEnv<'_>) -> AuditPolicy {
    AuditPolicy { max_lines: 1_000, max_bytes: 1 << 20 }
}

/// What this call has written.
#[derive(Debug, Default)]
pub struct Instance {
    lines: usize,
    bytes: usize,
}

pub fn label(o: Outcome) -> Label {
    match o {
        Outcome::Ok => Label::Ok,
        Outcome::Info => Label::Info,
        Outcome::Retry => Label::Retry,
        Outcome::Waiting => Label::Waiting,
        Outcome::Parked => Label::Parked,
        Outcome::Failed => Label::Failed,
        Outcome::Denied => Label::Denied,
    }
}

/// A line for this call, as the host itself also records them (e.g. a denied request).
pub fn line(call: &CallContext, stage: &str, label: Label, detail: &str) -> Line {
    Line::new(&call.connection, stage, label, detail)
        .record(call.record_key.as_ref())
        .job(call.job_id)
        .component(&call.digest)
}

impl Host for InstanceState {
    async fn append(&mut self, stage: String, outcome: Outcome, detail: String) -> anyhow::Result<()> {
        let policy = granted(&self.caps.policy.audit, Capability::Audit)?.clone();
        let ev = line(&self.caps.call, &format!("{}:{}", self.caps.call.role, stage), label(outcome), &detail).build();
        self.caps.audit.lines += 1;
        self.caps.audit.bytes += ev.detail.len();
        if self.caps.audit.lines > policy.max_lines || self.caps.audit.bytes > policy.max_bytes {
            let why = format!(
                "audit quota: more than {} lines or {} bytes in one call; the rest are dropped",
                policy.max_lines, policy.max_bytes
            );
            return self.caps.limit_hit("audit", &why).await;
        }
        self.caps.audit(ev).await
    }
}
