//! The agent side of the host's config: the `[agents]` listener local agents dial, a
//! connection's `gp.via` setting, and secrets the agent holds (`agent = true`). Checked at load:
//! a connection through an agent may not also hold its GP Windows account or SQL login on the
//! host (they live on the agent: NTLM and eConnect run there), and an agent-held secret is used
//! only by connections that go through an agent.

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::{Config, ConnectionConfig, SecretScheme, SecretSource};

/// `[agents]`: where local agents dial in (TLS required), and how tunnels are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentsConfig {
    /// `host:port` (443 in production); unset = no agent listener in this process.
    pub listen: Option<String>,
    /// Certificate and key the agents check (PEM; reloaded on SIGHUP). Required with `listen`.
    pub tls: Option<crate::listener::TlsFiles>,
    pub limits: crate::listener::ListenerLimits,
    /// HTTP/2 PING interval on each tunnel, and how long a PING may go unanswered.
    pub ping_s: u64,
    pub ping_timeout_s: u64,
    /// How often the host asks each agent's status and re-reads its credential (revocation).
    pub status_s: u64,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        AgentsConfig {
            listen: None,
            tls: None,
            limits: crate::listener::ListenerLimits::default(),
            ping_s: 15,
            ping_timeout_s: 10,
            status_s: 30,
        }
    }
}

/// The connection setting that routes GP through the agent.
pub const VIA_SETTING: &str = "gp.via";

impl ConnectionConfig {
    /// Whether GP is reached through the connection's local agent (`gp.via = "agent"`).
    pub fn via_agent(&self) -> bool {
        self.settings.get(VIA_SETTING).is_some_and(|v| v == "agent")
    }
}

impl Config {
    pub(super) fn check_agents(&self) -> anyhow::Result<()> {
        if self.agents.listen.is_some() && self.agents.tls.is_none() {
            bail!("[agents] listen needs [agents.tls] cert and key: agents dial the host over TLS only");
        }
        for conn in &self.connections {
            match conn.settings.get(VIA_SETTING).map(String::as_str) {
                None | Some("direct") | Some("agent") => {}
                Some(other) => bail!("connection {}: {VIA_SETTING} = {other:?}; use \"direct\" or \"agent\"", conn.id),
            }
            let via = conn.via_agent();
            let mut names: Vec<&String> = conn.target.secrets.values().collect();
            names.extend(conn.target.econnect.as_ref().map(|g| &g.secret));
            for name in names {
                let Some(s) = self.secrets.get(name) else { continue };
                let held = matches!(s.source, SecretSource::Agent(true));
                if via && !held && matches!(s.scheme, SecretScheme::Ntlm | SecretScheme::Sql) {
                    bail!(
                        "connection {}: GP is reached through the agent, so its {:?} secret {name:?} lives on the agent: set `agent = true` on it (and give the value in the agent's config)",
                        conn.id,
                        s.scheme
                    );
                }
            }
        }
        for (name, s) in &self.secrets {
            if !matches!(s.source, SecretSource::Agent(true)) {
                continue;
            }
            let user = self.connections.iter().find(|c| {
                !c.via_agent()
                    && [&c.source, &c.mapper, &c.target].iter().any(|r| {
                        r.secrets.values().any(|n| n == name) || r.econnect.as_ref().is_some_and(|g| &g.secret == name)
                    })
            });
            if let Some(c) = user {
                bail!(
                    "secret {name} is held by the agent (agent = true), but connection {} reaches GP directly; set {VIA_SETTING} = \"agent\" on it",
                    c.id
                );
            }
        }
        Ok(())
    }
}
