//! Attacks on the host, one test each, every one asserting the refusal *and* that nothing else
//! changed: no job, no stray audit row, no secret value in audit, API output or `last_error`.
//! The README's Security section lists them with what happens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ml_connector::admin::{Scope, tokens};
use ml_connector_tests::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRETS: [&str; 4] = ["test_api_key_123", "ledger-password-456", "other-tenant-secret-789", "hook-pass"];

/// Two stand-in tenants, acme and globex; header timeout 1 s; refusal summaries every hour
/// (tests flush them by hand).
async fn host(name: &str, extra: &str) -> (RunningHost, Stub, TestDb) {
    init_tracing();
    let db = TestDb::from_env().await;
    let stub = start_stub().await;
    let tenants = [("acme", "standin-mapper", 4), ("globex", "standin-mapper", 4)];
    let mut cfg = standin_config(&db.url, &shared_cache(), &stub, &tenants, extra);
    cfg.push_str("\n[host.limits]\nheader_timeout_ms = 1000\nrequest_timeout_ms = 5000\n");
    let cfg = cfg.replace("max_attempts = 5\n", "max_attempts = 5\ndenial_summary_s = 3600\n");
    let host = start_host(&scratch(name), &cfg).await.unwrap();
    (host, stub, db)
}

async fn token(host: &RunningHost, name: &str, scope: Scope, connection: Option<&str>) -> String {
    tokens::create(host.app.store.as_ref(), name, scope, connection).await.unwrap()
}

async fn admin_get(host: &RunningHost, path: &str, bearer: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", host.admin));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

async fn no_jobs(host: &RunningHost) {
    let jobs = host.app.store.jobs(&Default::default()).await.unwrap();
    assert!(jobs.is_empty(), "{jobs:#?}");
}

fn no_secret_in(text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "secret {s} leaked: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_without_a_live_token_is_401() {
    let (host, _stub, _db) = host("sec-admin-401", "").await;
    assert_eq!(admin_get(&host, "/api/jobs", None).await.0, 401);
    assert_eq!(admin_get(&host, "/api/jobs", Some("mlc_not-a-token")).await.0, 401);
    let t = token(&host, "ops", Scope::Read, None).await;
    let (status, body) = admin_get(&host, "/api/jobs", Some(&t)).await;
    assert_eq!(status, 200, "{body}");
    assert!(host.app.store.token_revoke("ops").await.unwrap());
    assert_eq!(admin_get(&host, "/api/jobs", Some(&t)).await.0, 401, "revoked: refused at once");
    // The token itself is stored nowhere: only its digest.
    let listed = serde_json::to_string(&host.app.store.token_list().await.unwrap()).unwrap();
    assert!(!listed.contains(&t) && !listed.contains(&tokens::digest(&t)), "{listed}");
    assert!(host.app.store.audit("acme", None, None).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_port_serves_no_admin_api() {
    let (host, _stub, _db) = host("sec-webhook-port", "").await;
    let client = reqwest::Client::new();
    for path in ["/api/jobs", "/api/timeline/acme/invoice/inv_1", "/api/tokens"] {
        let r = client.get(format!("{}{path}", host.base)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "{path}");
    }
    assert_eq!(client.get(format!("{}/healthz", host.base)).send().await.unwrap().status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_token_sees_only_its_connection() {
    let (host, stub, _db) = host("sec-tenant", "").await;
    stub.add_invoice("inv_g", "cust_g", "USD", 500);
    host.webhook("globex", event("ev_g", "invoice_generated", "invoice", "inv_g"), Some(WEBHOOK_AUTH)).await;
    assert!(host.drain("globex", Duration::from_secs(30)).await);
    let acme = token(&host, "acme-ro", Scope::Operate, Some("acme")).await;
    assert_eq!(admin_get(&host, "/api/jobs?connection=globex", Some(&acme)).await.0, 403);
    assert_eq!(admin_get(&host, "/api/timeline/globex/invoice/inv_g", Some(&acme)).await.0, 403);
    let (status, own) = admin_get(&host, "/api/jobs", Some(&acme)).await;
    assert_eq!((status, own["jobs"].as_array().map(Vec::len)), (200, Some(0)), "no connection asked: its own");
    let replay = reqwest::Client::new()
        .post(format!("{}/api/replay", host.admin))
        .bearer_auth(&acme)
        .json(&serde_json::json!({ "connection": "globex" }))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status().as_u16(), 403);
    let globex = host.app.store.jobs(&Default::default()).await.unwrap();
    assert!(globex.iter().all(|j| j.state == mlc_store::JobState::Done), "nothing replayed: {globex:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_token_cannot_operate_and_operations_are_audited_by_name() {
    let (host, stub, _db) = host("sec-scopes", "").await;
    stub.add_invoice("inv_r", "cust_r", "USD", 700);
    host.webhook("acme", event("ev_r", "invoice_generated", "invoice", "inv_r"), Some(WEBHOOK_AUTH)).await;
    assert!(host.drain("acme", Duration::from_secs(30)).await);
    let (read, operate) =
        (token(&host, "viewer", Scope::Read, None).await, token(&host, "night-ops", Scope::Operate, None).await);
    let replay = |t: String| {
        let url = format!("{}/api/replay", host.admin);
        async move {
            let body = serde_json::json!({ "connection": "acme", "record": "invoice/inv_r" });
            reqwest::Client::new().post(url).bearer_auth(t).json(&body).send().await.unwrap()
        }
    };
    assert_eq!(replay(read.clone()).await.status().as_u16(), 403);
    assert_eq!(admin_get(&host, "/api/tokens", Some(&operate)).await.0, 403, "tokens need admin");
    let r = replay(operate).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["replayed"], 1);
    let lines = host.app.store.audit("acme", None, None).await.unwrap();
    let admin: Vec<_> = lines.iter().filter(|l| l.stage == "admin").collect();
    assert_eq!(admin.len(), 1, "{lines:#?}");
    assert!(admin[0].detail.contains("night-ops"), "{}", admin[0].detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_host_header_is_refused_by_the_admin_plane() {
    let (host, _stub, _db) = host("sec-host", "").await;
    let t = token(&host, "ops", Scope::Admin, None).await;
    let r = reqwest::Client::new()
        .get(format!("{}/api/jobs", host.admin))
        .header("host", "attacker.example:80")
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 421);
    let last_used = host.app.store.token_list().await.unwrap()[0].last_used_at;
    assert!(last_used.is_none(), "refused before the token was even looked at");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_connection_and_wrong_password_get_the_same_401() {
    let (host, _stub, _db) = host("sec-one-401", "").await;
    let body = event("ev_1", "invoice_generated", "invoice", "inv_1");
    let wrong = format!("Basic {}", b64("chargebee:hook-pas"));
    let unknown = host.webhook("no-such-tenant", body.clone(), Some(WEBHOOK_AUTH)).await;
    let bad = host.webhook("acme", body.clone(), Some(&wrong)).await;
    let none = host.webhook("acme", body, None).await;
    assert_eq!(unknown, bad);
    assert_eq!(bad, none);
    assert_eq!(bad.0, 401);
    no_jobs(&host).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_checked_before_the_body_is_read() {
    let (host, _stub, _db) = host("sec-body-late", "").await;
    // A body announced at 1 MB that never comes: a server reading it first would wait for it.
    let addr = host.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let auth = b64("chargebee:wrong");
    let head = format!(
        "POST /webhooks/acme HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\nContent-Length: 1000000\r\n\r\n{{\"id\":"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let t = Instant::now();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(3), tcp.read(&mut buf)).await.expect("answered").unwrap();
    let reply = String::from_utf8_lossy(&buf[..n]);
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");
    assert!(t.elapsed() < Duration::from_secs(2), "answered without waiting for the body: {:?}", t.elapsed());
    no_jobs(&host).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_is_cut_at_the_header_timeout_while_a_real_webhook_is_served() {
    let (host, stub, _db) = host("sec-slowloris", "").await;
    stub.add_invoice("inv_s", "cust_s", "USD", 900);
    let addr = host.base.trim_start_matches("http://").to_string();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"POST /webhooks/acme HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = Instant::now();
    // Drip a header byte every 300 ms; the server must close within its 1 s header timeout.
    let dripping = tokio::spawn(async move {
        let mut buf = [0u8; 256];
        loop {
            if slow.write_all(b"X").await.is_err() {
                return started.elapsed();
            }
            tokio::select! {
                r = slow.read(&mut buf) => if matches!(r, Ok(0) | Err(_)) { return started.elapsed() },
                _ = tokio::time::sleep(Duration::from_millis(300)) => {}
            }
            if started.elapsed() > Duration::from_secs(20) {
                return started.elapsed();
            }
        }
    });
    let (status, body) =
        host.webhook("acme", event("ev_s", "invoice_generated", "invoice", "inv_s"), Some(WEBHOOK_AUTH)).await;
    assert_eq!((status, body["enqueued"].as_i64()), (200, Some(1)), "served meanwhile");
    let closed_after = dripping.await.unwrap();
    assert!(closed_after < Duration::from_secs(5), "slow client held on for {closed_after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_wrong_passwords_add_a_bounded_number_of_audit_rows() {
    let (host, _stub, _db) = host("sec-brute", "").await;
    let client = reqwest::Client::new();
    let body = event("ev_b", "invoice_generated", "invoice", "inv_b");
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..10_000 {
        let auth = format!("Basic {}", b64(&format!("chargebee:guess{i}")));
        let r = client.post(format!("{}/webhooks/acme", host.base)).header("authorization", auth).body(body.clone());
        *statuses.entry(r.send().await.unwrap().status().as_u16()).or_insert(0) += 1;
    }
    assert_eq!(statuses.keys().copied().collect::<Vec<_>>(), [401, 429], "{statuses:?}");
    assert!(statuses[&429] > 9_000, "the source is throttled after a few failures: {statuses:?}");
    host.app.denials.flush(host.app.store.as_ref(), Duration::from_secs(60)).await.unwrap();
    let lines = host.app.store.audit("acme", None, None).await.unwrap();
    assert_eq!(lines.len(), 1, "one summary line, not a row per attempt: {lines:#?}");
    no_jobs(&host).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_ids_and_body_sizes_are_checked_with_a_reason() {
    let (host, _stub, _db) = host("sec-input", "").await;
    let long = event(&"e".repeat(300), "invoice_generated", "invoice", "inv_1");
    let (status, body) = host.webhook("acme", long, Some(WEBHOOK_AUTH)).await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap_or_default().contains("job key must be 1..=200 bytes"), "{body}");
    let control = event("ev\u{1}x", "invoice_generated", "invoice", "inv_1");
    assert_eq!(host.webhook("acme", control, Some(WEBHOOK_AUTH)).await.0, 400);
    let huge = vec![b' '; 2 * 1024 * 1024];
    let (status, body) = host.webhook("acme", huge, Some(WEBHOOK_AUTH)).await;
    assert_eq!(status, 413, "{body}");
    no_jobs(&host).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_target_hits_every_quota_and_leaks_nothing() {
    init_tracing();
    let db = TestDb::from_env().await;
    let stub = start_stub().await;
    stub.add_invoice("inv_f", "cust_f", "USD", 100);
    let extra = connection_block("flood", "standin-mapper", "hostile-target", 4, &stub, "mode = \"flood\"");
    let text = standin_config(&db.url, &shared_cache(), &stub, &[], &extra);
    // CPU enough to finish its flood in one call: each quota is per call.
    let mut cfg: ml_connector::config::Config = toml::from_str(&text).unwrap();
    cfg.components.get_mut("hostile-target").unwrap().cpu_ms = 30_000;
    let host = start_host(&scratch("sec-flood"), &cfg.to_toml().unwrap()).await.unwrap();
    host.webhook("flood", event("ev_f", "invoice_generated", "invoice", "inv_f"), Some(WEBHOOK_AUTH)).await;
    assert!(host.drain("flood", Duration::from_secs(60)).await);
    let lines = host.app.store.audit("flood", None, None).await.unwrap();
    let flood = lines.iter().filter(|l| l.stage == "target:flood").count();
    assert!(flood <= 1_000, "{flood} lines from one call");
    let denied: Vec<_> = lines.iter().filter(|l| l.outcome == "denied").map(|l| l.stage.as_str()).collect();
    assert_eq!(denied, ["audit", "state"], "each quota audited once");
    let job = host.app.store.jobs(&Default::default()).await.unwrap().remove(0);
    assert_eq!((job.state, job.attempt), (mlc_store::JobState::Parked, 1), "{:?}", job.last_error);
    let error = job.last_error.unwrap_or_default();
    let refused: usize = error.split("state refused ").nth(1).and_then(|n| n.trim().parse().ok()).unwrap_or(0);
    assert!(refused >= 1_000, "{error}");
    let (_, api) = admin_get(&host, "/api/jobs", Some(&token(&host, "t", Scope::Read, None).await)).await;
    no_secret_in(&format!("{lines:?} {error} {api}"));
}

/// A self-signed certificate for 127.0.0.1 and its key, as PEM files in `dir`.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    std::fs::create_dir_all(dir).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path, cert.pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_listeners_speak_tls_when_configured() {
    let dir = scratch("sec-tls");
    let (cert, key, pem) = certificate(&dir);
    let tls = format!("cert = \"{}\"\nkey = \"{}\"\n", cert.display(), key.display());
    let (host, stub, _db) = host("sec-tls", &format!("\n[host.tls]\n{tls}\n[admin.tls]\n{tls}")).await;
    assert!(host.base.starts_with("https://") && host.admin.starts_with("https://"), "{} {}", host.base, host.admin);
    stub.add_invoice("inv_t", "cust_t", "USD", 100);
    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let r = trusting
        .post(format!("{}/webhooks/acme", host.base))
        .header("authorization", WEBHOOK_AUTH)
        .body(event("ev_t", "invoice_generated", "invoice", "inv_t"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let t = token(&host, "ops", Scope::Read, None).await;
    let r = trusting.get(format!("{}/api/jobs", host.admin)).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Plain HTTP to the TLS port gets no answer; a client without the certificate refuses it.
    let plain = reqwest::get(format!("{}/healthz", host.base.replace("https://", "http://"))).await;
    assert!(plain.is_err() || plain.is_ok_and(|r| !r.status().is_success()));
    let untrusting = reqwest::Client::builder().tls_certs_only([]).build().unwrap();
    assert!(untrusting.get(format!("{}/healthz", host.base)).send().await.is_err());
}
