//! A Chargebee API v2 emulator for the connector's tests, benchmarks and demo.
//!
//! One HTTP listener per data-center region (US, EU, AU), each its own origin; sites live in
//! exactly one region and authenticate with their API key (HTTP Basic, empty password). The
//! read API (`/api/v2/customers|invoices|transactions|credit_notes|events`, list and
//! retrieve) answers in Chargebee's JSON with its paging, filters and error shapes; per-site
//! rate limits, injected faults, seeded billing data, mutations that emit events, and a
//! webhook sender with Chargebee's retry schedule are driven through [`Control`]. With
//! [`ChargebeeConfig::tls`] each region also gets an HTTPS listener (generated CA, see
//! [`https`]) and a site answers on its own host name, `{site}.chargebee.com`. See
//! `README.md` for what is inferred where Chargebee's behaviour is not public.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use chargebee_sandbox::{ChargebeeConfig, ChargebeeSandbox, Region, SeedSpec};
//! let sandbox = ChargebeeSandbox::start(ChargebeeConfig::default()).await?;
//! let site = sandbox.sites()[0].clone();
//! sandbox.control().seed(&site.name, &SeedSpec::default())?;
//! println!("{} key {} at {}", site.name, site.api_key, sandbox.origin(site.region));
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

pub mod cli;
pub mod control;
pub mod error;
pub mod https;
pub mod limits;
pub mod model;
pub mod query;
pub mod seed;
pub mod server;
pub mod store;
pub mod webhook;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use cli::{SandboxArgs, run};
pub use control::Control;
pub use error::ApiError;
pub use https::TlsOptions;
pub use limits::{FaultAction, FaultRule, LimitAlgorithm, SiteCounters};
pub use model::*;
pub use seed::SeedSpec;
pub use store::{
    CreditNoteInput, CreditNoteKind, CustomerInput, CustomerUpdate, InvoiceInput, LineInput, PaymentInput,
    PaymentReversal, RefundInput, SandboxError,
};
pub use webhook::{DeliveryOutcome, EventDelivery, WebhookConfig, WebhookReport, WebhookSender};

/// A Chargebee data center. Each gets its own listener (origin) in the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Region {
    Us,
    Eu,
    Au,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Us, Region::Eu, Region::Au];

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Us => "us",
            Region::Eu => "eu",
            Region::Au => "au",
        }
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Region {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "us" => Ok(Region::Us),
            "eu" => Ok(Region::Eu),
            "au" => Ok(Region::Au),
            other => Err(format!("unknown region {other:?} (us, eu, au)")),
        }
    }
}

/// Chargebee plans and their documented per-minute API limits (test sites: 150).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Plan {
    Starter,
    Performance,
    Enterprise,
}

impl Plan {
    pub fn requests_per_minute(self) -> u32 {
        match self {
            Plan::Starter => 150,
            Plan::Performance => 1000,
            Plan::Enterprise => 3500,
        }
    }
}

/// One Chargebee site (tenant) in the sandbox.
#[derive(Debug, Clone)]
pub struct SiteConfig {
    pub name: String,
    pub region: Region,
    pub api_key: String,
    pub plan: Plan,
    /// Overrides the plan's limit per window (tests use a small one).
    pub limit: Option<u32>,
}

impl SiteConfig {
    /// A site with a fresh random test key.
    pub fn new(name: &str, region: Region, plan: Plan) -> Self {
        SiteConfig {
            name: name.into(),
            region,
            api_key: format!("test_{}", uuid::Uuid::new_v4().simple()),
            plan,
            limit: None,
        }
    }

    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    pub fn key(mut self, api_key: &str) -> Self {
        self.api_key = api_key.into();
        self
    }
}

/// What a test or the CLI needs to reach a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInfo {
    pub name: String,
    pub region: Region,
    pub api_key: String,
    pub plan: Plan,
    /// Requests allowed per rate window.
    pub limit: u32,
    pub window: Duration,
}

/// How to start a sandbox. `Default`: loopback, free ports, one Starter site per region,
/// a 60 s rate window with Retry-After, strict parameter checking.
#[derive(Debug, Clone)]
pub struct ChargebeeConfig {
    pub bind: IpAddr,
    /// Port of the US origin; EU and AU take the next two. 0 → three free ports.
    pub base_port: u16,
    pub sites: Vec<SiteConfig>,
    /// Length of the rate-limit window (Chargebee: one minute; tests compress it).
    pub window: Duration,
    pub algorithm: LimitAlgorithm,
    /// Refused requests count toward the window too (INFERRED from "a test site blocks all
    /// requests until traffic falls back under the limit"); off by default.
    pub count_refused: bool,
    /// Send `Retry-After` (integer seconds) with 429s.
    pub retry_after: bool,
    /// Refuse parameters Chargebee does not know (lists and retrieves) with 400 instead of
    /// ignoring them; see the README table "Parameters: accepted / refused and why".
    pub strict_params: bool,
    /// Seeds record ids; same seed + same mutations → same ids.
    pub seed: u64,
    /// HTTPS listeners beside the plain ones (one per region); `None` (default) → HTTP only.
    pub tls: Option<TlsOptions>,
}

impl Default for ChargebeeConfig {
    fn default() -> Self {
        ChargebeeConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            base_port: 0,
            sites: vec![
                SiteConfig::new("acme-test", Region::Us, Plan::Starter),
                SiteConfig::new("globex-eu-test", Region::Eu, Plan::Starter),
                SiteConfig::new("initech-au-test", Region::Au, Plan::Starter),
            ],
            window: Duration::from_secs(60),
            algorithm: LimitAlgorithm::SlidingLog,
            count_refused: false,
            retry_after: true,
            strict_params: true,
            seed: 0,
            tls: None,
        }
    }
}

/// Binds region `i`'s listener: `base_port + i`, or a free port when `base_port` is 0.
async fn bind(ip: IpAddr, base_port: u16, i: usize, region: Region, what: &str) -> anyhow::Result<TcpListener> {
    let port = if base_port == 0 { 0 } else { base_port + i as u16 };
    let addr = SocketAddr::new(ip, port);
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the Chargebee sandbox {region} {what}origin to {addr}"))
}

/// A running sandbox. Dropping it stops the listeners; [`ChargebeeSandbox::shutdown`] also
/// waits for them.
pub struct ChargebeeSandbox {
    origins: Vec<(Region, SocketAddr)>,
    https_origins: Vec<(Region, SocketAddr)>,
    ca_file: Option<PathBuf>,
    /// The CA file is the sandbox's own temp file (no `ca_file` configured): removed on drop.
    ca_owned: bool,
    control: Control,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl ChargebeeSandbox {
    /// Validates the config and starts one listener per region.
    pub async fn start(config: ChargebeeConfig) -> anyhow::Result<ChargebeeSandbox> {
        let mut names = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        for s in &config.sites {
            anyhow::ensure!(names.insert(s.name.clone()), "site {:?} is configured twice", s.name);
            anyhow::ensure!(
                !s.api_key.is_empty() && keys.insert(s.api_key.clone()),
                "site {:?}: its API key is empty or shared with another site",
                s.name
            );
            anyhow::ensure!(s.limit != Some(0), "site {:?}: a limit of 0 would refuse everything", s.name);
        }
        anyhow::ensure!(!config.window.is_zero(), "the rate window must be longer than zero");
        let (stop, shutdown) = watch::channel(false);
        let shared = Arc::new(server::Shared::new(&config, shutdown));
        let mut origins = Vec::new();
        let mut https_origins = Vec::new();
        let mut tasks = Vec::new();
        for (i, region) in Region::ALL.into_iter().enumerate() {
            let listener = bind(config.bind, config.base_port, i, region, "").await?;
            origins.push((region, listener.local_addr()?));
            tasks.push(tokio::spawn(server::serve(listener, region, shared.clone(), None)));
        }
        let mut ca_file = None;
        if let Some(options) = &config.tls {
            let (tls, path) = https::prepare(options, &config.sites)?;
            for (i, region) in Region::ALL.into_iter().enumerate() {
                let listener = bind(config.bind, options.base_port, i, region, "HTTPS ").await?;
                https_origins.push((region, listener.local_addr()?));
                tasks.push(tokio::spawn(server::serve(listener, region, shared.clone(), Some(tls.clone()))));
            }
            ca_file = Some(path);
        }
        let ca_owned = config.tls.as_ref().is_some_and(|t| t.ca_file.is_none());
        Ok(ChargebeeSandbox { origins, https_origins, ca_file, ca_owned, control: Control { shared }, stop, tasks })
    }

    /// `https://localhost:PORT` of a region, if HTTPS is on.
    pub fn https_origin(&self, region: Region) -> Option<String> {
        self.https_addr(region).map(|a| format!("https://localhost:{}", a.port()))
    }

    pub fn https_addr(&self, region: Region) -> Option<SocketAddr> {
        self.https_origins.iter().find(|(r, _)| *r == region).map(|(_, a)| *a)
    }

    /// `https://{site}.chargebee.com:PORT/api/v2`: the site's own host name on its region's
    /// HTTPS port (resolve the name to the sandbox: a hosts entry, curl `--resolve`, …).
    pub fn site_url(&self, site: &str) -> Option<String> {
        let info = self.site(site)?;
        let port = self.https_addr(info.region)?.port();
        Some(format!("https://{site}{}:{port}/api/v2", https::HOST_SUFFIX))
    }

    /// The CA certificate (PEM) file HTTPS clients must trust, if HTTPS is on.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// `http://127.0.0.1:PORT` of a region.
    pub fn origin(&self, region: Region) -> String {
        format!("http://{}", self.addr(region))
    }

    pub fn addr(&self, region: Region) -> SocketAddr {
        self.origins
            .iter()
            .find(|(r, _)| *r == region)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// `http://127.0.0.1:PORT/api/v2` of the region a site lives in.
    pub fn api_base(&self, site: &str) -> Option<String> {
        self.sites().into_iter().find(|s| s.name == site).map(|s| format!("{}/api/v2", self.origin(s.region)))
    }

    pub fn sites(&self) -> Vec<SiteInfo> {
        self.control.sites()
    }

    pub fn site(&self, name: &str) -> Option<SiteInfo> {
        self.sites().into_iter().find(|s| s.name == name)
    }

    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// Stops accepting, drops open connections, and waits for the listeners to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for ChargebeeSandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let (true, Some(path)) = (self.ca_owned, &self.ca_file) {
            // Our own temp file and its directory; a configured ca_file is the caller's to keep.
            let _ = std::fs::remove_file(path);
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}
