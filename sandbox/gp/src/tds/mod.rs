//! GP's SQL Server endpoint: TDS 7.4 on the emulated company database, for eConnect's stored
//! procedures and the read queries of docs/econnect.md.

pub mod backend;
