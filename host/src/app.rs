//! The assembled host: config + store + runtime + loaded components + per-connection roles.
//! Built once at start; a config or component change takes a restart (the swap path).

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, bail};
use mlc_store::Store;
use tokio::sync::Notify;

use crate::bindings::mapper::MapperPre;
use crate::bindings::source::SourcePre;
use crate::bindings::target::TargetPre;
use crate::caps::governor::RateGovernor;
use crate::caps::http::{AllowedOrigin, HttpClients, HttpPolicy, Origin};
use crate::caps::secrets::{ResolvedSecret, SecretGrants, SecretValue};
use crate::caps::{CallContext, Caps, InstanceState, RolePolicy, queue::QueueCap};
use crate::config::{Config, ConnectionConfig, DirGrant, RoleConfig, SecretSource};
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
}

pub struct Connection {
    pub config: ConnectionConfig,
    pub source: Role<SourcePre<InstanceState>>,
    pub mapper: Role<MapperPre<InstanceState>>,
    pub target: Role<TargetPre<InstanceState>>,
    /// `user:password` Chargebee must present on webhooks.
    pub webhook_credential: Option<Arc<ResolvedSecret>>,
}

/// A component in a connection role: the typed, pre-linked instance factory plus its grants.
pub struct Role<P> {
    pub name: &'static str,
    pub component: Arc<LoadedComponent>,
    pub pre: P,
    pub policy: Arc<RolePolicy>,
    pub dirs: Vec<DirGrant>,
}

impl<P> Role<P> {
    /// A sandboxed store for one call of this role's component.
    pub fn store(
        &self,
        app: &App,
        connection: &str,
        record_key: Option<String>,
        job_id: Option<i64>,
    ) -> anyhow::Result<wasmtime::Store<InstanceState>> {
        let caps = Caps {
            call: CallContext {
                connection: connection.to_string(),
                role: self.name,
                component: self.component.name.clone(),
                digest: self.component.digest.clone(),
                record_key,
                job_id,
            },
            store: app.store.clone(),
            policy: self.policy.clone(),
            queue: QueueCap { max_attempts: app.config.host.max_attempts, wake: app.wake.clone(), enqueued: 0 },
            live_secret_handles: 0,
            timeline: None,
        };
        app.runtime.new_store(&self.component, caps, &self.dirs)
    }
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Arc<App>> {
        let store = mlc_store::open(&config.host.database)
            .await
            .with_context(|| format!("opening store {}", redact_db(&config.host.database)))?;
        App::build_with_store(config, store).await
    }

    pub async fn build_with_store(mut config: Config, store: Arc<dyn Store>) -> anyhow::Result<Arc<App>> {
        config.resolve_chargebee()?;
        config.validate()?;
        let runtime = Arc::new(Runtime::new(&config.host.cache_dir)?);
        let mut components = BTreeMap::new();
        for (name, cc) in &config.components {
            let loaded = runtime.load(name, cc)?;
            tracing::info!(component = %name, digest = %loaded.digest, compiled = loaded.compiled, "component loaded");
            components.insert(name.clone(), Arc::new(loaded));
        }
        let secrets = resolve_secrets(&config, store.as_ref()).await?;
        let clients = HttpClients::new()?;
        let mut connections = BTreeMap::new();
        for cc in &config.connections {
            let role = |name: &'static str,
                        rc: &RoleConfig|
             -> anyhow::Result<(Arc<LoadedComponent>, Arc<RolePolicy>, Vec<DirGrant>)> {
                let component = components
                    .get(&rc.component)
                    .cloned()
                    .with_context(|| format!("component {} not loaded", rc.component))?;
                let policy = role_policy(cc, name, rc, &secrets, &clients)?;
                Ok((component, Arc::new(policy), rc.dirs.clone()))
            };
            let (c, p, d) = role("source", &cc.source)?;
            let source = Role {
                name: "source",
                pre: SourcePre::new(c.pre.clone())
                    .map_err(anyhow::Error::from)
                    .with_context(|| wrong_world(cc, "source", &c))?,
                component: c,
                policy: p,
                dirs: d,
            };
            let (c, p, d) = role("mapper", &cc.mapper)?;
            let mapper = Role {
                name: "mapper",
                pre: MapperPre::new(c.pre.clone())
                    .map_err(anyhow::Error::from)
                    .with_context(|| wrong_world(cc, "mapper", &c))?,
                component: c,
                policy: p,
                dirs: d,
            };
            let (c, p, d) = role("target", &cc.target)?;
            let target = Role {
                name: "target",
                pre: TargetPre::new(c.pre.clone())
                    .map_err(anyhow::Error::from)
                    .with_context(|| wrong_world(cc, "target", &c))?,
                component: c,
                policy: p,
                dirs: d,
            };
            let webhook_credential = cc.webhook_secret.as_ref().and_then(|s| secrets.get(s).cloned());
            store.set_connection_limit(&cc.id, cc.job_limit()).await?;
            connections.insert(
                cc.id.clone(),
                Arc::new(Connection { config: cc.clone(), source, mapper, target, webhook_credential }),
            );
        }
        Ok(Arc::new(App {
            config,
            store,
            runtime,
            components,
            connections,
            wake: Arc::new(Notify::new()),
            owner: format!("mlc-{}", uuid::Uuid::new_v4()),
        }))
    }
}

fn wrong_world(cc: &ConnectionConfig, role: &str, c: &LoadedComponent) -> String {
    format!(
        "connection {}: component {:?} cannot be its {role}: it does not export ml-connector:plugin/{role}-api",
        cc.id, c.name
    )
}

fn role_policy(
    cc: &ConnectionConfig,
    role: &str,
    rc: &RoleConfig,
    secrets: &BTreeMap<String, Arc<ResolvedSecret>>,
    clients: &HttpClients,
) -> anyhow::Result<RolePolicy> {
    let allow = rc.allow_http.iter().map(|o| AllowedOrigin::parse(o)).collect::<anyhow::Result<Vec<_>>>()?;
    let mut grants = SecretGrants::new();
    for (guest_name, secret_name) in &rc.secrets {
        let s = secrets
            .get(secret_name)
            .with_context(|| format!("connection {}: {role}: secret {secret_name} unresolved", cc.id))?;
        grants.insert(guest_name.clone(), s.clone());
    }
    Ok(RolePolicy {
        http: HttpPolicy {
            allow,
            allow_private_network: rc.allow_private_network,
            clients: clients.clone(),
            ntlm: crate::caps::ntlm::NtlmPools::new(
                usize::try_from(cc.max_in_flight).unwrap_or(1),
                rc.allow_private_network,
            ),
            // The target's other requests are gated to the same pacing limit.
            pacer: (role == "target")
                .then(|| Arc::new(tokio::sync::Semaphore::new(usize::try_from(cc.max_in_flight).unwrap_or(1).max(1)))),
        },
        secrets: grants,
        settings: cc.settings.clone(),
    })
}

async fn resolve_secrets(config: &Config, store: &dyn Store) -> anyhow::Result<BTreeMap<String, Arc<ResolvedSecret>>> {
    let mut out = BTreeMap::new();
    for (name, sc) in &config.secrets {
        let value = match &sc.source {
            SecretSource::Env(var) => {
                std::env::var(var).with_context(|| format!("secret {name}: environment variable {var} is not set"))?
            }
            SecretSource::Value(v) => {
                tracing::warn!(secret = %name, "secret given inline in the config: fine for demos, not for production");
                v.clone()
            }
            SecretSource::Stored(_) => {
                let sealed = store.secret_get(name).await?.with_context(|| {
                    format!(
                        "secret {name} is configured as stored but is not in the store (ml-connector secret set {name})"
                    )
                })?;
                crate::secretbox::open(&sealed).with_context(|| format!("secret {name}: decrypting"))?
            }
        };
        if value.is_empty() {
            bail!("secret {name} is empty");
        }
        let origin = Origin::parse(sc.origin.as_deref().with_context(|| format!("secret {name} has no origin"))?)?;
        // One governor per key, shared by every connection and worker using it.
        let governor =
            config.connections.iter().filter_map(|c| c.chargebee.as_ref()).find(|cb| cb.api_key == *name).map(|cb| {
                Arc::new(RateGovernor::new(
                    cb.requests_per_window(),
                    std::time::Duration::from_millis(cb.window_ms.max(1)),
                ))
            });
        out.insert(
            name.clone(),
            Arc::new(ResolvedSecret {
                name: name.clone(),
                scheme: sc.scheme,
                origin,
                value: SecretValue::new(value),
                governor,
            }),
        );
    }
    Ok(out)
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
