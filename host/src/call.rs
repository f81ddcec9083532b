//! The one way the host calls into a component: a fresh sandboxed store for the role, the
//! world's instance, the call — all under the component's wall-clock `call_timeout_ms`. A trap
//! (a guest bug, its CPU or memory limit) or a timeout comes back as a [`CallFailure`] the
//! caller turns into a retry, a park or an HTTP error; it never crashes the host. Intake, poll,
//! the pipeline, dry runs, reconciliation and the schedule all call through here.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mlc_store::AuditEvent;
use wasmtime::Store;

use crate::app::{App, RoleComponent};
use crate::bindings::mapper::{Mapper, MapperPre};
use crate::bindings::source::{Source, SourcePre};
use crate::bindings::target::{Target, TargetPre};
use crate::caps::InstanceState;

/// A world's pre-linked instance factory.
pub trait WorldPre: Send + Sync {
    type Instance: Send;
    fn instantiate(
        &self,
        store: &mut Store<InstanceState>,
    ) -> impl Future<Output = wasmtime::Result<Self::Instance>> + Send;
}

macro_rules! world_pre {
    ($pre:ty, $inst:ty) => {
        impl WorldPre for $pre {
            type Instance = $inst;
            async fn instantiate(&self, store: &mut Store<InstanceState>) -> wasmtime::Result<$inst> {
                self.instantiate_async(store).await
            }
        }
    };
}
world_pre!(SourcePre<InstanceState>, Source);
world_pre!(MapperPre<InstanceState>, Mapper);
world_pre!(TargetPre<InstanceState>, Target);

/// What a call is for: stamped on the component's audit lines and logs.
#[derive(Default)]
pub struct Scope {
    pub record_key: Option<String>,
    pub job_id: Option<i64>,
    /// A pipeline run's pending timeline: the component's audit lines join it (committed with
    /// the record's next write) instead of being appended at once.
    pub timeline: Option<Arc<Mutex<Vec<AuditEvent>>>>,
}

impl Scope {
    pub fn record(key: impl ToString) -> Scope {
        Scope { record_key: Some(key.to_string()), ..Scope::default() }
    }

    pub fn job(mut self, id: Option<i64>) -> Scope {
        self.job_id = id;
        self
    }
}

/// A call that did not return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallFailure {
    /// The guest trapped: its message chain in one line (e.g. its CPU budget or memory limit).
    Trap(String),
    /// The call ran past the component's `call_timeout_ms`.
    Timeout { limit_ms: u64 },
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallFailure::Trap(m) => write!(f, "component trapped: {m}"),
            CallFailure::Timeout { limit_ms } => write!(f, "component call exceeded its {limit_ms} ms wall-clock limit"),
        }
    }
}

/// Call `rc`'s component with `f` on a fresh instance. The outer error is the host's own (its
/// store could not be built); the inner one is the component's failure to return.
pub async fn call_component<P: WorldPre, T>(
    app: &App,
    connection: &str,
    rc: &RoleComponent<P>,
    scope: Scope,
    f: impl AsyncFnOnce(&mut Store<InstanceState>, P::Instance) -> wasmtime::Result<T>,
) -> anyhow::Result<Result<T, CallFailure>> {
    let limit_ms = rc.component.config.call_timeout_ms;
    let mut store = rc.store(app, connection, scope)?;
    let work = async {
        let instance = rc.pre.instantiate(&mut store).await?;
        f(&mut store, instance).await
    };
    Ok(match tokio::time::timeout(Duration::from_millis(limit_ms), work).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(trap)) => Err(CallFailure::Trap(trap_message(&anyhow::Error::from(trap)))),
        Err(_) => Err(CallFailure::Timeout { limit_ms }),
    })
}

/// The root cause of a trap in one line, e.g. the CPU budget or memory limit message.
pub fn trap_message(e: &anyhow::Error) -> String {
    let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    chain.join(": ")
}
