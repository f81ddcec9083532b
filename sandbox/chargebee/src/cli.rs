//! `ml-connector sandbox chargebee`: run the emulator by hand (demo, manual testing).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::{ChargebeeConfig, ChargebeeSandbox, LimitAlgorithm, Plan, Region, SeedSpec, SiteConfig, TlsOptions};

/// Options of `ml-connector sandbox chargebee`.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Port of the US origin; EU and AU listen on the next two (0 picks free ports).
    #[arg(long, default_value_t = 48630)]
    pub port: u16,
    /// Address to listen on. Loopback by default: the printed keys are all it takes.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Seed of the generated data and record ids.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Customers generated per site.
    #[arg(long, default_value_t = 20)]
    pub customers: usize,
    #[arg(long, default_value_t = 5)]
    pub invoices_per_customer: usize,
    /// Share of generated invoices that are voided (0–1; `invoice_updated`, status voided).
    #[arg(long, default_value_t = 0.0)]
    pub void_rate: f64,
    /// Share of generated invoices with a failed payment attempt (0–1; `payment_failed`).
    #[arg(long, default_value_t = 0.0)]
    pub failed_payment_rate: f64,
    /// Share of generated payments later voided or failing late (0–1; `transaction_updated` /
    /// `payment_failed`, the invoices due again).
    #[arg(long, default_value_t = 0.0)]
    pub voided_payment_rate: f64,
    /// Days of history, ending now.
    #[arg(long, default_value_t = 180)]
    pub days: u32,
    /// Currencies customers are billed in (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "USD,EUR,GBP,AUD,JPY")]
    pub currencies: Vec<String>,
    /// Plan of every site (sets its per-minute limit: 150 / 1000 / 3500).
    #[arg(long, value_enum, default_value_t = Plan::Starter)]
    pub plan: Plan,
    /// Requests allowed per window, overriding the plan.
    #[arg(long)]
    pub limit: Option<u32>,
    /// Length of the rate-limit window in milliseconds (Chargebee: 60000).
    #[arg(long, default_value_t = 60_000)]
    pub window_ms: u64,
    /// Answer 429 without a Retry-After header.
    #[arg(long)]
    pub no_retry_after: bool,
    /// Count the limit per fixed window instead of a sliding one.
    #[arg(long)]
    pub fixed_window: bool,
    /// Ignore unknown list parameters instead of answering 400.
    #[arg(long)]
    pub lenient_params: bool,
    /// Site names as name:region (us, eu, au); default one site per region.
    #[arg(long, value_delimiter = ',')]
    pub sites: Vec<String>,
    /// Fixed API key prefix instead of random keys (the key is `<prefix>_<site>`), handy for
    /// scripted demos.
    #[arg(long)]
    pub key_prefix: Option<String>,
    /// Serve HTTPS too (a generated CA and certificate; plain HTTP stays on --port).
    #[arg(long)]
    pub tls: bool,
    /// Extra certificate names besides localhost, 127.0.0.1 and {site}.chargebee.com of every
    /// site (repeatable).
    #[arg(long = "tls-name", requires = "tls")]
    pub tls_names: Vec<String>,
    /// Port of the US HTTPS origin; EU and AU listen on the next two (0 picks free ports;
    /// 443 lets clients that hardcode https://{site}.chargebee.com in with only a hosts entry).
    /// Default: --port + 3.
    #[arg(long, requires = "tls")]
    pub tls_port: Option<u16>,
    /// Where to write the CA certificate (PEM); default: a fresh file under the temp dir.
    #[arg(long, requires = "tls")]
    pub ca_file: Option<std::path::PathBuf>,
}

impl SandboxArgs {
    pub fn config(&self) -> anyhow::Result<ChargebeeConfig> {
        let mut sites = Vec::new();
        let named: Vec<(String, Region)> = if self.sites.is_empty() {
            ChargebeeConfig::default().sites.into_iter().map(|s| (s.name, s.region)).collect()
        } else {
            self.sites
                .iter()
                .map(|spec| {
                    let (name, region) = spec
                        .split_once(':')
                        .ok_or_else(|| anyhow::anyhow!("--sites {spec:?}: expected name:region"))?;
                    let region = region.parse::<Region>().map_err(anyhow::Error::msg)?;
                    Ok((name.to_string(), region))
                })
                .collect::<anyhow::Result<_>>()?
        };
        for (name, region) in named {
            let mut site = SiteConfig::new(&name, region, self.plan);
            site.limit = self.limit;
            if let Some(prefix) = &self.key_prefix {
                site.api_key = format!("{prefix}_{name}");
            }
            sites.push(site);
        }
        Ok(ChargebeeConfig {
            bind: self.bind,
            base_port: self.port,
            sites,
            window: Duration::from_millis(self.window_ms.max(1)),
            algorithm: if self.fixed_window { LimitAlgorithm::FixedWindow } else { LimitAlgorithm::SlidingLog },
            retry_after: !self.no_retry_after,
            strict_params: !self.lenient_params,
            seed: self.seed,
            tls: self.tls.then(|| TlsOptions {
                names: self.tls_names.clone(),
                ca_file: self.ca_file.clone(),
                base_port: self.tls_port.unwrap_or(if self.port == 0 { 0 } else { self.port.saturating_add(3) }),
            }),
            ..ChargebeeConfig::default()
        })
    }

    pub fn seed_spec(&self) -> SeedSpec {
        SeedSpec {
            customers: self.customers,
            invoices_per_customer: self.invoices_per_customer,
            currencies: self.currencies.clone(),
            seed: self.seed,
            days: self.days,
            void_rate: self.void_rate,
            failed_payment_rate: self.failed_payment_rate,
            voided_payment_rate: self.voided_payment_rate,
            ..SeedSpec::default()
        }
    }
}

/// Starts the sandbox, seeds every site, prints where and how to reach it, and serves until
/// Ctrl-C.
pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let sandbox = ChargebeeSandbox::start(args.config()?).await?;
    let control = sandbox.control();
    println!("Chargebee sandbox (API v2)");
    for region in Region::ALL {
        println!("  {region} origin: {}/api/v2", sandbox.origin(region));
    }
    for site in sandbox.sites() {
        let summary = control.seed(&site.name, &args.seed_spec())?;
        println!(
            "  site {:<18} region {}  key {}  ({:?}: {} per {} ms)",
            site.name,
            site.region,
            site.api_key,
            site.plan,
            site.limit,
            site.window.as_millis()
        );
        println!(
            "    seeded {} customers, {} invoices, {} payments, {} credit notes, {} refunds, {} events",
            summary.customers,
            summary.invoices,
            summary.payments,
            summary.credit_notes,
            summary.refunds,
            summary.events
        );
    }
    let port = sandbox.addr(Region::Us).port();
    println!(
        "Node SDK: new Chargebee({{site:'localhost', hostSuffix:'', protocol:'http', port:{port}, apiKey:'<key>'}}) (use the site's region port)"
    );
    println!("curl: curl -u <key>: '{}/api/v2/invoices?limit=5'", sandbox.origin(Region::Us));
    print_https(&sandbox);
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}

/// Where HTTPS answers and how a client trusts it, when it is on.
fn print_https(sandbox: &ChargebeeSandbox) {
    let Some(ca) = sandbox.ca_file() else {
        return;
    };
    println!("HTTPS (plain HTTP above stays on):");
    for region in Region::ALL {
        if let Some(origin) = sandbox.https_origin(region) {
            println!("  {region} HTTPS origin: {origin}/api/v2");
        }
    }
    println!("  CA certificate: {}", ca.display());
    for site in sandbox.sites() {
        if let Some(url) = sandbox.site_url(&site.name) {
            println!("  site {:<18} {url}", site.name);
        }
    }
    if let Some(addr) = sandbox.https_addr(Region::Us) {
        let host = sandbox.sites().first().map(|s| format!("{}.chargebee.com", s.name)).unwrap_or_default();
        let port = addr.port();
        println!(
            "  curl --cacert {} --resolve {host}:{port}:{} -u <key>: 'https://{host}:{port}/api/v2/invoices?limit=5'",
            ca.display(),
            addr.ip()
        );
        println!("  Node: NODE_EXTRA_CA_CERTS={} with new Chargebee({{site, apiKey, port:{port}}})", ca.display());
        println!("  hosts entry for clients that hardcode Chargebee's host: {} {host}", addr.ip());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SandboxArgs,
    }

    #[test]
    fn flags_become_a_config() {
        let cli = Cli::parse_from([
            "x",
            "--port",
            "0",
            "--sites",
            "alpha:eu,beta:au",
            "--limit",
            "7",
            "--window-ms",
            "1000",
            "--no-retry-after",
            "--key-prefix",
            "demo",
        ]);
        let config = cli.args.config().unwrap();
        assert_eq!(config.sites.len(), 2);
        assert_eq!(config.sites[0].region, Region::Eu);
        assert_eq!(config.sites[1].api_key, "demo_beta");
        assert_eq!(config.sites[0].limit, Some(7));
        assert_eq!(config.window, Duration::from_secs(1));
        assert!(!config.retry_after);
        assert!(Cli::try_parse_from(["x", "--sites", "nowhere"]).unwrap().args.config().is_err());
        assert!(config.tls.is_none());
    }

    #[test]
    fn tls_flags() {
        let cli = Cli::parse_from(["x", "--tls", "--tls-name", "acme.chargebee.com", "--tls-name", "cb.local"]);
        let tls = cli.args.config().unwrap().tls.unwrap();
        assert_eq!(tls.names, ["acme.chargebee.com", "cb.local"]);
        assert_eq!(tls.base_port, 48633);
        let cli = Cli::parse_from(["x", "--port", "0", "--tls"]);
        assert_eq!(cli.args.config().unwrap().tls.unwrap().base_port, 0);
        assert!(Cli::try_parse_from(["x", "--tls-name", "a"]).is_err(), "--tls-name needs --tls");
    }
}
