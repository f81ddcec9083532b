//! The data of every wasmtime `Store` the host creates: WASI's context (nothing granted through
//! it but the role's directories), the resource table, the store's limits, and the capabilities'
//! per-call state.

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::host::ml_connector::plugin as wit;
use crate::limits::Limits;

use super::Caps;

pub struct InstanceState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limits: Limits,
    pub caps: Caps,
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// The shared `types` interface (no functions; every world uses it).
pub(crate) fn link_types(linker: &mut Linker<InstanceState>) -> anyhow::Result<()> {
    Ok(wit::types::add_to_linker::<InstanceState, HasSelf<InstanceState>>(linker, |s| s)?)
}

impl wit::types::Host for InstanceState {}
