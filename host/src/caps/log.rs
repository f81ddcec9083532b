//! `log`: guest log lines go to the host's tracing, tagged with the calling connection/component.

use crate::bindings::host::ml_connector::plugin::log::{Host, Level};

use super::InstanceState;

/// Longest message kept; a guest cannot flood the host's log with one call.
const MAX_MESSAGE: usize = 4096;

impl Host for InstanceState {
    async fn log(&mut self, level: Level, message: String) -> anyhow::Result<()> {
        let c = &self.caps.call;
        let msg: &str = match message.char_indices().nth(MAX_MESSAGE) {
            Some((i, _)) => &message[..i],
            None => &message,
        };
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
