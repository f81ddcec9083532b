//! ml-connector: a WebAssembly component host that moves Chargebee billing data into Dynamics GP
//! receivables. See the repository README for the architecture.

pub mod app;
pub mod bindings;
pub mod caps;
pub mod config;
pub mod demo;
pub mod intake;
pub mod pipeline;
pub mod poll;
pub mod reconcile;
pub mod runtime;
pub mod schedule;
pub mod secretbox;
pub mod serve;
pub mod stack;
pub mod worker;

/// rustls with ring as the process-wide provider (reqwest is built without its own).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
