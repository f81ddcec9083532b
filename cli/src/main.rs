//! The `ml-connector` command.

use anyhow::Context;
use clap::Parser;
use ml_connector::jobs::PollMode;
use ml_connector::{app::App, config::Config, secretbox, serve};
use ml_connector_cli::{AgentCommand, AgentTokenCommand, Cli, Command, ReportFormat, SecretCommand, TokenCommand};

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,wasmtime=warn,cranelift=warn,sqlx=warn,tiberius=warn")
    });
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    ml_connector::install_crypto();
    match Cli::parse().command {
        Command::Serve { config, no_intake } => {
            let app = App::build(Config::load(&config)?).await?;
            let mut options = serve::ServeOptions::from_config(&app);
            if no_intake {
                options.listen = None;
            }
            serve::serve(app, options, serve::shutdown_signal()).await
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
        Command::SecretSet { name, config } => secret(SecretCommand::Set { name, config }).await,
        Command::Secret { action } => secret(action).await,
        Command::Sandbox { which } => which.run().await,
        Command::Token { action } => token(action).await,
        Command::Agent { config, action: None } => {
            if let Err(e) = ml_connector::agent::run::run_from(&config, serve::shutdown_signal()).await {
                eprintln!("agent stopped: {e:#}");
                std::process::exit(2);
            }
            Ok(())
        }
        Command::Agent { action: Some(AgentCommand::Seal { name, key }), .. } => {
            let mut value = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut value)?;
            let value = value.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(!value.is_empty(), "no value on stdin");
            let sealed = ml_connector::agent::config::seal(&key, &name, value)?;
            eprintln!("sealed under {}; put this in agent.toml:", key.display());
            println!("[credentials.{name}]\nsealed = \"{sealed}\"");
            Ok(())
        }
        Command::AgentToken { action } => agent_token(action).await,
        Command::Backfill { config, connection, since, until, events } => {
            let app = App::build(Config::load(&config)?).await?;
            anyhow::ensure!(
                app.connections.contains_key(&connection),
                "connection {connection:?} is not in the config"
            );
            let since = since.as_deref().map(parse_day).transpose()?;
            let until = until.as_deref().map(parse_day).transpose()?;
            let mode = if events { PollMode::Events } else { PollMode::Backfill };
            let key = ml_connector::poll::enqueue_walk(&app, &connection, mode, since, until).await?;
            let mode = mode.as_str();
            println!("enqueued {mode} walk {key} for {connection}; a running `ml-connector serve` picks it up");
            Ok(())
        }
        Command::Demo { customers } => mlc_harness::demo::run(customers).await,
        Command::Reconcile { config, connection, format, strict } => {
            let app = App::build(Config::load(&config)?).await?;
            let conn = app
                .connections
                .get(&connection)
                .with_context(|| format!("connection {connection:?} is not in the config"))?
                .clone();
            let options = ml_connector::reconcile::Options { strict };
            let report = ml_connector::reconcile::run_with(&app, &conn, &options).await?;
            let mut out = std::io::stdout().lock();
            report.write(format.into(), &mut out)?;
            std::io::Write::flush(&mut out)?;
            let pending = report.differences.len() - report.real_differences();
            anyhow::ensure!(
                report.is_clean(),
                "{} difference(s), {pending} pending GP's posting",
                report.real_differences()
            );
            if format == ReportFormat::Table {
                let waiting =
                    if pending > 0 { format!("; {pending} apply/void pending GP's posting") } else { String::new() };
                let hand = report.exceptions.len();
                println!(
                    "clean: {} records, zero difference{waiting}; {hand} hand-entered exception(s)",
                    report.records_read
                );
            }
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

async fn token(action: TokenCommand) -> anyhow::Result<()> {
    use ml_connector::admin::{Scope, tokens};
    match action {
        TokenCommand::Create { name, scope, connection, config } => {
            let cfg = Config::load(&config)?;
            let scope = Scope::parse(&scope).with_context(|| format!("scope {scope:?}: read, operate or admin"))?;
            if let Some(c) = &connection {
                anyhow::ensure!(cfg.connection(c).is_some(), "connection {c:?} is not in {}", config.display());
            }
            let store = mlc_store::open(&cfg.host.database).await?;
            let token = tokens::create(store.as_ref(), &name, scope, connection.as_deref()).await?;
            let limited = connection.map(|c| format!(", connection {c}")).unwrap_or_default();
            eprintln!("token {name} ({scope}{limited}) created; it is shown once, keep it safe:");
            println!("{token}");
            Ok(())
        }
        TokenCommand::List { config } => {
            let store = mlc_store::open(&Config::load(&config)?.host.database).await?;
            println!(
                "{:<24} {:<8} {:<16} {:<14} {:<14} revoked",
                "name", "scope", "connection", "created", "last used"
            );
            let when = |ms: Option<i64>| ms.map_or("-".to_string(), |ms| format!("{}", ms / 1000));
            for t in store.token_list().await? {
                let conn = t.connection.as_deref().unwrap_or("(all)");
                let (created, used, revoked) = (when(Some(t.created_at)), when(t.last_used_at), when(t.revoked_at));
                println!("{:<24} {:<8} {:<16} {:<14} {:<14} {revoked}", t.name, t.scope, conn, created, used);
            }
            Ok(())
        }
        TokenCommand::Revoke { name, config } => {
            let store = mlc_store::open(&Config::load(&config)?.host.database).await?;
            anyhow::ensure!(store.token_revoke(&name).await?, "no live token named {name:?}");
            println!("token {name} revoked");
            Ok(())
        }
    }
}

/// `agent-token …`: agent credentials live with the admin tokens (scope `agent`, one connection).
async fn agent_token(action: AgentTokenCommand) -> anyhow::Result<()> {
    use ml_connector::admin::tokens;
    match action {
        AgentTokenCommand::Create { connection, name, config } => {
            let cfg = Config::load(&config)?;
            let conn = cfg
                .connection(&connection)
                .with_context(|| format!("connection {connection:?} is not in {}", config.display()))?;
            if !conn.via_agent() {
                eprintln!(
                    "note: connection {connection} does not set gp.via = \"agent\" yet; the host refuses its agent until it does"
                );
            }
            let name = name.unwrap_or_else(|| format!("{connection}-agent-{}", &uuid_suffix()));
            let store = mlc_store::open(&cfg.host.database).await?;
            let token = tokens::create_agent(store.as_ref(), &name, &connection).await?;
            eprintln!(
                "agent credential {name} (connection {connection}) created; it is shown once — give it to the agent (token = {{ env = \"MLC_AGENT_TOKEN\" }}):"
            );
            println!("{token}");
            Ok(())
        }
        AgentTokenCommand::List { config } => {
            let store = mlc_store::open(&Config::load(&config)?.host.database).await?;
            println!("{:<32} {:<16} {:<14} {:<14} revoked", "name", "connection", "created", "last used");
            let when = |ms: Option<i64>| ms.map_or("-".to_string(), |ms| format!("{}", ms / 1000));
            for t in store.token_list().await?.into_iter().filter(|t| t.scope == tokens::AGENT_SCOPE) {
                let conn = t.connection.as_deref().unwrap_or("-");
                let (created, used, revoked) = (when(Some(t.created_at)), when(t.last_used_at), when(t.revoked_at));
                println!("{:<32} {:<16} {:<14} {:<14} {revoked}", t.name, conn, created, used);
            }
            Ok(())
        }
        AgentTokenCommand::Revoke { name, config } => {
            let store = mlc_store::open(&Config::load(&config)?.host.database).await?;
            let is_agent = store.token_list().await?.iter().any(|t| t.name == name && t.scope == tokens::AGENT_SCOPE);
            anyhow::ensure!(is_agent, "no agent credential named {name:?}");
            anyhow::ensure!(store.token_revoke(&name).await?, "agent credential {name:?} is revoked already");
            println!("agent credential {name} revoked; its live tunnels close at the next status check");
            Ok(())
        }
    }
}

fn uuid_suffix() -> String {
    let id = ml_connector::admin::tokens::generate();
    id.chars().rev().filter(|c| c.is_ascii_alphanumeric()).take(6).collect::<String>().to_ascii_lowercase()
}

/// `secret …`: the work is in `ml_connector::secretbox::ops`; this reads stdin and prints.
async fn secret(action: SecretCommand) -> anyhow::Result<()> {
    let config = match &action {
        SecretCommand::Set { config, .. }
        | SecretCommand::List { config }
        | SecretCommand::InitKey { config }
        | SecretCommand::RotateMaster { config } => Config::load(config)?,
    };
    let key_file = &config.host.master_key;
    if let SecretCommand::InitKey { .. } = action {
        let key = secretbox::ops::init_key(key_file)?;
        println!("created master key {} in {}: back it up", key.id(), key_file.display());
        return Ok(());
    }
    let store = mlc_store::open(&config.host.database).await?;
    match action {
        SecretCommand::Set { name, .. } => {
            let mut value = String::new();
            std::io::stdin().read_line(&mut value).context("reading the secret from stdin")?;
            let value = value.trim_end_matches(['\r', '\n']);
            // A `sql` login must be user:password before it is sealed (the host splits it at load).
            if config.secrets.get(&name).is_some_and(|s| s.scheme == ml_connector::config::SecretScheme::Sql) {
                ml_connector::caps::econnect::split_login(value)
                    .with_context(|| format!("secret {name} has scheme sql: its value is user:password"))?;
            }
            let done = secretbox::ops::set(key_file, store.as_ref(), &name, value).await?;
            if done.created_key {
                println!("created master key {} in {}: back it up", done.key_id, key_file.display());
            }
            println!("stored secret {name} (sealed under master key {})", done.key_id);
        }
        SecretCommand::List { .. } => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis();
            let now = i64::try_from(now)?;
            println!("{:<32} {:<16}  {:<22} KEY", "NAME", "KEY ID", "UPDATED (UTC)");
            for (meta, state) in secretbox::ops::list(key_file, store.as_ref()).await? {
                let day = ml_connector_sdk::dates::iso_date(meta.updated_at / 1000);
                let age = format_age(now - meta.updated_at);
                let id = meta.key_id.as_deref().unwrap_or("-");
                println!("{:<32} {id:<16}  {day} ({age:>5}) {state}", meta.name);
            }
        }
        SecretCommand::RotateMaster { .. } => {
            let r = secretbox::rotate::rotate(key_file, store.as_ref()).await?;
            let resumed = if r.resumed { " (resumed a rotation left half-done)" } else { "" };
            println!(
                "master key {} → {}{resumed}: {} secret(s) re-sealed; the old key is kept as {}",
                r.from,
                r.to,
                r.resealed,
                secretbox::keyring::old_path(key_file, r.from).display()
            );
        }
        SecretCommand::InitKey { .. } => {}
    }
    Ok(())
}

/// "3d", "5h", "12m", "now": how long ago, roughly.
fn format_age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3_600 => format!("{}h", s / 3_600),
        s if s >= 60 => format!("{}m", s / 60),
        _ => "now".into(),
    }
}

fn parse_day(s: &str) -> anyhow::Result<i64> {
    ml_connector_sdk::dates::parse_iso_date(s).map_err(|e| anyhow::anyhow!("{s:?}: {e}"))
}
