//! The `ml-connector` command.

use anyhow::Context;
use clap::Parser;
use ml_connector::jobs::PollMode;
use ml_connector::{app::App, config::Config, secretbox, serve};
use ml_connector_cli::{Cli, Command, TokenCommand};

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
        Command::Sandbox { which } => which.run().await,
        Command::Token { action } => token(action).await,
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

fn parse_day(s: &str) -> anyhow::Result<i64> {
    ml_connector_sdk::dates::parse_iso_date(s).map_err(|e| anyhow::anyhow!("{s:?}: {e}"))
}
