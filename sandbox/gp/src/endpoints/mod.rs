//! The protocols the emulator speaks, one module each, all calling the same GP business layer
//! ([`crate::service`]) and store ([`crate::db`]): GP Web Services (SOAP) and SBA (REST/JSON).
//!
//! An endpoint turns its wire format into service calls and the results back into its wire
//! format; GP's rules never live here. A new HTTP endpoint is a new module plus a variant of
//! [`Endpoint`] (its path, whether Basic is allowed, its handler); the HTTP layer
//! ([`crate::server`]) gives it NTLM, pacing and injected faults. A protocol that is not HTTP
//! (eConnect over SQL Server's TDS) gets its own listener in its module and shares
//! [`crate::service::Service`] the same way.

pub mod control;
pub mod sba;
pub mod soap;

use bytes::Bytes;
use hyper::http::request::Parts;

use crate::auth::AuthConfig;
use crate::server::{Reply, Shared};

/// An HTTP endpoint, chosen by the request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Soap,
    Sba,
    /// The sandbox's own controls under `/_sandbox/` (posting, periods): not GP's.
    Control,
}

impl Endpoint {
    /// The endpoint serving `path`, if any (`None`: 404).
    pub fn for_path(path: &str) -> Option<Endpoint> {
        let lower = path.to_ascii_lowercase();
        if lower.starts_with(control::PREFIX) {
            Some(Endpoint::Control)
        } else if lower == soap::PATH.to_ascii_lowercase() {
            Some(Endpoint::Soap)
        } else if lower.starts_with("/gpservice/") || lower.starts_with("/gpservice%2f") {
            Some(Endpoint::Sba)
        } else {
            None
        }
    }

    /// Whether HTTP Basic is accepted besides NTLM.
    pub fn allows_basic(self, auth: &AuthConfig) -> bool {
        match self {
            Endpoint::Soap => auth.soap_basic,
            Endpoint::Sba => auth.sba_basic,
            // Usable from curl: Basic whenever either GP endpoint accepts it.
            Endpoint::Control => auth.sba_basic || auth.soap_basic,
        }
    }

    /// Serves an authenticated request.
    pub async fn handle(self, shared: &Shared, parts: &Parts, body: Bytes) -> Reply {
        match self {
            Endpoint::Soap => soap::handle(shared, parts, body).await,
            Endpoint::Sba => sba::handle(shared, parts, body).await,
            Endpoint::Control => control::handle(shared, parts).await,
        }
    }
}
