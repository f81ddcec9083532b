//! `log`: guest log lines go to the host's tracing, tagged with the calling connection/component.

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::host::ml_connector::plugin::log::{Host, Level, add_to_linker};
use crate::timeline::clip;

use super::{Capability, ConfigureEnv, InstanceState, granted};

pub fn link(linker: &mut Linker<InstanceState>) -> anyhow::Result<()> {
    Ok(add_to_linker::<InstanceState, HasSelf<InstanceState>>(linker, |s| s)?)
}

/// How much one call may log.
#[derive(Debug, Clone)]
pub struct LogPolicy {
    /// Longest message kept (characters); the rest is cut.
    pub max_message: usize,
    /// Lines per call; past it lines are dropped and one warning says so.
    pub max_lines: usize,
}

pub fn configure(_env: &ConfigureEnv<'_>) -> LogPolicy {
    LogPolicy { max_message: 4096, max_lines: 1_000 }
}

#[derive(Debug, Default)]
pub struct Instance {
    lines: usize,
}

impl Host for InstanceState {
    async fn log(&mut self, level: Level, message: String) -> anyhow::Result<()> {
        let policy = granted(&self.caps.policy.log, Capability::Log)?;
        let c = &self.caps.call;
        self.caps.log.lines += 1;
        if self.caps.log.lines > policy.max_lines {
            if self.caps.log.lines == policy.max_lines + 1 {
                tracing::warn!(connection = %c.connection, component = %c.component, "more than {} log lines in one call; the rest are dropped", policy.max_lines);
            }
            return Ok(());
        }
        let msg = clip(&message, policy.max_message);
        match level {
            Level::Trace => tracing::trace!(connection = %c.connection, component = %c.component, "{msg}"),
            Level::Debug => tracing::debug!(connection = %c.connection, component = %c.component, "{msg}"),
            Level::Info => tracing::info!(connection = %c.connection, component = %c.component, "{msg}"),
            Level::Warn => tracing::warn!(connection = %c.connection, component = %c.component, "{msg}"),
            Level::Error => tracing::error!(connection = %c.connection, component = %c.component, "{msg}"),
        }
        Ok(())
    }
}
