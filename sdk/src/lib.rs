//! SDK for ml-connector components.
//!
//! A component implements one world of the `ml-connector:plugin` WIT package (see `wit/` at the
//! repository root): `source` (a billing source such as Chargebee), `mapper` (canonical record →
//! ledger documents) or `target` (a ledger such as Dynamics GP). Enable the matching cargo
//! feature — exactly one — and export your type with the world's macro:
//!
//! ```ignore
//! use ml_connector_sdk::mapper::exports::ml_connector::plugin::mapper_api::{Guest, MappingError};
//! use ml_connector_sdk::mapper::ml_connector::plugin::types::{LedgerDoc, SourceRecord};
//!
//! struct MyMapper;
//! impl Guest for MyMapper {
//!     fn map(rec: SourceRecord, settings: Vec<(String, String)>) -> Result<Vec<LedgerDoc>, MappingError> {
//!         todo!()
//!     }
//! }
//! ml_connector_sdk::export_mapper!(MyMapper);
//! ```
//!
//! Build for `wasm32-wasip2` as a `cdylib`; `cargo xtask components` does it for this repo.
//! The helpers below ([`money`], [`dates`]) work on plain values so they serve every world.

// A component built for Wasm implements one world; natively (`cargo clippy --workspace`, where
// cargo unifies the guests' features) the bindings of several worlds sit side by side harmlessly.
#[cfg(all(
    target_family = "wasm",
    any(
        all(feature = "source", feature = "mapper"),
        all(feature = "source", feature = "target"),
        all(feature = "mapper", feature = "target")
    )
))]
compile_error!("enable exactly one of the features `source`, `mapper`, `target`: a component implements one world");

/// Bindings for the `source` world.
#[cfg(feature = "source")]
pub mod source {
    wit_bindgen::generate!({
        path: "../wit",
        world: "source",
        pub_export_macro: true,
        export_macro_name: "export_source",
        default_bindings_module: "ml_connector_sdk::source",
    });
}

/// Bindings for the `mapper` world.
#[cfg(feature = "mapper")]
pub mod mapper {
    wit_bindgen::generate!({
        path: "../wit",
        world: "mapper",
        pub_export_macro: true,
        export_macro_name: "export_mapper",
        default_bindings_module: "ml_connector_sdk::mapper",
    });
}

/// Bindings for the `target` world.
#[cfg(feature = "target")]
pub mod target {
    wit_bindgen::generate!({
        path: "../wit",
        world: "target",
        pub_export_macro: true,
        export_macro_name: "export_target",
        default_bindings_module: "ml_connector_sdk::target",
    });
}

#[cfg(feature = "mapper")]
pub use mapper::export_mapper;
#[cfg(feature = "source")]
pub use source::export_source;
#[cfg(feature = "target")]
pub use target::export_target;

pub mod dates;
pub mod money;
pub mod retry_after;
