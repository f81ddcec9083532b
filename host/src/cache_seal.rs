//! Integrity of the precompiled component cache. A `.cwasm` is native code that wasmtime loads
//! without verifying it (`Component::deserialize` is `unsafe` for that reason), so anyone who can
//! write the cache directory could otherwise run code in the host. Each artifact the host writes
//! gets a side file `<name>.mac`: HMAC-SHA256, under a per-install random key, of the artifact's
//! file name and bytes. Binding the name means a valid artifact of another component (or another
//! engine) copied over this one fails too. An artifact whose MAC is missing or wrong is never
//! deserialized: it is recompiled and the event logged.
//!
//! The key is `cache.key` in the cache directory, created with mode 0600. A key file that others
//! may read or write (mode bits beyond 0600) is not trusted: it is replaced, which invalidates
//! every entry (they are recompiled). Someone who can write the cache directory can delete the
//! key, but cannot read ours or make one we would accept unless they are this user (or root),
//! at which point they could change the host binary anyway.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use anyhow::Context as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

const KEY_FILE: &str = "cache.key";

/// The per-install key that seals cache entries.
pub struct CacheSeal {
    key: [u8; 32],
}

impl CacheSeal {
    /// The cache directory's key, created (or replaced, when its file is not private) as needed.
    pub fn open(cache_dir: &Path) -> anyhow::Result<CacheSeal> {
        let path = cache_dir.join(KEY_FILE);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                tracing::warn!(
                    "cache key {} is readable or writable by others (mode {:o}): replacing it; every cached component will be recompiled",
                    path.display(),
                    meta.permissions().mode() & 0o777
                );
                std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            }
            Ok(_) => {
                if let Some(key) = read_key(&path) {
                    return Ok(CacheSeal { key });
                }
                tracing::warn!("cache key {} is malformed: replacing it", path.display());
                std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            }
            Err(_) => {}
        }
        create_key(&path)
    }

    /// The side file holding `artifact`'s MAC.
    pub fn mac_file(artifact: &str) -> String {
        format!("{artifact}.mac")
    }

    /// The MAC of artifact `name` with contents `bytes`, hex (what the side file holds).
    pub fn seal(&self, name: &str, bytes: &[u8]) -> String {
        hex::encode(hmac_sha256(&self.key, &[name.as_bytes(), &[0], bytes]))
    }

    /// Whether `mac` (the side file's text, if there is one) seals `bytes` as artifact `name`.
    pub fn verify(&self, name: &str, bytes: &[u8], mac: Option<&[u8]>) -> bool {
        let Some(given) = mac.and_then(|m| hex::decode(String::from_utf8_lossy(m).trim()).ok()) else {
            return false;
        };
        let expected = hmac_sha256(&self.key, &[name.as_bytes(), &[0], bytes]);
        // Constant time: the MAC must not be guessable byte by byte from timing.
        given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

fn read_key(path: &Path) -> Option<[u8; 32]> {
    let text = std::fs::read_to_string(path).ok()?;
    hex::decode(text.trim()).ok()?.try_into().ok()
}

fn create_key(path: &Path) -> anyhow::Result<CacheSeal> {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating cache key {}", path.display()))?;
    f.write_all(hex::encode(key).as_bytes())?;
    Ok(CacheSeal { key })
}

/// HMAC-SHA256 (RFC 2104) over the concatenation of `parts`. Written out because the `hmac`
/// crate in the lock file is for sha2 0.11 and this crate uses 0.10; checked against RFC 4231.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya ", b"want for nothing?"]);
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let long_key = [0xaau8; 131];
        let mac = hmac_sha256(&long_key, &[b"Test Using Larger Than Block-Size Key - Hash Key First"]);
        assert_eq!(hex::encode(mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn key_is_private_and_a_shared_one_is_replaced() {
        let dir = std::env::temp_dir().join(format!("mlc-seal-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = CacheSeal::open(&dir).unwrap();
        let path = dir.join(KEY_FILE);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let mac = a.seal("x.cwasm", b"code");
        assert!(CacheSeal::open(&dir).unwrap().verify("x.cwasm", b"code", Some(mac.as_bytes())), "same key");
        assert!(!a.verify("y.cwasm", b"code", Some(mac.as_bytes())), "bound to the name");
        assert!(!a.verify("x.cwasm", b"codf", Some(mac.as_bytes())));
        assert!(!a.verify("x.cwasm", b"code", None));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let b = CacheSeal::open(&dir).unwrap();
        assert!(!b.verify("x.cwasm", b"code", Some(mac.as_bytes())), "a world-readable key is replaced");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
