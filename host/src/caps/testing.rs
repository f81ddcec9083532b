//! A test environment for capabilities without Wasm: build one connection role's per-call
//! state from an inline config — exactly as the host configures and prepares it — and call the
//! capability's host functions on it directly (`Host::send(&mut state, …)`). Grants and
//! denials, quotas and scoping get fast, precise tests; a few end-to-end tests with real
//! components cover the linking.

use std::sync::Arc;

use anyhow::Context;
use mlc_store::Store;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::WasiCtxBuilder;

use crate::config::Config;
use crate::limits::Limits;
use crate::role::Role;

use super::{CallContext, Caps, ConfigureEnv, InstanceState, RolePolicy};

/// A fresh SQLite store in the temp dir, for a test's instances.
pub async fn scratch_store() -> anyhow::Result<Arc<dyn Store>> {
    let path = std::env::temp_dir().join(format!("mlc-caps-{}.db", uuid::Uuid::new_v4().simple()));
    mlc_store::open(&format!("sqlite://{}", path.display())).await
}

/// The per-call state of `role` in `connection`, configured from `config` (a TOML text as an
/// operator writes it) over `store`.
pub async fn instance(
    config_toml: &str,
    connection: &str,
    role: Role,
    store: Arc<dyn Store>,
) -> anyhow::Result<InstanceState> {
    let config: Config = toml::from_str(config_toml).context("test config")?;
    config.validate()?;
    let conn = config.connection(connection).with_context(|| format!("no connection {connection}"))?;
    let sites = super::chargebee::resolve_all(&config)?;
    let secrets = super::secrets::resolve(&config, &sites, store.as_ref()).await?;
    let clients = super::http::HttpClients::new(super::http::tls::client_config(config.host.extra_ca.as_deref())?)?;
    let env = ConfigureEnv {
        connection: conn,
        role,
        role_config: conn.role(role),
        host: &config.host,
        secrets: &secrets,
        clients: &clients,
        chargebee: sites.get(connection),
        agents: &Arc::new(crate::agent::hub::Hub::default()),
    };
    let policy = Arc::new(RolePolicy::configure(&env)?);
    let call = CallContext {
        connection: connection.to_string(),
        role,
        component: conn.role(role).component.clone(),
        digest: "test".into(),
        record_key: Some("invoice/test".into()),
        job_id: None,
    };
    let caps = Caps::prepare(call, store, policy, Arc::new(tokio::sync::Notify::new()));
    let limits = Limits::new("test", 1 << 20);
    Ok(InstanceState { wasi: WasiCtxBuilder::new().build(), table: ResourceTable::new(), limits, caps })
}
