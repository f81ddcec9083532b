//! The Dynamics GP target component: ensures customers and writes receivables invoices, cash
//! receipts (with their applies) and credit memos into unposted batches, over GP Web Services
//! (SOAP, `gp.endpoint = "soap"`, the default) or GP's Service Based Architecture (REST/JSON,
//! `gp.endpoint = "sba"`; its shapes are inferred, see `sba`). NTLM is the host's business:
//! requests carry the `gp` secret handle and the host authenticates the connection; this
//! component never sees the Windows password. See README.md.
//!
//! Idempotent by construction: document numbers arrive derived from Chargebee ids. A create
//! refused as a duplicate, or one that failed ambiguously (timeout, connection lost after the
//! request left, GP's system exception), is followed by a look-up: the same document →
//! `already-present`; a different one → `conflict` naming the fields; nothing there after an
//! ambiguous failure → `transient`.
//!
//! Layout: `model` (the target's own view of documents and the idempotency decisions), `wire`
//! (the protocol trait and its types; a leaf), `xml` (reading GP's XML with quick-xml, and the
//! one escaping function), `soap` and `sba` (requests and answers of each protocol; pure, so
//! they run natively in tests), `config` (settings → protocol), `client` (the flows, over the
//! host's `http`), and the WIT export.
//! Feature `component` (default) brings the `target` world, `client` and the export; tests
//! build the crate without it to run the request builders natively.

#[cfg(feature = "component")]
pub mod client;
pub mod config;
pub mod model;
pub mod sba;
pub mod soap;
pub mod wire;
pub mod xml;

#[cfg(all(target_arch = "wasm32", feature = "component"))]
mod guest;
