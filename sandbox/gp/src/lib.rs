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
pub mod control;
pub mod date;
pub mod db;
pub mod endpoints;
pub mod faults;
pub mod model;
pub mod money;
pub mod node;
pub mod ntlm;
pub mod objects;
pub mod rules;
pub mod schema;
pub mod seed;
pub mod server;
pub mod service;
pub mod xmldom;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

// The endpoints keep their crate-root paths (`gp_sandbox::soap::read_envelope`…): clients'
// tests check their requests with them.
pub use endpoints::{sba, soap};

pub use cli::{SandboxArgs, run};
pub use control::Control;
pub use faults::{CounterSnapshot, FaultKind, FaultRule, Overload};
pub use model::{DocType, TxState};
pub use rules::RulesConfig;
pub use seed::{CompanySeed, FiscalYearSeed, SeedData};

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
    /// A GP Web Services WSDL file to use instead of the one compiled in ([`schema::EMBEDDED_WSDL`]).
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
        }
    }
}

/// Entry point; see [`GpSandbox::start`].
pub struct GpSandbox;

/// A running sandbox. Dropping it stops the server; [`Sandbox::shutdown`] also waits.
pub struct Sandbox {
    addr: SocketAddr,
    credentials: Credentials,
    tenant: String,
    control: Control,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    _tempdir: Option<tempfile::TempDir>,
}

impl GpSandbox {
    /// Loads the WSDL, creates and seeds the store, and starts serving.
    pub async fn start(config: GpConfig) -> anyhow::Result<Sandbox> {
        let schema = match &config.wsdl_path {
            Some(path) => schema::Schema::load_cached(path)?,
            None => schema::Schema::embedded()?,
        };
        let (db_path, tempdir) = match &config.database_path {
            Some(p) => (p.clone(), None),
            None => {
                let dir =
                    tempfile::Builder::new().prefix("gp-sandbox").tempdir().context("creating the sandbox temp dir")?;
                (dir.path().join("gp.sqlite"), Some(dir))
            }
        };
        let db = db::Db::open(&db_path).await?;
        seed::apply(&db, &config.seed_data).await.context("seeding the GP sandbox")?;

        let creds = config.credentials.clone();
        let nb_domain = creds.domain.to_uppercase();
        let auth = auth::AuthConfig {
            account: ntlm::Account {
                domain: creds.domain.clone(),
                user: creds.user.clone(),
                password: creds.password.clone(),
            },
            server: ntlm::ServerIdentity {
                nb_computer: "GPSERVER".into(),
                dns_domain: format!("{}.local", nb_domain.to_lowercase()),
                dns_computer: format!("gpserver.{}.local", nb_domain.to_lowercase()),
                nb_domain,
            },
            verify: ntlm::VerifyOptions { max_clock_skew: config.max_clock_skew },
            soap_basic: config.soap_basic,
            sba_basic: config.sba_basic,
        };
        let counters = Arc::new(faults::Counters::default());
        let (stop, shutdown) = watch::channel(false);
        let shared = Arc::new(server::Shared {
            service: service::Service { db, rules: config.rules.clone(), counters: counters.clone() },
            schema,
            auth,
            pacing: faults::Pacing::new(config.latency, config.ceiling, config.overload),
            faults: faults::Faults::new(config.seed),
            counters,
            strict_schema: config.strict_schema,
            tenant: config.tenant.clone(),
            shutdown,
        });
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("binding the GP sandbox to {}", config.bind))?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(server::serve(listener, shared.clone()));
        Ok(Sandbox {
            addr,
            credentials: creds,
            tenant: config.tenant,
            control: Control { shared },
            stop,
            task: Some(task),
            _tempdir: tempdir,
        })
    }
}

impl Sandbox {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/DynamicsGPWebServices/DynamicsGPService.asmx`
    pub fn soap_url(&self) -> String {
        format!("http://{}{}", self.addr, soap::PATH)
    }

    pub fn wsdl_url(&self) -> String {
        format!("{}?wsdl", self.soap_url())
    }

    /// `http://127.0.0.1:PORT/GPService/Tenants(DefaultTenant)`
    pub fn sba_base_url(&self) -> String {
        format!("http://{}/GPService/Tenants({})", self.addr, self.tenant)
    }

    /// Base URL of one company's SBA resources (name URL-encoded, parens literal).
    pub fn sba_company_url(&self, company_name: &str) -> String {
        let encoded = percent_encoding::utf8_percent_encode(company_name, percent_encoding::NON_ALPHANUMERIC);
        format!("{}/Companies({encoded})", self.sba_base_url())
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Stops accepting, lets open connections finish their current request, and waits.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.control.shared.service.db.close().await;
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
