//! `secrets`: guests hold handles, never values. A handle is resolved against the grants of the
//! calling connection role only; the value is used by the host (see `http`) and nowhere else.
//! Values are zeroed on drop and never appear in `Debug` output or logs.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::Resource;

use crate::bindings::host::ml_connector::plugin::secrets::{Host, HostSecret, SecretError};
use crate::config::SecretScheme;

use super::InstanceState;
use super::http::Origin;

/// Live handles one instance may hold at once (bounds the guest's resource table use).
const MAX_HANDLES: usize = 32;

/// A secret's bytes. Zeroed when dropped; `Debug` prints a placeholder.
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: String) -> Self {
        SecretValue(value)
    }
    /// For the host's injection code only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for SecretValue {
    fn drop(&mut self) {
        // Overwrite in place; volatile-free but the buffer is not reused after drop.
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&bytes);
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

/// A secret as the host knows it: how to inject it and the one origin it may reach.
#[derive(Debug)]
pub struct ResolvedSecret {
    /// Name in the config's `[secrets]`.
    pub name: String,
    pub scheme: SecretScheme,
    pub origin: Origin,
    pub value: SecretValue,
    /// Paces every call made with this secret (a Chargebee key's plan limit).
    pub governor: Option<Arc<super::governor::RateGovernor>>,
}

/// Guest-visible name → secret, for one connection role.
pub type SecretGrants = BTreeMap<String, Arc<ResolvedSecret>>;

/// What sits in the guest's resource table: the name it asked for and the grant it resolved to.
#[derive(Debug)]
pub struct SecretHandle {
    pub guest_name: String,
    pub secret: Arc<ResolvedSecret>,
}

impl Host for InstanceState {
    async fn lookup(&mut self, name: String) -> anyhow::Result<Result<Resource<SecretHandle>, SecretError>> {
        let Some(secret) = self.caps.policy.secrets.get(&name).cloned() else {
            return Ok(Err(SecretError::NotGranted(name)));
        };
        if self.caps.live_secret_handles >= MAX_HANDLES {
            anyhow::bail!("guest holds more than {MAX_HANDLES} secret handles");
        }
        self.caps.live_secret_handles += 1;
        Ok(Ok(self.table.push(SecretHandle { guest_name: name, secret })?))
    }
}

impl HostSecret for InstanceState {
    async fn name(&mut self, handle: Resource<SecretHandle>) -> anyhow::Result<String> {
        Ok(self.table.get(&handle)?.guest_name.clone())
    }

    async fn drop(&mut self, handle: Resource<SecretHandle>) -> anyhow::Result<()> {
        self.table.delete(handle)?;
        self.caps.live_secret_handles = self.caps.live_secret_handles.saturating_sub(1);
        Ok(())
    }
}
