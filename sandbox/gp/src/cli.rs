//! `ml-connector sandbox gp`: run the emulator by hand (demo, manual testing).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::faults::Overload;
use crate::{Credentials, GpConfig, GpSandbox};

/// Options of `ml-connector sandbox gp`.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// TCP port (0 picks a free one).
    #[arg(long, default_value_t = 48620)]
    pub port: u16,
    /// Address to listen on. Loopback by default: the sandbox has a known password.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Seed for random fault injection.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fixed service latency per call, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Concurrency ceiling (calls in progress at once); none by default.
    #[arg(long)]
    pub ceiling: Option<usize>,
    /// What happens beyond the ceiling.
    #[arg(long, value_enum, default_value_t = Overload::Queue)]
    pub overload: Overload,
    /// Windows domain of the accepted account.
    #[arg(long, default_value = "GPSANDBOX")]
    pub domain: String,
    #[arg(long, default_value = "mlc-gp")]
    pub user: String,
    /// Password of the accepted account (or GP_SANDBOX_PASSWORD); random if neither is given.
    #[arg(long)]
    pub password: Option<String>,
    /// A DynamicsGP.wsdl file to use (or GP_SANDBOX_WSDL); default: the copy compiled into the sandbox.
    #[arg(long)]
    pub wsdl: Option<PathBuf>,
    /// Keep the GP database in this SQLite file instead of a temporary one.
    #[arg(long)]
    pub database: Option<PathBuf>,
    /// Also accept HTTP Basic on the SOAP endpoint.
    #[arg(long)]
    pub soap_basic: bool,
    /// Refuse HTTP Basic on SBA (NTLM only).
    #[arg(long)]
    pub no_sba_basic: bool,
    /// Ignore unknown or misplaced SOAP/JSON members (as GP does) instead of refusing them.
    #[arg(long)]
    pub lenient_schema: bool,
}

impl SandboxArgs {
    pub fn config(&self) -> GpConfig {
        let generated = Credentials::generated();
        GpConfig {
            bind: SocketAddr::new(self.bind, self.port),
            credentials: Credentials {
                domain: self.domain.clone(),
                user: self.user.clone(),
                password: self
                    .password
                    .clone()
                    .or_else(|| std::env::var("GP_SANDBOX_PASSWORD").ok())
                    .unwrap_or(generated.password),
            },
            wsdl_path: self.wsdl.clone().or_else(|| std::env::var_os("GP_SANDBOX_WSDL").map(PathBuf::from)),
            database_path: self.database.clone(),
            soap_basic: self.soap_basic,
            sba_basic: !self.no_sba_basic,
            strict_schema: !self.lenient_schema,
            latency: Duration::from_millis(self.latency_ms),
            ceiling: self.ceiling,
            overload: self.overload,
            seed: self.seed,
            ..GpConfig::default()
        }
    }
}

/// Starts the sandbox, prints where and how to reach it, and serves until Ctrl-C.
pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let sandbox = GpSandbox::start(args.config()).await?;
    println!("Dynamics GP sandbox");
    println!("  SOAP (GP Web Services): {}", sandbox.soap_url());
    println!("  WSDL:                   {}", sandbox.wsdl_url());
    println!("  SBA base URL:           {}", sandbox.sba_base_url());
    println!(
        "  credentials (NTLMv2{}): {}",
        if args.no_sba_basic { "" } else { "; Basic on SBA" },
        sandbox.credentials()
    );
    for c in sandbox.control().companies().await? {
        println!("  company {:>3}: {}  (SBA: {})", c.id, c.name, sandbox.sba_company_url(&c.name));
    }
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}
