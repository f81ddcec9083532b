//! Host capabilities, one module each (like Spin's factors): `http`, `secrets`, `queue`, `audit`,
//! `log`, `state`, `settings`. Each module owns its policy (built once per connection role at
//! load), its per-instance piece of [`Caps`], and its `Host` trait impl. [`add_to_linker`] links
//! them all plus WASI p2 (guests built for wasip2 import `wasi:cli`).
//!
//! Two levels of result, as in wasmtime's own hosts: the outer `anyhow::Result` is a trap (a
//! host bug, a guest over its limits); the inner WIT `result` is what the guest handles.

pub mod audit;
pub mod governor;
pub mod http;
pub mod log;
pub mod ntlm;
pub mod queue;
pub mod secrets;
pub mod settings;
pub mod state;

use std::sync::Arc;

use mlc_store::Store;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::host::ml_connector::plugin as wit;

/// Who is calling: fixed for one instance, stamped on every audit event and log line.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub connection: String,
    /// source | mapper | target
    pub role: &'static str,
    pub component: String,
    /// sha256 of the component file.
    pub digest: String,
    pub record_key: Option<String>,
    pub job_id: Option<i64>,
}

/// What a connection role is allowed, resolved once when the host loads its config.
pub struct RolePolicy {
    pub http: http::HttpPolicy,
    pub secrets: secrets::SecretGrants,
    pub settings: settings::Settings,
}

/// Per-instance capability state.
pub struct Caps {
    pub call: CallContext,
    pub store: Arc<dyn Store>,
    pub policy: Arc<RolePolicy>,
    pub queue: queue::QueueCap,
    pub live_secret_handles: usize,
    /// Inside a pipeline run: the run's pending timeline lines, committed with the record's next
    /// write (one transaction, not one per line). Elsewhere lines are appended at once.
    pub timeline: Option<Arc<std::sync::Mutex<Vec<mlc_store::AuditEvent>>>>,
}

impl Caps {
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

/// The data of every wasmtime `Store` the host creates.
pub struct InstanceState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limits: crate::runtime::Limits,
    pub caps: Caps,
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

pub fn add_to_linker(linker: &mut Linker<InstanceState>) -> anyhow::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    type Me = HasSelf<InstanceState>;
    wit::types::add_to_linker::<InstanceState, Me>(linker, |s| s)?;
    wit::secrets::add_to_linker::<InstanceState, Me>(linker, |s| s)?;
    wit::http::add_to_linker::<InstanceState, Me>(linker, |s| s)?;
    wit::queue::add_to_linker::<InstanceState, Me>(linker, |s| s)?;
    wit::audit::add_to_linker::<InstanceState, Me>(linker, |s| s)?;
    wit::log::add_to_linker::<InstanceState, Me>(linker, |s| s)?;
    wit::state::add_to_linker::<InstanceState, Me>(linker, |s| s)?;
    wit::settings::add_to_linker::<InstanceState, Me>(linker, |s| s)?;
    Ok(())
}

impl wit::types::Host for InstanceState {}
