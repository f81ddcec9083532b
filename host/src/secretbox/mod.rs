//! Secrets at rest: the sealed format, and the master keys that seal them (`keyring`: where
//! they live; `rotate`: replacing the master key while hosts run; `ops`: what the `secret`
//! commands do).
//!
//! v2 (written): `"mlc2" ‖ key id[8] ‖ nonce[12] ‖ ChaCha20-Poly1305(plain)`, with associated
//! data `"mlc2" ‖ key id ‖ secret name`: the header cannot be edited and a blob copied to another
//! name does not open. The key id is the first 8 bytes of sha256(key), so a host holding several
//! keys (during and after rotation) knows which one to use, and the store can list it.
//! v1 (read only): `"mlc1" ‖ nonce[12] ‖ ciphertext`, no key id, no associated data; opened by
//! trying every known key, and re-sealed as v2 by rotation.

pub mod keyring;
pub mod ops;
pub mod rotate;

use anyhow::{Context, bail};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use keyring::Keyring;

const V1: &[u8; 4] = b"mlc1";
const V2: &[u8; 4] = b"mlc2";
const NONCE: usize = 12;
const TAG: usize = 16;
const ID: usize = 8;

/// A master key's id: the first 8 bytes of its sha256, shown as 16 hex chars.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; ID]);

impl KeyId {
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({})", self.hex())
    }
}

/// A 32-byte master key. Zeroed when dropped; `Debug` shows only its id.
pub struct MasterKey {
    id: KeyId,
    key: [u8; 32],
}

impl MasterKey {
    pub fn new(key: [u8; 32]) -> MasterKey {
        let digest = Sha256::digest(key);
        let mut id = [0u8; ID];
        id.copy_from_slice(&digest[..ID]);
        MasterKey { id: KeyId(id), key }
    }

    pub fn generate() -> MasterKey {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        MasterKey::new(key)
    }

    /// From 64 hex chars (surrounding whitespace ignored), as key files and `MLC_MASTER_KEY` hold it.
    pub fn from_hex(text: &str) -> anyhow::Result<MasterKey> {
        let bytes = hex::decode(text.trim()).context("master key is not hex")?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|_| anyhow::anyhow!("master key must be 32 bytes (64 hex chars)"))?;
        Ok(MasterKey::new(key))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.key)
    }

    pub fn id(&self) -> KeyId {
        self.id
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(&Key::from(self.key))
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.key.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&self.key);
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey(id {}, <redacted>)", self.id)
    }
}

/// A sealed blob, parsed (not yet opened).
#[derive(Debug)]
pub enum Sealed<'a> {
    V1 { nonce: [u8; NONCE], ct: &'a [u8] },
    V2 { key_id: KeyId, nonce: [u8; NONCE], ct: &'a [u8] },
}

impl<'a> Sealed<'a> {
    pub fn parse(blob: &'a [u8]) -> anyhow::Result<Sealed<'a>> {
        let nonce_at = |at: usize| -> anyhow::Result<[u8; NONCE]> { Ok(blob[at..at + NONCE].try_into()?) };
        match blob.get(..4) {
            Some(m) if m == V2 && blob.len() >= 4 + ID + NONCE + TAG => {
                let key_id = KeyId(blob[4..4 + ID].try_into()?);
                Ok(Sealed::V2 { key_id, nonce: nonce_at(4 + ID)?, ct: &blob[4 + ID + NONCE..] })
            }
            Some(m) if m == V1 && blob.len() >= 4 + NONCE + TAG => {
                Ok(Sealed::V1 { nonce: nonce_at(4)?, ct: &blob[4 + NONCE..] })
            }
            _ => bail!("not a sealed secret (neither the mlc1 nor the mlc2 format)"),
        }
    }

    /// The sealing key's id; `None` for v1.
    pub fn key_id(&self) -> Option<KeyId> {
        match self {
            Sealed::V1 { .. } => None,
            Sealed::V2 { key_id, .. } => Some(*key_id),
        }
    }
}

fn aad(key_id: KeyId, name: &str) -> Vec<u8> {
    [V2.as_slice(), &key_id.0, name.as_bytes()].concat()
}

/// Seal `plain` as secret `name` under `key` (v2).
pub fn seal(key: &MasterKey, name: &str, plain: &str) -> anyhow::Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE];
    rand::rng().fill_bytes(&mut nonce);
    let aad = aad(key.id, name);
    let ct = key
        .cipher()
        .encrypt(&Nonce::from(nonce), Payload { msg: plain.as_bytes(), aad: &aad })
        .map_err(|_| anyhow::anyhow!("encryption failed"))?;
    Ok([V2.as_slice(), &key.id.0, &nonce, &ct].concat())
}

/// Open a v2 blob of secret `name` with `key` (its id already matched); `None` if the tag does
/// not verify (another name, an edited blob, or a key with a colliding id).
fn open_v2(key: &MasterKey, name: &str, nonce: &[u8; NONCE], ct: &[u8]) -> Option<Vec<u8>> {
    let aad = aad(key.id, name);
    key.cipher().decrypt(&Nonce::from(*nonce), Payload { msg: ct, aad: &aad }).ok()
}

/// Open a v1 blob with `key`; `None` if it is not the key (or the blob was edited).
fn open_v1(key: &MasterKey, nonce: &[u8; NONCE], ct: &[u8]) -> Option<Vec<u8>> {
    key.cipher().decrypt(&Nonce::from(*nonce), ct).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_round_trip_binds_name_and_header() {
        let key = MasterKey::generate();
        let ring = Keyring::of(vec![MasterKey::from_hex(&key.to_hex()).unwrap()]);
        let sealed = seal(&key, "acme-gp", "hunter2").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(Sealed::parse(&sealed).unwrap().key_id(), Some(key.id()));
        assert_eq!(ring.open("acme-gp", &sealed).unwrap(), "hunter2");
        let err = ring.open("acme-chargebee", &sealed).unwrap_err().to_string();
        assert!(err.contains("acme-chargebee") && err.contains("another name"), "{err}");
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(ring.open("acme-gp", &bad).is_err());
        assert!(ring.open("acme-gp", b"plaintext").is_err());
    }

    #[test]
    fn debug_of_a_key_shows_only_its_id() {
        let key = MasterKey::generate();
        let text = format!("{key:?}");
        assert!(text.contains(&key.id().hex()) && !text.contains(&key.to_hex()), "{text}");
    }
}
