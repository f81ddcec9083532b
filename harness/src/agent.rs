//! Local agents in a stack (`StackSpec::via_agent`): the host's `[agents]` endpoint with a
//! generated certificate, one agent per tenant that reaches the GP emulator (SOAP/SBA over
//! NTLM, eConnect over TDS) with credentials only it holds, while the host's own egress to GP
//! is denied (the target role has no private-network grant and no GP secret values). Tests kill,
//! restart and re-point agents, and start a second host replica on the same store.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use ml_connector::agent::config::{AgentConfig, Credential, CredentialSource, HttpTarget, SqlTarget, TokenSource};
use ml_connector::agent::run::Agent;
use ml_connector::app::App;
use ml_connector::config::{Config, SecretScheme, SecretSource};
use ml_connector::serve::{Running, ServeOptions};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::stack::Stack;

/// A running agent.
pub struct AgentHandle {
    pub agent: Arc<Agent>,
    pub stop: CancellationToken,
    pub task: JoinHandle<anyhow::Result<()>>,
}

impl AgentHandle {
    /// What a `kill -9` does: the process and its sockets are gone, nothing drains.
    pub fn kill(self) {
        self.task.abort();
    }

    /// SIGTERM: drain and stop; the agent's own result.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        self.task.await.context("agent task")?
    }

    /// Wait for the agent to stop on its own (a fatal refusal); its result.
    pub async fn finished(self, within: std::time::Duration) -> anyhow::Result<anyhow::Result<()>> {
        Ok(tokio::time::timeout(within, self.task).await.context("the agent is still running")??)
    }
}

/// A second host replica on the stack's store: workers, schedule and its own agent endpoint.
pub struct Replica {
    pub app: Arc<App>,
    pub running: Running,
    pub agents_url: String,
}

/// Make the stack's config reach GP through agents: the `[agents]` endpoint (TLS files in
/// `dir`), `gp.via = "agent"`, GP secrets held by the agent, no private-network egress.
pub(crate) fn route_through_agents(dir: &Path, config: &mut Config) -> anyhow::Result<()> {
    let tls = sandbox_tls::SandboxTls::generate(&sandbox_tls::default_names())?;
    let (cert, key) = (dir.join("agents-cert.pem"), dir.join("agents-key.pem"));
    tls.write_server_files(&cert, &key)?;
    tls.write_ca(&dir.join("agents-ca.pem"))?;
    config.agents.listen = Some("127.0.0.1:0".into());
    config.agents.tls = Some(ml_connector::listener::TlsFiles { cert, key });
    // Heartbeats quick enough for tests to see a revocation or a dead agent.
    config.agents.status_s = 1;
    config.agents.ping_s = 2;
    config.agents.ping_timeout_s = 2;
    for name in ["gp", "gp-sql"] {
        if let Some(s) = config.secrets.get_mut(name) {
            s.source = SecretSource::Agent(true);
        }
    }
    for conn in &mut config.connections {
        conn.settings.insert(ml_connector::config::VIA_SETTING.into(), "agent".into());
        conn.target.allow_private_network = false;
    }
    Ok(())
}

impl Stack {
    /// A new agent credential for `tenant` (shown once, as `agent-token create` prints it).
    pub async fn agent_token(&self, tenant: &str, name: &str) -> anyhow::Result<String> {
        ml_connector::admin::tokens::create_agent(self.app.store.as_ref(), name, tenant).await
    }

    /// An agent config for `tenant` dialing `hosts` with `token`: the GP emulator's origin and
    /// SQL Server listed, with the GP account and SQL login it alone holds.
    pub fn agent_config(&self, tenant: &str, hosts: Vec<String>, token: &str) -> anyhow::Result<AgentConfig> {
        let dir = self.config_path.parent().context("stack dir")?;
        let gp_origin = ml_connector::caps::http::Origin::parse(&self.gp.soap_url())?.to_string();
        let value = |scheme, v: String| Credential { scheme, source: CredentialSource::Value(v) };
        let mut credentials = std::collections::BTreeMap::new();
        credentials.insert("gp".to_string(), value(SecretScheme::Ntlm, self.gp.credentials().user_spec()));
        let mut econnect = vec![];
        if let Some(sql) = self.gp.sql_addr() {
            let login = self.gp.sql_login();
            credentials.insert("gp-sql".into(), value(SecretScheme::Sql, format!("{}:{}", login.user, login.password)));
            econnect.push(SqlTarget {
                server: sql.to_string(),
                database: "TWO".into(),
                credential: "gp-sql".into(),
                max_connections: None,
                timeout_ms: 30_000,
            });
        }
        Ok(AgentConfig {
            connection: tenant.into(),
            hosts,
            token: TokenSource::Value(token.into()),
            ca: Some(dir.join("agents-ca.pem")),
            targets_ca: self.spec.tls.then(|| dir.join("gp-ca.pem")),
            proxy: Some("none".into()),
            key: None,
            max_in_flight: self.spec.tenants.iter().find(|t| t.id == tenant).map_or(4, |t| t.max_in_flight as usize),
            ping_s: 2,
            ping_timeout_s: 2,
            backoff_base_ms: 100,
            backoff_cap_ms: 1_000,
            http: vec![HttpTarget {
                origin: gp_origin,
                credential: Some("gp".into()),
                allow_insecure_ntlm: !self.spec.tls,
            }],
            econnect,
            credentials,
        })
    }

    /// Start an agent with `config`.
    pub fn spawn_agent(&self, config: AgentConfig) -> anyhow::Result<AgentHandle> {
        let agent = Arc::new(Agent::new(config)?);
        let stop = CancellationToken::new();
        let task = tokio::spawn(agent.clone().run(stop.clone()));
        Ok(AgentHandle { agent, stop, task })
    }

    /// The host's agent endpoint (`https://127.0.0.1:N`).
    pub fn agents_url(&self) -> anyhow::Result<String> {
        self.agents_url.clone().context("this stack does not route GP through agents (StackSpec::via_agent)")
    }

    /// Wait until `tenant`'s agent is connected to `app` (or fail after `within`).
    pub async fn agent_online(app: &App, tenant: &str, within: std::time::Duration) -> anyhow::Result<()> {
        let end = std::time::Instant::now() + within;
        while app.agents.offline_since(tenant).is_some() {
            anyhow::ensure!(std::time::Instant::now() < end, "{tenant}'s agent did not connect within {within:?}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// A second replica (same config and store): workers, the schedule and an agent endpoint.
    pub async fn start_replica(&self) -> anyhow::Result<Replica> {
        let app = App::build(self.config.clone()).await?;
        let options = ServeOptions { listen: None, admin: None, schedule: true, agents: Some("127.0.0.1:0".into()) };
        let running = ml_connector::serve::start(app.clone(), options, self.stop.clone()).await?;
        let agents_url = running.agents_url().context("the replica's agent endpoint")?;
        Ok(Replica { app, running, agents_url })
    }
}
