//! `secrets`: guests hold handles, never values. A handle is resolved against the grants of the
//! calling connection role only; the value is used by the host (see `http`) and nowhere else.
//! Values are resolved once at load ([`resolve`]) from the environment, the store (sealed) or
//! the config (demos), each bound to one origin.

pub mod value;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use mlc_store::Store;
use wasmtime::component::{HasSelf, Linker, Resource};

use crate::bindings::host::ml_connector::plugin::secrets::{Host, HostSecret, SecretError, add_to_linker};
use crate::config::{Config, SecretSource};
use crate::secretbox::Keyring;

use super::chargebee::{ChargebeeSite, KEY_GRANT};
use super::http::governor::RateGovernor;
use super::http::origin::Origin;
use super::{Capability, ConfigureEnv, InstanceState, granted};

pub use value::{ResolvedSecret, SecretGrants, SecretHandle, SecretValue};

/// Every configured secret, by its name in `[secrets]`.
pub type ResolvedSecrets = BTreeMap<String, Arc<ResolvedSecret>>;

/// Live handles one instance may hold at once (bounds the guest's resource table use).
const MAX_HANDLES: usize = 32;

pub fn link(linker: &mut Linker<InstanceState>) -> anyhow::Result<()> {
    Ok(add_to_linker::<InstanceState, HasSelf<InstanceState>>(linker, |s| s)?)
}

/// The role's grants (guest name → secret); the source of a Chargebee connection also gets
/// the site's API key as `chargebee-api-key`.
pub fn configure(env: &ConfigureEnv<'_>) -> anyhow::Result<SecretGrants> {
    let mut grants = SecretGrants::new();
    let mut names: Vec<(&str, &str)> =
        env.role_config.secrets.iter().map(|(guest, name)| (guest.as_str(), name.as_str())).collect();
    if env.role == crate::role::Role::Source
        && let Some(site) = env.chargebee
    {
        names.push((KEY_GRANT, &site.api_key));
    }
    for (guest_name, secret_name) in names {
        let s = env.secrets.get(secret_name).with_context(|| format!("secret {secret_name} unresolved"))?;
        grants.insert(guest_name.to_string(), s.clone());
    }
    Ok(grants)
}

/// Live handles of this call.
#[derive(Debug, Default)]
pub struct Instance {
    live: usize,
}

/// Resolve every secret's value and origin once, at load. A Chargebee key without an origin
/// takes its site's (and one key serves one site's origin only); it gets the site's governor.
pub async fn resolve(
    config: &Config,
    sites: &BTreeMap<String, ChargebeeSite>,
    store: &dyn Store,
) -> anyhow::Result<ResolvedSecrets> {
    let keyring = open_keyring(config, store).await?;
    let mut out = BTreeMap::new();
    for (name, sc) in &config.secrets {
        let on_agent = matches!(sc.source, SecretSource::Agent(true));
        let value = match &sc.source {
            SecretSource::Agent(true) => String::new(),
            SecretSource::Agent(false) => {
                bail!("secret {name}: `agent = false` says nothing; give env, stored or value")
            }
            SecretSource::Env(var) => {
                std::env::var(var).with_context(|| format!("secret {name}: environment variable {var} is not set"))?
            }
            SecretSource::Value(v) => {
                tracing::warn!(secret = %name, "secret given inline in the config: fine for demos, not for production");
                v.clone()
            }
            SecretSource::Stored(_) => {
                let sealed = store.secret_get(name).await?.with_context(|| {
                    format!(
                        "secret {name} is configured as stored but is not in the store (ml-connector secret-set {name})"
                    )
                })?;
                keyring.open(name, &sealed)?
            }
        };
        if value.is_empty() && !on_agent {
            bail!("secret {name} is empty");
        }
        let site = key_site(name, sites)?;
        let origin = match (&sc.origin, site) {
            (Some(o), _) => Origin::parse(o)?,
            (None, Some(site)) => site.origin.clone(),
            (None, None) => bail!("secret {name} has no origin"),
        };
        // One governor per key, shared by every connection and worker using it.
        let max_pause = Duration::from_secs(config.host.max_retry_after_s);
        let governor =
            site.map(|s| Arc::new(RateGovernor::new(s.requests_per_window, s.window).with_max_pause(max_pause)));
        let secret = ResolvedSecret {
            name: name.clone(),
            scheme: sc.scheme,
            origin,
            value: SecretValue::new(value),
            governor,
            on_agent,
        };
        out.insert(name.clone(), Arc::new(secret));
    }
    Ok(out)
}

/// The master keys, refusing to start when the store holds sealed secrets and the key file
/// is missing (restoring it is the fix; a new key would open none of them).
async fn open_keyring(config: &Config, store: &dyn Store) -> anyhow::Result<Keyring> {
    let keyring = Keyring::load(&config.host.master_key)?;
    let stored = store.secret_list().await?;
    keyring.require_current(stored.len())?;
    for meta in stored.iter().filter(|m| m.key_id.as_deref().is_some_and(|id| !keyring.knows(id))) {
        tracing::warn!(secret = %meta.name, key_id = ?meta.key_id, "stored secret is sealed under a master key this host does not have");
    }
    Ok(keyring)
}

/// The one site whose API key `name` is, if any; two sites on different origins are refused.
fn key_site<'a>(name: &str, sites: &'a BTreeMap<String, ChargebeeSite>) -> anyhow::Result<Option<&'a ChargebeeSite>> {
    let mut found: Option<&ChargebeeSite> = None;
    for (conn, site) in sites.iter().filter(|(_, s)| s.api_key == name) {
        match found {
            Some(prev) if prev.origin != site.origin => bail!(
                "connection {conn}: API key {name:?} is bound to {}, but site {:?} is served from {}; a key may only reach its own site's region",
                prev.origin,
                site.site,
                site.origin
            ),
            _ => found = Some(site),
        }
    }
    Ok(found)
}

impl Host for InstanceState {
    async fn lookup(&mut self, name: String) -> anyhow::Result<Result<Resource<SecretHandle>, SecretError>> {
        let Some(secret) = granted(&self.caps.policy.secrets, Capability::Secrets)?.get(&name).cloned() else {
            return Ok(Err(SecretError::NotGranted(name)));
        };
        if self.caps.secrets.live >= MAX_HANDLES {
            anyhow::bail!("guest holds more than {MAX_HANDLES} secret handles");
        }
        self.caps.secrets.live += 1;
        Ok(Ok(self.table.push(SecretHandle { guest_name: name, secret })?))
    }
}

impl HostSecret for InstanceState {
    async fn name(&mut self, handle: Resource<SecretHandle>) -> anyhow::Result<String> {
        Ok(self.table.get(&handle)?.guest_name.clone())
    }

    async fn drop(&mut self, handle: Resource<SecretHandle>) -> anyhow::Result<()> {
        self.table.delete(handle)?;
        self.caps.secrets.live = self.caps.secrets.live.saturating_sub(1);
        Ok(())
    }
}
