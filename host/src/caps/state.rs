//! `state`: small durable key/values scoped to (connection, component name), e.g. poll cursors.
//! Scoped by component *name*, not digest, so a cursor survives swapping in a new build.

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::host::ml_connector::plugin::state::{Host, add_to_linker};

use super::{Capability, ConfigureEnv, InstanceState, granted};

pub fn link(linker: &mut Linker<InstanceState>) -> anyhow::Result<()> {
    Ok(add_to_linker::<InstanceState, HasSelf<InstanceState>>(linker, |s| s)?)
}

/// What a component may keep: entry sizes, and a quota per (connection, component).
#[derive(Debug, Clone)]
pub struct StatePolicy {
    pub max_key: usize,
    pub max_value: usize,
    /// Keys one component may hold for one connection.
    pub max_keys: u64,
    /// Value bytes one component may hold for one connection.
    pub max_bytes: u64,
}

pub fn configure(_env: &ConfigureEnv<'_>) -> StatePolicy {
    StatePolicy { max_key: 256, max_value: 64 * 1024, max_keys: 1_000, max_bytes: 1 << 20 }
}

impl InstanceState {
    fn state_scope(&self) -> String {
        format!("{}/{}", self.caps.call.connection, self.caps.call.component)
    }
}

impl Host for InstanceState {
    async fn get(&mut self, key: String) -> anyhow::Result<Option<Vec<u8>>> {
        granted(&self.caps.policy.state, Capability::State)?;
        self.caps.store.state_get(&self.state_scope(), &key).await
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> anyhow::Result<Result<(), String>> {
        let policy = granted(&self.caps.policy.state, Capability::State)?;
        if key.is_empty() || key.len() > policy.max_key {
            return Ok(Err(format!("state key must be 1..={} bytes", policy.max_key)));
        }
        if value.len() > policy.max_value {
            return Ok(Err(format!("state value is {} bytes; the limit is {}", value.len(), policy.max_value)));
        }
        let scope = self.state_scope();
        let (keys, bytes) = self.caps.store.state_usage(&scope).await?;
        let old = self.caps.store.state_get(&scope, &key).await?;
        let keys_after = keys + u64::from(old.is_none());
        let bytes_after = (bytes + value.len() as u64).saturating_sub(old.as_ref().map_or(0, |v| v.len() as u64));
        if keys_after > policy.max_keys || bytes_after > policy.max_bytes {
            let why = format!(
                "state quota: {keys_after} key(s) and {bytes_after} byte(s) would exceed {} keys / {} bytes",
                policy.max_keys, policy.max_bytes
            );
            self.caps.limit_hit("state", &why).await?;
            return Ok(Err(why));
        }
        self.caps.store.state_put(&scope, &key, &value).await?;
        Ok(Ok(()))
    }

    async fn delete(&mut self, key: String) -> anyhow::Result<()> {
        granted(&self.caps.policy.state, Capability::State)?;
        self.caps.store.state_delete(&self.state_scope(), &key).await
    }
}
