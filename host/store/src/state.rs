//! Component state: small opaque values a component keeps between runs (poll cursors), by
//! `(scope, key)`.

use async_trait::async_trait;

#[async_trait]
pub trait ComponentState: Send + Sync + 'static {
    async fn state_get(&self, scope: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>>;
    async fn state_put(&self, scope: &str, key: &str, value: &[u8]) -> anyhow::Result<()>;
    async fn state_delete(&self, scope: &str, key: &str) -> anyhow::Result<()>;
    /// Keys and value bytes held under `scope` (for quotas).
    async fn state_usage(&self, scope: &str) -> anyhow::Result<(u64, u64)>;
}
