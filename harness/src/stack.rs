//! The whole product in one process: the Chargebee and GP emulators, and a host running the
//! real components (chargebee-source, gp-mapper, gp-target) against them, with webhook intake,
//! workers and the schedule. Used by `demo`, the end-to-end tests and the benchmarks, so all
//! three exercise exactly what an operator configures.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use anyhow::Context;
use chargebee_sandbox::{ChargebeeConfig, ChargebeeSandbox, Plan, Region, SiteConfig, SiteInfo};
use ml_connector::app::App;
use ml_connector::config::{
    ChargebeeBinding, ComponentConfig, Config, ConnectionConfig, EconnectGrant, HostConfig, RoleConfig, SecretConfig,
    SecretScheme, SecretSource,
};
use ml_connector::serve::{Running, ServeOptions};
use tokio_util::sync::CancellationToken;

/// The webhook Basic credentials every stack connection expects.
pub const WEBHOOK_USER: &str = "chargebee";
pub const WEBHOOK_PASSWORD: &str = "hook-pass";

pub use crate::components::{component, components_dir};

/// One tenant: a Chargebee site synced into a GP company.
#[derive(Debug, Clone)]
pub struct TenantSpec {
    /// Connection id.
    pub id: String,
    /// Chargebee site name in the emulator.
    pub site: String,
    pub region: Region,
    /// `soap`, `sba` or `econnect` (applies and voids go over eConnect whatever this is).
    pub endpoint: &'static str,
    /// Mapper component name (a tenant may run its own).
    pub mapper: String,
    /// GP pacing: calls in flight to GP for this connection.
    pub max_in_flight: i32,
    /// Extra `key = "value"` lines for `[connections.settings]`.
    pub settings: Vec<(String, String)>,
    pub events_poll_s: Option<u64>,
    pub dry_run: bool,
}

impl TenantSpec {
    pub fn new(id: &str, site: &str, region: Region) -> TenantSpec {
        TenantSpec {
            id: id.into(),
            site: site.into(),
            region,
            endpoint: "soap",
            mapper: "gp-mapper".into(),
            max_in_flight: 4,
            settings: vec![],
            events_poll_s: None,
            dry_run: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct StackSpec {
    pub tenants: Vec<TenantSpec>,
    /// Chargebee rate limit per site and window (the emulator enforces it, the host paces to it).
    pub cb_limit: u32,
    pub cb_window: Duration,
    pub gp: gp_sandbox::GpConfig,
    pub workers: usize,
    /// `sqlite://…` or `postgres://…`; none = a file in `dir`.
    pub database: Option<String>,
    /// How long a crashed host's jobs stay leased (tests use a short one).
    pub lease_ms: u64,
    /// Both emulators speak HTTPS (generated CAs, trusted by the host through `extra_ca`), as
    /// Chargebee and a GP server behind IIS do.
    pub tls: bool,
    /// What GP's AR clerk does with the batches the connector fills.
    pub clerk: Clerk,
    /// How often the schedule re-checks closed periods and unposted batches (seconds).
    pub recheck_s: u64,
    /// GP reached only through local agents (`gp.via = "agent"`): the host gets an `[agents]`
    /// endpoint and no GP egress or GP secret values; each tenant gets a running agent.
    pub via_agent: bool,
}

/// GP's AR clerk in a stack: GP applies and voids posted documents only, and batches are
/// posted by a person, so a run that applies needs someone to post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clerk {
    /// Nobody posts unless the test does ([`Stack::post_batches`]); `drain` ends with the
    /// settle steps still waiting for posting.
    Manual,
    /// When a drain finds nothing left but settle steps waiting for posting, the clerk posts
    /// every unposted batch (Series Post), and the drain goes on.
    PostWhenIdle,
}

impl Default for StackSpec {
    fn default() -> Self {
        StackSpec {
            tenants: vec![TenantSpec::new("acme", "acme-test", Region::Us)],
            cb_limit: 1000,
            cb_window: Duration::from_secs(60),
            gp: gp_sandbox::GpConfig::default(),
            workers: 16,
            database: None,
            lease_ms: 15_000,
            tls: false,
            clerk: Clerk::PostWhenIdle,
            recheck_s: 1,
            via_agent: false,
        }
    }
}

pub struct Stack {
    pub cb: ChargebeeSandbox,
    pub gp: gp_sandbox::Sandbox,
    pub app: Arc<App>,
    /// Intake base URL (`http://127.0.0.1:N`).
    pub base: String,
    pub stop: CancellationToken,
    /// The host's config, as built; also written to `config_path` (what an operator would run).
    pub config: Config,
    pub config_path: PathBuf,
    pub spec: StackSpec,
    /// The first host (intake, workers, schedule).
    intake: Running,
    /// The host started by the last [`Stack::crash_and_restart`] (workers and schedule only).
    restarted: Option<Running>,
    /// The agent endpoint, when GP is reached through agents.
    pub(crate) agents_url: Option<String>,
    /// Each tenant's agent (`via_agent`), by tenant id.
    pub agents: BTreeMap<String, crate::agent::AgentHandle>,
}

/// The emulator's Fabrikam company (its id).
pub const FABRIKAM: i32 = -1;

/// Mapper settings for the emulator's Fabrikam company (id −1): its checkbooks per currency
/// and a chart of accounts.
pub fn fabrikam_mapping() -> Vec<(&'static str, &'static str)> {
    vec![
        ("map.account.receivables", "000-1200-00"),
        ("map.account.sales", "000-4100-00"),
        ("map.account.tax", "000-2310-00"),
        ("map.account.discount", "000-4300-00"),
        ("map.account.returns", "000-4900-00"),
        ("map.account.round_off", "000-7000-00"),
        ("map.account.cash", "000-1100-00"),
        ("map.checkbook.USD", "UPTOWN TRUST"),
        ("map.checkbook.EUR", "EURO BANK"),
        ("map.checkbook.JPY", "TOKYO BANK"),
        ("map.currency.USD", "Z-US$"),
        ("map.currency.EUR", "Z-EURO"),
        ("map.currency.JPY", "Z-YEN"),
        ("map.currency.CAD", "Z-C$"),
        ("map.tax.VAT", "EU VAT 20"),
        ("map.tax.GST", "AU GST 10"),
        ("map.tax.JCT", "JP JCT 10"),
        ("map.tax.GST/HST", "CA GSTHST"),
        ("map.tax.CA State Tax", "CA STATE"),
        ("map.tax.CA County Tax", "CA COUNTY"),
        ("map.tax.CA City Tax", "CA CITY"),
        ("map.tax.Sales tax", "US SALES"),
        ("map.card.visa", "VISA"),
        ("map.card.mastercard", "MasterCard"),
        ("map.card.american_express", "AMEX"),
        ("map.card.discover", "Discover"),
    ]
}

impl Stack {
    /// Start both emulators (one site per tenant) and the host, all in this process.
    pub async fn start(dir: &Path, spec: StackSpec) -> anyhow::Result<Stack> {
        ml_connector::install_crypto();
        std::fs::create_dir_all(dir)?;
        let dir = std::fs::canonicalize(dir)?;
        let sites = spec
            .tenants
            .iter()
            .map(|t| SiteConfig::new(&t.site, t.region, Plan::Starter).limit(spec.cb_limit))
            .collect();
        let tls = spec.tls.then(|| chargebee_sandbox::TlsOptions {
            ca_file: Some(dir.join("chargebee-ca.pem")),
            ..Default::default()
        });
        let cb = ChargebeeSandbox::start(ChargebeeConfig { sites, window: spec.cb_window, tls, ..Default::default() })
            .await?;
        let mut gp_config = spec.gp.clone();
        if spec.tls {
            gp_config.tls = Some(gp_sandbox::GpTls { ca_file: Some(dir.join("gp-ca.pem")), ..Default::default() });
        }
        let gp = gp_sandbox::GpSandbox::start(gp_config).await?;
        let mut config = config(&dir, &spec, &cb, &gp)?;
        if spec.via_agent {
            crate::agent::route_through_agents(&dir, &mut config)?;
        }
        let config_path = dir.join("ml-connector.toml");
        std::fs::write(&config_path, config.to_toml()?)?;
        let app = App::build(config.clone()).await?;
        let stop = CancellationToken::new();
        let options = ServeOptions {
            listen: Some("127.0.0.1:0".into()),
            admin: Some("127.0.0.1:0".into()),
            schedule: true,
            agents: spec.via_agent.then(|| "127.0.0.1:0".into()),
        };
        let intake = ml_connector::serve::start(app.clone(), options, stop.clone()).await?;
        let base = intake.base_url().context("the stack's host listens")?;
        let agents_url = intake.agents_url();
        let mut stack = Stack {
            cb,
            gp,
            app,
            base,
            stop,
            config,
            config_path,
            spec,
            intake,
            restarted: None,
            agents_url,
            agents: BTreeMap::new(),
        };
        if stack.spec.via_agent {
            for id in stack.spec.tenants.iter().map(|t| t.id.clone()).collect::<Vec<_>>() {
                let token = stack.agent_token(&id, &format!("{id}-agent-1")).await?;
                let cfg = stack.agent_config(&id, vec![stack.agents_url()?], &token)?;
                let handle = stack.spawn_agent(cfg)?;
                stack.agents.insert(id.clone(), handle);
                Stack::agent_online(&stack.app, &id, Duration::from_secs(10)).await?;
            }
        }
        Ok(stack)
    }

    /// Kill the host's workers mid-flight (their jobs stay leased to a dead owner, nothing is
    /// acked), then start a new host process's worth of state on the same store and config —
    /// what a crash and a restart do. Intake keeps running: it only enqueues.
    pub async fn crash_and_restart(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.spec.via_agent,
            "crash_and_restart keeps the old host's agent endpoint: use start_replica"
        );
        match &mut self.restarted {
            Some(r) => r.abort_workers(),
            None => self.intake.abort_workers(),
        }
        self.app = App::build(self.config.clone()).await?;
        let options = ServeOptions { listen: None, admin: None, schedule: true, agents: None };
        self.restarted = Some(ml_connector::serve::start(self.app.clone(), options, self.stop.clone()).await?);
        Ok(())
    }

    /// The admin plane of the first host (`http://127.0.0.1:N`).
    pub fn admin_url(&self) -> Option<String> {
        self.intake.admin_url()
    }

    pub fn site(&self, tenant: &str) -> anyhow::Result<SiteInfo> {
        let t = self.spec.tenants.iter().find(|t| t.id == tenant).with_context(|| format!("no tenant {tenant}"))?;
        self.cb.site(&t.site).with_context(|| format!("no site {}", t.site))
    }

    pub fn webhook_url(&self, tenant: &str) -> String {
        format!("{}/webhooks/{tenant}", self.base)
    }

    /// The emulator's webhook sender aimed at this host's intake for `tenant`.
    pub fn webhooks(
        &self,
        tenant: &str,
        config: chargebee_sandbox::WebhookConfig,
    ) -> anyhow::Result<chargebee_sandbox::WebhookSender> {
        let t = self.spec.tenants.iter().find(|t| t.id == tenant).with_context(|| format!("no tenant {tenant}"))?;
        Ok(self.cb.control().webhooks(&t.site, config)?)
    }

    /// Enqueue a backfill walk of everything the site has and return its job key.
    pub async fn backfill(&self, tenant: &str) -> anyhow::Result<String> {
        let mode = ml_connector::jobs::PollMode::Backfill;
        Ok(ml_connector::poll::enqueue_walk(&self.app, tenant, mode, None, None).await?.into_string())
    }

    /// Wait until `tenant` has nothing available, running or waiting (parked does not count).
    pub async fn drain(&self, tenant: &str, timeout: Duration) -> anyhow::Result<mlc_store::QueueStats> {
        let end = Instant::now() + timeout;
        loop {
            let s = self.app.store.stats(Some(tenant)).await?;
            if s.available + s.running + s.waiting == 0 {
                return Ok(s);
            }
            if s.available + s.running == 0 && self.only_posting_waits(tenant).await? {
                match self.spec.clerk {
                    // Done when every batch waited for is still unposted (posted ones release
                    // their waiters at the schedule's next re-check).
                    Clerk::Manual if self.waited_batches_unposted(tenant).await? => return Ok(s),
                    Clerk::Manual => {}
                    Clerk::PostWhenIdle => {
                        self.post_batches().await?;
                    }
                }
            }
            if Instant::now() > end {
                anyhow::bail!("{tenant} did not drain within {timeout:?}: {s:?}\n{}", self.unfinished(tenant).await?);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waiting jobs of `tenant`.
    async fn waiting(&self, tenant: &str) -> anyhow::Result<Vec<mlc_store::Job>> {
        let filter = mlc_store::JobFilter {
            connection: Some(tenant.into()),
            states: vec![mlc_store::JobState::Waiting],
            ..Default::default()
        };
        self.app.store.jobs(&filter).await
    }

    /// Whether every waiting job of `tenant` waits for GP to post a batch.
    pub async fn only_posting_waits(&self, tenant: &str) -> anyhow::Result<bool> {
        let waiting = self.waiting(tenant).await?;
        Ok(!waiting.is_empty()
            && waiting.iter().all(|j| j.wait_key.as_deref().is_some_and(|k| k.starts_with("posting:"))))
    }

    /// Whether every batch a waiting job of `tenant` waits for is still unposted in GP.
    async fn waited_batches_unposted(&self, tenant: &str) -> anyhow::Result<bool> {
        let unposted: Vec<String> = self
            .gp
            .control()
            .batches(FABRIKAM)
            .await?
            .into_iter()
            .map(|b| format!("posting:{}:{}", b.source, b.id))
            .collect();
        let waiting = self.waiting(tenant).await?;
        Ok(waiting.iter().all(|j| j.wait_key.as_ref().is_some_and(|k| unposted.contains(k))))
    }

    /// The clerk's Series Post: every unposted batch of the emulator's Fabrikam company, as GP
    /// posts it (a batch GP refuses stays unposted and is named in the error). Returns how
    /// many batches were posted.
    pub async fn post_batches(&self) -> anyhow::Result<usize> {
        let mut posted = 0;
        for b in self.gp.control().batches(FABRIKAM).await? {
            match self.gp.control().post_batch(FABRIKAM, &b.id, &b.source).await? {
                gp_sandbox::PostOutcome::Posted { .. } => posted += 1,
                refused => anyhow::bail!("GP refused to post batch {} ({}): {refused:?}", b.id, b.source),
            }
        }
        Ok(posted)
    }

    /// Jobs of `tenant` that ended parked or dead (what a clean run has none of).
    pub async fn stuck(&self, tenant: &str) -> anyhow::Result<Vec<mlc_store::Job>> {
        let filter = mlc_store::JobFilter {
            connection: Some(tenant.into()),
            states: vec![mlc_store::JobState::Parked, mlc_store::JobState::Dead],
            ..Default::default()
        };
        self.app.store.jobs(&filter).await
    }

    /// One line per job still to run, with the state of the record it waits for.
    async fn unfinished(&self, tenant: &str) -> anyhow::Result<String> {
        use mlc_store::JobState::*;
        let filter = mlc_store::JobFilter {
            connection: Some(tenant.into()),
            states: vec![Available, Running, Waiting],
            limit: Some(20),
            ..Default::default()
        };
        let mut out = Vec::new();
        for j in self.app.store.jobs(&filter).await? {
            let dep = match &j.wait_key {
                Some(k) => self
                    .app
                    .store
                    .record(tenant, k)
                    .await?
                    .map_or("no record".into(), |r| format!("record {}", r.state)),
                None => String::new(),
            };
            out.push(format!(
                "job {} {} [{:?}] record {:?} attempt {} wait {:?} ({dep}) last error {:?}",
                j.id, j.key, j.state, j.record_key, j.attempt, j.wait_key, j.last_error
            ));
        }
        Ok(out.join("\n"))
    }

    pub async fn shutdown(self) {
        self.stop.cancel();
        self.cb.shutdown().await;
        self.gp.shutdown().await;
    }
}

/// The host's config for this stack, as a value (what `config_text` in a file would say).
fn config(dir: &Path, spec: &StackSpec, cb: &ChargebeeSandbox, gp: &gp_sandbox::Sandbox) -> anyhow::Result<Config> {
    let database = spec.database.clone().unwrap_or_else(|| format!("sqlite://{}", dir.join("store.db").display()));
    let gp_origin = ml_connector::caps::http::Origin::parse(&gp.soap_url())?.to_string();
    let host = HostConfig {
        database,
        cache_dir: dir.join("cache"),
        master_key: dir.join("master.key"),
        workers: spec.workers,
        lease_ms: i64::try_from(spec.lease_ms)?,
        poll_ms: 50,
        backoff_base_ms: 200,
        backoff_cap_ms: 5000,
        period_recheck_s: spec.recheck_s,
        ..HostConfig::default()
    };
    let mut config = Config { host, ..Config::default() };
    // The emulator serves every site of a region on one origin and tells them apart by key.
    for r in [Region::Us, Region::Eu, Region::Au] {
        let origin = if spec.tls { cb.https_origin(r).context("HTTPS origin")? } else { cb.origin(r) };
        config.chargebee.regions.insert(r.as_str().to_string(), origin);
    }
    if spec.tls {
        // Both emulators' CAs in one file, as an operator trusts a private CA.
        let mut pem = std::fs::read_to_string(cb.ca_file().context("Chargebee CA")?)?;
        pem.push_str(gp.ca_pem().context("GP CA")?);
        std::fs::write(dir.join("ca.pem"), pem)?;
        config.host.extra_ca = Some(dir.join("ca.pem"));
    }
    let mut names: Vec<&str> = vec!["chargebee-source", "gp-target"];
    names.extend(spec.tenants.iter().map(|t| t.mapper.as_str()));
    names.sort();
    names.dedup();
    for name in names {
        let (path, sha256) = component(name)?;
        config.components.insert(name.to_string(), ComponentConfig::new(path, sha256));
    }
    let secret = |scheme, origin: Option<&str>, value: String| SecretConfig {
        scheme,
        origin: origin.map(str::to_string),
        source: SecretSource::Value(value),
    };
    let webhook = format!("{WEBHOOK_USER}:{WEBHOOK_PASSWORD}");
    config.secrets.insert("webhook".into(), secret(SecretScheme::Basic, Some("http://127.0.0.1:1"), webhook));
    let gp_account = gp.credentials().user_spec();
    config.secrets.insert("gp".into(), secret(SecretScheme::Ntlm, Some(&gp_origin), gp_account));
    if let Some(sql) = gp.sql_addr() {
        // The eConnect login, bound to the emulator's SQL Server (used only by econnect grants).
        let login = gp.sql_login();
        let origin = format!("tds://{sql}");
        config.secrets.insert(
            "gp-sql".into(),
            secret(SecretScheme::Sql, Some(&origin), format!("{}:{}", login.user, login.password)),
        );
    }
    for t in &spec.tenants {
        let site = cb.site(&t.site).with_context(|| format!("site {}", t.site))?;
        config.secrets.insert(format!("cb-{}", t.id), secret(SecretScheme::BasicApiKey, None, site.api_key.clone()));
        config.connections.push(connection(t, spec, gp, &gp_origin));
    }
    Ok(config)
}

fn connection(t: &TenantSpec, spec: &StackSpec, gp: &gp_sandbox::Sandbox, gp_origin: &str) -> ConnectionConfig {
    let mut settings: BTreeMap<String, String> = [
        ("gp.endpoint".to_string(), t.endpoint.to_string()),
        ("gp.soap_url".into(), gp.soap_url()),
        ("gp.sba_url".into(), gp.sba_company_url("Fabrikam, Inc.")),
        ("gp.company".into(), "Fabrikam, Inc.".into()),
    ]
    .into_iter()
    .collect();
    settings.extend(fabrikam_mapping().into_iter().map(|(k, v)| (k.to_string(), v.to_string())));
    settings.extend(t.settings.iter().cloned());
    let chargebee = ChargebeeBinding {
        site: t.site.clone(),
        region: t.region.as_str().to_string(),
        api_key: format!("cb-{}", t.id),
        plan: Default::default(),
        requests_per_window: Some(spec.cb_limit),
        window_ms: u64::try_from(spec.cb_window.as_millis()).unwrap_or(u64::MAX),
    };
    let source = RoleConfig { allow_private_network: true, ..RoleConfig::new("chargebee-source") };
    let target = RoleConfig {
        allow_http: vec![gp_origin.to_string()],
        allow_private_network: true,
        // The emulator speaks NTLM over plain http unless the stack runs over TLS.
        allow_insecure_ntlm: !spec.tls,
        paced: true,
        secrets: [("gp".to_string(), "gp".to_string())].into_iter().collect(),
        // eConnect straight into the company database (TWO = Fabrikam): the documents when the
        // tenant's endpoint is econnect, and for every endpoint the settle step (applies and
        // voids: GP Web Services and SBA have no apply operation).
        econnect: gp.sql_addr().is_some().then(|| EconnectGrant {
            server: gp.sql_addr().map(|a| a.to_string()).unwrap_or_default(),
            database: "TWO".into(),
            secret: "gp-sql".into(),
            max_connections: None,
            timeout_ms: 30_000,
        }),
        ..RoleConfig::new("gp-target")
    };
    ConnectionConfig {
        max_in_flight: t.max_in_flight,
        webhook_secret: Some("webhook".into()),
        dry_run: t.dry_run,
        events_poll_s: t.events_poll_s,
        chargebee: Some(chargebee),
        settings,
        ..ConnectionConfig::new(&t.id, source, RoleConfig::new(&t.mapper), target)
    }
}
