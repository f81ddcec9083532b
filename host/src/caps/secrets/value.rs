//! A secret as the host holds it: its value (zeroed on drop, never in `Debug`), how it is
//! injected, the one origin it may reach, and the handle a guest holds instead of it. A leaf
//! module: the WIT bindings name [`SecretHandle`] as the `secret` resource's host type.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::caps::http::governor::RateGovernor;
use crate::caps::http::origin::Origin;
use crate::config::SecretScheme;

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
    pub governor: Option<Arc<RateGovernor>>,
    /// Held by the connection's local agent (`agent = true`): `value` is empty, the agent
    /// authenticates with its own copy.
    pub on_agent: bool,
}

/// Guest-visible name → secret, for one connection role.
pub type SecretGrants = BTreeMap<String, Arc<ResolvedSecret>>;

/// What sits in the guest's resource table: the name it asked for and the grant it resolved to.
#[derive(Debug)]
pub struct SecretHandle {
    pub guest_name: String,
    pub secret: Arc<ResolvedSecret>,
}
