//! Sealed secrets by name. The store only ever sees ciphertext: sealing and opening happen in
//! the host, so a copy of the database gives away no credential.

use async_trait::async_trait;

#[async_trait]
pub trait SecretStore: Send + Sync + 'static {
    async fn secret_put(&self, name: &str, ciphertext: &[u8]) -> anyhow::Result<()>;
    async fn secret_get(&self, name: &str) -> anyhow::Result<Option<Vec<u8>>>;
}
