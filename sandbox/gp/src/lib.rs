//! A Microsoft Dynamics GP emulator for tests, benchmarks and demos of the connector.
//!
//! It speaks GP Web Services (legacy SOAP endpoint, checked against the real WSDL), GP's
//! Service Based Architecture (REST/JSON) and real NTLMv2, and enforces GP's receivables
//! rules on an SQLite store. See `README.md` for the decisions where GP's behaviour is not
//! public.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let sandbox = gp_sandbox::GpSandbox::start(gp_sandbox::GpConfig::default()).await?;
//! println!("SOAP {} as {}", sandbox.soap_url(), sandbox.credentials());
//! let invoices = sandbox.control().documents_of(-1, gp_sandbox::DocType::Invoice).await?;
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! NTLM on the wire: authenticate each keep-alive connection with `Authorization: NTLM
//! <NEGOTIATE>` → `401 WWW-Authenticate: NTLM <CHALLENGE>` → `Authorization: NTLM
//! <AUTHENTICATE>` (answered normally if it verifies); later requests on that connection need
//! no header. A new connection starts over.

pub mod auth;
pub mod cli;
pub mod codec;
mod config;
pub mod control;
pub mod date;
pub mod db;
pub mod econnect;
pub mod endpoints;
pub mod faults;
pub mod ledger;
pub mod model;
pub mod money;
pub mod node;
pub mod ntlm;
pub mod objects;
pub mod reference;
pub mod rules;
mod sandbox;
pub mod schema;
pub mod seed;
pub mod server;
pub mod service;
pub mod tds;
pub mod xmldom;

// The endpoints keep their crate-root paths (`gp_sandbox::soap::read_envelope`…): clients'
// tests check their requests with them.
pub use endpoints::{sba, soap};

pub use cli::{SandboxArgs, run};
pub use config::{Credentials, GpConfig, GpTls};
pub use control::Control;
pub use faults::{CounterSnapshot, FaultKind, FaultRule, Overload};
pub use model::{DocType, TxState};
pub use rules::RulesConfig;
pub use sandbox::{GpSandbox, Sandbox};
pub use seed::{CompanySeed, FiscalYearSeed, SeedData};
pub use service::posting::{PostError, PostOutcome};
