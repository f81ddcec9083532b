//! The Dynamics GP target component: ensures customers (allocating readable customer numbers)
//! and writes receivables invoices, debit memos, credit memos and cash receipts — unapplied —
//! into unposted batches; the settle step's applies and voids go through eConnect once GP has
//! posted the documents (`settle`, `econnect::settle`), over one of three transports chosen by `gp.endpoint`: GP Web Services
//! (SOAP, the default), GP's Service Based Architecture (REST/JSON, inferred shapes), or
//! eConnect (whole eConnect documents and read queries through the host's `econnect`). NTLM and
//! the SQL login are the host's business: this component never sees a credential. See README.md.
//!
//! Idempotent by construction: document numbers arrive derived from Chargebee ids. A create
//! refused as a duplicate, or one that failed ambiguously, is followed by a look-up: the same
//! document → `already-present`; a different one → `conflict` naming the fields; nothing there
//! after an ambiguous failure → `transient`.
//!
//! Layout (everything but `guest` is pure and tests natively):
//! - `model`: documents and customers as the target sees them, the idempotency decisions;
//! - `transport`: the [`transport::Transport`] trait the flows use, and its [`transport::Failure`];
//! - `flows`: ensure-customer, write (+ look-up), find, list — written once;
//! - `books`: fiscal periods and batches (GL posting date, `next_open_period`, batch caps);
//! - `settle`: applies and voids, the exactly-once decisions;
//! - `numbers`: readable customer numbers kept in the component's `state`;
//! - `http` (+ `wire`, `soap`, `sba`, `xml`, `dom`): the HTTP transports;
//! - `econnect`: the eConnect transport (documents, rows, errors);
//! - `config`: settings; `guest`: the WIT export and the host adapters (wasm only).

pub mod books;
pub mod config;
pub mod dom;
pub mod econnect;
pub mod flows;
pub mod http;
pub mod model;
pub mod numbers;
pub mod sba;
pub mod settle;
pub mod soap;
pub mod transport;
pub mod wire;
pub mod xml;

#[cfg(all(target_arch = "wasm32", feature = "component"))]
mod guest;
