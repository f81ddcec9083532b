//! `queue`: a guest (e.g. a source's poll) enqueues follow-up triggers. The host prefixes the
//! connection, so a guest can only enqueue work for the connection it runs for.

use mlc_store::Enqueued;
use wasmtime::component::{HasSelf, Linker};

use crate::bindings::host::ml_connector::plugin::queue::{Enqueued as WitEnqueued, Host, add_to_linker};
use crate::bindings::types::Trigger;
use crate::jobs::{TriggerJob, trigger_job};
use crate::keys::JobKey;

use super::{Capability, ConfigureEnv, InstanceState, granted};

pub fn link(linker: &mut Linker<InstanceState>) -> anyhow::Result<()> {
    Ok(add_to_linker::<InstanceState, HasSelf<InstanceState>>(linker, |s| s)?)
}

#[derive(Debug, Clone)]
pub struct QueuePolicy {
    /// Attempts of the jobs it enqueues.
    pub max_attempts: i32,
    /// Enqueues one call may make (a poll page is at most 100 triggers).
    pub max_enqueues: usize,
}

pub fn configure(env: &ConfigureEnv<'_>) -> QueuePolicy {
    QueuePolicy { max_attempts: env.host.max_attempts, max_enqueues: 1000 }
}

/// Enqueues this call has made.
#[derive(Debug, Default)]
pub struct Instance {
    enqueued: usize,
}

impl Host for InstanceState {
    async fn enqueue(
        &mut self,
        key: String,
        trigger: Trigger,
        not_before: Option<i64>,
    ) -> anyhow::Result<Result<WitEnqueued, String>> {
        let policy = granted(&self.caps.policy.queue, Capability::Queue)?;
        let key = match JobKey::guest(key) {
            Ok(k) => k,
            Err(e) => return Ok(Err(e)),
        };
        if self.caps.queue.enqueued >= policy.max_enqueues {
            return Ok(Err(format!("at most {} enqueues per call", policy.max_enqueues)));
        }
        let job = trigger_job(&self.caps.call.connection, key, TriggerJob::new(trigger), not_before, policy.max_attempts)?;
        let outcome = self.caps.store.enqueue(job).await?;
        self.caps.queue.enqueued += 1;
        Ok(Ok(match outcome {
            Enqueued::Created(_) => {
                self.caps.wake.notify_waiters();
                WitEnqueued::Created
            }
            Enqueued::Duplicate(_) => WitEnqueued::Duplicate,
        }))
    }
}
