//! The product's test and demo scaffolding, kept apart from the product: the host library
//! (`ml-connector`) knows nothing of the emulators; this crate puts them together.
//!
//! - [`stack`]: both emulators and a host running the real components, in one process, with
//!   the config built as a value — used by `demo`, the end-to-end tests and the benchmarks;
//! - [`demo`]: `ml-connector demo`;
//! - [`sandbox`]: `ml-connector sandbox gp|chargebee`, an emulator on its own;
//! - [`agent`]: local agents in a stack (GP reached only through them);
//! - [`components`]: where `cargo xtask components` put the built components.

pub mod agent;
pub mod components;
pub mod demo;
pub mod sandbox;
pub mod stack;
