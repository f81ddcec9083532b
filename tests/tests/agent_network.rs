//! The agent's network, as customers' offices have it: a corporate CONNECT proxy (Basic auth,
//! idle cuts, tunnels severed, CONNECT refused), two host replicas, and a peer that speaks
//! garbage after the upgrade. GP is reached only through the agent (`StackSpec::via_agent`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use chargebee_sandbox::{Region, SeedSpec};
use gp_sandbox::DocType;
use ml_connector_tests::{TestDb, init_tracing, scratch, wait_until};
use mlc_harness::stack::{FABRIKAM, Stack, StackSpec, TenantSpec};
use sandbox_proxy::{Proxy, ProxyConfig};

async fn stack(name: &str) -> (Stack, TestDb) {
    init_tracing();
    let db = TestDb::from_env().await;
    let t = TenantSpec::new("acme", "acme-test", Region::Us);
    let spec = StackSpec { tenants: vec![t], database: Some(db.url.clone()), via_agent: true, ..StackSpec::default() };
    (Stack::start(&scratch(name), spec).await.expect("stack starts"), db)
}

fn seed() -> SeedSpec {
    SeedSpec { customers: 5, invoices_per_customer: 3, currencies: vec!["USD".into()], seed: 9, ..SeedSpec::default() }
}

async fn settled_and_clean(s: &Stack) {
    ml_connector_tests::settle(s, "acme").await;
    let invoices =
        s.cb.control().invoices("acme-test").unwrap().into_iter().filter(|i| !i.deleted && i.status != "voided");
    let gp = s.gp.control().documents_of(FABRIKAM, DocType::Invoice).await.unwrap();
    assert_eq!(gp.len(), invoices.count(), "every invoice once");
    let conn = s.app.connections["acme"].clone();
    let report = ml_connector::reconcile::run(&s.app, &conn).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
}

/// The stack's own agent killed; its credential.
fn take_token(s: &mut Stack) -> String {
    let old = s.agents.remove("acme").unwrap();
    let token = old.agent.config.read_token().unwrap();
    old.kill();
    token
}

/// An agent with `token` dialing through `proxy` (a URL, credentials in it).
fn through(s: &Stack, proxy: &str, token: &str) -> mlc_harness::agent::AgentHandle {
    let mut cfg = s.agent_config("acme", vec![s.agents_url().unwrap()], token).unwrap();
    cfg.proxy = Some(proxy.into());
    cfg.ping_s = 1;
    s.spawn_agent(cfg).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_corporate_proxy_that_cuts_idle_and_live_tunnels() {
    let (mut s, _db) = stack("agent-proxy").await;
    let cut = ProxyConfig {
        auth: Some(("corp\\svc".into(), "p@ss:word".into())),
        idle_cut: Some(Duration::from_secs(3)),
        idle_cut_silently: true,
        ..ProxyConfig::default()
    };
    let proxy = Proxy::start(cut).await.unwrap();
    let url = proxy.url().replace("http://", "http://corp%5Csvc:p%40ss%3Aword@");
    let token = take_token(&mut s);
    let agent = through(&s, &url, &token);
    Stack::agent_online(&s.app, "acme", Duration::from_secs(20)).await.unwrap();
    assert_eq!(proxy.tunnels_opened(), 1);
    // Quiet for longer than the proxy's idle cut: the PINGs keep the tunnel alive.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(proxy.tunnels_opened(), 1, "no redial: the heartbeat kept the tunnel from going idle");
    assert!(s.app.agents.offline_since("acme").is_none());

    s.cb.control().seed("acme-test", &seed()).unwrap();
    s.backfill("acme").await.unwrap();
    let gp = s.gp.control();
    assert!(wait_until(Duration::from_secs(60), async || gp.customers(FABRIKAM).await.unwrap().len() >= 2).await);
    // The proxy severs every tunnel mid-run: the agent redials through it, the work goes on.
    proxy.cut_all();
    assert!(wait_until(Duration::from_secs(30), async || proxy.tunnels_opened() >= 2).await, "redialed");
    settled_and_clean(&s).await;
    agent.stop().await.unwrap();
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_refuses_stops_the_agent_with_its_words() {
    let (mut s, _db) = stack("agent-proxy-refuses").await;
    let refusing = Proxy::start(ProxyConfig { refuse_connect: true, ..ProxyConfig::default() }).await.unwrap();
    let token = take_token(&mut s);
    let agent = through(&s, &refusing.url(), &token);
    let err = format!("{:#}", agent.finished(Duration::from_secs(20)).await.unwrap().expect_err("stops"));
    assert!(err.contains("refused CONNECT") && err.contains("403"), "{err}");

    let wants_auth = ProxyConfig { auth: Some(("u".into(), "p".into())), ..ProxyConfig::default() };
    let proxy = Proxy::start(wants_auth).await.unwrap();
    let agent = through(&s, &proxy.url(), &token);
    let err = format!("{:#}", agent.finished(Duration::from_secs(20)).await.unwrap().expect_err("stops"));
    assert!(err.contains("407") && err.contains("wants credentials"), "{err}");
    // Nothing was lost meanwhile: the host still runs, the connection waits for its agent.
    assert!(s.app.agents.offline_since("acme").is_some());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_each_hold_a_tunnel_of_the_agent() {
    let (mut s, _db) = stack("agent-replicas").await;
    let replica = s.start_replica().await.unwrap();
    let token = take_token(&mut s);
    let cfg = s.agent_config("acme", vec![s.agents_url().unwrap(), replica.agents_url.clone()], &token).unwrap();
    let agent = s.spawn_agent(cfg).unwrap();
    Stack::agent_online(&s.app, "acme", Duration::from_secs(20)).await.unwrap();
    Stack::agent_online(&replica.app, "acme", Duration::from_secs(20)).await.unwrap();
    let instance = |app: &ml_connector::app::App| app.agents.status(&["acme".into()])[0].tunnels[0].instance.clone();
    assert_eq!(instance(&s.app), instance(&replica.app), "one agent, a tunnel to each replica");

    s.cb.control().seed("acme-test", &seed()).unwrap();
    s.backfill("acme").await.unwrap();
    settled_and_clean(&s).await;
    let gp_calls = |app: &ml_connector::app::App| {
        app.agents.status(&["acme".into()])[0].tunnels.iter().map(|t| t.requests).sum::<u64>()
    };
    println!("tunnel requests: first replica {}, second {}", gp_calls(&s.app), gp_calls(&replica.app));
    // The agent stops: both replicas see it offline, and say since when.
    agent.stop().await.unwrap();
    for app in [&s.app, &replica.app] {
        assert!(wait_until(Duration::from_secs(20), async || app.agents.offline_since("acme").is_some()).await);
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_after_the_upgrade_is_dropped_and_the_real_tunnel_serves_on() {
    use http_body_util::Empty;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (s, _db) = stack("agent-garbage").await;
    let token = s.agent_token("acme", "acme-agent-rogue").await.unwrap();
    let url = url::Url::parse(&s.agents_url().unwrap()).unwrap();
    let ca = s.config_path.parent().unwrap().join("agents-ca.pem");
    let mut tls = (*ml_connector::caps::http::tls::client_config(Some(&ca)).unwrap()).clone();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let stream = ml_connector::agent::dial::dial(&url, None, std::sync::Arc::new(tls)).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn.with_upgrades());
    let req = hyper::Request::get("/agent/v1/connect")
        .header("host", url.authority())
        .header("connection", "upgrade")
        .header("upgrade", "mlc-agent-h2")
        .header("authorization", format!("Bearer {token}"))
        .header("mlc-agent-protocol", "1")
        .header("mlc-agent-connection", "acme")
        .header("mlc-agent-instance", "rogue")
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status().as_u16(), 101);
    let mut io = hyper_util::rt::TokioIo::new(hyper::upgrade::on(resp).await.unwrap());
    io.write_all(b"this is not HTTP/2 at all\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00garbage").await.unwrap();
    // The host gives up on this peer: it closes the connection, and never lists it.
    let mut buf = vec![0u8; 4096];
    let closed = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the host closed the garbled tunnel");
    let tunnels = &s.app.agents.status(&["acme".into()])[0].tunnels;
    assert_eq!(tunnels.len(), 1, "only the real agent is listed: {tunnels:?}");
    assert_ne!(tunnels[0].instance, "rogue");
    // The real tunnel serves on.
    s.cb.control().seed("acme-test", &SeedSpec { customers: 2, ..seed() }).unwrap();
    s.backfill("acme").await.unwrap();
    settled_and_clean(&s).await;
    s.shutdown().await;
}
