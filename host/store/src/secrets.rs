//! Sealed secrets by name. The store only ever sees ciphertext: sealing and opening happen in
//! the host, so a copy of the database gives away no credential. Each row also records the id
//! of the master key that sealed it (the host's, see `secretbox`), so listing and key rotation
//! need not read ciphertext; rows sealed before key ids existed have none.

use async_trait::async_trait;

use crate::Millis;

/// A stored secret's metadata: never its value or ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMeta {
    pub name: String,
    /// The sealing master key's id (hex); `None` for rows sealed in the v1 format.
    pub key_id: Option<String>,
    pub updated_at: Millis,
}

#[async_trait]
pub trait SecretStore: Send + Sync + 'static {
    /// Insert or overwrite `name`'s ciphertext, sealed under master key `key_id` (`None`: a
    /// format without key ids).
    async fn secret_put(&self, name: &str, key_id: Option<&str>, ciphertext: &[u8]) -> anyhow::Result<()>;
    async fn secret_get(&self, name: &str) -> anyhow::Result<Option<Vec<u8>>>;
    /// Every stored secret, by name.
    async fn secret_list(&self) -> anyhow::Result<Vec<SecretMeta>>;
    /// Replace `name`'s ciphertext only if it is still `expected` (compare-and-swap, one
    /// statement): a re-seal never overwrites a value set meanwhile. True if replaced.
    async fn secret_replace(
        &self,
        name: &str,
        expected: &[u8],
        key_id: &str,
        ciphertext: &[u8],
    ) -> anyhow::Result<bool>;
}
