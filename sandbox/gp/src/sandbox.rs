//! Starting, addressing (plain HTTP or HTTPS) and stopping a sandbox.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use sandbox_tls::SandboxTls;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Control, Credentials, GpConfig, GpTls, auth, db, faults, ntlm, schema, seed, server, service, soap};

/// Entry point; see [`GpSandbox::start`].
pub struct GpSandbox;

/// A running sandbox. Dropping it stops the server; [`Sandbox::shutdown`] also waits.
pub struct Sandbox {
    addr: SocketAddr,
    credentials: Credentials,
    tenant: String,
    https: Option<Https>,
    sql_login: crate::econnect::SqlLogin,
    sql_addr: Option<SocketAddr>,
    sql_task: Option<JoinHandle<()>>,
    /// The auto-post task (`GpConfig::auto_post_after`).
    post_task: Option<JoinHandle<()>>,
    control: Control,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    _tempdir: Option<tempfile::TempDir>,
}

impl GpSandbox {
    /// Loads the WSDL, creates and seeds the store, and starts serving (over HTTPS when
    /// [`GpConfig::tls`] is set).
    pub async fn start(config: GpConfig) -> anyhow::Result<Sandbox> {
        let schema = match &config.wsdl_path {
            Some(path) => schema::Schema::load_cached(path)?,
            None => schema::Schema::embedded()?,
        };
        let needs_tempdir = config.database_path.is_none() || config.tls.as_ref().is_some_and(|t| t.ca_file.is_none());
        let tempdir = match needs_tempdir {
            true => {
                Some(tempfile::Builder::new().prefix("gp-sandbox").tempdir().context("creating the sandbox temp dir")?)
            }
            false => None,
        };
        let scratch = tempdir.as_ref().map(|d| d.path().to_path_buf()).unwrap_or_default();
        let db_path = config.database_path.clone().unwrap_or_else(|| scratch.join("gp.sqlite"));
        let db = db::Db::open(&db_path).await?;
        seed::apply(&db, &config.seed_data).await.context("seeding the GP sandbox")?;
        let https = match &config.tls {
            Some(tls) => Some(Https::start(tls, &scratch)?),
            None => None,
        };

        let (stop, shutdown) = watch::channel(false);
        let shared = Arc::new(shared(&config, schema, db, shutdown));
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("binding the GP sandbox to {}", config.bind))?;
        let addr = listener.local_addr()?;
        let acceptor = https.as_ref().map(|h| h.tls.clone());
        let task = tokio::spawn(server::serve(listener, shared.clone(), acceptor));
        let (sql_addr, sql_task) = match config.sql_bind {
            Some(bind) => {
                let sql = tokio::net::TcpListener::bind(bind)
                    .await
                    .with_context(|| format!("binding the GP sandbox's SQL endpoint to {bind}"))?;
                let addr = sql.local_addr()?;
                let backend = econnect_backend(&shared.service, &config.sql_login);
                (Some(addr), Some(tokio::spawn(crate::tds::serve_until(sql, backend, stop.subscribe()))))
            }
            None => (None, None),
        };
        let post_task = config.auto_post_after.map(|quiet| {
            let poster = Arc::new(service_view(&shared.service));
            tokio::spawn(crate::service::posting::auto_post(poster, quiet, stop.subscribe()))
        });
        Ok(Sandbox {
            post_task,
            sql_addr,
            sql_task,
            addr,
            credentials: config.credentials.clone(),
            tenant: config.tenant,
            https,
            sql_login: config.sql_login.clone(),
            control: Control { shared },
            stop,
            task: Some(task),
            _tempdir: tempdir,
        })
    }
}

/// The eConnect backend over `s`'s database, rules and counters (what SOAP and SBA use).
fn econnect_backend(s: &service::Service, login: &crate::econnect::SqlLogin) -> Arc<crate::econnect::EconnectBackend> {
    Arc::new(crate::econnect::EconnectBackend::new(Arc::new(service_view(s)), login.clone()))
}

/// Another handle on the same database, rules, counters and batch activity.
fn service_view(s: &service::Service) -> service::Service {
    service::Service {
        db: s.db.clone(),
        rules: s.rules.clone(),
        counters: s.counters.clone(),
        activity: s.activity.clone(),
    }
}

/// What every request handler shares, from the configuration.
fn shared(
    config: &GpConfig,
    schema: Arc<schema::Schema>,
    db: db::Db,
    shutdown: watch::Receiver<bool>,
) -> server::Shared {
    let counters = Arc::new(faults::Counters::default());
    server::Shared {
        service: service::Service {
            db,
            rules: config.rules.clone(),
            counters: counters.clone(),
            activity: Arc::default(),
        },
        schema,
        auth: auth_config(config),
        pacing: faults::Pacing::new(config.latency, config.ceiling, config.overload),
        faults: faults::Faults::new(config.seed),
        counters,
        strict_schema: config.strict_schema,
        tenant: config.tenant.clone(),
        rmapply_extension: config.rmapply_extension,
        shutdown,
    }
}

/// The TLS side of a running sandbox: its certificates and where the CA was written.
struct Https {
    tls: SandboxTls,
    ca_file: PathBuf,
}

impl Https {
    /// Generates the CA and server certificate and writes the CA's PEM (`ca.pem` in `scratch`
    /// unless the configuration names a file).
    fn start(config: &GpTls, scratch: &Path) -> anyhow::Result<Https> {
        let tls = SandboxTls::generate(&config.names).context("generating the GP sandbox certificates")?;
        let ca_file = config.ca_file.clone().unwrap_or_else(|| scratch.join("ca.pem"));
        tls.write_ca(&ca_file)?;
        Ok(Https { tls, ca_file })
    }

    /// The host for URLs: the listening address when the certificate covers it (so no name
    /// resolution is needed), else the certificate's first name that is not a wildcard.
    fn url_host(&self, addr: SocketAddr) -> String {
        let names = self.tls.names();
        if names.contains(&addr.ip().to_string()) {
            return addr.to_string();
        }
        match names.iter().find(|n| !n.starts_with('*')) {
            // An IP name goes through SocketAddr so an IPv6 one gets its brackets.
            Some(name) => match name.parse::<std::net::IpAddr>() {
                Ok(ip) => SocketAddr::new(ip, addr.port()).to_string(),
                Err(_) => format!("{name}:{}", addr.port()),
            },
            None => addr.to_string(),
        }
    }
}

impl Sandbox {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, or `https://…` when TLS is on; every URL below starts with it.
    pub fn base_url(&self) -> String {
        match &self.https {
            Some(h) => format!("https://{}", h.url_host(self.addr)),
            None => format!("http://{}", self.addr),
        }
    }

    /// Whether the listener speaks HTTPS.
    pub fn is_tls(&self) -> bool {
        self.https.is_some()
    }

    /// The CA certificate (PEM) clients must trust; `None` without TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.https.as_ref().map(|h| h.tls.ca_pem())
    }

    /// The file the CA's PEM was written to (`[host] extra_ca`, `curl --cacert`); `None` without TLS.
    pub fn ca_file(&self) -> Option<&Path> {
        self.https.as_ref().map(|h| h.ca_file.as_path())
    }

    /// `http(s)://127.0.0.1:PORT/DynamicsGPWebServices/DynamicsGPService.asmx`
    pub fn soap_url(&self) -> String {
        format!("{}{}", self.base_url(), soap::PATH)
    }

    /// Base of the sandbox's HTTP controls (`POST …/companies/{id}/batches/{source}/{batch}/post`,
    /// `POST …/companies/{id}/periods/{year}/{period}/close|open`), same account as SOAP/SBA.
    pub fn control_url(&self) -> String {
        format!("{}{}", self.base_url(), crate::endpoints::control::PREFIX)
    }

    pub fn wsdl_url(&self) -> String {
        format!("{}?wsdl", self.soap_url())
    }

    /// `http(s)://127.0.0.1:PORT/GPService/Tenants(DefaultTenant)`
    pub fn sba_base_url(&self) -> String {
        format!("{}/GPService/Tenants({})", self.base_url(), self.tenant)
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

    /// The SQL Server login the eConnect endpoint accepts.
    pub fn sql_login(&self) -> &crate::econnect::SqlLogin {
        &self.sql_login
    }

    /// The eConnect backend on this sandbox's database (what the TDS endpoint serves): same
    /// tables, rules and counters as SOAP and SBA.
    pub fn econnect_backend(&self) -> Arc<crate::econnect::EconnectBackend> {
        econnect_backend(&self.control.shared.service, &self.sql_login)
    }

    /// Where the SQL Server (TDS) endpoint listens; none when [`GpConfig::sql_bind`] was `None`.
    pub fn sql_addr(&self) -> Option<SocketAddr> {
        self.sql_addr
    }

    /// Stops accepting, lets open connections finish their current request, and waits.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(task) = self.sql_task.take() {
            let _ = task.await;
        }
        if let Some(task) = self.post_task.take() {
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

/// The NTLM account and server identity (names derived from the domain), and where Basic is
/// accepted.
fn auth_config(config: &GpConfig) -> auth::AuthConfig {
    let creds = &config.credentials;
    let nb_domain = creds.domain.to_uppercase();
    auth::AuthConfig {
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
    }
}
