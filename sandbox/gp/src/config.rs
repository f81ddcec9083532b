//! How a sandbox is configured: the account it accepts and everything [`crate::GpSandbox::start`]
//! takes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::faults::Overload;
use crate::rules::RulesConfig;
use crate::seed::SeedData;

/// The Windows account the sandbox accepts (`DOMAIN\user` + password).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub domain: String,
    pub user: String,
    pub password: String,
}

impl Credentials {
    /// `DOMAIN\user:password`, as `curl --ntlm -u` and Basic take it.
    pub fn user_spec(&self) -> String {
        format!("{}\\{}:{}", self.domain, self.user, self.password)
    }

    /// A fresh random password with a fixed account name.
    pub fn generated() -> Self {
        let password = format!("Gp-{}", uuid::Uuid::new_v4().simple());
        Credentials { domain: "GPSANDBOX".into(), user: "mlc-gp".into(), password }
    }
}

impl std::fmt::Display for Credentials {
    // Shows the full `DOMAIN\user:password`: printing it is the point of a sandbox banner.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.user_spec())
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}\\{})", self.domain, self.user)
    }
}

/// How to start a sandbox. `Default` gives a loopback listener on a free port, a random
/// password, GP's rules as documented, the demo companies and no pacing or faults.
#[derive(Debug, Clone)]
pub struct GpConfig {
    pub bind: SocketAddr,
    pub credentials: Credentials,
    /// A GP Web Services WSDL file to use instead of the one compiled in ([`crate::schema::EMBEDDED_WSDL`]).
    pub wsdl_path: Option<PathBuf>,
    /// SQLite file; `None` → a file in a temporary directory removed at shutdown.
    pub database_path: Option<PathBuf>,
    pub soap_basic: bool,
    pub sba_basic: bool,
    /// NTLM timestamp tolerance; `None` disables the check.
    pub max_clock_skew: Option<Duration>,
    pub tenant: String,
    pub strict_schema: bool,
    pub rules: RulesConfig,
    pub latency: Duration,
    pub ceiling: Option<usize>,
    pub overload: Overload,
    /// Seeds the random fault generator.
    pub seed: u64,
    pub seed_data: SeedData,
    /// HTTPS on the listener (`None`: plain HTTP, as before). When set, everything on the port
    /// — SOAP, SBA, the WSDL — is served over TLS only; NTLM authenticates each TLS connection
    /// as it does each TCP connection.
    pub tls: Option<GpTls>,
    /// The SQL Server login of the eConnect endpoint (default `mlc_econnect`, random password).
    pub sql_login: crate::econnect::SqlLogin,
    /// Where the SQL (TDS) endpoint listens (default: a free loopback port); `None`: no SQL endpoint.
    pub sql_bind: Option<SocketAddr>,
    /// Post each batch this long after its last write (GP's Series Post run by a user; for
    /// demos and black-box tests). `None`: batches post only through [`crate::Control::post_batch`]
    /// or `POST /_sandbox/companies/{id}/batches/{source}/{batch}/post`.
    pub auto_post_after: Option<Duration>,
    /// The RMApply extension is installed: SOAP CashReceipt / ReceivablesCreditMemo may carry
    /// applies in `Extensions` (SBA: `Applies`). Default off: a server-side add-on real GP would
    /// need; GP applies through eConnect `taRMApply` between posted documents.
    pub rmapply_extension: bool,
}

/// HTTPS settings: a CA and a server certificate are generated at start
/// ([`sandbox_tls::SandboxTls`]) and the CA's PEM is written where clients can read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpTls {
    /// Names the server certificate covers (DNS names or IP addresses; `*.example.com` allowed).
    pub names: Vec<String>,
    /// Where the CA's PEM is written; `None` → `ca.pem` in the sandbox's temporary directory
    /// (removed at shutdown). [`crate::Sandbox::ca_file`] says where it went.
    pub ca_file: Option<PathBuf>,
}

impl Default for GpTls {
    /// `localhost` and `127.0.0.1`, the CA in the sandbox's temporary directory.
    fn default() -> Self {
        GpTls { names: sandbox_tls::default_names(), ca_file: None }
    }
}

impl Default for GpConfig {
    fn default() -> Self {
        GpConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            credentials: Credentials::generated(),
            wsdl_path: None,
            database_path: None,
            soap_basic: false,
            sba_basic: true,
            max_clock_skew: Some(Duration::from_secs(36 * 3600)),
            tenant: "DefaultTenant".into(),
            strict_schema: true,
            rules: RulesConfig::default(),
            latency: Duration::ZERO,
            ceiling: None,
            overload: Overload::Queue,
            seed: 0,
            seed_data: SeedData::default(),
            tls: None,
            sql_login: crate::econnect::SqlLogin::generated(),
            sql_bind: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            auto_post_after: None,
            rmapply_extension: false,
        }
    }
}
