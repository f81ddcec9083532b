//! Admin tokens: what a bearer token may do ([`Scope`]), how tokens are made (random, shown
//! once) and how they are kept (sha256; a stolen database gives away no token).

use std::fmt;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// What a token may do; each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Jobs, timelines.
    Read,
    /// Also replay, and other actions on records (audited with the token's name).
    Operate,
    /// Also tokens and configuration.
    Admin,
}

impl Scope {
    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "read" => Some(Scope::Read),
            "operate" => Some(Scope::Operate),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Operate => "operate",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The scope of an agent credential (`ml-connector agent-token create`): it opens a tunnel for
/// its one connection and nothing on the admin plane (`Scope::parse` does not know it).
pub const AGENT_SCOPE: &str = "agent";

/// A new token: `mlc_` and 32 random bytes (base64url).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("mlc_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// How a token is kept and looked up.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Create a token in the store; returns the token (shown once).
pub async fn create(
    store: &dyn mlc_store::Store,
    name: &str,
    scope: Scope,
    connection: Option<&str>,
) -> anyhow::Result<String> {
    create_scoped(store, name, scope.as_str(), connection).await
}

/// Create an agent credential for `connection`; returns it (shown once).
pub async fn create_agent(store: &dyn mlc_store::Store, name: &str, connection: &str) -> anyhow::Result<String> {
    create_scoped(store, name, AGENT_SCOPE, Some(connection)).await
}

async fn create_scoped(
    store: &dyn mlc_store::Store,
    name: &str,
    scope: &str,
    connection: Option<&str>,
) -> anyhow::Result<String> {
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
        "token name {name:?} must be 1–64 characters of [A-Za-z0-9._-]"
    );
    let token = generate();
    if !store.token_create(name, &digest(&token), scope, connection).await? {
        anyhow::bail!("a token named {name:?} exists already (revoke it, or choose another name)");
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_order_and_tokens_differ() {
        assert!(Scope::Admin > Scope::Operate && Scope::Operate > Scope::Read);
        assert_eq!(Scope::parse("operate"), Some(Scope::Operate));
        assert_eq!(Scope::parse("root"), None);
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(a.starts_with("mlc_") && a.len() > 40);
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), digest(&b));
    }
}
