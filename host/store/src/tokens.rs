//! Admin-plane bearer tokens: stored by the sha256 of the token (the token itself is shown once,
//! at creation, and never kept), each with a name, a scope, an optional connection it is limited
//! to, when it was last used, and whether it was revoked.

use async_trait::async_trait;

use crate::Millis;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AdminToken {
    pub name: String,
    /// Hex sha256 of the token.
    #[serde(skip)]
    pub hash: String,
    /// read | operate | admin
    pub scope: String,
    /// Limited to one connection (a tenant's token), or every connection.
    pub connection: Option<String>,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

#[async_trait]
pub trait AdminTokens: Send + Sync + 'static {
    /// Add a token; false if the name is taken.
    async fn token_create(&self, name: &str, hash: &str, scope: &str, connection: Option<&str>)
    -> anyhow::Result<bool>;
    /// The live (not revoked) token with this hash.
    async fn token_by_hash(&self, hash: &str) -> anyhow::Result<Option<AdminToken>>;
    async fn token_list(&self) -> anyhow::Result<Vec<AdminToken>>;
    /// Revoke by name; false if no live token has it.
    async fn token_revoke(&self, name: &str) -> anyhow::Result<bool>;
    /// Note a use (the list shows when each token was last used).
    async fn token_used(&self, name: &str) -> anyhow::Result<()>;
}
