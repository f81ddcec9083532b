//! A connection's Chargebee site, bound once at load: the region table gives the site's API
//! origin; the API key is bound to exactly that origin (a key already bound elsewhere is
//! refused), granted to the source as `chargebee-api-key`, paced by the plan's rate limit; the
//! origin is on the source's allowlist and in the settings (`chargebee.api_base`). The
//! capabilities' configure steps (`http`, `secrets`, `settings`) read it from here.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::config::{Config, ConnectionConfig, SecretScheme};

use super::http::origin::Origin;

/// The guest-visible name of the Chargebee API key in the source's grants.
pub const KEY_GRANT: &str = "chargebee-api-key";

/// One connection's Chargebee binding, resolved.
#[derive(Debug, Clone)]
pub struct ChargebeeSite {
    pub site: String,
    /// Lower-case region (a key of `[chargebee.regions]`).
    pub region: String,
    pub origin: Origin,
    /// Name in `[secrets]` of the API key.
    pub api_key: String,
    pub requests_per_window: u32,
    pub window: Duration,
}

impl ChargebeeSite {
    /// The binding of `conn`, checked against the region table and the key's own settings.
    pub fn resolve(config: &Config, conn: &ConnectionConfig) -> anyhow::Result<Option<ChargebeeSite>> {
        let Some(cb) = &conn.chargebee else { return Ok(None) };
        let id = &conn.id;
        let regions = &config.chargebee.regions;
        let region = cb.region.to_ascii_lowercase();
        let template = regions.get(&region).with_context(|| {
            let known = regions.keys().cloned().collect::<Vec<_>>().join(", ");
            format!("connection {id}: Chargebee region {:?} is not in [chargebee.regions] ({known})", cb.region)
        })?;
        if cb.site.is_empty() || !cb.site.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            bail!("connection {id}: Chargebee site {:?} must be [A-Za-z0-9-]", cb.site);
        }
        let origin = Origin::parse(&template.replace("{site}", &cb.site))
            .with_context(|| format!("connection {id}: region {:?} origin", cb.region))?;
        let secret = config
            .secrets
            .get(&cb.api_key)
            .with_context(|| format!("connection {id}: Chargebee api_key {:?} is not in [secrets]", cb.api_key))?;
        if secret.scheme != SecretScheme::BasicApiKey {
            bail!("connection {id}: Chargebee api_key {:?} must have scheme \"basic-api-key\"", cb.api_key);
        }
        if let Some(o) = &secret.origin
            && Origin::parse(o)? != origin
        {
            bail!(
                "connection {id}: API key {:?} is bound to {o}, but site {:?} in region {:?} is served from {origin}; a key may only reach its own site's region",
                cb.api_key,
                cb.site,
                cb.region
            );
        }
        if let Some(prev) = conn.settings.get("chargebee.api_base")
            && *prev != origin.to_string()
        {
            bail!("connection {id}: settings chargebee.api_base = {prev:?} disagrees with the region table ({origin}); remove it");
        }
        match conn.source.secrets.get(KEY_GRANT) {
            Some(s) if *s != cb.api_key => {
                bail!("connection {id}: source grant {KEY_GRANT} = {s:?} disagrees with chargebee.api_key {:?}", cb.api_key)
            }
            _ => {}
        }
        Ok(Some(ChargebeeSite {
            site: cb.site.clone(),
            region,
            origin,
            api_key: cb.api_key.clone(),
            requests_per_window: cb.requests_per_window(),
            window: Duration::from_millis(cb.window_ms.max(1)),
        }))
    }

    /// What the components read about the site.
    pub fn settings(&self) -> BTreeMap<String, String> {
        [
            ("chargebee.api_base".to_string(), self.origin.to_string()),
            ("chargebee.site".into(), self.site.clone()),
            ("chargebee.region".into(), self.region.clone()),
        ]
        .into_iter()
        .collect()
    }
}

/// Every connection's binding, by connection id.
pub fn resolve_all(config: &Config) -> anyhow::Result<BTreeMap<String, ChargebeeSite>> {
    let mut out = BTreeMap::new();
    for conn in &config.connections {
        if let Some(site) = ChargebeeSite::resolve(config, conn)? {
            out.insert(conn.id.clone(), site);
        }
    }
    Ok(out)
}
