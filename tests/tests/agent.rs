//! GP reached only through the local agent (`gp.via = "agent"`): the host's target has no
//! private-network egress and no GP secret values; the agent alone reaches the GP emulator
//! (SOAP with NTLM, eConnect over TDS). The whole flow passes through the tunnel; killing the
//! agent loses and doubles nothing; wrong, revoked, foreign and reused credentials are refused
//! with the host's words on both sides; the agent refuses what its list does not name; corporate
//! proxies (refusing CONNECT, cutting idle tunnels) are handled; two replicas each hold a tunnel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use chargebee_sandbox::{Region, SeedSpec, WebhookConfig};
use gp_sandbox::DocType;
use ml_connector_tests::{TestDb, init_tracing, scratch, wait_until};
use mlc_harness::stack::{FABRIKAM, Stack, StackSpec, TenantSpec, WEBHOOK_PASSWORD, WEBHOOK_USER};

async fn stack(name: &str, endpoint: &'static str) -> (Stack, TestDb) {
    init_tracing();
    let db = TestDb::from_env().await;
    let mut t = TenantSpec::new("acme", "acme-test", Region::Us);
    t.endpoint = endpoint;
    let spec = StackSpec { tenants: vec![t], database: Some(db.url.clone()), via_agent: true, ..StackSpec::default() };
    (Stack::start(&scratch(name), spec).await.expect("stack starts"), db)
}

fn seed() -> SeedSpec {
    SeedSpec {
        customers: 4,
        invoices_per_customer: 3,
        currencies: vec!["USD".into()],
        days: 30,
        seed: 5,
        payment_rate: 0.8,
        credit_note_rate: 0.3,
        refund_rate: 0.3,
        ..SeedSpec::default()
    }
}

async fn settle(s: &Stack) {
    ml_connector_tests::settle(s, "acme").await
}

async fn reconcile_clean(s: &Stack) {
    let conn = s.app.connections["acme"].clone();
    let report = ml_connector::reconcile::run(&s.app, &conn).await.unwrap();
    assert!(report.is_clean() && !report.lines.is_empty(), "{report:#?}");
}

/// Requests the host sent through `tenant`'s tunnels on `app`.
fn tunnel_requests(app: &ml_connector::app::App, tenant: &str) -> u64 {
    app.agents.status(&[tenant.to_string()]).iter().flat_map(|c| &c.tunnels).map(|t| t.requests).sum()
}

async fn everything_through_the_agent(endpoint: &'static str) {
    let (s, _db) = stack(&format!("agent-e2e-{endpoint}"), endpoint).await;
    let target = &s.config.connection("acme").unwrap().target;
    assert!(!target.allow_private_network, "the host's own egress to GP is denied");
    let control = s.cb.control();
    let seeded = control.seed("acme-test", &seed()).unwrap();
    s.backfill("acme").await.unwrap();
    settle(&s).await;

    // New activity by webhook, duplicated and out of order.
    let before = control.events("acme-test").unwrap().len();
    let cust = control.customers("acme-test").unwrap()[0].id.clone();
    let line = chargebee_sandbox::LineInput::adhoc("Extra seats", 2_500, 3);
    control.create_invoice("acme-test", chargebee_sandbox::InvoiceInput::new(&cust, vec![line])).unwrap();
    let config =
        WebhookConfig { duplicate_rate: 1.0, out_of_order: true, ..WebhookConfig::new(&s.webhook_url("acme")) };
    let sender = s.webhooks("acme", config.basic(WEBHOOK_USER, WEBHOOK_PASSWORD)).unwrap();
    let events: Vec<_> = control.events("acme-test").unwrap().into_iter().skip(before).collect();
    assert_eq!(sender.deliver(events).await.failed(), 0);
    settle(&s).await;

    let invoices = control.invoices("acme-test").unwrap().into_iter().filter(|i| !i.deleted && i.status != "voided");
    let gp_invoices = s.gp.control().documents_of(FABRIKAM, DocType::Invoice).await.unwrap();
    assert_eq!(gp_invoices.len(), invoices.count(), "every invoice once ({seeded:?})");
    let applies = s.gp.control().applies(FABRIKAM).await.unwrap();
    assert!(!applies.is_empty(), "applies went through the agent's eConnect");
    reconcile_clean(&s).await;
    assert!(tunnel_requests(&s.app, "acme") > 10, "GP calls went through the tunnel");
    let denied = s.app.store.audit("acme", None, None).await.unwrap();
    assert!(!denied.iter().any(|l| l.outcome == "denied"), "no direct GP call was even tried");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_webhooks_and_applies_through_the_agent_over_soap() {
    everything_through_the_agent("soap").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_webhooks_and_applies_through_the_agent_over_econnect() {
    everything_through_the_agent("econnect").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_agent_mid_run_loses_and_doubles_nothing() {
    let (mut s, _db) = stack("agent-kill", "soap").await;
    s.cb.control().seed("acme-test", &SeedSpec { customers: 8, ..seed() }).unwrap();
    s.backfill("acme").await.unwrap();
    // Let some documents land, then kill the agent mid-run.
    let gp = s.gp.control();
    assert!(wait_until(Duration::from_secs(60), async || gp.customers(FABRIKAM).await.unwrap().len() >= 2).await);
    let killed = s.agents.remove("acme").unwrap();
    let token = killed.agent.config.read_token().unwrap();
    killed.kill();
    let app = s.app.clone();
    assert!(wait_until(Duration::from_secs(20), async || app.agents.offline_since("acme").is_some()).await);
    // Jobs wait for the agent, visibly; none fails or dies meanwhile.
    let waits = async || {
        let f = mlc_store::JobFilter {
            connection: Some("acme".into()),
            states: vec![mlc_store::JobState::Waiting],
            ..Default::default()
        };
        app.store.jobs(&f).await.unwrap().iter().any(|j| j.wait_key.as_deref() == Some("agent"))
    };
    assert!(wait_until(Duration::from_secs(30), waits).await, "jobs wait for the agent");
    let lines = s.app.store.audit("acme", None, None).await.unwrap();
    assert!(lines.iter().any(|l| l.detail.contains("waiting for the agent: offline since")), "the timeline says so");
    assert!(s.stuck("acme").await.unwrap().is_empty(), "nothing parked or dead while the agent is away");
    let api = reqwest::get(format!("{}/healthz", s.base)).await.unwrap();
    assert!(api.status().is_success());

    // The agent restarts (a new process, the same credential): the work goes on.
    let cfg = s.agent_config("acme", vec![s.agents_url().unwrap()], &token).unwrap();
    s.agents.insert("acme".into(), s.spawn_agent(cfg).unwrap());
    settle(&s).await;
    let invoices =
        s.cb.control().invoices("acme-test").unwrap().into_iter().filter(|i| !i.deleted && i.status != "voided");
    let gp_invoices = s.gp.control().documents_of(FABRIKAM, DocType::Invoice).await.unwrap();
    assert_eq!(gp_invoices.len(), invoices.count(), "every invoice once after the kill");
    reconcile_clean(&s).await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_credential_closes_its_tunnel_and_is_refused_after() {
    let (mut s, _db) = stack("agent-revoke", "soap").await;
    // Rotation: a second agent with its own credential connects beside the first …
    let second = s.agent_token("acme", "acme-agent-2").await.unwrap();
    let cfg = s.agent_config("acme", vec![s.agents_url().unwrap()], &second).unwrap();
    let second = s.spawn_agent(cfg).unwrap();
    let app = s.app.clone();
    let tunnels = async || app.agents.status(&["acme".into()])[0].tunnels.len() == 2;
    assert!(wait_until(Duration::from_secs(20), tunnels).await, "two agents of one connection at once");
    // … then the first credential is revoked: its live tunnel is closed and its agent stops.
    assert!(s.app.store.token_revoke("acme-agent-1").await.unwrap());
    let agent = s.agents.remove("acme").unwrap();
    let ended = agent.finished(Duration::from_secs(15)).await.unwrap();
    let err = format!("{:#}", ended.expect_err("the agent stops"));
    assert!(err.contains("revoked"), "{err}");
    let left = &s.app.agents.status(&["acme".into()])[0];
    assert!(left.online && left.tunnels.len() == 1 && left.tunnels[0].credential == "acme-agent-2", "{left:?}");
    // No gap: the work goes through the second agent.
    s.cb.control().seed("acme-test", &SeedSpec { customers: 2, ..seed() }).unwrap();
    s.backfill("acme").await.unwrap();
    settle(&s).await;
    reconcile_clean(&s).await;
    second.stop().await.unwrap();
    let app = s.app.clone();
    assert!(wait_until(Duration::from_secs(20), async || app.agents.offline_since("acme").is_some()).await);
    // Dialing again with it: refused at the door, with the host's words.
    let token = s.agent_token("acme", "acme-agent-x").await.unwrap();
    s.app.store.token_revoke("acme-agent-x").await.unwrap();
    let cfg = s.agent_config("acme", vec![s.agents_url().unwrap()], &token).unwrap();
    let ended = s.spawn_agent(cfg).unwrap().finished(Duration::from_secs(15)).await.unwrap();
    let err = format!("{:#}", ended.expect_err("refused"));
    assert!(err.contains("401") && err.contains("acme-agent-x") && err.contains("revoked"), "{err}");
    s.shutdown().await;
}

/// What a client that is not our agent gets from the endpoint (reqwest, trusting the stack's CA).
async fn knock(s: &Stack, token: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let ca = std::fs::read(s.config_path.parent().unwrap().join("agents-ca.pem")).unwrap();
    let client =
        reqwest::Client::builder().tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()]).build().unwrap();
    let bearer = format!("Bearer {token}");
    let mut sent: std::collections::BTreeMap<&str, &str> = [
        ("connection", "upgrade"),
        ("upgrade", "mlc-agent-h2"),
        ("authorization", bearer.as_str()),
        ("mlc-agent-protocol", "1"),
        ("mlc-agent-connection", "acme"),
        ("mlc-agent-instance", "test-instance"),
    ]
    .into_iter()
    .collect();
    sent.extend(headers.iter().copied());
    let mut req = client.get(format!("{}/agent/v1/connect", s.agents_url().unwrap()));
    for (k, v) in sent {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_foreign_reused_and_incompatible_agents_are_refused() {
    let (s, _db) = stack("agent-refusals", "soap").await;
    let (status, body) = knock(&s, "mlc_not-a-token", &[]).await;
    assert_eq!((status, body.contains("unknown agent credential")), (401, true), "{body}");

    let admin =
        ml_connector::admin::tokens::create(s.app.store.as_ref(), "ops", ml_connector::admin::Scope::Admin, None)
            .await
            .unwrap();
    let (status, body) = knock(&s, &admin, &[]).await;
    assert_eq!((status, body.contains("not an agent credential")), (403, true), "{body}");

    // An agent credential on the admin plane opens nothing there.
    let own = s.agent_token("acme", "acme-agent-2").await.unwrap();
    let admin_url = format!("{}/api/jobs", s.admin_url().unwrap());
    let r = reqwest::Client::new().get(admin_url).bearer_auth(&own).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403, "agent credential on the admin API");

    let foreign =
        ml_connector::admin::tokens::create_agent(s.app.store.as_ref(), "globex-agent", "globex").await.unwrap();
    let (status, body) = knock(&s, &foreign, &[]).await;
    assert_eq!((status, body.contains("is for connection globex")), (403, true), "{body}");

    // The running agent's credential, from another agent instance while it answers.
    let live = s.agents["acme"].agent.config.read_token().unwrap();
    let (status, body) = knock(&s, &live, &[]).await;
    assert_eq!((status, body.contains("in use by agent")), (409, true), "{body}");
    assert_eq!(s.app.agents.status(&["acme".into()])[0].tunnels.len(), 1, "the live tunnel is untouched");

    let (status, body) = knock(&s, &own, &[("mlc-agent-protocol", "7")]).await;
    assert_eq!((status, body.contains("speaks protocol 7")), (426, true), "{body}");
    let (status, body) = knock(&s, &own, &[("upgrade", "websocket")]).await;
    assert_eq!(status, 400, "{body}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_reaches_only_what_its_list_names() {
    use ml_connector::agent::calls;
    let (mut s, _db) = stack("agent-allowlist", "soap").await;
    let hub = &s.app.agents;
    let call = |url: &str| calls::HttpCall {
        method: hyper::Method::GET,
        url: url.into(),
        headers: vec![],
        body: vec![],
        timeout: Duration::from_secs(5),
    };
    let max = Duration::from_secs(60);
    // The host's metadata address, another port of GP's host: refused on the agent.
    for url in ["http://169.254.169.254/latest/meta-data", "http://127.0.0.1:1/x"] {
        let err = calls::http(hub, "acme", call(url), max).await.expect_err("refused");
        let text = format!("{err:?}");
        assert!(text.contains("Denied") && text.contains("not on this agent's list"), "{url}: {text}");
    }
    let sql = s.gp.sql_addr().unwrap();
    let other_db = calls::sql_target(&sql.ip().to_string(), sql.port(), "DYNAMICS");
    let q = mlc_econnect::QueryName::FunctionalCurrency;
    let err = calls::query(hub, "acme", &other_db, q, &[], max).await.expect_err("refused");
    assert!(
        matches!(err, mlc_econnect::EconnectError::Denied(ref m) if m.contains("not on this agent's list")),
        "{err:?}"
    );
    // What is listed answers.
    let listed = calls::sql_target(&sql.ip().to_string(), sql.port(), "TWO");
    calls::query(hub, "acme", &listed, q, &[], max).await.expect("the listed database answers");
    let report = s.agents["acme"].agent.targets.report();
    assert_eq!(report.econnect, vec![listed], "{report:?}");

    // The operator sees the agent: the admin API and the metrics.
    let token =
        ml_connector::admin::tokens::create(s.app.store.as_ref(), "ops", ml_connector::admin::Scope::Read, None)
            .await
            .unwrap();
    let admin = s.admin_url().unwrap();
    let get = |path: &str| reqwest::Client::new().get(format!("{admin}{path}")).bearer_auth(&token).send();
    let api: serde_json::Value = get("/api/agents").await.unwrap().json().await.unwrap();
    let acme = &api["connections"][0];
    assert_eq!((acme["connection"].as_str(), acme["online"].as_bool()), (Some("acme"), Some(true)), "{api}");
    let tunnel = &acme["tunnels"][0];
    assert_eq!(tunnel["credential"], "acme-agent-1", "{api}");
    assert_eq!(tunnel["version"], env!("CARGO_PKG_VERSION"), "{api}");
    assert!(tunnel["address"].as_str().unwrap().starts_with("127.0.0.1:") && tunnel["requests"].as_u64() > Some(0));
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(metrics.contains("mlc_agent_online{connection=\"acme\"} 1"), "{metrics}");
    assert!(metrics.contains("mlc_agent_tunnels{connection=\"acme\"} 1"), "{metrics}");
    s.agents.remove("acme").unwrap().kill();
    let app = s.app.clone();
    assert!(wait_until(Duration::from_secs(20), async || app.agents.offline_since("acme").is_some()).await);
    let api: serde_json::Value = get("/api/agents").await.unwrap().json().await.unwrap();
    assert_eq!(api["connections"][0]["online"], false, "{api}");
    assert!(api["connections"][0]["offline_since"].as_i64() > Some(0), "{api}");
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(metrics.contains("mlc_agent_online{connection=\"acme\"} 0"), "{metrics}");
    s.shutdown().await;
}
