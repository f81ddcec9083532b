//! The `ml-connector` command line: its arguments (here, so tests can check every command the
//! README shows) and, in `main.rs`, what each command does.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use mlc_harness::sandbox::SandboxCommand;

#[derive(Parser)]
#[command(
    name = "ml-connector",
    version,
    about = "Chargebee → Dynamics GP receivables, as sandboxed WebAssembly components"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// Sealed secrets and the master key: set, list, init-key, rotate-master.
    Secret {
        #[command(subcommand)]
        action: SecretCommand,
    },
    /// Admin-plane tokens: create (shown once), list (never the token), revoke.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Run the local agent next to GP (`gp.via = "agent"`): it dials out to the host, serves
    /// GP calls from the tunnel, and reaches only what agent.toml lists. `agent seal NAME`
    /// seals a credential for agent.toml (value on stdin).
    Agent {
        #[arg(long, short, default_value = "agent.toml")]
        config: PathBuf,
        #[command(subcommand)]
        action: Option<AgentCommand>,
    },
    /// Agent credentials: create (shown once), list, revoke (closes its live tunnels).
    AgentToken {
        #[command(subcommand)]
        action: AgentTokenCommand,
    },
    /// Run an emulator on its own (for trying the connector, or other clients, against it).
    Sandbox {
        #[command(subcommand)]
        which: SandboxCommand,
    },
    /// Enqueue a backfill (customers first, then invoices, payments, credit notes) or an events
    /// walk (gap detection) for a connection; `serve` runs it, resumable after a crash.
    Backfill {
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
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
    /// and currency: net amount due against GP's open balance, and its parts. Exit code 0:
    /// clean (applies waiting for GP's posting allowed); 1: differences (or an error).
    Reconcile {
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
        #[arg(long)]
        connection: String,
        /// table (people), json (everything, minor units) or csv (one row per customer and
        /// currency, major units).
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
        /// Documents in GP no Chargebee record maps to (keyed by hand) count as differences
        /// and in GP's totals, instead of being listed apart as exceptions.
        #[arg(long)]
        strict: bool,
    },
    /// Re-run jobs from the start (fetch → map → write); the GP target's idempotency means
    /// nothing is posted twice. Filters combine; none = every job of the connection.
    Replay {
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
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

/// How `reconcile` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
}

impl From<ReportFormat> for ml_connector::reconcile::Format {
    fn from(f: ReportFormat) -> Self {
        match f {
            ReportFormat::Table => ml_connector::reconcile::Format::Table,
            ReportFormat::Json => ml_connector::reconcile::Format::Json,
            ReportFormat::Csv => ml_connector::reconcile::Format::Csv,
        }
    }
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (once; only its sha256 is stored).
    Create {
        /// A name for it (who or what uses it), shown in the audit of what it does.
        name: String,
        /// read (jobs, timelines), operate (also replay), admin (also tokens).
        #[arg(long, default_value = "read")]
        scope: String,
        /// Limit it to one connection (a tenant's token).
        #[arg(long)]
        connection: Option<String>,
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
    },
    /// Every token: name, scope, connection, created, last used, revoked.
    List {
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
    },
    /// Revoke a token by name (at once, for every replica).
    Revoke {
        name: String,
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum AgentCommand {
    /// Seal a credential's value (read from stdin) under the agent's key, and print the
    /// `sealed = "…"` text for agent.toml; the key file is created if missing.
    Seal {
        /// Its name in agent.toml's [credentials] (a sealed value opens under that name only).
        name: String,
        #[arg(long, default_value = "agent.key")]
        key: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum AgentTokenCommand {
    /// Create an agent credential for one connection and print it (once; stored as sha256).
    /// Create a second one before revoking the first to rotate without a gap.
    Create {
        #[arg(long)]
        connection: String,
        /// A name (default `<connection>-agent-<random>`).
        name: Option<String>,
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
    },
    /// Every agent credential: name, connection, created, last used, revoked.
    List {
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
    },
    /// Revoke by name: refused at the next connect, and live tunnels are closed within
    /// `[agents] status_s`.
    Revoke {
        name: String,
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum SecretCommand {
    /// Store a secret encrypted (value read from stdin); configure it as `stored = true`. With
    /// no master key file and nothing stored yet, creates the key (and says so).
    Set {
        name: String,
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
    },
    /// Stored secrets: name, master key id and state, last update. Never a value.
    List {
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
    },
    /// Create the master key file (`[host] master_key`); refused if it exists.
    InitKey {
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
    },
    /// Replace the master key and re-seal every stored secret under it, while hosts run;
    /// run it again to resume after a crash.
    RotateMaster {
        #[arg(long, short, default_value = "ml-connector.toml")]
        config: PathBuf,
    },
}
