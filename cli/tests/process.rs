//! Tests of the built `ml-connector` binary as separate processes: component swap without
//! rebuilding the host, crash (SIGKILL) recovery through lease expiry, and two replicas sharing
//! one PostgreSQL queue. They live in the host package so Cargo hands them the binary's path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ml_connector_tests::*;

const BIN: &str = env!("CARGO_BIN_EXE_ml-connector");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Proc {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Proc {
    fn start(dir: &Path, config_text: &str, name: &str) -> Proc {
        let port = free_port();
        let text = config_text.replace("listen = \"127.0.0.1:0\"", &format!("listen = \"127.0.0.1:{port}\""));
        std::fs::create_dir_all(dir).unwrap();
        let config = dir.join(format!("{name}.toml"));
        std::fs::write(&config, text).unwrap();
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(std::fs::File::options().append(true).open(&log).unwrap()))
            .spawn()
            .unwrap();
        Proc { child, base: format!("http://127.0.0.1:{port}"), log }
    }

    async fn ready(&mut self) {
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("host exited early ({status}):\n{}", std::fs::read_to_string(&self.log).unwrap_or_default());
            }
            if client.get(format!("{}/healthz", self.base)).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("host did not come up:\n{}", std::fs::read_to_string(&self.log).unwrap_or_default());
    }

    async fn webhook(&self, connection: &str, body: Vec<u8>) -> u16 {
        reqwest::Client::new()
            .post(format!("{}/webhooks/{connection}", self.base))
            .header("authorization", WEBHOOK_AUTH)
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    fn sigkill(&mut self) {
        self.child.kill().unwrap(); // SIGKILL on unix
        self.child.wait().unwrap();
    }

    fn sigterm(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        for _ in 0..200 {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        self.sigkill();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sha256_file(p: &str) -> String {
    ml_connector::runtime::file_digest(Path::new(p)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapping_the_mapper_changes_behaviour_with_the_same_binary() {
    init_tracing();
    let db = TestDb::from_env().await;
    let stub = start_stub().await;
    stub.add_invoice("inv_1", "cust_1", "USD", 700);
    stub.add_invoice("inv_2", "cust_2", "USD", 800);
    let dir = scratch("swap");
    let cfg = standin_config(&db.url, &shared_cache(), &stub, &[("acme", "standin-mapper", 4)], "");
    let binary_before = sha256_file(BIN);

    let mut a = Proc::start(&dir, &cfg, "v1");
    a.ready().await;
    assert_eq!(a.webhook("acme", event("ev_1", "invoice_generated", "invoice", "inv_1")).await, 200);
    assert!(wait_until(Duration::from_secs(30), async || stub.documents("acme").len() == 2).await);
    a.sigterm();

    // Swap: point the mapper at the v2 file and pin its digest. Same binary, restart.
    let (v1_path, v1_digest) = component("standin-mapper");
    let (v2_path, v2_digest) = component("standin-mapper-v2");
    assert_ne!(v1_digest, v2_digest);
    let swapped = cfg.replacen(
        &format!("[components.standin-mapper]\npath = \"{}\"\nsha256 = \"{v1_digest}\"", v1_path.display()),
        &format!("[components.standin-mapper]\npath = \"{}\"\nsha256 = \"{v2_digest}\"", v2_path.display()),
        1,
    );
    assert_ne!(swapped, cfg);
    // A file whose digest does not match the pin is refused before anything runs.
    let mismatched = cfg.replacen(&format!("sha256 = \"{v1_digest}\""), &format!("sha256 = \"{v2_digest}\""), 1);
    let mut bad = Proc::start(&dir, &mismatched, "mismatch");
    let status = tokio::task::block_in_place(|| bad.child.wait().unwrap());
    assert!(!status.success());
    assert!(std::fs::read_to_string(&bad.log).unwrap().contains("but the config pins"));

    let mut b = Proc::start(&dir, &swapped, "v2");
    b.ready().await;
    assert_eq!(b.webhook("acme", event("ev_2", "invoice_generated", "invoice", "inv_2")).await, 200);
    assert!(wait_until(Duration::from_secs(30), async || stub.documents("acme").len() == 4).await);
    b.sigterm();
    let docs = stub.documents("acme");
    let inv1 = docs.iter().find(|(k, _)| k.1 == "CB-inv_1").expect("v1 numbering");
    let inv2 = docs.iter().find(|(k, _)| k.1 == "CB2-inv_2").expect("v2 numbering");
    assert_eq!(inv1.1["description"], "mapped by standin-mapper v1");
    assert_eq!(inv2.1["description"], "mapped by standin-mapper v2");
    assert_eq!(sha256_file(BIN), binary_before, "the host binary must be untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_of_a_killed_worker_is_taken_over_after_its_lease_and_completes_once() {
    init_tracing();
    let db = TestDb::from_env().await;
    let stub = start_stub().await;
    stub.add_invoice("inv_k", "cust_k", "USD", 4_200);
    *stub.state.ledger_delay_ms.lock().unwrap() = 2_000;
    let dir = scratch("kill");
    let cfg = standin_config(&db.url, &shared_cache(), &stub, &[("acme", "standin-mapper", 4)], "")
        .replace("lease_ms = 2000", "lease_ms = 1500");

    let mut a = Proc::start(&dir, &cfg, "a");
    a.ready().await;
    assert_eq!(a.webhook("acme", event("ev_k", "invoice_generated", "invoice", "inv_k")).await, 200);
    // Kill it while its first ledger write is in flight (the ledger will still commit it:
    // the worker never learns, like a lost response).
    assert!(wait_until(Duration::from_secs(30), async || stub.max_in_flight("acme") >= 1).await);
    a.sigkill();
    *stub.state.ledger_delay_ms.lock().unwrap() = 0;

    let mut b = Proc::start(&dir, &cfg, "b");
    b.ready().await;
    let store = mlc_store::open(&db.url).await.unwrap();
    assert!(
        wait_until(Duration::from_secs(30), async || {
            store.job_by_key("acme", "ev_k").await.unwrap().is_some_and(|j| j.state == mlc_store::JobState::Done)
        })
        .await,
        "job not completed by the second process:\n{}",
        std::fs::read_to_string(&b.log).unwrap_or_default()
    );
    let job = store.job_by_key("acme", "ev_k").await.unwrap().unwrap();
    assert_eq!(job.attempt, 2, "claimed once by each process");
    let docs = stub.documents("acme");
    assert_eq!(docs.len(), 2, "exactly one customer and one invoice: {docs:?}");
    b.sigterm();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_postgres_never_run_a_job_twice() {
    init_tracing();
    let db = TestDb::postgres().await;
    let stub = start_stub().await;
    *stub.state.ledger_delay_ms.lock().unwrap() = 5;
    let n = 60;
    for i in 0..n {
        stub.add_invoice(&format!("inv_{i}"), &format!("cust_{i}"), "EUR", 1_000 + i);
    }
    let dir = scratch("replicas");
    let cfg = standin_config(&db.url, &shared_cache(), &stub, &[("acme", "standin-mapper", 8)], "");
    let mut a = Proc::start(&dir, &cfg, "a");
    a.ready().await;
    let mut b = Proc::start(&dir, &cfg, "b");
    b.ready().await;
    for i in 0..n {
        let target = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            target
                .webhook("acme", event(&format!("ev_{i}"), "invoice_generated", "invoice", &format!("inv_{i}")))
                .await,
            200
        );
    }
    let store = mlc_store::open(&db.url).await.unwrap();
    assert!(wait_until(Duration::from_secs(90), async || store.stats(Some("acme")).await.unwrap().done == n).await);
    for i in 0..n {
        assert_eq!(stub.fetch_count("invoice", &format!("inv_{i}")), 1, "inv_{i} fetched more than once");
    }
    let calls = stub.state.write_calls.lock().unwrap().clone();
    assert!(calls.values().all(|&c| c == 1), "a document was written twice: {calls:?}");
    assert_eq!(calls.len() as i64, 2 * n);
    a.sigterm();
    b.sigterm();
}
