//! ml-connector: a WebAssembly component host that moves Chargebee billing data into Dynamics GP
//! receivables. See the repository README for the architecture.
//!
//! Reading order: [`config`] (what an operator writes) → [`app`] (the host assembled from it:
//! components linked per [`role`], capabilities configured per role, see [`caps`]) → [`serve`]
//! (webhook [`intake`], [`worker`]s, the [`schedule`]) → [`pipeline`] (one record: fetch → map →
//! wait → write) → [`call`] (the one way into a component) → [`runtime`] (wasmtime).

pub mod admin;
pub mod agent;
pub mod app;
pub mod bindings;
pub mod cache_seal;
pub mod call;
pub mod caps;
pub mod config;
pub mod denials;
pub mod intake;
pub mod jobs;
pub mod keys;
pub mod limits;
pub mod listener;
pub mod pipeline;
pub mod poll;
pub mod reconcile;
pub mod role;
pub mod runtime;
pub mod schedule;
pub mod secretbox;
pub mod serve;
pub mod timeline;
pub mod worker;

/// rustls with ring as the process-wide provider (reqwest is built without its own).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
