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
}

pub fn configure(_env: &ConfigureEnv<'_>) -> AuditPolicy {
    AuditPolicy { max_lines: 1_000 }
}

/// Lines this call has written.
#[derive(Debug, Default)]
pub struct Instance {
    lines: usize,
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
        let max = granted(&self.caps.policy.audit, Capability::Audit)?.max_lines;
        self.caps.audit.lines += 1;
        let stage = format!("{}:{}", self.caps.call.role, stage);
        let ev = match self.caps.audit.lines {
            n if n <= max => line(&self.caps.call, &stage, label(outcome), &detail),
            n if n == max + 1 => {
                line(&self.caps.call, &stage, Label::Denied, &format!("more than {max} lines in one call; dropped"))
            }
            _ => return Ok(()),
        };
        self.caps.audit(ev.build()).await
    }
}
