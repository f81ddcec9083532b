//! The agent's own config (`agent.toml`, owned by the GP site's administrator): which host(s) to
//! dial, its credential, and **only what it may reach** — GP's Web Services/SBA origins and the
//! SQL Server company databases for eConnect — with the credentials for each, held here and
//! sealed under the agent's own key (`ml-connector agent seal NAME`). The host never holds them.
//!
//! ```toml
//! connection = "acme"
//! hosts = ["https://connector.example.com"]   # every host replica (one tunnel to each)
//! token = { env = "MLC_AGENT_TOKEN" }        # or { file = "…" }
//! ca = "host-ca.pem"                          # trust a private CA for the host (optional)
//! targets_ca = "gp-ca.pem"                    # … and for GP's servers (optional)
//! proxy = "http://proxy.corp:3128"            # CONNECT proxy (default: $HTTPS_PROXY; "none")
//! key = "agent.key"                           # opens `sealed` credentials
//! max_in_flight = 4
//!
//! [[http]]
//! origin = "https://gp01.acme.local:48620"
//! credential = "gp"
//!
//! [[econnect]]
//! server = "gp-sql.acme.local:1433"
//! database = "TWO"
//! credential = "gp-sql"
//!
//! [credentials.gp]
//! scheme = "ntlm"
//! sealed = "bWxjMi…"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::config::SecretScheme;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The connection this agent serves (its credential must be that connection's).
    pub connection: String,
    /// `https://host[:port]` of each host replica; the agent keeps a tunnel to every one.
    pub hosts: Vec<String>,
    pub token: TokenSource,
    /// PEM of CAs to trust for the host besides the platform's.
    pub ca: Option<PathBuf>,
    /// PEM of CAs to trust for GP's own servers (an internal CA behind IIS) besides the platform's.
    pub targets_ca: Option<PathBuf>,
    /// `http://[user:password@]proxy:port`, or `none`; unset = `HTTPS_PROXY`/`https_proxy`.
    pub proxy: Option<String>,
    /// Key file that opens `sealed` credentials (made by `agent seal` on first use).
    pub key: Option<PathBuf>,
    /// GP calls served at once per tunnel (HTTP/2 streams; also the NTLM pool's size).
    #[serde(default = "default_in_flight")]
    pub max_in_flight: usize,
    /// HTTP/2 PING interval and how long a PING may go unanswered before the tunnel is redialed.
    #[serde(default = "default_ping_s")]
    pub ping_s: u64,
    #[serde(default = "default_ping_timeout_s")]
    pub ping_timeout_s: u64,
    /// Reconnect backoff: full jitter between 0 and min(cap, base × 2^attempt).
    #[serde(default = "default_backoff_base_ms")]
    pub backoff_base_ms: u64,
    #[serde(default = "default_backoff_cap_ms")]
    pub backoff_cap_ms: u64,
    #[serde(default)]
    pub http: Vec<HttpTarget>,
    #[serde(default)]
    pub econnect: Vec<SqlTarget>,
    #[serde(default)]
    pub credentials: BTreeMap<String, Credential>,
}

fn default_in_flight() -> usize {
    4
}
fn default_ping_s() -> u64 {
    15
}
fn default_ping_timeout_s() -> u64 {
    10
}
fn default_backoff_base_ms() -> u64 {
    1_000
}
fn default_backoff_cap_ms() -> u64 {
    60_000
}

/// Where the agent's credential is read from.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum TokenSource {
    Env(String),
    File(PathBuf),
    /// Inline: tests and demos only.
    Value(String),
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::Env(v) => f.debug_tuple("Env").field(v).finish(),
            TokenSource::File(p) => f.debug_tuple("File").field(p).finish(),
            TokenSource::Value(_) => f.write_str("Value(<redacted>)"),
        }
    }
}

/// An HTTP origin the agent forwards to (GP Web Services, SBA).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTarget {
    /// `scheme://host[:port]`.
    pub origin: String,
    /// Name in `[credentials]` (ntlm, basic or bearer) the agent authenticates with.
    pub credential: Option<String>,
    /// NTLM over plain http (a trusted network only).
    #[serde(default)]
    pub allow_insecure_ntlm: bool,
}

/// A SQL Server company database the agent runs eConnect on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlTarget {
    /// `host[:port]`.
    pub server: String,
    pub database: String,
    /// Name in `[credentials]` (scheme `sql`, `user:password`).
    pub credential: String,
    pub max_connections: Option<usize>,
    #[serde(default = "default_sql_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_sql_timeout_ms() -> u64 {
    30_000
}

/// A credential the agent holds.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub scheme: SecretScheme,
    #[serde(flatten)]
    pub source: CredentialSource,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialSource {
    Env(String),
    /// Base64 of the sealed value (`ml-connector agent seal NAME`), opened with `key`.
    Sealed(String),
    /// Inline: tests and demos only.
    Value(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            CredentialSource::Env(v) => format!("env {v}"),
            CredentialSource::Sealed(_) => "sealed".into(),
            CredentialSource::Value(_) => "inline <redacted>".into(),
        };
        f.debug_struct("Credential").field("scheme", &self.scheme).field("source", &source).finish()
    }
}

impl AgentConfig {
    pub fn load(path: &Path) -> anyhow::Result<AgentConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let cfg: AgentConfig = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        cfg.validate().with_context(|| format!("checking {}", path.display()))?;
        Ok(cfg)
    }

    pub fn to_toml(&self) -> anyhow::Result<String> {
        Ok(toml::to_string(self)?)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if self.hosts.is_empty() {
            bail!("hosts is empty: name the host (every replica) to dial, e.g. [\"https://connector.example.com\"]");
        }
        for h in &self.hosts {
            let u = url::Url::parse(h).with_context(|| format!("host {h:?}"))?;
            if u.scheme() != "https" || u.host_str().is_none() {
                bail!("host {h:?}: the agent dials https:// only (the tunnel carries GP's traffic)");
            }
        }
        if self.max_in_flight == 0 {
            bail!("max_in_flight must be at least 1");
        }
        if self.http.is_empty() && self.econnect.is_empty() {
            bail!("the agent reaches nothing: list GP's origins in [[http]] and/or its SQL Server in [[econnect]]");
        }
        for t in &self.http {
            crate::caps::http::Origin::parse(&t.origin).with_context(|| format!("[[http]] origin {:?}", t.origin))?;
            if let Some(c) = &t.credential {
                let cred = self.credential(c)?;
                if !matches!(cred.scheme, SecretScheme::Ntlm | SecretScheme::Basic | SecretScheme::Bearer) {
                    bail!(
                        "[[http]] {}: credential {c:?} is a {:?} credential, not ntlm/basic/bearer",
                        t.origin,
                        cred.scheme
                    );
                }
            }
        }
        for t in &self.econnect {
            if self.credential(&t.credential)?.scheme != SecretScheme::Sql {
                bail!(
                    "[[econnect]] {}/{}: credential {:?} must have scheme = \"sql\"",
                    t.server,
                    t.database,
                    t.credential
                );
            }
        }
        Ok(())
    }

    fn credential(&self, name: &str) -> anyhow::Result<&Credential> {
        self.credentials.get(name).with_context(|| format!("credential {name:?} is not in [credentials]"))
    }

    /// The proxy to dial through: the config's, else `HTTPS_PROXY`/`https_proxy`; `none` = none.
    pub fn proxy_url(&self) -> anyhow::Result<Option<url::Url>> {
        let text = match &self.proxy {
            Some(p) => Some(p.clone()),
            None => std::env::var("HTTPS_PROXY").or_else(|_| std::env::var("https_proxy")).ok(),
        };
        match text.as_deref().map(str::trim) {
            None | Some("") | Some("none") => Ok(None),
            Some(p) => {
                let u = url::Url::parse(p).with_context(|| format!("proxy {p:?}"))?;
                if u.scheme() != "http" {
                    bail!("proxy {:?}: only http:// CONNECT proxies are supported", u.host_str().unwrap_or_default());
                }
                Ok(Some(u))
            }
        }
    }

    /// The agent's credential.
    pub fn read_token(&self) -> anyhow::Result<String> {
        let t = match &self.token {
            TokenSource::Env(v) => {
                std::env::var(v).with_context(|| format!("token: environment variable {v} is not set"))?
            }
            TokenSource::File(p) => {
                std::fs::read_to_string(p).with_context(|| format!("token: reading {}", p.display()))?
            }
            TokenSource::Value(v) => v.clone(),
        };
        let t = t.trim().to_string();
        if t.is_empty() {
            bail!("the agent's token is empty");
        }
        Ok(t)
    }

    /// Every credential's value, opened (sealed ones with `key`).
    pub fn open_credentials(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let mut keyring = None;
        let mut out = BTreeMap::new();
        for (name, c) in &self.credentials {
            let value = match &c.source {
                CredentialSource::Env(v) => std::env::var(v)
                    .with_context(|| format!("credential {name}: environment variable {v} is not set"))?,
                CredentialSource::Value(v) => {
                    tracing::warn!(credential = %name, "credential given inline in the agent config: fine for tests, not for production");
                    v.clone()
                }
                CredentialSource::Sealed(b64) => {
                    if keyring.is_none() {
                        let key =
                            self.key.as_deref().context("sealed credentials need `key` (the agent's key file)")?;
                        keyring = Some(open_keyring(key)?);
                    }
                    let ring = keyring.as_ref().context("keyring")?;
                    let blob = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64.trim())
                        .with_context(|| format!("credential {name}: sealed is not base64"))?;
                    ring.open(name, &blob)?
                }
            };
            if value.is_empty() {
                bail!("credential {name} is empty");
            }
            out.insert(name.clone(), value);
        }
        Ok(out)
    }
}

/// The environment variable that may hold the agent's key (64 hex chars) instead of the file.
pub const KEY_ENV: &str = "MLC_AGENT_KEY";

fn open_keyring(path: &Path) -> anyhow::Result<crate::secretbox::Keyring> {
    let ring = crate::secretbox::Keyring::load_with(path, std::env::var(KEY_ENV).ok().as_deref())?;
    ring.require_current(1).with_context(|| format!("the agent's key {}", path.display()))?;
    Ok(ring)
}

/// `ml-connector agent seal NAME`: seal `value` under the key at `key` (created if missing),
/// as the base64 text to put in `sealed = "…"`.
pub fn seal(key: &Path, name: &str, value: &str) -> anyhow::Result<String> {
    let master = if key.exists() {
        let ring = open_keyring(key)?;
        let k = ring.sealing_key().context("the key file holds no current key")?;
        crate::secretbox::seal(k, name, value)?
    } else {
        let k = crate::secretbox::keyring::create(key)?;
        crate::secretbox::seal(&k, name, value)?
    };
    Ok(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, master))
}
