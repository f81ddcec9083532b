//! What one sandboxed store may grow to: linear memory — all of the instance's memories together
//! — per the component's `memory_mb`, a few memories and tables per instance, and table elements
//! to a fixed ceiling. Growth past a limit traps (rather than failing `memory.grow`, which a
//! guest might ignore) with a message that names the component and its limit.

use wasmtime::ResourceLimiter;

/// Memories one instance may have (a Rust guest has one; a second covers an adapter's).
pub const MAX_MEMORIES: usize = 2;
/// Tables one instance may have.
pub const MAX_TABLES: usize = 8;
/// Core instances one component instance may create.
pub const MAX_INSTANCES: usize = 32;
/// Table elements any instance may have (funcref tables of Rust guests are small).
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Per-store limits.
pub struct Limits {
    pub component: String,
    /// All linear memories of the store together.
    pub memory_bytes: usize,
    /// Bytes granted so far, over every memory.
    pub used_bytes: usize,
}

impl Limits {
    pub fn new(component: &str, memory_bytes: usize) -> Limits {
        Limits { component: component.to_string(), memory_bytes, used_bytes: 0 }
    }
}

impl ResourceLimiter for Limits {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        // Each call is one memory's growth from `current`; the sum of the growths is the total.
        let total = self.used_bytes.saturating_add(desired.saturating_sub(current));
        if total > self.memory_bytes {
            wasmtime::bail!(
                "component {} hit its memory limit: growing to {total} bytes in all, the limit is {} bytes ({} MiB)",
                self.component,
                self.memory_bytes,
                self.memory_bytes >> 20
            );
        }
        self.used_bytes = total;
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

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memories_count_together() {
        let mut l = Limits::new("c", 10 << 20);
        assert!(l.memory_growing(0, 6 << 20, None).unwrap());
        // A second memory of 6 MiB would make 12 MiB in all: refused, though each is under 10.
        assert!(l.memory_growing(0, 6 << 20, None).is_err());
        assert!(l.memory_growing(6 << 20, 9 << 20, None).unwrap());
        assert!(l.memory_growing(9 << 20, 11 << 20, None).is_err());
    }
}
