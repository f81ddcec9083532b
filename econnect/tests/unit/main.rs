//! The executor's pure parts: documents, values, statement and query texts (each checked
//! against docs/econnect.md), error strings. No SQL Server here: see README "Integration tests".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod doc;
mod document;
mod sql;
mod values;
