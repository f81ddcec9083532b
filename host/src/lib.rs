//! ml-connector: a WebAssembly component host that moves Chargebee billing data into Dynamics GP
//! receivables. See the repository README for the architecture.

pub mod bindings;
pub mod caps;
pub mod config;
pub mod runtime;
