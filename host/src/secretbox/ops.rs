//! What the `ml-connector secret …` commands do, over a store and the configured key file
//! (the command line only reads arguments and prints).

use std::path::Path;

use anyhow::{Context, bail, ensure};
use mlc_store::{SecretMeta, SecretStore};

use super::keyring::{self, ENV, Keyring};
use super::{KeyId, MasterKey, seal};

/// What `secret set` did.
#[derive(Debug)]
pub struct SetOutcome {
    pub key_id: KeyId,
    /// A new master key was created for it (the store held no secret and no key existed).
    pub created_key: bool,
}

/// Seal `value` as `name` under the sealing key and store it. With no key file and an empty
/// store a key is created (reported); with no key file and sealed secrets stored, refused.
pub async fn set(path: &Path, store: &dyn SecretStore, name: &str, value: &str) -> anyhow::Result<SetOutcome> {
    ensure!(!value.is_empty(), "empty secret");
    let mut ring = Keyring::load(path)?;
    let mut created_key = false;
    if ring.sealing_key().is_none() {
        ring.require_current(store.secret_list().await?.len())?;
        keyring::create(path)?;
        created_key = true;
        ring = Keyring::load(path)?;
    }
    let key = ring.sealing_key().context("no master key")?;
    store.secret_put(name, Some(&key.id().hex()), &seal(key, name, value)?).await?;
    Ok(SetOutcome { key_id: key.id(), created_key })
}

/// Create the master key file; refused if it exists or `MLC_MASTER_KEY` is set.
pub fn init_key(path: &Path) -> anyhow::Result<MasterKey> {
    if std::env::var_os(ENV).is_some() {
        bail!("{ENV} is set: it is the master key, no file is needed");
    }
    if path.exists() {
        bail!("{} exists already: keep it (`ml-connector secret rotate-master` replaces it)", path.display());
    }
    keyring::create(path)
}

/// Where a stored secret's key stands, for `secret list`.
pub fn key_state(ring: &Keyring, meta: &SecretMeta) -> &'static str {
    let is = |k: Option<&MasterKey>| k.is_some_and(|k| Some(k.id().hex()) == meta.key_id);
    match &meta.key_id {
        None => "v1 format (rotate-master re-seals it)",
        Some(_) if is(ring.current()) => "current key",
        Some(_) if is(ring.next()) => "next key (rotation under way)",
        Some(id) if ring.knows(id) => "retired key (rotate-master re-seals it)",
        Some(_) => "UNKNOWN key: this host cannot open it",
    }
}

/// Every stored secret's name, key id and key state, and age: never a value.
pub async fn list(path: &Path, store: &dyn SecretStore) -> anyhow::Result<Vec<(SecretMeta, &'static str)>> {
    let ring = Keyring::load(path)?;
    let rows = store.secret_list().await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let state = key_state(&ring, &m);
            (m, state)
        })
        .collect())
}
