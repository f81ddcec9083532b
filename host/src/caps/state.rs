//! `state`: small durable key/values scoped to (connection, component name), e.g. poll cursors.
//! Scoped by component *name*, not digest, so a cursor survives swapping in a new build.

use crate::bindings::host::ml_connector::plugin::state::Host;

use super::InstanceState;

const MAX_KEY: usize = 256;
const MAX_VALUE: usize = 64 * 1024;

impl InstanceState {
    fn state_scope(&self) -> String {
        format!("{}/{}", self.caps.call.connection, self.caps.call.component)
    }
}

impl Host for InstanceState {
    async fn get(&mut self, key: String) -> anyhow::Result<Option<Vec<u8>>> {
        self.caps.store.state_get(&self.state_scope(), &key).await
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> anyhow::Result<Result<(), String>> {
        if key.is_empty() || key.len() > MAX_KEY {
            return Ok(Err(format!("state key must be 1..={MAX_KEY} bytes")));
        }
        if value.len() > MAX_VALUE {
            return Ok(Err(format!("state value is {} bytes; the limit is {MAX_VALUE}", value.len())));
        }
        self.caps.store.state_put(&self.state_scope(), &key, &value).await?;
        Ok(Ok(()))
    }

    async fn delete(&mut self, key: String) -> anyhow::Result<()> {
        self.caps.store.state_delete(&self.state_scope(), &key).await
    }
}
