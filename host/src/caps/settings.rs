//! `settings`: the connection's non-secret settings, read-only to the guest.

use std::collections::BTreeMap;

use crate::bindings::host::ml_connector::plugin::settings::Host;

use super::InstanceState;

pub type Settings = BTreeMap<String, String>;

impl Host for InstanceState {
    async fn get(&mut self, key: String) -> anyhow::Result<Option<String>> {
        Ok(self.caps.policy.settings.get(&key).cloned())
    }

    async fn all(&mut self) -> anyhow::Result<Vec<(String, String)>> {
        Ok(self.caps.policy.settings.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }
}
