//! Harness for ml-connector's end-to-end tests: the built guest components, a stub billing API
//! and ledger (an HTTP server that counts fetches, writes and calls in flight per connection),
//! fresh databases on both backends, and config building.
//!
//! Components are built by `cargo xtask components` (run by `cargo xtask test`); a test that
//! finds them missing fails with that hint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A built component: its file and sha256 (from target/components/manifest.json).
pub fn component(name: &str) -> (PathBuf, String) {
    mlc_harness::components::component(name)
        .unwrap_or_else(|e| panic!("{e:#} (`cargo xtask components` or `cargo xtask test` builds them)"))
}

/// Per-test setup: log to the test writer, and the process-wide TLS provider for reqwest.
pub fn init_tracing() {
    ml_connector::install_crypto();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
}

// ------------------------------------------------------------------------------------- databases

/// A fresh database for one test: SQLite in a temp dir, or a new PostgreSQL database dropped
/// (best effort) when this is dropped (`mlc_store::testing`, the one copy of that dance).
pub struct TestDb {
    pub url: String,
    _pg: Option<mlc_store::testing::PgTestDb>,
    _dir: Option<PathBuf>,
}

pub use mlc_store::testing::pg_server_url;

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("mlc-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        TestDb { url: format!("sqlite://{}", dir.join("store.db").display()), _pg: None, _dir: Some(dir) }
    }

    pub async fn postgres() -> TestDb {
        let pg = mlc_store::testing::PgTestDb::create("mlc_e2e").await;
        TestDb { url: pg.url().to_string(), _pg: Some(pg), _dir: None }
    }

    /// Backend from `MLC_TEST_BACKEND` (sqlite | postgres); SQLite by default.
    pub async fn from_env() -> TestDb {
        match std::env::var("MLC_TEST_BACKEND").as_deref() {
            Ok("postgres") => TestDb::postgres().await,
            _ => TestDb::sqlite().await,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self._dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub use standin_sandbox::{Stub, StubState, start_stub};

// ------------------------------------------------------------------------------------- configs

/// Config text for connections using the stand-ins against `stub`. `extra` is appended (more
/// components/connections). Secrets are inline values: tests only.
pub fn standin_config(
    db_url: &str,
    cache_dir: &std::path::Path,
    stub: &Stub,
    connections: &[(&str, &str, i32)],
    extra: &str,
) -> String {
    let mut s = format!(
        r#"[host]
database = "{db_url}"
listen = "127.0.0.1:0"
cache_dir = "{cache}"
workers = 8
lease_ms = 2000
poll_ms = 50
backoff_base_ms = 50
backoff_cap_ms = 500
max_attempts = 5

[admin]
listen = '127.0.0.1:0' # any free port (single quotes: tests rewrite the webhook listen line)

[secrets.api-key]
scheme = "basic-api-key"
origin = "{origin}"
value = "test_api_key_123"

[secrets.ledger-key]
scheme = "basic"
origin = "{origin}"
value = "DOMAIN\\ledger:ledger-password-456"

[secrets.other-tenant-key]
scheme = "bearer"
origin = "{origin}"
value = "other-tenant-secret-789"

[secrets.webhook]
scheme = "basic"
origin = "http://127.0.0.1:1"
value = "chargebee:hook-pass"
"#,
        cache = cache_dir.display(),
        origin = stub.origin(),
    );
    for name in
        ["standin-source", "standin-mapper", "standin-mapper-v2", "standin-target", "hostile-mapper", "hostile-target"]
    {
        let (path, digest) = component(name);
        s.push_str(&format!("\n[components.{name}]\npath = \"{}\"\nsha256 = \"{digest}\"\ncpu_ms = 500\nmemory_mb = 32\ncall_timeout_ms = 20000\n", path.display()));
    }
    for (id, mapper, max_in_flight) in connections {
        s.push_str(&connection_block(id, mapper, "standin-target", *max_in_flight, stub, ""));
    }
    s.push_str(extra);
    s
}

/// One `[[connections]]` block wired to the stub; `settings` adds `key = "value"` lines.
pub fn connection_block(
    id: &str,
    mapper: &str,
    target: &str,
    max_in_flight: i32,
    stub: &Stub,
    settings: &str,
) -> String {
    format!(
        r#"
[[connections]]
id = "{id}"
max_in_flight = {max_in_flight}
webhook_secret = "webhook"
# The stand-in mapper writes each invoice's customer itself.
wait_for_dependencies = false
[connections.settings]
api_base = "{base}"
ledger_base = "{base}/ledger/{id}"
collector = "{base}/collect"
doc_prefix = "CB"
{settings}
[connections.source]
component = "standin-source"
allow_http = ["{origin}"]
allow_private_network = true
secrets = {{ api-key = "api-key" }}
[connections.mapper]
component = "{mapper}"
[connections.target]
component = "{target}"
allow_http = ["{origin}"]
allow_private_network = true
paced = true
secrets = {{ ledger-key = "ledger-key" }}
"#,
        base = stub.base(),
        origin = stub.origin(),
    )
}

/// A Chargebee-shaped webhook body.
pub fn event(event_id: &str, event_type: &str, resource_key: &str, resource_id: &str) -> Vec<u8> {
    json!({"id": event_id, "event_type": event_type, "occurred_at": 1_764_000_000, "object": "event", "api_version": "v2",
           "content": {resource_key: {"id": resource_id}}})
    .to_string()
    .into_bytes()
}

/// Base64 of `s` (for Basic credentials).
pub fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

pub const WEBHOOK_AUTH: &str = "Basic Y2hhcmdlYmVlOmhvb2stcGFzcw=="; // chargebee:hook-pass

/// Poll `f` until it is true or `timeout` passes.
pub async fn wait_until(timeout: Duration, mut f: impl AsyncFnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < end {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    f().await
}

// ------------------------------------------------------------------------------------- in-process host

/// A host running in this process: intake on an ephemeral port and the workers.
pub struct RunningHost {
    pub app: Arc<ml_connector::app::App>,
    /// The webhook listener.
    pub base: String,
    /// The admin plane.
    pub admin: String,
    pub stop: tokio_util::sync::CancellationToken,
    pub config_path: PathBuf,
}

impl RunningHost {
    pub async fn webhook(&self, connection: &str, body: Vec<u8>, auth: Option<&str>) -> (u16, Value) {
        let client = reqwest::Client::new();
        let mut req = client
            .post(format!("{}/webhooks/{connection}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Wait until the connection has no available/running/waiting jobs.
    pub async fn drain(&self, connection: &str, timeout: Duration) -> bool {
        let store = self.app.store.clone();
        wait_until(timeout, async || {
            let s = store.stats(Some(connection)).await.unwrap();
            s.available + s.running + s.waiting == 0
        })
        .await
    }
}

impl Drop for RunningHost {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Write `config_text` to a file in `dir`, load it as the binary would, and start the host.
pub async fn start_host(dir: &std::path::Path, config_text: &str) -> anyhow::Result<RunningHost> {
    ml_connector::install_crypto();
    std::fs::create_dir_all(dir)?;
    let config_path = dir.join(format!("ml-connector-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&config_path, config_text)?;
    let config = ml_connector::config::Config::load(&config_path)?;
    let app = ml_connector::app::App::build(config).await?;
    let stop = tokio_util::sync::CancellationToken::new();
    // Intake and workers; no schedule (the tests that need it run its steps themselves).
    let options = ml_connector::serve::ServeOptions {
        listen: Some("127.0.0.1:0".into()),
        admin: Some("127.0.0.1:0".into()),
        schedule: false,
        agents: None,
    };
    let running = ml_connector::serve::start(app.clone(), options, stop.clone()).await?;
    let base = running.base_url().expect("listening");
    let admin = running.admin_url().expect("admin listening");
    Ok(RunningHost { app, base, admin, stop, config_path })
}

/// A scratch directory for one test (cache, configs).
pub fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("mlc-{name}-{}", uuid::Uuid::new_v4().simple()))
}

/// A shared precompiled-component cache for the test process (compiling is the slow part).
pub fn shared_cache() -> PathBuf {
    repo_root().join("target/test-component-cache")
}

/// A USD receivables invoice of `sales` + `tax`, no discount, freight or distributions (the GP
/// target's tests and the benchmarks add what they need).
pub fn receivables_invoice(
    number: &str,
    customer: &str,
    batch: &str,
    date: &str,
    sales: i64,
    tax: i64,
) -> ml_connector::bindings::types::ReceivablesInvoice {
    ml_connector::bindings::types::ReceivablesInvoice {
        number: number.into(),
        customer_id: customer.into(),
        customer_source_id: customer.into(),
        batch: ml_connector::bindings::types::BatchKey { source: "RM_Sales".into(), id: batch.into() },
        date: date.into(),
        currency: "USD".into(),
        // Fabrikam's functional currency id.
        currency_id: "Z-US$".into(),
        exchange: None,
        sales,
        trade_discount: 0,
        freight: 0,
        misc: 0,
        tax,
        total: sales + tax,
        description: None,
        customer_po: None,
        distributions: vec![],
        tax_schedule: None,
        tax_details: vec![],
    }
}

/// An eConnect executor on the GP emulator's SQL endpoint (Fabrikam, database TWO), as a GP
/// administrator's tools (or a clerk's) reach it: what tests use to read or change GP behind
/// the connector's back.
pub fn gp_sql(s: &mlc_harness::stack::Stack) -> mlc_econnect::Executor {
    let login = s.gp.sql_login();
    let addr = s.gp.sql_addr().expect("the emulator's SQL endpoint");
    mlc_econnect::Executor::new(mlc_econnect::Server {
        host: addr.ip().to_string(),
        port: addr.port(),
        database: "TWO".into(),
        user: login.user.clone(),
        password: login.password.clone(),
        max_connections: 2,
        timeout: std::time::Duration::from_secs(10),
    })
}

/// Drain `tenant` until nothing runs; panic with the parked or dead jobs' reasons if any.
pub async fn settle(s: &mlc_harness::stack::Stack, tenant: &str) {
    let drained = s.drain(tenant, Duration::from_secs(240)).await;
    let stuck = s.stuck(tenant).await.unwrap_or_default();
    let why: Vec<_> = stuck.iter().map(|j| (&j.key, &j.last_error)).collect();
    if let Err(e) = drained {
        panic!("{e}: {why:#?}");
    }
    assert!(stuck.is_empty(), "nothing parks: {why:#?}");
}
