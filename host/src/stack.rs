//! The whole product in one process: the Chargebee and GP emulators, and a host running the
//! real components (chargebee-source, gp-mapper, gp-target) against them, with webhook intake,
//! workers and the schedule. Used by `demo`, the end-to-end tests and the benchmarks, so all
//! three exercise exactly what an operator configures.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chargebee_sandbox::{ChargebeeConfig, ChargebeeSandbox, Plan, Region, SiteConfig, SiteInfo};
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::config::Config;

/// The webhook Basic credentials every stack connection expects.
pub const WEBHOOK_USER: &str = "chargebee";
pub const WEBHOOK_PASSWORD: &str = "hook-pass";

/// Where `cargo xtask components` puts the built components.
pub fn components_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("MLC_COMPONENTS") {
        return PathBuf::from(p);
    }
    // From the repo root (the binary) or a crate dir (tests, benches).
    let here = PathBuf::from("target/components");
    if here.is_dir() { here } else { PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/components") }
}

/// sha256 of a built component, from the manifest `cargo xtask components` writes.
pub fn component(name: &str) -> anyhow::Result<(PathBuf, String)> {
    let dir = components_dir();
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!("{} not found: build the components first (`cargo xtask components`)", path.display())
    })?;
    let m: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)?;
    let digest = m
        .get(name)
        .and_then(|v| v.as_str())
        .with_context(|| format!("component {name} is not in {}", path.display()))?;
    Ok((std::fs::canonicalize(dir.join(format!("{name}.wasm")))?, digest.to_string()))
}

/// One tenant: a Chargebee site synced into a GP company.
#[derive(Debug, Clone)]
pub struct TenantSpec {
    /// Connection id.
    pub id: String,
    /// Chargebee site name in the emulator.
    pub site: String,
    pub region: Region,
    /// `soap` or `sba`.
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
    /// Extra TOML appended to the config.
    pub extra: String,
    /// How long a crashed host's jobs stay leased (tests use a short one).
    pub lease_ms: u64,
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
            extra: String::new(),
            lease_ms: 15_000,
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
    pub config_path: PathBuf,
    pub spec: StackSpec,
    /// The workers and schedule of the current host; aborted by [`Stack::crash_and_restart`].
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Mapper settings for the emulator's Fabrikam company (id −1): its checkbooks per currency
/// and a chart of accounts.
pub fn fabrikam_mapping() -> Vec<(&'static str, &'static str)> {
    vec![
        ("map.account.receivables", "000-1200-00"),
        ("map.account.sales", "000-4100-00"),
        ("map.account.tax", "000-2300-00"),
        ("map.account.discount", "000-4500-00"),
        ("map.account.returns", "000-4200-00"),
        ("map.checkbook.USD", "UPTOWN TRUST"),
        ("map.checkbook.EUR", "EURO BANK"),
        ("map.checkbook.JPY", "TOKYO BANK"),
    ]
}

impl Stack {
    /// Start both emulators (one site per tenant) and the host, all in this process.
    pub async fn start(dir: &Path, spec: StackSpec) -> anyhow::Result<Stack> {
        crate::install_crypto();
        std::fs::create_dir_all(dir)?;
        let dir = std::fs::canonicalize(dir)?;
        let sites = spec
            .tenants
            .iter()
            .map(|t| SiteConfig::new(&t.site, t.region, Plan::Starter).limit(spec.cb_limit))
            .collect();
        let cb =
            ChargebeeSandbox::start(ChargebeeConfig { sites, window: spec.cb_window, ..ChargebeeConfig::default() })
                .await?;
        let gp = gp_sandbox::GpSandbox::start(spec.gp.clone()).await?;
        let config_text = config_text(&dir, &spec, &cb, &gp)?;
        let config_path = dir.join("ml-connector.toml");
        std::fs::write(&config_path, &config_text)?;
        let app = App::build(Config::load(&config_path)?).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let stop = CancellationToken::new();
        let router = crate::intake::router(app.clone());
        let s = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, router).with_graceful_shutdown(async move { s.cancelled().await }).await
        });
        let tasks = spawn_host(&app, &stop);
        Ok(Stack { cb, gp, app, base, stop, config_path, spec, tasks })
    }

    /// Kill the host's workers mid-flight (their jobs stay leased to a dead owner, nothing is
    /// acked), then start a new host process's worth of state on the same store and config —
    /// what a crash and a restart do. Intake keeps running: it only enqueues.
    pub async fn crash_and_restart(&mut self) -> anyhow::Result<()> {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        self.app = App::build(Config::load(&self.config_path)?).await?;
        self.tasks = spawn_host(&self.app, &self.stop);
        Ok(())
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
        let key = format!("backfill:all:{}", self.app.store.now().await?);
        crate::poll::enqueue(
            &self.app,
            tenant,
            &key,
            &crate::poll::PollJob { mode: "backfill".into(), since: None, until: None },
        )
        .await?;
        Ok(key)
    }

    /// Wait until `tenant` has nothing available, running or waiting (parked does not count).
    pub async fn drain(&self, tenant: &str, timeout: Duration) -> anyhow::Result<mlc_store::QueueStats> {
        let end = Instant::now() + timeout;
        loop {
            let s = self.app.store.stats(Some(tenant)).await?;
            if s.available + s.running + s.waiting == 0 {
                return Ok(s);
            }
            if Instant::now() > end {
                anyhow::bail!("{tenant} did not drain within {timeout:?}: {s:?}\n{}", self.unfinished(tenant).await?);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
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

fn spawn_host(app: &Arc<App>, stop: &CancellationToken) -> Vec<tokio::task::JoinHandle<()>> {
    let (a, s) = (app.clone(), stop.clone());
    let workers = tokio::spawn(async move {
        if let Err(e) = crate::worker::run(a, s).await {
            tracing::error!("workers stopped: {e:#}");
        }
    });
    vec![workers, tokio::spawn(crate::schedule::run(app.clone(), stop.clone()))]
}

fn toml_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn config_text(
    dir: &Path,
    spec: &StackSpec,
    cb: &ChargebeeSandbox,
    gp: &gp_sandbox::Sandbox,
) -> anyhow::Result<String> {
    use std::fmt::Write as _;
    let database = spec.database.clone().unwrap_or_else(|| format!("sqlite://{}", dir.join("store.db").display()));
    let gp_origin = crate::caps::http::Origin::parse(&gp.soap_url())?.to_string();
    let mut s = String::new();
    writeln!(
        s,
        "[host]\ndatabase = {}\ncache_dir = {}\nworkers = {}\nlease_ms = {}\npoll_ms = 50\nbackoff_base_ms = 200\nbackoff_cap_ms = 5000\nperiod_recheck_s = 1\n",
        toml_str(&database),
        toml_str(&dir.join("cache").display().to_string()),
        spec.workers,
        spec.lease_ms
    )?;
    // The emulator serves every site of a region on one origin and tells them apart by key.
    writeln!(s, "[chargebee.regions]")?;
    for r in [Region::Us, Region::Eu, Region::Au] {
        writeln!(s, "{} = {}", r.as_str(), toml_str(&cb.origin(r)))?;
    }
    let mut names: Vec<&str> = vec!["chargebee-source", "gp-target"];
    names.extend(spec.tenants.iter().map(|t| t.mapper.as_str()));
    names.sort();
    names.dedup();
    for name in names {
        let (path, digest) = component(name)?;
        writeln!(s, "\n[components.{name}]\npath = {}\nsha256 = \"{digest}\"", toml_str(&path.display().to_string()))?;
    }
    writeln!(
        s,
        "\n[secrets.webhook]\nscheme = \"basic\"\norigin = \"http://127.0.0.1:1\"\nvalue = \"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}\""
    )?;
    writeln!(
        s,
        "\n[secrets.gp]\nscheme = \"ntlm\"\norigin = \"{gp_origin}\"\nvalue = {}",
        toml_str(&gp.credentials().user_spec())
    )?;
    for t in &spec.tenants {
        let site = cb.site(&t.site).with_context(|| format!("site {}", t.site))?;
        writeln!(s, "\n[secrets.cb-{}]\nscheme = \"basic-api-key\"\nvalue = {}", t.id, toml_str(&site.api_key))?;
    }
    for t in &spec.tenants {
        writeln!(
            s,
            "\n[[connections]]\nid = \"{id}\"\nmax_in_flight = {mif}\nwebhook_secret = \"webhook\"\ndry_run = {dry}{events}\n[connections.chargebee]\nsite = \"{site}\"\nregion = \"{region}\"\napi_key = \"cb-{id}\"\nrequests_per_window = {limit}\nwindow_ms = {window}\n[connections.settings]",
            id = t.id,
            mif = t.max_in_flight,
            dry = t.dry_run,
            events = t.events_poll_s.map(|e| format!("\nevents_poll_s = {e}")).unwrap_or_default(),
            site = t.site,
            region = t.region.as_str(),
            limit = spec.cb_limit,
            window = spec.cb_window.as_millis(),
        )?;
        let mut settings: Vec<(String, String)> = vec![
            ("gp.endpoint".into(), t.endpoint.into()),
            ("gp.soap_url".into(), gp.soap_url()),
            ("gp.sba_url".into(), gp.sba_company_url("Fabrikam, Inc.")),
            ("gp.company_id".into(), "-1".into()),
        ];
        settings.extend(fabrikam_mapping().into_iter().map(|(k, v)| (k.to_string(), v.to_string())));
        for (k, v) in &t.settings {
            settings.retain(|(k2, _)| k2 != k);
            settings.push((k.clone(), v.clone()));
        }
        for (k, v) in settings {
            writeln!(s, "{} = {}", toml_str(&k), toml_str(&v))?;
        }
        writeln!(
            s,
            "[connections.source]\ncomponent = \"chargebee-source\"\nallow_private_network = true\n[connections.mapper]\ncomponent = \"{mapper}\"\n[connections.target]\ncomponent = \"gp-target\"\nallow_http = [\"{gp_origin}\"]\nallow_private_network = true\nsecrets = {{ gp = \"gp\" }}",
            mapper = t.mapper
        )?;
    }
    s.push_str(&spec.extra);
    Ok(s)
}
