//! The `ml-connector` command.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ml_connector::{app::App, config::Config, secretbox, serve};

#[derive(Parser)]
#[command(
    name = "ml-connector",
    version,
    about = "Chargebee → Dynamics GP receivables, as sandboxed WebAssembly components"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the webhook server and the workers.
    Serve {
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
        /// Workers only (another replica takes the webhooks).
        #[arg(long)]
        no_intake: bool,
    },
    /// Print the sha256 to pin a component file in the config.
    Digest { path: PathBuf },
    /// Check a config: components load (and are precompiled into the cache), grants resolve.
    Check {
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
    },
    /// Store a secret encrypted (value read from stdin); configure it as `stored = true`.
    SecretSet {
        name: String,
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
    },
    /// Run an emulator on its own (for trying the connector, or other clients, against it).
    Sandbox {
        #[command(subcommand)]
        which: SandboxCommand,
    },
    /// Enqueue a backfill (customers first, then invoices, payments, credit notes) or an events
    /// walk (gap detection) for a connection; `serve` runs it, resumable after a crash.
    Backfill {
        #[arg(long, default_value = "ml-connector.toml")]
        config: std::path::PathBuf,
        #[arg(long)]
        connection: String,
        /// First day (YYYY-MM-DD, UTC) of the window.
        #[arg(long)]
        since: Option<String>,
        /// Day after the window (YYYY-MM-DD, UTC).
        #[arg(long)]
        until: Option<String>,
        /// Walk the Events API instead (enqueues only events webhooks never delivered).
        #[arg(long)]
        events: bool,
    },
    /// Run the end-to-end demo on the embedded SQLite store (see README).
    Demo {
        /// Chargebee customers to seed (each with 4 invoices, payments, credit notes).
        #[arg(long, default_value_t = 25)]
        customers: usize,
    },
    /// Compare Chargebee (read fresh, through the connection's mapper) with GP, per customer
    /// and currency; exits non-zero if anything differs.
    Reconcile {
        #[arg(long, default_value = "ml-connector.toml")]
        config: std::path::PathBuf,
        #[arg(long)]
        connection: String,
    },
    /// Re-run jobs from the start (fetch → map → write); the GP target's idempotency means
    /// nothing is posted twice. Filters combine; none = every job of the connection.
    Replay {
        #[arg(long, default_value = "ml-connector.toml")]
        config: std::path::PathBuf,
        #[arg(long)]
        connection: String,
        /// A record ("invoice/inv_1") or a prefix ("invoice/").
        #[arg(long)]
        record: Option<String>,
        /// Only jobs in these states (parked, dead, done, waiting, available).
        #[arg(long, value_delimiter = ',')]
        state: Vec<String>,
        /// Jobs created on/after this day (YYYY-MM-DD, UTC).
        #[arg(long)]
        since: Option<String>,
        /// Jobs created before this day.
        #[arg(long)]
        until: Option<String>,
    },
}

#[derive(Subcommand)]
enum SandboxCommand {
    /// Dynamics GP: Web Services SOAP (per the real WSDL), SBA JSON, NTLMv2.
    Gp(gp_sandbox::SandboxArgs),
    /// Chargebee: API v2 JSON per region, Basic auth, rate limits, seeded data, webhooks.
    Chargebee(chargebee_sandbox::SandboxArgs),
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,wasmtime=warn,cranelift=warn,sqlx=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    ml_connector::install_crypto();
    match Cli::parse().command {
        Command::Serve { config, no_intake } => {
            let app = App::build(Config::load(&config)?).await?;
            serve::serve(app, !no_intake, serve::shutdown_signal()).await
        }
        Command::Digest { path } => {
            println!("{}", ml_connector::runtime::file_digest(&path)?);
            Ok(())
        }
        Command::Check { config } => {
            let app = App::build(Config::load(&config)?).await?;
            for (name, c) in &app.components {
                println!(
                    "component {name}: sha256 {} ({})",
                    c.digest,
                    if c.compiled { "compiled now" } else { "from cache" }
                );
            }
            for id in app.connections.keys() {
                println!("connection {id}: ok");
            }
            Ok(())
        }
        Command::SecretSet { name, config } => {
            let cfg = Config::load(&config)?;
            let mut value = String::new();
            std::io::stdin().read_line(&mut value).context("reading the secret from stdin")?;
            let value = value.trim_end_matches(['\r', '\n']).to_string();
            anyhow::ensure!(!value.is_empty(), "empty secret");
            let store = mlc_store::open(&cfg.host.database).await?;
            store.secret_put(&name, &secretbox::seal(&value)?).await?;
            println!("stored secret {name} (encrypted)");
            Ok(())
        }
        Command::Sandbox { which: SandboxCommand::Gp(args) } => gp_sandbox::run(args).await,
        Command::Sandbox { which: SandboxCommand::Chargebee(args) } => chargebee_sandbox::run(args).await,
        Command::Backfill { config, connection, since, until, events } => {
            let app = App::build(Config::load(&config)?).await?;
            anyhow::ensure!(
                app.connections.contains_key(&connection),
                "connection {connection:?} is not in the config"
            );
            let since = since.as_deref().map(parse_day).transpose()?;
            let until = until.as_deref().map(parse_day).transpose()?;
            let mode = if events { "events" } else { "backfill" };
            let key = format!("{mode}:{}:{}:{}", since.unwrap_or(0), until.unwrap_or(0), app.store.now().await?);
            let job = ml_connector::poll::PollJob { mode: mode.into(), since, until };
            ml_connector::poll::enqueue(&app, &connection, &key, &job).await?;
            println!("enqueued {mode} walk {key} for {connection}; a running `ml-connector serve` picks it up");
            Ok(())
        }
        Command::Demo { customers } => ml_connector::demo::run(customers).await,
        Command::Reconcile { config, connection } => {
            let app = App::build(Config::load(&config)?).await?;
            let conn = app
                .connections
                .get(&connection)
                .with_context(|| format!("connection {connection:?} is not in the config"))?
                .clone();
            let report = ml_connector::reconcile::run(&app, &conn).await?;
            report.print();
            anyhow::ensure!(report.is_clean(), "{} difference(s)", report.differences.len());
            println!("clean: {} records, zero difference", report.records_read);
            Ok(())
        }
        Command::Replay { config, connection, record, state, since, until } => {
            let app = App::build(Config::load(&config)?).await?;
            anyhow::ensure!(
                app.connections.contains_key(&connection),
                "connection {connection:?} is not in the config"
            );
            let states = state
                .iter()
                .map(|s| mlc_store::JobState::parse(s).with_context(|| format!("unknown job state {s:?}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let filter = mlc_store::JobFilter {
                connection: Some(connection.clone()),
                states,
                record_key_prefix: record,
                created_after: since.as_deref().map(parse_day).transpose()?.map(|s| s * 1000),
                created_before: until.as_deref().map(parse_day).transpose()?.map(|s| s * 1000),
                limit: None,
            };
            let n = app.store.replay(&filter).await?;
            println!("{n} job(s) of {connection} queued again; a running `ml-connector serve` re-runs them");
            Ok(())
        }
    }
}

fn parse_day(s: &str) -> anyhow::Result<i64> {
    ml_connector_sdk::dates::parse_iso_date(s).map_err(|e| anyhow::anyhow!("{s:?}: {e}"))
}
