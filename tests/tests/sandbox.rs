//! Hostile components against the sandbox: each attack must fail the way the host promises,
//! and a well-behaved connection must keep working beside it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use ml_connector_tests::*;

fn hostile_mapper_connection(id: &str, mode: &str, stub: &Stub) -> String {
    connection_block(id, "hostile-mapper", "standin-target", 4, stub, &format!("mode = \"{mode}\""))
}

async fn timeline(host: &RunningHost, connection: &str, key: &str) -> Vec<mlc_store::AuditEvent> {
    host.app.store.audit(connection, Some(key), None).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_loop_is_interrupted_while_another_job_completes() {
    init_tracing();
    let db = TestDb::from_env().await;
    let stub = start_stub().await;
    stub.add_invoice("inv_loop", "cust_1", "USD", 1000);
    stub.add_invoice("inv_good", "cust_2", "EUR", 2500);
    let extra = hostile_mapper_connection("evil", "loop", &stub);
    let cfg = standin_config(&db.url, &shared_cache(), &stub, &[("good", "standin-mapper", 4)], &extra);
    let host = start_host(&scratch("loop"), &cfg).await.unwrap();

    let (s1, _) =
        host.webhook("evil", event("ev_loop", "invoice_generated", "invoice", "inv_loop"), Some(WEBHOOK_AUTH)).await;
    let (s2, _) =
        host.webhook("good", event("ev_good", "invoice_generated", "invoice", "inv_good"), Some(WEBHOOK_AUTH)).await;
    assert_eq!((s1, s2), (200, 200));

    assert!(host.drain("good", Duration::from_secs(30)).await, "the good job did not complete beside the loop");
    assert_eq!(stub.documents("good").len(), 2, "customer + invoice written for the good connection");

    // The loop's map stage must have been stopped by the CPU budget (cpu_ms = 500), not the
    // 20 s wall-clock limit: the audit line says so and its duration is about the budget.
    let evil = host.app.store.clone();
    assert!(
        wait_until(Duration::from_secs(20), async || {
            evil.audit("evil", Some("invoice/inv_loop"), None)
                .await
                .unwrap()
                .iter()
                .any(|e| e.stage == "map" && e.outcome == "retry")
        })
        .await
    );
    let events = timeline(&host, "evil", "invoice/inv_loop").await;
    let map = events.iter().find(|e| e.stage == "map" && e.outcome == "retry").unwrap();
    assert!(map.detail.contains("exceeded its CPU budget of 500 ms"), "{}", map.detail);
    let took = map.duration_ms.unwrap();
    println!("runaway loop interrupted after {took} ms (budget 500 ms of guest CPU)");
    assert!(took < 1000, "interrupted only after {took} ms");
    assert!(stub.documents("evil").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_bomb_traps_at_the_limit() {
    init_tracing();
    let db = TestDb::from_env().await;
    let stub = start_stub().await;
    stub.add_invoice("inv_mem", "cust_1", "USD", 1000);
    let extra = hostile_mapper_connection("bomb", "memory", &stub);
    let cfg = standin_config(&db.url, &shared_cache(), &stub, &[], &extra);
    let host = start_host(&scratch("mem"), &cfg).await.unwrap();
    let (status, _) =
        host.webhook("bomb", event("ev_mem", "invoice_generated", "invoice", "inv_mem"), Some(WEBHOOK_AUTH)).await;
    assert_eq!(status, 200);
    let store = host.app.store.clone();
    assert!(
        wait_until(Duration::from_secs(30), async || {
            store.audit("bomb", Some("invoice/inv_mem"), None).await.unwrap().iter().any(|e| e.stage == "map")
        })
        .await
    );
    let events = timeline(&host, "bomb", "invoice/inv_mem").await;
    let map = events.iter().find(|e| e.stage == "map").unwrap();
    assert_eq!(map.outcome, "retry");
    assert!(
        map.detail.contains("hit its memory limit") && map.detail.contains("the limit is 33554432 bytes (32 MiB)"),
        "{}",
        map.detail
    );
    // The host keeps serving.
    let (status, _) =
        host.webhook("bomb", event("ev_mem2", "invoice_generated", "invoice", "inv_mem"), Some(WEBHOOK_AUTH)).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egress_off_the_allowlist_is_denied_and_audited() {
    init_tracing();
    let db = TestDb::from_env().await;
    let stub = start_stub().await;
    stub.add_invoice("inv_e", "cust_1", "USD", 1000);
    let extra = connection_block("egress", "standin-mapper", "hostile-target", 4, &stub, "mode = \"egress\"");
    let cfg = standin_config(&db.url, &shared_cache(), &stub, &[], &extra);
    let host = start_host(&scratch("egress"), &cfg).await.unwrap();
    host.webhook("egress", event("ev_e", "invoice_generated", "invoice", "inv_e"), Some(WEBHOOK_AUTH)).await;
    assert!(host.drain("egress", Duration::from_secs(30)).await);
    let events = timeline(&host, "egress", "invoice/inv_e").await;
    let denied: Vec<_> = events.iter().filter(|e| e.stage == "http" && e.outcome == "denied").collect();
    assert!(denied.iter().any(|e| e.detail.contains("169.254.169.254")), "{events:#?}");
    assert!(denied.iter().any(|e| e.detail.contains("evil.example.com")), "{events:#?}");
    let write = events.iter().find(|e| e.stage == "ensure-customer").unwrap();
    assert!(write.detail.contains("169.254.169.254/latest/meta-data/=HttpError::Denied"), "{}", write.detail);
    // Positive control: the allowlisted collector was reachable (so the denials are policy).
    assert!(write.detail.contains("/collect=status:200"), "{}", write.detail);
    assert_eq!(stub.state.collector_auth.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_leave_for_another_origin_or_tenant() {
    init_tracing();
    let db = TestDb::from_env().await;
    let stub = start_stub().await;
    stub.add_invoice("inv_x", "cust_1", "USD", 1000);
    // The collector is allowlisted but on another origin than the secret's bound origin.
    let collector = start_stub().await;
    let mut extra = connection_block(
        "exfil",
        "standin-mapper",
        "hostile-target",
        4,
        &stub,
        &format!("mode = \"exfiltrate\"\ncollector = \"{}/collect\"", collector.base()),
    );
    extra = extra.replace(
        &format!("[connections.target]\ncomponent = \"hostile-target\"\nallow_http = [\"{}\"]", stub.origin()),
        &format!(
            "[connections.target]\ncomponent = \"hostile-target\"\nallow_http = [\"{}\", \"{}\"]",
            stub.origin(),
            collector.origin()
        ),
    );
    // Remove the duplicated `collector` key the block already sets.
    extra = extra.replacen(&format!("collector = \"{}/collect\"\n", stub.base()), "", 1);
    let cfg = standin_config(&db.url, &shared_cache(), &stub, &[], &extra);
    let host = start_host(&scratch("exfil"), &cfg).await.unwrap();
    host.webhook("exfil", event("ev_x", "invoice_generated", "invoice", "inv_x"), Some(WEBHOOK_AUTH)).await;
    assert!(host.drain("exfil", Duration::from_secs(30)).await);
    let events = timeline(&host, "exfil", "invoice/inv_x").await;
    let write = events.iter().find(|e| e.stage == "ensure-customer").unwrap();
    assert!(write.detail.contains("Denied") && write.detail.contains("is bound to"), "{}", write.detail);
    assert!(write.detail.contains("other-tenant-key=SecretError::NotGranted"), "{}", write.detail);
    assert!(
        collector.state.collector_auth.lock().unwrap().is_empty(),
        "the request with the secret must not have been sent"
    );
    // No stored line anywhere carries a secret value.
    let all = host.app.store.audit("exfil", None, None).await.unwrap();
    let text = format!("{all:?} {events:?}");
    for secret in ["test_api_key_123", "ledger-password-456", "other-tenant-secret-789", "hook-pass"] {
        assert!(!text.contains(secret), "secret {secret} leaked into the audit trail");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_filesystem_or_environment_without_a_grant() {
    init_tracing();
    let db = TestDb::from_env().await;
    let stub = start_stub().await;
    stub.add_invoice("inv_fs", "cust_1", "USD", 1000);
    let granted = scratch("granted-dir");
    std::fs::create_dir_all(&granted).unwrap();
    std::fs::write(granted.join("granted.txt"), "visible-by-grant").unwrap();
    let mut extra = hostile_mapper_connection("nofs", "fs", &stub);
    let with_grant = hostile_mapper_connection("withfs", "fs", &stub).replace(
        "[connections.mapper]\ncomponent = \"hostile-mapper\"\n",
        &format!(
            "[connections.mapper]\ncomponent = \"hostile-mapper\"\ndirs = [{{ host = \"{}\", guest = \"/data\" }}]\n",
            granted.display()
        ),
    );
    extra.push_str(&with_grant);
    // SAFETY-free: env vars of the host must not reach the guest.
    let cfg = standin_config(&db.url, &shared_cache(), &stub, &[], &extra);
    let host = start_host(&scratch("fs"), &cfg).await.unwrap();
    for conn in ["nofs", "withfs"] {
        host.webhook(conn, event(&format!("ev_{conn}"), "invoice_generated", "invoice", "inv_fs"), Some(WEBHOOK_AUTH))
            .await;
    }
    assert!(host.drain("nofs", Duration::from_secs(30)).await && host.drain("withfs", Duration::from_secs(30)).await);
    let detail = |events: Vec<mlc_store::AuditEvent>| events.into_iter().find(|e| e.stage == "map").unwrap().detail;
    let none = detail(timeline(&host, "nofs", "invoice/inv_fs").await);
    assert!(none.contains("readdir(/)=err"), "{none}");
    assert!(none.contains("read(/etc/passwd)=err"), "{none}");
    assert!(none.contains("write(/tmp)=err"), "{none}");
    assert!(none.contains("read(/data/granted.txt)=err"), "{none}");
    assert!(none.contains("env=0"), "{none}");
    let some = detail(timeline(&host, "withfs", "invoice/inv_fs").await);
    assert!(some.contains("read(/data/granted.txt)=ok:visible-by-grant"), "positive control failed: {some}");
    assert!(some.contains("read(/etc/passwd)=err"), "{some}");
}
