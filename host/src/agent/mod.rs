//! The local agent: how the host reaches a GP server behind the customer's firewall with no
//! inbound opening (`gp.via = "agent"`). The agent (`ml-connector agent`, installed next to GP)
//! dials **out** to the host over TLS on one port, through an HTTP CONNECT proxy when told, and
//! asks to switch the connection to this protocol with an HTTP/1.1 `Upgrade`
//! (`GET /agent/v1/connect`, bearer credential, versions). After `101 Switching Protocols` the
//! roles flip — **reverse HTTP/2**, as cloudflared's http2 mode does: the agent serves HTTP/2 on
//! the connection it dialed and the host is its client. Streams, flow control, PING keep-alive
//! and GOAWAY all come from `hyper`/`h2`; there is no framing of our own.
//!
//! The agent forwards only what its own config lists (GP Web Services / SBA origins, the SQL
//! Server and company database for eConnect), with credentials it holds itself: NTLM runs on the
//! agent (an NTLM session belongs to one TCP connection; nothing re-pools across the tunnel),
//! and so does the eConnect executor. The host sends one HTTP/2 request per GP call:
//!
//! | request (host → agent) | what the agent does |
//! |---|---|
//! | `GET /v1/status` | its version, targets, counters (the host's heartbeat, every `status_s`) |
//! | `<METHOD> /v1/http`, `mlc-url`, `mlc-timeout-ms`, the call's headers and body | the HTTP call, answered with GP's status, headers and body |
//! | `POST /v1/econnect/execute`, `mlc-sql: host:port/DB`, the document | runs it; 204, or 422 with the error as JSON |
//! | `POST /v1/econnect/query`, `mlc-sql`, `{"name", "params"}` | runs the read query; 200 with rows as JSON, or 422 |
//! | `POST /v1/goodbye`, `mlc-goodbye: revoked\|shutdown` | the host is closing the tunnel, and why |
//!
//! An answer the agent makes itself (not GP's) carries `mlc-agent-error` (`denied`, `connect`,
//! `timeout`, `protocol`, `econnect`), so a GP 502 is never mistaken for an agent's.
//!
//! Modules: [`hub`] (the host's tunnels, per connection), [`endpoint`] (the host's upgrade
//! endpoint and each tunnel's heartbeat), [`calls`] (the host's side of each request),
//! [`config`], [`dial`], [`service`] and [`run`] (the agent process).

pub mod calls;
pub mod config;
pub mod dial;
pub mod endpoint;
pub mod hub;
pub mod metrics;
pub mod run;
pub mod service;

/// The wire protocol this build speaks. A host accepts [`MIN_PROTOCOL`]..=[`PROTOCOL`]; an agent
/// outside that range is refused with 426 and told which it needs.
pub const PROTOCOL: u32 = 1;
pub const MIN_PROTOCOL: u32 = 1;

/// This build's version, announced by both sides.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The `Upgrade` token of the connect request.
pub const UPGRADE: &str = "mlc-agent-h2";
pub const CONNECT_PATH: &str = "/agent/v1/connect";

pub const H_PROTOCOL: &str = "mlc-agent-protocol";
pub const H_VERSION: &str = "mlc-agent-version";
pub const H_CONNECTION: &str = "mlc-agent-connection";
pub const H_INSTANCE: &str = "mlc-agent-instance";
pub const H_HOST_PROTOCOL: &str = "mlc-host-protocol";
pub const H_HOST_VERSION: &str = "mlc-host-version";
pub const H_URL: &str = "mlc-url";
pub const H_TIMEOUT: &str = "mlc-timeout-ms";
pub const H_SQL: &str = "mlc-sql";
pub const H_ERROR: &str = "mlc-agent-error";
pub const H_GOODBYE: &str = "mlc-goodbye";

pub const PATH_STATUS: &str = "/v1/status";
pub const PATH_HTTP: &str = "/v1/http";
pub const PATH_EXECUTE: &str = "/v1/econnect/execute";
pub const PATH_QUERY: &str = "/v1/econnect/query";
pub const PATH_GOODBYE: &str = "/v1/goodbye";

/// Largest body either side reads from a tunnel stream (GP's biggest SOAP answers are far
/// smaller; the host hands a guest at most 16 MiB).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// What the agent reports on `GET /v1/status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentReport {
    pub version: String,
    pub protocol: u32,
    pub instance: String,
    /// Unix ms the agent process started.
    pub started_at: i64,
    /// Origins it forwards HTTP to.
    pub http: Vec<String>,
    /// `host:port/DB` it runs eConnect on.
    pub econnect: Vec<String>,
    pub in_flight: u64,
    pub served: u64,
    pub errors: u64,
    /// The proxy it dials through, if any (no credentials).
    pub proxy: Option<String>,
}

/// An eConnect read query as sent to the agent.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct QueryRequest {
    pub name: String,
    pub params: Vec<String>,
}

/// Rows as the agent answers a query.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct QueryRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// An eConnect error across the tunnel (the executor's variants, 1:1).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WireEconnectError {
    Refused { node: String, number: i32, text: String, details: Vec<(i32, String)> },
    Invalid { message: String },
    Denied { message: String },
    Server { message: String },
    Transient { message: String },
}

impl From<mlc_econnect::EconnectError> for WireEconnectError {
    fn from(e: mlc_econnect::EconnectError) -> Self {
        use mlc_econnect::EconnectError as E;
        match e {
            E::Refused(r) => {
                WireEconnectError::Refused { node: r.node, number: r.number, text: r.text, details: r.details }
            }
            E::Invalid(message) => WireEconnectError::Invalid { message },
            E::Denied(message) => WireEconnectError::Denied { message },
            E::Server(message) => WireEconnectError::Server { message },
            E::Transient(message) => WireEconnectError::Transient { message },
        }
    }
}

impl From<WireEconnectError> for mlc_econnect::EconnectError {
    fn from(e: WireEconnectError) -> Self {
        use mlc_econnect::EconnectError as E;
        match e {
            WireEconnectError::Refused { node, number, text, details } => {
                E::Refused(mlc_econnect::Refusal { node, number, text, details })
            }
            WireEconnectError::Invalid { message } => E::Invalid(message),
            WireEconnectError::Denied { message } => E::Denied(message),
            WireEconnectError::Server { message } => E::Server(message),
            WireEconnectError::Transient { message } => E::Transient(message),
        }
    }
}

/// Why the host closes a tunnel (`mlc-goodbye`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goodbye {
    /// The agent's credential was revoked: it must not reconnect with it.
    Revoked,
    /// The host is stopping: reconnect (to it later, or to another replica).
    Shutdown,
}

impl Goodbye {
    pub fn as_str(self) -> &'static str {
        match self {
            Goodbye::Revoked => "revoked",
            Goodbye::Shutdown => "shutdown",
        }
    }

    pub fn parse(s: &str) -> Option<Goodbye> {
        match s {
            "revoked" => Some(Goodbye::Revoked),
            "shutdown" => Some(Goodbye::Shutdown),
            _ => None,
        }
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
