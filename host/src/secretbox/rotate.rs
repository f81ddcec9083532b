//! Replacing the master key while hosts run, resumable after a crash at any point.
//!
//! 1. [`begin`]: a new key is written to `<file>.next` (atomically; kept if already there, which
//!    is how a crashed rotation resumes with the same key). From now on every host that starts
//!    knows both keys, and `secret set` seals under the next one.
//! 2. [`reseal`]: every stored secret not under the next key is opened and sealed again under
//!    it, one row at a time by compare-and-swap on the old ciphertext, so a value set meanwhile
//!    is never overwritten (it is picked up by the next pass instead).
//! 3. [`promote`]: the current key is copied to `<file>.<id>.old`, then `<file>.next` is renamed
//!    over `<file>`. Before the rename a crash leaves the rotation to resume; after it, done.
//!
//! A host already running holds its secrets' values since load and reads no key meanwhile.

use std::path::Path;

use anyhow::{Context, bail};
use mlc_store::SecretStore;

use super::keyring::{self, Keyring, next_path, old_path, sync_dir, write_key_file};
use super::{KeyId, MasterKey, seal};
use crate::caps::secrets::value::SecretValue;

/// Passes over the store before [`reseal`] gives up on secrets that keep changing under it.
const MAX_PASSES: usize = 8;

/// What a rotation did.
#[derive(Debug)]
pub struct Rotation {
    pub from: KeyId,
    pub to: KeyId,
    /// Secrets re-sealed by this run (not those an earlier, crashed run did).
    pub resealed: usize,
    /// Whether it took up a rotation left half-done.
    pub resumed: bool,
}

/// Rotate the master key at `path` (the configured key file): [`begin`], [`reseal`], [`promote`].
pub async fn rotate(path: &Path, store: &dyn SecretStore) -> anyhow::Result<Rotation> {
    let ring = Keyring::load(path)?;
    if ring.from_env() {
        bail!(
            "the master key comes from {}: rotation writes key files; put the key in {} and unset it first",
            keyring::ENV,
            path.display()
        );
    }
    ring.require_current(store.secret_list().await?.len())?;
    let Some(from) = ring.current().map(MasterKey::id) else {
        bail!(
            "no master key at {} yet: nothing to rotate (`ml-connector secret init-key` creates one)",
            path.display()
        );
    };
    let (ring, resumed) = begin(path)?;
    let to = ring.next().map(MasterKey::id).context("the next key vanished")?;
    let resealed = reseal(&ring, store, None).await?;
    promote(&ring)?;
    Ok(Rotation { from, to, resealed, resumed })
}

/// Write the next key to `<file>.next` unless a rotation left one there; the keyring with it,
/// and whether it was there already.
pub fn begin(path: &Path) -> anyhow::Result<(Keyring, bool)> {
    let ring = Keyring::load(path)?;
    if ring.next().is_some() {
        return Ok((ring, true));
    }
    write_key_file(&next_path(path), &MasterKey::generate())?;
    Ok((Keyring::load(path)?, false))
}

/// Re-seal every stored secret not under `ring`'s sealing key (the next key during a rotation),
/// at most `limit` of them (tests stop half-way); how many were re-sealed.
pub async fn reseal(ring: &Keyring, store: &dyn SecretStore, limit: Option<usize>) -> anyhow::Result<usize> {
    let to = ring.sealing_key().context("no master key to seal under")?;
    let to_id = to.id().hex();
    let mut done = 0;
    for _ in 0..MAX_PASSES {
        let stale: Vec<String> = store
            .secret_list()
            .await?
            .into_iter()
            .filter(|m| m.key_id.as_deref() != Some(to_id.as_str()))
            .map(|m| m.name)
            .collect();
        if stale.is_empty() {
            return Ok(done);
        }
        for name in stale {
            if limit.is_some_and(|l| done >= l) {
                return Ok(done);
            }
            // Deleted meanwhile: nothing to re-seal.
            let Some(blob) = store.secret_get(&name).await? else { continue };
            let plain = SecretValue::new(ring.open(&name, &blob)?);
            let sealed = seal(to, &name, plain.expose())?;
            if store.secret_replace(&name, &blob, &to_id, &sealed).await? {
                done += 1;
            }
        }
    }
    bail!("stored secrets kept changing over {MAX_PASSES} passes; run the rotation again")
}

/// Make the next key current, keeping the current one as `<file>.<id>.old`.
pub fn promote(ring: &Keyring) -> anyhow::Result<()> {
    let (Some(current), Some(next)) = (ring.current(), ring.next()) else {
        bail!("no rotation under way at {}", ring.path().display());
    };
    let old = old_path(ring.path(), current.id());
    if !old.exists() {
        write_key_file(&old, current)?;
    }
    let next_file = next_path(ring.path());
    std::fs::rename(&next_file, ring.path())
        .with_context(|| format!("moving {} to {}", next_file.display(), ring.path().display()))?;
    sync_dir(ring.path())?;
    tracing::info!(from = %current.id(), to = %next.id(), "master key rotated");
    Ok(())
}
