//! Secrets at rest: sealed with ChaCha20-Poly1305 under the host's master key before they reach
//! the store. The key comes from `MLC_MASTER_KEY` (64 hex chars) or the file named by
//! `MLC_MASTER_KEY_FILE` (default `.mlc/master.key`, created with mode 0600 on first use).
//! Format: "mlc1" ‖ nonce[12] ‖ ciphertext+tag.

use anyhow::{Context, bail};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

const MAGIC: &[u8; 4] = b"mlc1";

fn master_key() -> anyhow::Result<[u8; 32]> {
    let hex_key = match std::env::var("MLC_MASTER_KEY") {
        Ok(k) => k,
        Err(_) => {
            let path = std::env::var("MLC_MASTER_KEY_FILE").unwrap_or_else(|_| ".mlc/master.key".into());
            match std::fs::read_to_string(&path) {
                Ok(k) => k,
                Err(_) => create_key_file(&path)?,
            }
        }
    };
    let bytes = hex::decode(hex_key.trim()).context("master key is not hex")?;
    bytes.try_into().map_err(|_| anyhow::anyhow!("master key must be 32 bytes (64 hex chars)"))
}

fn create_key_file(path: &str) -> anyhow::Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let text = hex::encode(key);
    if let Some(dir) = std::path::Path::new(path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating master key file {path}"))?;
    f.write_all(text.as_bytes())?;
    tracing::warn!("created a new master key in {path}: back it up, stored secrets cannot be read without it");
    Ok(text)
}

pub fn seal(plain: &str) -> anyhow::Result<Vec<u8>> {
    let cipher = ChaCha20Poly1305::new(&Key::from(master_key()?));
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let ct = cipher.encrypt(&Nonce::from(nonce), plain.as_bytes()).map_err(|_| anyhow::anyhow!("encryption failed"))?;
    Ok([MAGIC.as_slice(), &nonce, &ct].concat())
}

pub fn open(sealed: &[u8]) -> anyhow::Result<String> {
    if sealed.len() < 4 + 12 + 16 || &sealed[..4] != MAGIC {
        bail!("not a sealed secret");
    }
    let cipher = ChaCha20Poly1305::new(&Key::from(master_key()?));
    let plain = cipher
        .decrypt(&Nonce::from(<[u8; 12]>::try_from(&sealed[4..16])?), &sealed[16..])
        .map_err(|_| anyhow::anyhow!("wrong master key or tampered secret"))?;
    String::from_utf8(plain).context("secret is not UTF-8")
}

#[cfg(test)]
mod tests {
    #[test]
    fn seal_open_round_trip_and_tamper() {
        // SAFETY of env mutation: single-threaded test, set before any read.
        let dir = std::env::temp_dir().join(format!("mlc-key-{}", uuid::Uuid::new_v4()));
        let key_file = dir.join("master.key");
        temp_env(&key_file);
        let sealed = super::seal("hunter2").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(super::open(&sealed).unwrap(), "hunter2");
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(super::open(&bad).is_err());
    }

    #[allow(unsafe_code)]
    fn temp_env(path: &std::path::Path) {
        // SAFETY: called once in this test process before other threads read the environment.
        unsafe { std::env::set_var("MLC_MASTER_KEY_FILE", path) };
    }
}
