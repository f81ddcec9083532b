//! `mlc-econnect`: runs eConnect documents and GP's read queries against a GP company database
//! over TDS (SQL Server logins), as docs/econnect.md lays down. Used by the host's `econnect`
//! capability and, later, by the local agent: it knows nothing of wasm or the host.
//!
//! - [`Document::parse`] checks a document before anything is sent (`Invalid` otherwise);
//! - [`Executor::execute`] runs it as one SQL transaction; [`Executor::query`] a read query.

pub mod cells;
pub mod document;
pub mod error;
pub mod executor;
mod pool;
pub mod procs;
pub mod queries;
pub mod sql;
pub mod value;

pub use document::{Call, Document};
pub use error::{EconnectError, Refusal};
pub use executor::Executor;
pub use pool::Server;
pub use queries::{ParamKind, QueryName, QueryParam, Rows};
