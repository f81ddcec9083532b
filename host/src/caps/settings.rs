//! `settings`: the connection's non-secret settings, read-only to the guest.

use std::collections::BTreeMap;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::host::ml_connector::plugin::settings::{Host, add_to_linker};

use super::{Capability, ConfigureEnv, InstanceState, granted};

pub fn link(linker: &mut Linker<InstanceState>) -> anyhow::Result<()> {
    Ok(add_to_linker::<InstanceState, HasSelf<InstanceState>>(linker, |s| s)?)
}

pub type Settings = BTreeMap<String, String>;

/// The connection's settings, with what its Chargebee binding adds for the source
/// (`chargebee.api_base`, `.site`, `.region`; see [`super::chargebee`]).
pub fn configure(env: &ConfigureEnv<'_>) -> Settings {
    let mut settings = env.connection.settings.clone();
    if let Some(site) = env.chargebee {
        settings.extend(site.settings());
    }
    settings
}

impl Host for InstanceState {
    async fn get(&mut self, key: String) -> anyhow::Result<Option<String>> {
        Ok(granted(&self.caps.policy.settings, Capability::Settings)?.get(&key).cloned())
    }

    async fn all(&mut self) -> anyhow::Result<Vec<(String, String)>> {
        let settings = granted(&self.caps.policy.settings, Capability::Settings)?;
        Ok(settings.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }
}
