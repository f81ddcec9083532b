//! The wasmtime side of the host: one engine (component model, async, pooling allocator, epoch
//! interruption), components loaded by path + sha256 and compiled once into a precompiled cache
//! keyed by digest and engine compatibility (each entry sealed with a MAC, see [`crate::cache_seal`],
//! and checked before it is deserialized), `InstancePre`s linked once and reused for every
//! instance, and a fresh sandboxed `Store` per call.
//!
//! Sandbox per store: a CPU budget enforced by epochs (a runaway loop traps within ~`cpu_ms`),
//! a linear-memory limit (growth past it traps), no filesystem unless a directory is granted,
//! no environment, no sockets, no inherited stdio.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, InstancePre, Linker, ResourceTable};
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::cache_seal::CacheSeal;
use crate::caps::{Caps, InstanceState};
use crate::config::{ComponentConfig, DirGrant};
use crate::limits::Limits;
use crate::role::Role;

/// Epoch tick. CPU budgets are counted in ticks spent executing guest code.
pub const TICK: Duration = Duration::from_millis(10);

/// Pool sizes: how many instances may be alive at once across the process.
const POOL_INSTANCES: u32 = 256;
/// Hard ceiling for any component's memory; per-component limits are lower (StoreLimits).
const POOL_MAX_MEMORY: usize = 1 << 30;

pub struct Runtime {
    pub engine: Engine,
    /// One linker per world: a role's capabilities and nothing else.
    linkers: BTreeMap<Role, Linker<InstanceState>>,
    cache_dir: PathBuf,
    seal: CacheSeal,
    ticker_stop: Arc<AtomicBool>,
}

/// A component ready to instantiate.
pub struct LoadedComponent {
    pub name: String,
    pub digest: String,
    pub config: ComponentConfig,
    pub component: Component,
    /// Whether this load compiled the component (false: it came from the cache).
    pub compiled: bool,
}

impl Runtime {
    pub fn new(cache_dir: &Path) -> anyhow::Result<Runtime> {
        let mut cfg = wasmtime::Config::new();
        cfg.wasm_component_model(true);
        cfg.epoch_interruption(true);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(POOL_INSTANCES)
            .total_core_instances(POOL_INSTANCES * 8)
            .total_memories(POOL_INSTANCES * 2)
            .total_tables(POOL_INSTANCES * 8)
            .max_core_instances_per_component(32)
            .max_memories_per_component(crate::limits::MAX_MEMORIES as u32)
            .max_tables_per_component(crate::limits::MAX_TABLES as u32)
            .max_memory_size(POOL_MAX_MEMORY);
        cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&cfg)?;

        let mut linkers = BTreeMap::new();
        for role in Role::ALL {
            linkers.insert(role, crate::caps::linker(&engine, role)?);
        }

        let ticker_stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = ticker_stop.clone();
            std::thread::Builder::new().name("epoch-ticker".into()).spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })?;
        }
        std::fs::create_dir_all(cache_dir).with_context(|| format!("creating cache dir {}", cache_dir.display()))?;
        let seal = CacheSeal::open(cache_dir)?;
        Ok(Runtime { engine, linkers, cache_dir: cache_dir.to_path_buf(), seal, ticker_stop })
    }

    /// Load a component: check its digest, take the precompiled artifact from the cache or
    /// compile and store it. [`Runtime::prepare`] then links it for the role it plays.
    pub fn load(&self, name: &str, config: &ComponentConfig) -> anyhow::Result<LoadedComponent> {
        let path = component_file(&config.path)?;
        let bytes = std::fs::read(&path).with_context(|| format!("component {name}: reading {}", path.display()))?;
        let digest = hex::encode(Sha256::digest(&bytes));
        if !digest.eq_ignore_ascii_case(config.sha256.trim()) {
            bail!(
                "component {name}: {} has sha256 {digest}, but the config pins {} (update the digest to swap it in)",
                path.display(),
                config.sha256
            );
        }
        let (component, compiled) =
            self.compile_cached(&digest, &bytes).with_context(|| format!("component {name} ({})", path.display()))?;
        Ok(LoadedComponent { name: name.to_string(), digest, config: config.clone(), component, compiled })
    }

    /// Link `c` for `role`'s world, once. A component that imports an interface the world does
    /// not declare is refused here, with the import named.
    pub fn prepare(&self, c: &LoadedComponent, role: Role) -> anyhow::Result<InstancePre<InstanceState>> {
        let ty = c.component.component_type();
        for (import, _) in ty.imports(&self.engine) {
            if let Some(reason) = import_refusal(import, role) {
                bail!("component {} cannot run as a {role}: {reason}", c.name);
            }
        }
        let linker = self.linkers.get(&role).with_context(|| format!("no linker for the {role} world"))?;
        linker
            .instantiate_pre(&c.component)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("component {}: imports the {role} world cannot satisfy", c.name))
    }

    fn cache_key(&self, digest: &str) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        format!("{digest}-{}-{:016x}.cwasm", wasmtime_version(), h.finish())
    }

    fn compile_cached(&self, digest: &str, bytes: &[u8]) -> anyhow::Result<(Component, bool)> {
        // cap-std: the cache is a directory capability; names cannot escape it.
        let dir = cap_std::fs::Dir::open_ambient_dir(&self.cache_dir, cap_std::ambient_authority())
            .with_context(|| format!("opening cache dir {}", self.cache_dir.display()))?;
        let key = self.cache_key(digest);
        let mac_file = CacheSeal::mac_file(&key);
        if let Ok(artifact) = dir.read(&key) {
            // Native code: only what this host sealed is loaded; anything else is recompiled.
            if !self.seal.verify(&key, &artifact, dir.read(&mac_file).ok().as_deref()) {
                tracing::warn!(
                    "cached artifact {key} in {} fails its integrity check (tampered, foreign or unsealed): not loading it, recompiling",
                    self.cache_dir.display()
                );
            } else {
                match deserialize(&self.engine, &artifact) {
                    Ok(c) => return Ok((c, false)),
                    Err(e) => tracing::warn!("discarding unusable cached artifact {key}: {e:#}"),
                }
            }
        }
        let component = Component::new(&self.engine, bytes)?;
        let artifact = component.serialize()?;
        let tmp = format!("{key}.{}.tmp", uuid::Uuid::new_v4());
        let mac_tmp = format!("{mac_file}.{}.tmp", uuid::Uuid::new_v4());
        dir.write(&tmp, &artifact)?;
        dir.write(&mac_tmp, self.seal.seal(&key, &artifact))?;
        // Atomic renames, MAC first: a reader sees a whole artifact, and at worst a MAC that
        // does not match it yet (then it recompiles); never a sealed half.
        dir.rename(&mac_tmp, &dir, &mac_file)?;
        dir.rename(&tmp, &dir, &key)?;
        Ok((component, true))
    }

    /// A fresh store for one call, sandboxed per the component's limits and the role's grants.
    pub fn new_store(
        &self,
        component: &LoadedComponent,
        caps: Caps,
        dirs: &[DirGrant],
    ) -> anyhow::Result<Store<InstanceState>> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false);
        for d in dirs {
            let perms = if d.write { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
            wasi.preopened_dir(&d.host, &d.guest, perms)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("granting {} as {}", d.host.display(), d.guest))?;
        }
        let memory_bytes = usize::try_from(component.config.memory_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        let limits = Limits::new(&component.name, memory_bytes);
        let state = InstanceState { wasi: wasi.build(), table: ResourceTable::new(), limits, caps };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        let budget = component.config.cpu_ms.div_ceil(TICK.as_millis() as u64).max(1);
        let mut ticks = 0u64;
        let name = component.name.clone();
        let cpu_ms = component.config.cpu_ms;
        store.set_epoch_deadline(1);
        // Each callback is one tick spent in guest code (time in host calls does not count,
        // the deadline is only checked while wasm runs). Yield so other jobs share the thread.
        store.epoch_deadline_callback(move |_| {
            ticks += 1;
            if ticks > budget {
                wasmtime::bail!("component {name} exceeded its CPU budget of {cpu_ms} ms and was interrupted");
            }
            Ok(UpdateDeadline::Yield(1))
        });
        Ok(store)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// Why `import` (e.g. `ml-connector:plugin/queue@0.1.0`) is not for `role`'s world, if it is not.
fn import_refusal(import: &str, role: Role) -> Option<String> {
    let interface = import.split('@').next().unwrap_or(import);
    if interface.starts_with("wasi:") || interface == "ml-connector:plugin/types" {
        return None; // WASI p2 (nothing granted through it) and the shared types: every world
    }
    if crate::caps::imports(role).iter().any(|c| c.interface() == interface) {
        return None;
    }
    let known = crate::caps::Capability::ALL.iter().any(|c| c.interface() == interface);
    Some(if known {
        format!("it imports {import}, which the {role} world does not declare (wit/worlds.wit)")
    } else {
        format!("it imports {import}, which this host does not provide")
    })
}

fn wasmtime_version() -> &'static str {
    // The crate version is part of the artifact header too; naming it keeps old files apart.
    "wasmtime48"
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, artifact: &[u8]) -> anyhow::Result<Component> {
    // SAFETY: the artifact was produced by `Component::serialize` of this same engine config
    // (the file name carries the engine's compatibility hash), written atomically into the
    // host-owned cache directory, and its MAC under this install's key was verified just before
    // (so it is byte for byte what this host wrote under this name); wasmtime additionally checks
    // its header before use.
    Ok(unsafe { Component::deserialize(engine, artifact) }?)
}

/// `path` is a .wasm file, or a directory with exactly one .wasm in it.
fn component_file(path: &Path) -> anyhow::Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(path).with_context(|| format!("reading {}", path.display()))? {
        let p = entry?.path();
        if p.extension().is_some_and(|e| e == "wasm") {
            found.push(p);
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!("{} holds no .wasm file", path.display()),
        n => bail!("{} holds {n} .wasm files; name one", path.display()),
    }
}

/// sha256 of a file, hex: what `sha256 = …` in the config must say.
pub fn file_digest(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(component_file(path)?).with_context(|| format!("reading {}", path.display()))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}
