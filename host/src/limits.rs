//! What one sandboxed store may grow to: linear memory per the component's `memory_mb`, tables
//! to a fixed ceiling. Growth past a limit traps (rather than failing `memory.grow`, which a
//! guest might ignore) with a message that names the component and its limit.

use wasmtime::ResourceLimiter;

/// Per-store limits. Growth past the limit traps (rather than failing `memory.grow`, which a
/// guest might ignore) with a message that names the component and its limit.
pub struct Limits {
    pub component: String,
    pub memory_bytes: usize,
}

/// Table elements any instance may have (funcref tables of Rust guests are small).
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for Limits {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            wasmtime::bail!(
                "component {} hit its memory limit: growing to {desired} bytes, the limit is {} bytes ({} MiB)",
                self.component,
                self.memory_bytes,
                self.memory_bytes >> 20
            );
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            wasmtime::bail!(
                "component {} hit its table limit: {desired} elements, the limit is {MAX_TABLE_ELEMENTS}",
                self.component
            );
        }
        Ok(true)
    }
}

