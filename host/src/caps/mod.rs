//! Host capabilities, one module each (Spin's factors are the model): `http`, `secrets`,
//! `econnect`, `queue`, `audit`, `log`, `state`, `settings`. Each has the same small lifecycle:
//!
//! 1. **link** — its WIT interface's host functions go into the linker of each world that
//!    imports it, and only those ([`Role::capabilities`]; one linker per world, see
//!    [`crate::runtime`]): a mapper cannot reach `queue` because its linker has no `queue`;
//! 2. **configure** — connection + role + config → the role's policy for it (allowlists,
//!    secret grants, quotas), once at load ([`RolePolicy::configure`]);
//! 3. **prepare** — policy → the per-call state it owns (e.g. live secret handles), in every
//!    fresh store ([`Caps::prepare`]).
//!
//! Two levels of result, as in wasmtime's own hosts: the outer `anyhow::Result` is a trap (a
//! host bug, a guest over its limits); the inner WIT `result` is what the guest handles.
//! [`testing`] builds one capability's instance from inline config and calls its host functions
//! directly, so grants and quotas have fast tests without Wasm.

pub mod audit;
pub mod chargebee;
pub mod econnect;
pub mod http;
pub mod instance;
pub mod log;
pub mod queue;
pub mod secrets;
pub mod settings;
pub mod state;
pub mod testing;

use std::sync::Arc;

use anyhow::Context as _;
use mlc_store::Store;
use wasmtime::component::Linker;

use crate::config::{ConnectionConfig, HostConfig, RoleConfig};
use crate::role::Role;

pub use instance::InstanceState;

/// The host capabilities, by the WIT interface each implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Http,
    Secrets,
    Econnect,
    Queue,
    Audit,
    Log,
    State,
    Settings,
}

impl Capability {
    pub const ALL: [Capability; 8] = [
        Capability::Http,
        Capability::Secrets,
        Capability::Econnect,
        Capability::Queue,
        Capability::Audit,
        Capability::Log,
        Capability::State,
        Capability::Settings,
    ];

    /// The WIT interface, as a component's import names it (without the version).
    pub fn interface(self) -> &'static str {
        match self {
            Capability::Http => "ml-connector:plugin/http",
            Capability::Secrets => "ml-connector:plugin/secrets",
            Capability::Econnect => "ml-connector:plugin/econnect",
            Capability::Queue => "ml-connector:plugin/queue",
            Capability::Audit => "ml-connector:plugin/audit",
            Capability::Log => "ml-connector:plugin/log",
            Capability::State => "ml-connector:plugin/state",
            Capability::Settings => "ml-connector:plugin/settings",
        }
    }

    /// Step 1 of the lifecycle: link this capability's host functions.
    pub fn link(self, linker: &mut Linker<InstanceState>) -> anyhow::Result<()> {
        match self {
            Capability::Http => http::link(linker),
            Capability::Secrets => secrets::link(linker),
            Capability::Econnect => econnect::link(linker),
            Capability::Queue => queue::link(linker),
            Capability::Audit => audit::link(linker),
            Capability::Log => log::link(linker),
            Capability::State => state::link(linker),
            Capability::Settings => settings::link(linker),
        }
    }
}

/// The host capabilities `role`'s world imports (`wit/worlds.wit`; a test keeps them equal).
pub fn imports(role: Role) -> &'static [Capability] {
    use Capability::*;
    match role {
        Role::Source => &[Secrets, Http, Queue, Audit, Log, State, Settings],
        Role::Mapper => &[Log],
        Role::Target => &[Secrets, Http, Econnect, Audit, Log, State, Settings],
    }
}

/// A linker for `role`'s world: WASI p2 (wasip2 guests import `wasi:cli`; nothing is granted
/// through it), the shared types, and exactly the capabilities the world imports.
pub fn linker(engine: &wasmtime::Engine, role: Role) -> anyhow::Result<Linker<InstanceState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    instance::link_types(&mut linker)?;
    for cap in imports(role) {
        cap.link(&mut linker).with_context(|| format!("linking {}", cap.interface()))?;
    }
    Ok(linker)
}

/// Who is calling: fixed for one instance, stamped on every audit event and log line.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub connection: String,
    pub role: Role,
    pub component: String,
    /// sha256 of the component file.
    pub digest: String,
    pub record_key: Option<String>,
    pub job_id: Option<i64>,
}

/// What configure sees: the connection, the role and its grants, the host's settings, and what
/// was resolved once for the whole config (secrets, shared HTTP clients).
pub struct ConfigureEnv<'a> {
    pub connection: &'a ConnectionConfig,
    pub role: Role,
    pub role_config: &'a RoleConfig,
    pub host: &'a HostConfig,
    pub secrets: &'a secrets::ResolvedSecrets,
    pub clients: &'a http::HttpClients,
    /// The connection's Chargebee site, when it has one.
    pub chargebee: Option<&'a chargebee::ChargebeeSite>,
    /// This process's agent tunnels (a `gp.via = "agent"` target's calls go through them).
    pub agents: &'a std::sync::Arc<crate::agent::hub::Hub>,
}

/// What a connection role is allowed, one policy per capability its world imports (the others
/// are `None`: never linked, never consulted).
#[derive(Default)]
pub struct RolePolicy {
    pub http: Option<http::HttpPolicy>,
    pub secrets: Option<secrets::SecretGrants>,
    pub econnect: Option<econnect::EconnectPolicy>,
    pub queue: Option<queue::QueuePolicy>,
    pub audit: Option<audit::AuditPolicy>,
    pub log: Option<log::LogPolicy>,
    pub state: Option<state::StatePolicy>,
    pub settings: Option<settings::Settings>,
}

impl RolePolicy {
    /// Step 2 of the lifecycle: each capability of the role's world builds its policy.
    pub fn configure(env: &ConfigureEnv<'_>) -> anyhow::Result<RolePolicy> {
        let mut p = RolePolicy::default();
        for cap in imports(env.role) {
            let what = || format!("connection {}: {}: {}", env.connection.id, env.role, cap.interface());
            match cap {
                Capability::Http => p.http = Some(http::configure(env).with_context(what)?),
                Capability::Secrets => p.secrets = Some(secrets::configure(env).with_context(what)?),
                Capability::Econnect => p.econnect = Some(econnect::configure(env).with_context(what)?),
                Capability::Queue => p.queue = Some(queue::configure(env)),
                Capability::Audit => p.audit = Some(audit::configure(env)),
                Capability::Log => p.log = Some(log::configure(env)),
                Capability::State => p.state = Some(state::configure(env)),
                Capability::Settings => p.settings = Some(settings::configure(env)),
            }
        }
        Ok(p)
    }
}

/// A policy the world's linker implies is there; its absence is a host bug (a trap).
pub(crate) fn granted<T>(policy: &Option<T>, cap: Capability) -> anyhow::Result<&T> {
    policy.as_ref().with_context(|| format!("host bug: {} is linked but has no policy", cap.interface()))
}

/// Per-instance capability state (step 3, [`Caps::prepare`]).
pub struct Caps {
    pub call: CallContext,
    pub store: Arc<dyn Store>,
    pub policy: Arc<RolePolicy>,
    /// Wakes this process's workers after an enqueue.
    pub wake: Arc<tokio::sync::Notify>,
    pub secrets: secrets::Instance,
    pub queue: queue::Instance,
    pub audit: audit::Instance,
    pub log: log::Instance,
    /// Capabilities whose limit this call has hit (each is audited once per call).
    pub limits_hit: Vec<&'static str>,
    /// Inside a pipeline run: the run's pending timeline lines, committed with the record's next
    /// write (one transaction, not one per line). Elsewhere lines are appended at once.
    pub timeline: Option<Arc<std::sync::Mutex<Vec<mlc_store::AuditEvent>>>>,
}

impl Caps {
    /// Step 3 of the lifecycle: fresh per-call state from the role's policies.
    pub fn prepare(
        call: CallContext,
        store: Arc<dyn Store>,
        policy: Arc<RolePolicy>,
        wake: Arc<tokio::sync::Notify>,
    ) -> Caps {
        Caps {
            call,
            store,
            policy,
            wake,
            secrets: secrets::Instance::default(),
            queue: queue::Instance::default(),
            audit: audit::Instance::default(),
            log: log::Instance::default(),
            limits_hit: Vec::new(),
            timeline: None,
        }
    }

    /// A guest hit a capability's limit: the guest gets a typed error; the timeline gets one
    /// line per capability and call (a loop hitting it a million times writes one).
    pub async fn limit_hit(&mut self, capability: &'static str, why: &str) -> anyhow::Result<()> {
        if self.limits_hit.contains(&capability) {
            return Ok(());
        }
        self.limits_hit.push(capability);
        let line = audit::line(&self.call, capability, crate::timeline::Label::Denied, why);
        self.audit(line.build()).await
    }

    /// Add a line to the record's timeline (see `timeline`). A store failure is returned, and
    /// traps the call: a silently lost line would break "every GP document explainable".
    pub async fn audit(&self, ev: mlc_store::AuditEvent) -> anyhow::Result<()> {
        match &self.timeline {
            Some(lines) => lines.lock().map_err(|_| anyhow::anyhow!("timeline lock poisoned"))?.push(ev),
            None => {
                self.store.append_audit(&ev).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `world <name> { import x; … export y; }` blocks of the WIT file, as (imports, exports).
    fn world(wit: &str, name: &str) -> (Vec<String>, Vec<String>) {
        let start = wit.find(&format!("world {name} {{")).unwrap_or_else(|| panic!("world {name} in worlds.wit"));
        let body = &wit[start..];
        let body = &body[..body.find('}').unwrap_or(body.len())];
        let items = |kw: &str| {
            body.lines()
                .filter_map(|l| l.trim().strip_prefix(kw))
                .map(|l| format!("ml-connector:plugin/{}", l.trim().trim_end_matches(';')))
                .collect::<Vec<_>>()
        };
        (items("import "), items("export "))
    }

    #[test]
    fn capabilities_are_the_worlds_imports() {
        let wit = include_str!("../../../wit/worlds.wit");
        for role in Role::ALL {
            let (mut wit_imports, exports) = world(wit, role.as_str());
            let mut declared: Vec<String> = imports(role).iter().map(|c| c.interface().to_string()).collect();
            declared.sort();
            wit_imports.sort();
            assert_eq!(declared, wit_imports, "{role}");
            assert_eq!(exports, vec![role.export().to_string()], "{role}");
        }
    }
}
