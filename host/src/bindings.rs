//! The host's one bindgen site over `wit/`. The `host` world generates every host capability
//! interface and the shared types once; the three plugin worlds reuse them through `with`, so a
//! WIT type has exactly one Rust type in the host.

pub mod host {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "host",
        imports: { default: async | trappable },
        with: {
            "ml-connector:plugin/secrets.secret": crate::caps::secrets::value::SecretHandle,
        },
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
        anyhow: true,
    });
}

pub use host::ml_connector::plugin::types;

pub mod source {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "source",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "ml-connector:plugin/types": crate::bindings::host::ml_connector::plugin::types,
            "ml-connector:plugin/secrets": crate::bindings::host::ml_connector::plugin::secrets,
            "ml-connector:plugin/http": crate::bindings::host::ml_connector::plugin::http,
            "ml-connector:plugin/queue": crate::bindings::host::ml_connector::plugin::queue,
            "ml-connector:plugin/audit": crate::bindings::host::ml_connector::plugin::audit,
            "ml-connector:plugin/log": crate::bindings::host::ml_connector::plugin::log,
            "ml-connector:plugin/state": crate::bindings::host::ml_connector::plugin::state,
            "ml-connector:plugin/settings": crate::bindings::host::ml_connector::plugin::settings,
        },
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
        anyhow: true,
    });
}

pub mod mapper {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "mapper",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "ml-connector:plugin/types": crate::bindings::host::ml_connector::plugin::types,
            "ml-connector:plugin/log": crate::bindings::host::ml_connector::plugin::log,
        },
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
        anyhow: true,
    });
}

pub mod target {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "target",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "ml-connector:plugin/types": crate::bindings::host::ml_connector::plugin::types,
            "ml-connector:plugin/secrets": crate::bindings::host::ml_connector::plugin::secrets,
            "ml-connector:plugin/http": crate::bindings::host::ml_connector::plugin::http,
            "ml-connector:plugin/econnect": crate::bindings::host::ml_connector::plugin::econnect,
            "ml-connector:plugin/audit": crate::bindings::host::ml_connector::plugin::audit,
            "ml-connector:plugin/log": crate::bindings::host::ml_connector::plugin::log,
            "ml-connector:plugin/state": crate::bindings::host::ml_connector::plugin::state,
            "ml-connector:plugin/settings": crate::bindings::host::ml_connector::plugin::settings,
        },
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
        anyhow: true,
    });
}
