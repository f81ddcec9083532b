//! `ml-connector sandbox gp`: run the emulator by hand (demo, manual testing).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::faults::Overload;
use crate::{Credentials, GpConfig, GpSandbox, GpTls};

/// Options of `ml-connector sandbox gp`.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// TCP port (0 picks a free one).
    #[arg(long, default_value_t = 48620)]
    pub port: u16,
    /// Address to listen on. Loopback by default: the sandbox has a known password.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// TCP port of the SQL Server (TDS) endpoint for eConnect (0 picks a free one).
    #[arg(long, default_value_t = 1433)]
    pub sql_port: u16,
    /// SQL login password of the eConnect endpoint (or GP_SANDBOX_SQL_PASSWORD); random if neither is given.
    #[arg(long)]
    pub sql_password: Option<String>,
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
    /// Post each batch this many milliseconds after its last write, as a GP user running
    /// Series Post would (for demos and black-box tests; default: batches post only through
    /// the /_sandbox/ control or the test handle).
    #[arg(long, value_name = "MS")]
    pub auto_post_after_ms: Option<u64>,
    /// Install the RMApply extension: applies carried in SOAP `Extensions` (and SBA `Applies`)
    /// are honoured. A server-side add-on real GP would need; without it they are refused (9047).
    #[arg(long)]
    pub rmapply_extension: bool,
    /// Lenient: taRMApply (and the RMApply extension) may apply to an unposted document.
    /// Default: the apply-to document must be posted, as in GP's Apply Sales Documents.
    #[arg(long)]
    pub allow_apply_to_unposted: bool,
    /// Lenient: taRMVoidTransaction (and VoidCashReceipt) may void an unposted document.
    /// Default (INFERRED): posted documents only, as GP's Posted Transaction Maintenance.
    #[arg(long)]
    pub allow_void_unposted: bool,
    /// Serve HTTPS (SOAP, SBA, WSDL) instead of plain HTTP, with a CA generated at start.
    #[arg(long)]
    pub tls: bool,
    /// A name the server certificate covers (DNS name or IP address; repeatable).
    #[arg(long = "tls-name", value_name = "NAME", requires = "tls", default_values_t = sandbox_tls::default_names())]
    pub tls_names: Vec<String>,
    /// Where the CA certificate (PEM) is written [default: gp-sandbox-ca.pem in the temp dir].
    #[arg(long, value_name = "PATH", requires = "tls")]
    pub ca_file: Option<PathBuf>,
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
            tls: self.tls.then(|| GpTls { names: self.tls_names.clone(), ca_file: Some(self.ca_file()) }),
            sql_bind: Some(SocketAddr::new(self.bind, self.sql_port)),
            sql_login: match self.sql_password.clone().or_else(|| std::env::var("GP_SANDBOX_SQL_PASSWORD").ok()) {
                Some(password) => crate::econnect::SqlLogin { password, ..crate::econnect::SqlLogin::generated() },
                None => crate::econnect::SqlLogin::generated(),
            },
            auto_post_after: self.auto_post_after_ms.map(Duration::from_millis),
            rmapply_extension: self.rmapply_extension,
            rules: crate::rules::RulesConfig {
                allow_apply_to_unposted: self.allow_apply_to_unposted,
                allow_void_unposted: self.allow_void_unposted,
                ..crate::rules::RulesConfig::default()
            },
            ..GpConfig::default()
        }
    }
}

impl SandboxArgs {
    /// `--ca-file`, or a fixed name in the temp dir: the CA changes at every start, its path
    /// does not, so a client configured once keeps working after a restart.
    pub fn ca_file(&self) -> PathBuf {
        self.ca_file.clone().unwrap_or_else(|| std::env::temp_dir().join("gp-sandbox-ca.pem"))
    }
}

/// Starts the sandbox, prints where and how to reach it, and serves until Ctrl-C.
pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let sandbox = GpSandbox::start(args.config()).await?;
    println!("Dynamics GP sandbox");
    println!("  SOAP (GP Web Services): {}", sandbox.soap_url());
    println!("  WSDL:                   {}", sandbox.wsdl_url());
    println!("  SBA base URL:           {}", sandbox.sba_base_url());
    if let Some(ca) = sandbox.ca_file() {
        println!("  HTTPS certificate for:  {}", args.tls_names.join(", "));
        println!("  CA certificate (PEM):   {}", ca.display());
        println!("    trust it: curl --cacert, REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, [host] extra_ca");
    }
    println!(
        "  credentials (NTLMv2{}): {}",
        if args.no_sba_basic { "" } else { "; Basic on SBA" },
        sandbox.credentials()
    );
    for c in sandbox.control().companies().await? {
        println!("  company {:>3}: {}  (SBA: {})", c.id, c.name, sandbox.sba_company_url(&c.name));
    }
    let login = sandbox.sql_login();
    if let Some(sql) = sandbox.sql_addr() {
        println!("  SQL Server (TDS 7.4):   {sql}  (no TLS: clients set encryption off / not supported)");
    }
    println!("  SQL login (eConnect):   {} / {}", login.user, login.password);
    for (id, interid, name) in sandbox.control().company_databases().await? {
        println!("  company database {interid:<6} company {id:>3}: {name}  (system database: DYNAMICS)");
    }
    let controls = sandbox.control_url();
    println!("  controls (same account): POST {controls}/companies/{{id}}/batches/{{source}}/{{batch}}/post");
    println!("                           POST {controls}/companies/{{id}}/periods/{{year}}/{{period}}/close|open");
    if let Some(ms) = args.auto_post_after_ms {
        println!("  auto-post:              each batch {ms} ms after its last write");
    }
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::SandboxArgs;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: SandboxArgs,
    }

    fn parse(argv: &[&str]) -> Result<SandboxArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("gp").chain(argv.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn plain_http_unless_tls_is_asked_for() {
        assert!(parse(&[]).unwrap().config().tls.is_none());
        let tls = parse(&["--tls"]).unwrap().config().tls.unwrap();
        assert_eq!(tls.names, ["localhost", "127.0.0.1"]);
        assert_eq!(tls.ca_file.unwrap(), std::env::temp_dir().join("gp-sandbox-ca.pem"));
    }

    #[test]
    fn auto_post_and_rmapply_switches() {
        let c = parse(&[]).unwrap().config();
        assert_eq!((c.auto_post_after, c.rmapply_extension), (None, false));
        assert!(!c.rules.allow_apply_to_unposted && !c.rules.allow_void_unposted, "GP-strict by default");
        let argv = ["--auto-post-after-ms", "250", "--rmapply-extension", "--allow-apply-to-unposted"];
        let c = parse(&argv).unwrap().config();
        assert_eq!((c.auto_post_after, c.rmapply_extension), (Some(std::time::Duration::from_millis(250)), true));
        assert!(c.rules.allow_apply_to_unposted && !c.rules.allow_void_unposted);
        assert!(parse(&["--allow-void-unposted"]).unwrap().config().rules.allow_void_unposted);
        assert!(parse(&["--rmapply-extension", "true"]).is_err(), "a flag, not a value");
    }

    #[test]
    fn tls_names_and_ca_file() {
        let args = parse(&["--tls", "--tls-name", "gp.test", "--tls-name", "10.0.0.5", "--ca-file", "x/ca.pem"]);
        let tls = args.unwrap().config().tls.unwrap();
        assert_eq!(tls.names, ["gp.test", "10.0.0.5"]);
        assert_eq!(tls.ca_file.unwrap(), std::path::Path::new("x/ca.pem"));
        assert!(parse(&["--tls-name", "gp.test"]).is_err(), "--tls-name needs --tls");
        assert!(parse(&["--ca-file", "ca.pem"]).is_err(), "--ca-file needs --tls");
    }
}
