//! Starting, addressing and stopping a sandbox.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Control, Credentials, GpConfig, auth, db, faults, ntlm, schema, seed, server, service, soap};

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
        let auth = auth_config(&config);
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
