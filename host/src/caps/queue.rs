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

#[derive(Debug)]
pub struct QueuePolicy {
    /// Attempts of the jobs it enqueues.
    pub max_attempts: i32,
    /// Enqueues one call may make (a poll page is at most 100 triggers).
    pub max_enqueues: usize,
    /// Enqueues per minute, over all calls of this role of this connection.
    pub per_minute: u32,
    /// (window start, enqueues in it), shared by every call of the role.
    window: std::sync::Mutex<(std::time::Instant, u32)>,
}

pub fn configure(env: &ConfigureEnv<'_>) -> QueuePolicy {
    QueuePolicy {
        max_attempts: env.host.max_attempts,
        max_enqueues: 1000,
        per_minute: 6_000,
        window: std::sync::Mutex::new((std::time::Instant::now(), 0)),
    }
}

impl QueuePolicy {
    /// Take one enqueue from this minute's allowance.
    fn admit(&self) -> bool {
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        if w.0.elapsed() >= std::time::Duration::from_secs(60) {
            *w = (std::time::Instant::now(), 0);
        }
        if w.1 >= self.per_minute {
            return false;
        }
        w.1 += 1;
        true
    }
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
            let why = format!("queue quota: at most {} enqueues per call", policy.max_enqueues);
            self.caps.limit_hit("queue", &why).await?;
            return Ok(Err(why));
        }
        if !policy.admit() {
            let why = format!("queue quota: at most {} enqueues per minute", policy.per_minute);
            self.caps.limit_hit("queue", &why).await?;
            return Ok(Err(why));
        }
        let job =
            trigger_job(&self.caps.call.connection, key, TriggerJob::new(trigger), not_before, policy.max_attempts)?;
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
