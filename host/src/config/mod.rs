//! The host's configuration file (TOML): where the database is, which components exist (by path
//! and sha256), and per connection which source, mapper and target run with which grants.
//!
//! Grants are per connection *role* (source/mapper/target), so the same component can serve two
//! tenants with different allowlists and secrets. Everything not granted is denied.

mod agents;
mod econnect;
mod grants;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

pub use agents::{AgentsConfig, VIA_SETTING};
pub use econnect::{DEFAULT_PORT as SQL_DEFAULT_PORT, EconnectGrant};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub host: HostConfig,
    #[serde(default)]
    pub components: BTreeMap<String, ComponentConfig>,
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretConfig>,
    #[serde(default)]
    pub connections: Vec<ConnectionConfig>,
    #[serde(default)]
    pub chargebee: ChargebeeHostConfig,
    #[serde(default)]
    pub admin: AdminConfig,
    /// Where local agents dial in (`gp.via = "agent"` connections).
    #[serde(default)]
    pub agents: AgentsConfig,
}

/// The admin plane's listener: never the webhook port; loopback unless you say otherwise.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    pub listen: String,
    /// Host names the admin plane answers to (the `Host` header, port aside); anything else is
    /// refused, so a web page cannot reach it through DNS rebinding.
    pub names: Vec<String>,
    pub tls: Option<crate::listener::TlsFiles>,
    pub limits: crate::listener::ListenerLimits,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: "127.0.0.1:8081".into(),
            names: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            tls: None,
            limits: crate::listener::ListenerLimits::default(),
        }
    }
}

/// Where Chargebee sites live. Chargebee does not publish a per-region API domain (its SDKs
/// only know `{site}.chargebee.com`), so the table is data: override it when your EU or AU
/// site is served elsewhere. `{site}` is replaced by the connection's site name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargebeeHostConfig {
    #[serde(default = "default_regions")]
    pub regions: BTreeMap<String, String>,
}

impl Default for ChargebeeHostConfig {
    fn default() -> Self {
        ChargebeeHostConfig { regions: default_regions() }
    }
}

fn default_regions() -> BTreeMap<String, String> {
    // UNCONFIRMED for eu/au: same host pattern as us until Chargebee documents otherwise.
    ["us", "eu", "au"].into_iter().map(|r| (r.to_string(), "https://{site}.chargebee.com".to_string())).collect()
}

/// A connection's Chargebee site. The host derives the API origin from the region table, binds
/// the API key to exactly that origin, grants it to the source as `chargebee-api-key`, allows
/// that origin for the source, passes `chargebee.api_base` in the settings, and paces the key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargebeeBinding {
    pub site: String,
    /// `us`, `eu` or `au` (any key of `[chargebee.regions]`).
    pub region: String,
    /// Name in `[secrets]` of the API key (scheme `basic-api-key`).
    pub api_key: String,
    /// starter (150/min), performance (1000/min), enterprise (3500/min); default starter.
    #[serde(default)]
    pub plan: ChargebeePlan,
    /// Overrides the plan's limit.
    pub requests_per_window: Option<u32>,
    /// The limit's window; 60 000 ms at Chargebee (tests compress it).
    #[serde(default = "default_rate_window_ms")]
    pub window_ms: u64,
}

fn default_rate_window_ms() -> u64 {
    60_000
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChargebeePlan {
    #[default]
    Starter,
    Performance,
    Enterprise,
}

impl ChargebeeBinding {
    pub fn requests_per_window(&self) -> u32 {
        self.requests_per_window.unwrap_or(match self.plan {
            ChargebeePlan::Starter => 150,
            ChargebeePlan::Performance => 1000,
            ChargebeePlan::Enterprise => 3500,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostConfig {
    /// `sqlite://file.db` (default) or `postgres://…`. `DATABASE_URL` overrides it.
    pub database: String,
    /// Where the webhook listener listens (the one port Chargebee must reach).
    pub listen: String,
    /// TLS for the webhook listener (else run it behind a TLS-terminating proxy).
    pub tls: Option<crate::listener::TlsFiles>,
    /// Timeouts and the connection limit of the webhook listener.
    pub limits: crate::listener::ListenerLimits,
    /// How often refused webhooks are summarised on each connection's timeline.
    pub denial_summary_s: u64,
    /// Precompiled component cache (keyed by digest and wasmtime version).
    pub cache_dir: PathBuf,
    /// Jobs run at once by this process (per-connection limits still apply on top).
    pub workers: usize,
    /// How long a claimed job is ours before another process may take it.
    pub lease_ms: i64,
    /// Attempts before a job is dead-lettered.
    pub max_attempts: i32,
    /// Backoff for retries (full jitter, capped).
    pub backoff_base_ms: i64,
    pub backoff_cap_ms: i64,
    /// How often idle workers look for due jobs (they are also woken on local enqueue).
    pub poll_ms: u64,
    /// How often records parked on a closed fiscal period ask GP whether it reopened.
    pub period_recheck_s: u64,
    /// A PEM file of CA certificates to trust besides the platform's (a GP server's internal
    /// CA, the emulators' generated CA). Relative to the config file.
    pub extra_ca: Option<PathBuf>,
    /// The longest a server's `Retry-After` (on a 429) may pause a key or delay a call: a
    /// larger value is cut to this (a hostile `Retry-After: 999999999` must not stop a
    /// connection for decades).
    pub max_retry_after_s: u64,
    /// The master key file sealing stored secrets (relative to the config file; rotation keeps
    /// `<file>.next` and `<file>.<id>.old` beside it). `MLC_MASTER_KEY` (hex) overrides it.
    pub master_key: PathBuf,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            database: "sqlite://.mlc/ml-connector.db".into(),
            listen: "127.0.0.1:8080".into(),
            tls: None,
            limits: crate::listener::ListenerLimits::default(),
            denial_summary_s: 60,
            cache_dir: PathBuf::from(".mlc/cache"),
            workers: 8,
            lease_ms: 30_000,
            max_attempts: 8,
            backoff_base_ms: 1_000,
            backoff_cap_ms: 300_000,
            poll_ms: 250,
            period_recheck_s: 300,
            extra_ca: None,
            max_retry_after_s: 3600,
            master_key: PathBuf::from("master.key"),
        }
    }
}

/// A component file, pinned by digest, and its sandbox limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentConfig {
    /// A `.wasm` component file, or a directory holding exactly one.
    pub path: PathBuf,
    /// Hex sha256 of the file; loading fails if it differs (swap = new file + new digest).
    pub sha256: String,
    /// Linear memory limit per instance.
    #[serde(default = "default_memory_mb")]
    pub memory_mb: u64,
    /// Guest CPU time per call before it is interrupted (epoch ticks of 10 ms).
    #[serde(default = "default_cpu_ms")]
    pub cpu_ms: u64,
    /// Wall-clock limit per call, host calls included.
    #[serde(default = "default_call_timeout_ms")]
    pub call_timeout_ms: u64,
}

impl ComponentConfig {
    /// A component file pinned by its digest, with the default limits.
    pub fn new(path: PathBuf, sha256: String) -> ComponentConfig {
        ComponentConfig {
            path,
            sha256,
            memory_mb: default_memory_mb(),
            cpu_ms: default_cpu_ms(),
            call_timeout_ms: default_call_timeout_ms(),
        }
    }
}

fn default_memory_mb() -> u64 {
    64
}
fn default_cpu_ms() -> u64 {
    1_000
}
fn default_call_timeout_ms() -> u64 {
    60_000
}

/// How a secret is injected into a request, and the one origin it may go to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretConfig {
    pub scheme: SecretScheme,
    /// `scheme://host[:port]`; the host refuses to attach the secret to any other origin.
    /// A Chargebee API key may leave it out: its connection's site and region decide it.
    pub origin: Option<String>,
    /// Where the value comes from.
    #[serde(flatten)]
    pub source: SecretSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretScheme {
    /// Chargebee style: the value is the Basic user, the password is empty.
    BasicApiKey,
    /// The value is `user:password` for HTTP Basic.
    Basic,
    /// The value is a bearer token.
    Bearer,
    /// The value is `DOMAIN\user:password` for connection-level NTLM.
    Ntlm,
    /// The value is `user:password` of a SQL Server login, bound to `tds://host:port`; used only
    /// by the target's `econnect` grant (the host logs in with it; no component ever sees it).
    Sql,
}

/// `Debug` never shows an inline value (configs are logged and printed in errors).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretSource {
    /// Read from this environment variable at start.
    Env(String),
    /// Stored encrypted in the database (`ml-connector secret set NAME`).
    Stored(bool),
    /// Inline value: only for demos and tests; logged as a warning at start.
    Value(String),
    /// Held by the connection's local agent (`agent = true`): the host never has the value.
    Agent(bool),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The variable's name, not its value: the value is read at start, never kept here.
            SecretSource::Env(var) => f.debug_tuple("Env").field(var).finish(),
            SecretSource::Stored(b) => f.debug_tuple("Stored").field(b).finish(),
            SecretSource::Value(_) => f.write_str("Value(<redacted>)"),
            SecretSource::Agent(b) => f.debug_tuple("Agent").field(b).finish(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    pub id: String,
    /// The GP pacing limit: most calls in flight from this host to the target at once (the
    /// target's authenticated connection pool, or its request gate for other schemes).
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: i32,
    /// Most jobs of this connection running at once across all replicas. Default 2 ×
    /// `max_in_flight`: a job's fetch, mapping and bookkeeping overlap other jobs' GP calls, so
    /// GP's c slots stay busy. With several replicas, GP sees at most min(max_jobs, replicas ×
    /// max_in_flight) calls: set `max_jobs = max_in_flight` for a strict bound across replicas.
    pub max_jobs: Option<i32>,
    /// Secret (scheme `basic`) holding `user:password` that Chargebee's webhook must present.
    /// Without it webhooks for this connection are refused.
    pub webhook_secret: Option<String>,
    /// Non-secret settings handed to the components (site, region, company, accounts …).
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Hold a document until the records it needs are in GP (its customer; the invoice a
    /// payment or credit note applies to), fetching them when missing. Off only for sources
    /// and mappers that carry their dependencies themselves.
    #[serde(default = "yes")]
    pub wait_for_dependencies: bool,
    /// Run the whole pipeline but never write to GP: each record's timeline says what would be
    /// written and how it compares with what GP holds (read-only look-ups).
    #[serde(default)]
    pub dry_run: bool,
    /// Walk the source's Events API this often (seconds) to find events no webhook delivered.
    pub events_poll_s: Option<u64>,
    /// How far back each sweep re-reads before the last one's end (webhooks still in flight).
    #[serde(default = "default_events_overlap_s")]
    pub events_overlap_s: u64,
    /// The Chargebee site this connection reads (see [`ChargebeeBinding`]).
    pub chargebee: Option<ChargebeeBinding>,
    pub source: RoleConfig,
    pub mapper: RoleConfig,
    pub target: RoleConfig,
}

fn yes() -> bool {
    true
}

fn default_events_overlap_s() -> u64 {
    3600
}

fn default_max_in_flight() -> i32 {
    4
}

impl ConnectionConfig {
    /// A connection with its three roles and every other field at its default.
    pub fn new(id: &str, source: RoleConfig, mapper: RoleConfig, target: RoleConfig) -> ConnectionConfig {
        ConnectionConfig {
            id: id.to_string(),
            max_in_flight: default_max_in_flight(),
            max_jobs: None,
            webhook_secret: None,
            settings: BTreeMap::new(),
            wait_for_dependencies: true,
            dry_run: false,
            events_poll_s: None,
            events_overlap_s: default_events_overlap_s(),
            chargebee: None,
            source,
            mapper,
            target,
        }
    }

    /// The grants of one role.
    pub fn role(&self, role: crate::role::Role) -> &RoleConfig {
        match role {
            crate::role::Role::Source => &self.source,
            crate::role::Role::Mapper => &self.mapper,
            crate::role::Role::Target => &self.target,
        }
    }

    /// The queue's running-job limit for this connection (see `max_jobs`).
    pub fn job_limit(&self) -> i32 {
        self.max_jobs.unwrap_or(self.max_in_flight.saturating_mul(2))
    }
}

/// One component in one connection, with what it is granted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    pub component: String,
    /// Origins (`scheme://host[:port]`, host may start with `*.`) it may call. Empty = none.
    #[serde(default)]
    pub allow_http: Vec<String>,
    /// Allow loopback/private/link-local addresses (GP is often on a private network).
    #[serde(default)]
    pub allow_private_network: bool,
    /// Secrets it may look up: the name the guest uses → the name in `[secrets]`.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Directories it may read (and write, if `write`), by the cap-std preopen mechanism.
    #[serde(default)]
    pub dirs: Vec<DirGrant>,
    /// GP pacing: at most the connection's `max_in_flight` of this role's requests at once (the
    /// NTLM pool is that size anyway; this gates its other requests too). Set it on the target.
    #[serde(default)]
    pub paced: bool,
    /// Let an `ntlm` secret of this role authenticate over plain `http://`. NTLM's messages can
    /// be relayed and its session cracked offline by anyone on the path, so the host refuses it
    /// unless this says the network is trusted (and warns at start when it does).
    #[serde(default)]
    pub allow_insecure_ntlm: bool,
    /// The target's eConnect grant: GP's SQL Server and company database, and the `sql` login
    /// the host connects with (see [`EconnectGrant`]). Without it `econnect` answers `denied`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub econnect: Option<EconnectGrant>,
}

impl RoleConfig {
    /// `component` in a role with nothing granted.
    pub fn new(component: &str) -> RoleConfig {
        RoleConfig {
            component: component.to_string(),
            allow_http: vec![],
            allow_private_network: false,
            secrets: BTreeMap::new(),
            dirs: vec![],
            paced: false,
            allow_insecure_ntlm: false,
            econnect: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirGrant {
    pub host: PathBuf,
    pub guest: String,
    #[serde(default)]
    pub write: bool,
}

impl Config {
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading config {}", path.display()))?;
        let mut cfg: Config = toml::from_str(&text).with_context(|| format!("parsing config {}", path.display()))?;
        if let Ok(url) = std::env::var("DATABASE_URL") {
            cfg.host.database = url;
        }
        // Relative paths are relative to the config file, so a config works from any cwd.
        let base = path.parent().unwrap_or(Path::new("."));
        cfg.resolve_paths(base);
        cfg.validate_with(&[("the config file", path)])?;
        Ok(cfg)
    }

    /// The config as TOML text, as `load` reads it.
    pub fn to_toml(&self) -> anyhow::Result<String> {
        toml::to_string(self).context("writing the config as TOML")
    }

    pub fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.host.cache_dir);
        fix(&mut self.host.master_key);
        if let Some(ca) = &mut self.host.extra_ca {
            fix(ca);
        }
        for tls in [&mut self.host.tls, &mut self.admin.tls, &mut self.agents.tls].into_iter().flatten() {
            fix(&mut tls.cert);
            fix(&mut tls.key);
        }
        for c in self.components.values_mut() {
            fix(&mut c.path);
        }
        for conn in &mut self.connections {
            for role in [&mut conn.source, &mut conn.mapper, &mut conn.target] {
                for d in &mut role.dirs {
                    fix(&mut d.host);
                }
            }
        }
        if let Some(rest) = self.host.database.strip_prefix("sqlite://") {
            let p = Path::new(rest);
            if p.is_relative() && !rest.starts_with(':') {
                self.host.database = format!("sqlite://{}", base.join(p).display());
            }
        }
    }

    /// Refuse a config that names things that do not exist, before anything runs.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.validate_with(&[])
    }

    /// [`Config::validate`], with more host files no directory grant may reach (the config
    /// file, the master key file: whatever the caller knows the path of).
    pub fn validate_with(&self, also_protected: &[(&str, &Path)]) -> anyhow::Result<()> {
        self.validate_names()?;
        self.check_econnect()?;
        self.check_agents()?;
        let mut protected = self.protected_paths();
        protected.extend(also_protected.iter().map(|(what, p)| (what.to_string(), p.to_path_buf())));
        self.check_dir_grants(&protected)
    }

    /// Names and references: connections, components, secrets, origins.
    fn validate_names(&self) -> anyhow::Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for conn in &self.connections {
            if !seen.insert(&conn.id) {
                bail!("connection {:?} is defined twice", conn.id);
            }
            if conn.id.is_empty() || !conn.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                bail!("connection id {:?} must be non-empty [A-Za-z0-9_-]", conn.id);
            }
            if conn.max_in_flight < 1 {
                bail!("connection {}: max_in_flight must be at least 1", conn.id);
            }
            if conn.max_jobs.is_some_and(|j| j < 1) {
                bail!("connection {}: max_jobs must be at least 1", conn.id);
            }
            for (role, rc) in [("source", &conn.source), ("mapper", &conn.mapper), ("target", &conn.target)] {
                if !self.components.contains_key(&rc.component) {
                    bail!("connection {}: {role} component {:?} is not in [components]", conn.id, rc.component);
                }
                for secret in rc.secrets.values() {
                    let Some(sc) = self.secrets.get(secret) else {
                        bail!("connection {}: {role} is granted secret {secret:?}, which is not in [secrets]", conn.id);
                    };
                    let plain_http = sc
                        .origin
                        .as_deref()
                        .and_then(|o| crate::caps::http::origin::Origin::parse(o).ok())
                        .is_some_and(|o| o.scheme == "http");
                    let on_agent = matches!(sc.source, SecretSource::Agent(true));
                    if sc.scheme == SecretScheme::Ntlm && plain_http && !rc.allow_insecure_ntlm && !on_agent {
                        bail!(
                            "connection {}: {role} is granted NTLM secret {secret:?} over plain http ({}); use https, or set allow_insecure_ntlm = true on the {role} if the network is trusted",
                            conn.id,
                            sc.origin.as_deref().unwrap_or_default()
                        );
                    }
                }
                for origin in &rc.allow_http {
                    crate::caps::http::origin::AllowedOrigin::parse(origin)
                        .with_context(|| format!("connection {}: {role} allow_http entry {origin:?}", conn.id))?;
                }
            }
            if let Some(s) = &conn.webhook_secret {
                match self.secrets.get(s) {
                    Some(sc) if sc.scheme == SecretScheme::Basic => {}
                    Some(_) => bail!("connection {}: webhook_secret {s:?} must have scheme \"basic\"", conn.id),
                    None => bail!("connection {}: webhook_secret {s:?} is not in [secrets]", conn.id),
                }
            }
        }
        for (name, s) in &self.secrets {
            let chargebee_key =
                self.connections.iter().any(|c| c.chargebee.as_ref().is_some_and(|cb| cb.api_key == *name));
            match s.origin.as_deref() {
                Some(origin) => {
                    crate::caps::http::origin::Origin::parse(origin)
                        .with_context(|| format!("secret {name}: origin"))?;
                }
                // A Chargebee key takes its site's origin (see caps::chargebee).
                None if chargebee_key => {}
                None => bail!("secret {name} has no origin (give one, or use it as a connection's chargebee.api_key)"),
            }
        }
        Ok(())
    }

    pub fn connection(&self, id: &str) -> Option<&ConnectionConfig> {
        self.connections.iter().find(|c| c.id == id)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn debug_of_secrets_never_shows_an_inline_value() {
        let cfg: Config = toml::from_str(
            "[secrets.demo]\nscheme = \"bearer\"\norigin = \"https://x.example\"\nvalue = \"hunter2-inline\"\n\
             [secrets.envd]\nscheme = \"bearer\"\norigin = \"https://x.example\"\nenv = \"SOME_VAR\"\n",
        )
        .unwrap();
        let sc = &cfg.secrets["demo"];
        for text in [format!("{:?}", sc.source), format!("{sc:?}"), format!("{sc:#?}"), format!("{cfg:?}")] {
            assert!(!text.contains("hunter2-inline"), "{text}");
            assert!(text.contains("<redacted>"), "{text}");
        }
        assert!(format!("{:?}", cfg.secrets["envd"]).contains("SOME_VAR"));
    }

    #[test]
    fn master_key_defaults_beside_the_config_file() {
        let dir = std::env::temp_dir().join(format!("mlc-cfg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.toml"), "").unwrap();
        std::fs::write(dir.join("b.toml"), "[host]\nmaster_key = \"keys/mk\"\n").unwrap();
        assert_eq!(Config::load(&dir.join("a.toml")).unwrap().host.master_key, dir.join("master.key"));
        assert_eq!(Config::load(&dir.join("b.toml")).unwrap().host.master_key, dir.join("keys/mk"));
    }
}
