//! The assembled host: config + store + runtime + loaded components + per-connection roles.
//! Built once at start; a config or component change takes a restart (the swap path).

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use mlc_store::Store;
use tokio::sync::Notify;

use crate::bindings::mapper::MapperPre;
use crate::bindings::source::SourcePre;
use crate::bindings::target::TargetPre;
use crate::caps::chargebee::ChargebeeSite;
use crate::caps::http::HttpClients;
use crate::caps::secrets::{ResolvedSecret, ResolvedSecrets};
use crate::caps::{ConfigureEnv, InstanceState, RolePolicy};
use crate::config::{Config, ConnectionConfig, DirGrant};
use crate::role::Role;
use crate::runtime::{LoadedComponent, Runtime};

pub struct App {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub runtime: Arc<Runtime>,
    pub components: BTreeMap<String, Arc<LoadedComponent>>,
    pub connections: BTreeMap<String, Arc<Connection>>,
    /// Wakes idle workers of this process after a local enqueue.
    pub wake: Arc<Notify>,
    /// Lease owner id, new at every process start (never a reused node name).
    pub owner: String,
    /// Refused webhooks, summarised periodically rather than audited one by one.
    pub denials: Arc<crate::denials::Denials>,
    /// The local agents' tunnels to this process (`gp.via = "agent"`).
    pub agents: Arc<crate::agent::hub::Hub>,
}

pub struct Connection {
    pub config: ConnectionConfig,
    pub source: RoleComponent<SourcePre<InstanceState>>,
    pub mapper: RoleComponent<MapperPre<InstanceState>>,
    pub target: RoleComponent<TargetPre<InstanceState>>,
    /// `user:password` Chargebee must present on webhooks.
    pub webhook_credential: Option<Arc<ResolvedSecret>>,
    /// The Chargebee site the connection reads, when it names one.
    pub chargebee: Option<ChargebeeSite>,
}

impl Connection {
    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// The component digest of a role (stamped on timeline lines).
    pub fn digest(&self, role: Role) -> &str {
        match role {
            Role::Source => &self.source.component.digest,
            Role::Mapper => &self.mapper.component.digest,
            Role::Target => &self.target.component.digest,
        }
    }
}

/// A component in a connection role: the typed, pre-linked instance factory plus its grants.
pub struct RoleComponent<P> {
    pub role: Role,
    pub component: Arc<LoadedComponent>,
    pub pre: P,
    pub policy: Arc<RolePolicy>,
    pub dirs: Vec<DirGrant>,
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Arc<App>> {
        let store = mlc_store::open(&config.host.database)
            .await
            .with_context(|| format!("opening store {}", redact_db(&config.host.database)))?;
        App::build_with_store(config, store).await
    }

    pub async fn build_with_store(config: Config, store: Arc<dyn Store>) -> anyhow::Result<Arc<App>> {
        config.validate()?;
        let sites = crate::caps::chargebee::resolve_all(&config)?;
        let runtime = Arc::new(Runtime::new(&config.host.cache_dir)?);
        let mut components = BTreeMap::new();
        for (name, cc) in &config.components {
            let loaded = runtime.load(name, cc)?;
            tracing::info!(component = %name, digest = %loaded.digest, compiled = loaded.compiled, "component loaded");
            components.insert(name.clone(), Arc::new(loaded));
        }
        let secrets = crate::caps::secrets::resolve(&config, &sites, store.as_ref()).await?;
        let tls = crate::caps::http::tls::client_config(config.host.extra_ca.as_deref())?;
        let clients = HttpClients::new(tls)?;
        let agents = Arc::new(crate::agent::hub::Hub::default());
        let mut connections = BTreeMap::new();
        for cc in &config.connections {
            let binder = Binder { config: &config, conn: cc, runtime: &runtime, components: &components };
            let env = |role| binder.env(role, &secrets, &clients, sites.get(&cc.id), &agents);
            let source = binder.bind(&env(Role::Source), SourcePre::new)?;
            let mapper = binder.bind(&env(Role::Mapper), MapperPre::new)?;
            let target = binder.bind(&env(Role::Target), TargetPre::new)?;
            let webhook_credential = cc.webhook_secret.as_ref().and_then(|s| secrets.get(s).cloned());
            store.set_connection_limit(&cc.id, cc.job_limit()).await?;
            let chargebee = sites.get(&cc.id).cloned();
            let conn = Connection { config: cc.clone(), source, mapper, target, webhook_credential, chargebee };
            connections.insert(cc.id.clone(), Arc::new(conn));
        }
        let owner = format!("mlc-{}", uuid::Uuid::new_v4());
        let (wake, denials) = (Arc::new(Notify::new()), Arc::default());
        Ok(Arc::new(App { config, store, runtime, components, connections, wake, owner, denials, agents }))
    }
}

/// Binds a connection's roles to their components.
struct Binder<'a> {
    config: &'a Config,
    conn: &'a ConnectionConfig,
    runtime: &'a Runtime,
    components: &'a BTreeMap<String, Arc<LoadedComponent>>,
}

impl<'a> Binder<'a> {
    fn env(
        &self,
        role: Role,
        secrets: &'a ResolvedSecrets,
        clients: &'a HttpClients,
        chargebee: Option<&'a ChargebeeSite>,
        agents: &'a Arc<crate::agent::hub::Hub>,
    ) -> ConfigureEnv<'a> {
        ConfigureEnv {
            connection: self.conn,
            role,
            role_config: self.conn.role(role),
            host: &self.config.host,
            secrets,
            clients,
            chargebee,
            agents,
        }
    }

    /// Link the role's component for its world, check it exports the world's interface, and
    /// configure its capabilities.
    fn bind<P, E: Into<anyhow::Error>>(
        &self,
        env: &ConfigureEnv<'_>,
        typed: impl FnOnce(wasmtime::component::InstancePre<InstanceState>) -> Result<P, E>,
    ) -> anyhow::Result<RoleComponent<P>> {
        let (id, role) = (&self.conn.id, env.role);
        let name = &env.role_config.component;
        let component = self.components.get(name).cloned().with_context(|| format!("component {name} not loaded"))?;
        let pre = self.runtime.prepare(&component, role).with_context(|| format!("connection {id}: {role}"))?;
        let pre = typed(pre).map_err(Into::into).with_context(|| {
            format!("connection {id}: component {name:?} cannot be its {role}: it does not export {}", role.export())
        })?;
        let policy = Arc::new(RolePolicy::configure(env)?);
        Ok(RoleComponent { role, component, pre, policy, dirs: env.role_config.dirs.clone() })
    }
}

/// Database URLs in logs and errors without passwords.
pub fn redact_db(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
