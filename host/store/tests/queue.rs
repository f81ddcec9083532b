//! The store's behaviour, one suite run against both backends: each scenario is an async fn
//! over a store URL, called by a `#[tokio::test]` per backend. PostgreSQL tests create their
//! own database on `MLC_TEST_PG_URL` (default the local server) and fail if it is unreachable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use mlc_store::*;

/// A fresh database: SQLite in a temp dir, or a PostgreSQL database dropped with this.
struct Db {
    url: String,
    _pg: Option<testing::PgTestDb>,
}

impl Db {
    async fn sqlite() -> Db {
        let dir = std::env::temp_dir().join(format!("mlc-store-{}", uuid::Uuid::new_v4().simple()));
        Db { url: format!("sqlite://{}", dir.join("q.db").display()), _pg: None }
    }
    async fn postgres() -> Db {
        let pg = testing::PgTestDb::create("mlc_store").await;
        Db { url: pg.url().to_string(), _pg: Some(pg) }
    }
    async fn open(&self) -> Arc<dyn Store> {
        open(&self.url).await.unwrap()
    }
}

fn job(connection: &str, key: &str) -> NewJob {
    NewJob {
        connection: connection.into(),
        key: key.into(),
        kind: "trigger".into(),
        payload: b"{}".to_vec(),
        not_before: None,
        max_attempts: 3,
        record_key: Some(format!("invoice/{key}")),
    }
}

const FAST: Backoff = Backoff { base_ms: 100, cap_ms: 400 };

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name(super::Db::sqlite().await).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name(super::Db::postgres().await).await } )* }
    };
}

both!(
    duplicate_enqueue,
    fencing_and_lease_expiry,
    retry_backoff_snooze_dead,
    expired_lease_without_attempts_dies,
    connection_limit_under_contention,
    no_double_claim,
    wait_release_park_replay,
    records_audit_state_secrets,
    batches_commit_all_or_nothing,
    no_lost_wakeup,
    admin_tokens_and_state_usage
);

async fn duplicate_enqueue(db: Db) {
    let s = db.open().await;
    let a = s.enqueue(job("c", "ev_1")).await.unwrap();
    let b = s.enqueue(job("c", "ev_1")).await.unwrap();
    let Enqueued::Created(id) = a else { panic!("{a:?}") };
    assert_eq!(b, Enqueued::Duplicate(id));
    // Same key on another connection is another job.
    assert!(matches!(s.enqueue(job("d", "ev_1")).await.unwrap(), Enqueued::Created(_)));
    assert_eq!(s.jobs(&JobFilter { connection: Some("c".into()), ..Default::default() }).await.unwrap().len(), 1);
    // Still a duplicate after it is done: a key is never reused.
    let j = s.claim("w", 10_000, 10).await.unwrap();
    for j in j {
        assert!(s.ack(j.id, "w").await.unwrap());
    }
    assert_eq!(s.enqueue(job("c", "ev_1")).await.unwrap(), Enqueued::Duplicate(id));
}

async fn fencing_and_lease_expiry(db: Db) {
    let s = db.open().await;
    s.enqueue(job("c", "ev_1")).await.unwrap();
    let claimed = s.claim("alice", 300, 5).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let id = claimed[0].id;
    assert_eq!((claimed[0].attempt, claimed[0].state), (1, JobState::Running));
    assert!(s.claim("bob", 300, 5).await.unwrap().is_empty(), "a live lease is not claimable");
    assert!(!s.ack(id, "bob").await.unwrap());
    assert!(!s.heartbeat(id, "bob", 300).await.unwrap());
    assert_eq!(s.retry(id, "bob", "x", Retry::Backoff, FAST).await.unwrap(), Retried::LostLease);
    assert!(!s.park(id, "bob", "x").await.unwrap());
    assert!(s.heartbeat(id, "alice", 300).await.unwrap());
    tokio::time::sleep(Duration::from_millis(450)).await;
    let taken = s.claim("bob", 10_000, 5).await.unwrap();
    assert_eq!(taken.len(), 1, "expired lease is claimable again");
    assert_eq!((taken[0].id, taken[0].attempt, taken[0].lease_owner.as_deref()), (id, 2, Some("bob")));
    assert!(!s.ack(id, "alice").await.unwrap(), "the old owner is fenced out");
    assert!(s.ack(id, "bob").await.unwrap());
    assert_eq!(s.job(id).await.unwrap().unwrap().state, JobState::Done);
}

async fn retry_backoff_snooze_dead(db: Db) {
    let s = db.open().await;
    s.enqueue(job("c", "ev_1")).await.unwrap();
    let id = s.claim("w", 10_000, 1).await.unwrap()[0].id;
    let now = s.now().await.unwrap();
    let Retried::At(at) = s.retry(id, "w", "boom 1", Retry::Backoff, FAST).await.unwrap() else { panic!() };
    // attempt 1: ceiling 100 ms, equal jitter → 50..=100 ms from now.
    assert!((now + 50..=now + 100 + 50).contains(&at), "run_at {} ms after now", at - now);
    assert!(s.claim("w", 10_000, 1).await.unwrap().is_empty(), "not due yet");
    // A snooze is exact and gives the attempt back.
    tokio::time::sleep(Duration::from_millis(160)).await;
    let j = s.claim("w", 10_000, 1).await.unwrap();
    assert_eq!(j[0].attempt, 2);
    let now = s.now().await.unwrap();
    let Retried::At(at) = s.retry(id, "w", "429", Retry::After { delay_ms: 250 }, FAST).await.unwrap() else {
        panic!()
    };
    assert!((now + 250..=now + 300).contains(&at), "snooze run_at {} ms after now", at - now);
    let job = s.job(id).await.unwrap().unwrap();
    assert_eq!((job.attempt, job.state, job.last_error.as_deref()), (1, JobState::Available, Some("429")));
    // Use up the attempts: max 3.
    for n in 2..=3 {
        tokio::time::sleep(Duration::from_millis(420)).await;
        let j = s.claim("w", 10_000, 1).await.unwrap();
        assert_eq!(j[0].attempt, n);
        let r = s.retry(id, "w", &format!("boom {n}"), Retry::Backoff, FAST).await.unwrap();
        if n < 3 {
            assert!(matches!(r, Retried::At(_)), "{r:?}");
        } else {
            assert_eq!(r, Retried::Dead);
        }
    }
    let job = s.job(id).await.unwrap().unwrap();
    assert_eq!((job.state, job.last_error.as_deref()), (JobState::Dead, Some("boom 3")));
}

async fn expired_lease_without_attempts_dies(db: Db) {
    let s = db.open().await;
    let mut j = job("c", "ev_1");
    j.max_attempts = 1;
    s.enqueue(j).await.unwrap();
    let id = s.claim("w", 100, 1).await.unwrap()[0].id;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(s.claim("other", 1000, 5).await.unwrap().is_empty());
    let job = s.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Dead);
    assert!(job.last_error.unwrap().contains("lease expired after 1 attempt"));
}

async fn connection_limit_under_contention(db: Db) {
    let first = db.open().await;
    first.set_connection_limit("gp", 4).await.unwrap();
    for i in 0..40 {
        first.enqueue(job("gp", &format!("g{i}"))).await.unwrap();
        first.enqueue(job("free", &format!("f{i}"))).await.unwrap();
    }
    // 16 claimers, each with its own pool (as separate processes would be).
    let mut stores = Vec::new();
    for _ in 0..16 {
        stores.push(db.open().await);
    }
    let mut handles = Vec::new();
    for (i, s) in stores.iter().enumerate() {
        let s = s.clone();
        handles.push(tokio::spawn(async move { s.claim(&format!("w{i}"), 60_000, 3).await.unwrap() }));
    }
    let mut claimed = Vec::new();
    for h in handles {
        claimed.extend(h.await.unwrap());
    }
    let gp = claimed.iter().filter(|j| j.connection == "gp").count();
    let free = claimed.iter().filter(|j| j.connection == "free").count();
    assert_eq!(gp, 4, "limit 4 with 16 concurrent claimers");
    assert!(free > 4, "an unlimited connection is not held back by a full one ({free})");
    let running = first.stats(Some("gp")).await.unwrap().running;
    assert_eq!(running, 4);
    // Acking frees a slot, and only that slot.
    let one = claimed.iter().find(|j| j.connection == "gp").unwrap();
    assert!(first.ack(one.id, one.lease_owner.as_deref().unwrap()).await.unwrap());
    let more = first.claim("late", 60_000, 10).await.unwrap();
    assert_eq!(more.iter().filter(|j| j.connection == "gp").count(), 1);
}

async fn no_double_claim(db: Db) {
    let first = db.open().await;
    let n = 200;
    for i in 0..n {
        first.enqueue(job("c", &format!("ev_{i}"))).await.unwrap();
    }
    let mut handles = Vec::new();
    for w in 0..8 {
        let s = db.open().await;
        handles.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = s.claim(&format!("w{w}"), 60_000, 5).await.unwrap();
                if batch.is_empty() {
                    break;
                }
                for j in batch {
                    assert!(s.ack(j.id, &format!("w{w}")).await.unwrap());
                    got.push(j.id);
                }
            }
            got
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!((total, all.len()), (n, n), "every job claimed exactly once");
    assert_eq!(first.stats(None).await.unwrap().done, n as i64);
}

async fn wait_release_park_replay(db: Db) {
    let s = db.open().await;
    for k in ["pay_1", "inv_1", "cn_1"] {
        s.enqueue(job("c", k)).await.unwrap();
    }
    let jobs = s.claim("w", 60_000, 10).await.unwrap();
    let by = |k: &str| jobs.iter().find(|j| j.key == k).unwrap().id;
    assert!(s.wait_for(by("pay_1"), "w", "invoice:inv_1", "waiting for its invoice").await.unwrap());
    assert!(s.park(by("cn_1"), "w", "fiscal period closed").await.unwrap());
    assert!(s.ack(by("inv_1"), "w").await.unwrap());
    let waiting = s.job(by("pay_1")).await.unwrap().unwrap();
    assert_eq!(
        (waiting.state, waiting.attempt, waiting.wait_key.as_deref()),
        (JobState::Waiting, 0, Some("invoice:inv_1"))
    );
    assert_eq!(s.release("c", "invoice:other").await.unwrap(), 0);
    assert_eq!(s.release("c", "invoice:inv_1").await.unwrap(), 1);
    assert_eq!(s.job(by("pay_1")).await.unwrap().unwrap().state, JobState::Available);
    // Parked jobs resume by filter.
    let parked = JobFilter { connection: Some("c".into()), ..Default::default() };
    assert_eq!(s.resume_parked(&parked).await.unwrap(), 1);
    let resumed = s.job(by("cn_1")).await.unwrap().unwrap();
    assert_eq!((resumed.state, resumed.attempt), (JobState::Available, 0));
    // Replay by record prefix and state: only the done invoice job.
    let f = JobFilter {
        connection: Some("c".into()),
        states: vec![JobState::Done],
        record_key_prefix: Some("invoice/inv".into()),
        ..Default::default()
    };
    assert_eq!(s.replay(&f).await.unwrap(), 1);
    assert_eq!(s.job(by("inv_1")).await.unwrap().unwrap().state, JobState::Available);
    // Created-at range: nothing was created in the future.
    let future = JobFilter { created_after: Some(s.now().await.unwrap() + 60_000), ..Default::default() };
    assert_eq!(s.replay(&future).await.unwrap(), 0);
    // Running jobs are never replayed from under their worker.
    let running = s.claim("w2", 60_000, 1).await.unwrap();
    assert_eq!(s.replay(&JobFilter::default()).await.unwrap(), 2);
    assert_eq!(s.job(running[0].id).await.unwrap().unwrap().state, JobState::Running);
}

async fn records_audit_state_secrets(db: Db) {
    let s = db.open().await;
    let row = |v: i64, state: &str| RecordRow {
        connection: "c".into(),
        record_key: "invoice/inv_1".into(),
        version: v,
        state: state.into(),
        canonical: Some(format!("{{\"v\":{v}}}")),
        ledger: None,
        last_error: None,
        updated_at: 0,
    };
    assert!(s.put_record(&row(5, "fetched")).await.unwrap());
    assert!(!s.put_record(&row(4, "fetched")).await.unwrap(), "an older version never overwrites");
    assert!(s.put_record(&row(5, "written")).await.unwrap());
    let r = s.record("c", "invoice/inv_1").await.unwrap().unwrap();
    assert_eq!((r.version, r.state.as_str(), r.canonical.as_deref()), (5, "written", Some("{\"v\":5}")));

    let ev = |stage: &str| AuditEvent {
        id: 0,
        at: 0,
        connection: "c".into(),
        record_key: Some("invoice/inv_1".into()),
        job_id: Some(7),
        stage: stage.into(),
        outcome: "ok".into(),
        detail: "d".into(),
        component: None,
        duration_ms: Some(3),
    };
    let a = s.append_audit(&ev("fetch")).await.unwrap();
    let b = s.append_audit(&ev("map")).await.unwrap();
    assert!(b > a);
    let events = s.audit("c", Some("invoice/inv_1"), None).await.unwrap();
    assert_eq!(events.iter().map(|e| e.stage.as_str()).collect::<Vec<_>>(), ["fetch", "map"]);
    assert!(events[0].at > 1_700_000_000_000, "db clock in unix ms");
    assert_eq!(s.audit("c", None, Some(7)).await.unwrap().len(), 2);
    // Append-only at the database level.
    let refused = match s.backend() {
        "sqlite" => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            sqlx::query("UPDATE audit_events SET detail = 'rewritten'").execute(&pool).await.is_err()
                && sqlx::query("DELETE FROM audit_events").execute(&pool).await.is_err()
        }
        _ => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            sqlx::query("UPDATE audit_events SET detail = 'rewritten'").execute(&pool).await.is_err()
                && sqlx::query("DELETE FROM audit_events").execute(&pool).await.is_err()
        }
    };
    assert!(refused, "audit rows could be changed");

    assert_eq!(s.state_get("c/src", "cursor").await.unwrap(), None);
    s.state_put("c/src", "cursor", b"abc").await.unwrap();
    s.state_put("c/src", "cursor", b"def").await.unwrap();
    assert_eq!(s.state_get("c/src", "cursor").await.unwrap().as_deref(), Some(&b"def"[..]));
    s.state_delete("c/src", "cursor").await.unwrap();
    assert_eq!(s.state_get("c/src", "cursor").await.unwrap(), None);

    s.secret_put("k", Some("00aa"), b"\x01sealed").await.unwrap();
    assert_eq!(s.secret_get("k").await.unwrap().as_deref(), Some(&b"\x01sealed"[..]));
    let list = s.secret_list().await.unwrap();
    assert_eq!((list.len(), list[0].name.as_str(), list[0].key_id.as_deref()), (1, "k", Some("00aa")));
    assert!(list[0].updated_at > 0);
    // Compare-and-swap: a stale expected ciphertext replaces nothing.
    assert!(!s.secret_replace("k", b"stale", "00bb", b"\x02new").await.unwrap());
    assert!(s.secret_replace("k", b"\x01sealed", "00bb", b"\x02new").await.unwrap());
    assert_eq!(s.secret_get("k").await.unwrap().as_deref(), Some(&b"\x02new"[..]));
    assert_eq!(s.secret_list().await.unwrap()[0].key_id.as_deref(), Some("00bb"));
    assert!(!s.secret_replace("missing", b"x", "00bb", b"y").await.unwrap());
    s.secret_put("old", None, b"\x03v1").await.unwrap();
    assert_eq!(s.secret_list().await.unwrap()[1].key_id, None);
}

async fn batches_commit_all_or_nothing(db: Db) {
    let s = db.open().await;
    let ev = |stage: &str, job_id: Option<i64>| AuditEvent {
        id: 0,
        at: 0,
        connection: "c".into(),
        record_key: Some("invoice/inv_9".into()),
        job_id,
        stage: stage.into(),
        outcome: "ok".into(),
        detail: stage.into(),
        component: None,
        duration_ms: None,
    };
    let row = |v: i64, state: &str| RecordRow {
        connection: "c".into(),
        record_key: "invoice/inv_9".into(),
        version: v,
        state: state.into(),
        canonical: Some("{}".into()),
        ledger: None,
        last_error: None,
        updated_at: 0,
    };

    // Enqueue with its audit line: the line names the new job; a duplicate adds no line.
    let Enqueued::Created(id) = s.enqueue_audited(job("c", "inv_9"), ev("intake", None)).await.unwrap() else {
        panic!("not created")
    };
    assert_eq!(s.enqueue_audited(job("c", "inv_9"), ev("intake", None)).await.unwrap(), Enqueued::Duplicate(id));
    let lines = s.audit("c", Some("invoice/inv_9"), None).await.unwrap();
    assert_eq!(lines.iter().map(|e| (e.stage.as_str(), e.job_id)).collect::<Vec<_>>(), [("intake", Some(id))]);

    // A waiting job, then one batch: audit lines in order, the record, the release.
    let claimed = s.claim("w", 60_000, 1).await.unwrap();
    assert!(s.wait_for(claimed[0].id, "w", "customer/c9", "waiting").await.unwrap());
    let batch = Batch {
        audits: vec![ev("fetch", Some(id)), ev("map", Some(id))],
        record: Some(row(3, "written")),
        release: Some(("c".into(), "customer/c9".into())),
    };
    assert_eq!(s.commit(&batch).await.unwrap(), Committed { record_put: true, released: 1 });
    let stages: Vec<String> =
        s.audit("c", Some("invoice/inv_9"), None).await.unwrap().into_iter().map(|e| e.stage).collect();
    assert_eq!(stages, ["intake", "fetch", "map"]);
    assert_eq!(s.record("c", "invoice/inv_9").await.unwrap().unwrap().state, "written");
    assert_eq!(s.job(id).await.unwrap().unwrap().state, JobState::Available);

    // An older version is not put; the batch's audit lines still land (they say what happened).
    let older = Batch { audits: vec![ev("fetch", Some(id))], record: Some(row(2, "fetched")), release: None };
    assert_eq!(s.commit(&older).await.unwrap(), Committed { record_put: false, released: 0 });
    assert_eq!(s.record("c", "invoice/inv_9").await.unwrap().unwrap().version, 3);
    assert_eq!(s.audit("c", Some("invoice/inv_9"), None).await.unwrap().len(), 4);

    // All or nothing: with the records table out of the way, the record put fails and takes the
    // batch's audit lines with it.
    let before = s.audit("c", Some("invoice/inv_9"), None).await.unwrap().len();
    let exec = |sql: &'static str| {
        let url = db.url.clone();
        async move {
            if url.starts_with("sqlite") {
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
            } else {
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
        }
    };
    exec("ALTER TABLE records RENAME TO records_away").await;
    let doomed = Batch { audits: vec![ev("write", Some(id))], record: Some(row(5, "written")), release: None };
    assert!(s.commit(&doomed).await.is_err());
    exec("ALTER TABLE records_away RENAME TO records").await;
    assert_eq!(
        s.audit("c", Some("invoice/inv_9"), None).await.unwrap().len(),
        before,
        "a failed batch left audit lines behind"
    );
    assert_eq!(s.record("c", "invoice/inv_9").await.unwrap().unwrap().version, 3);
}

/// A job that starts to wait while its dependency's write commits concurrently is never left
/// waiting: the write's release sees it, or its wait sees the write.
async fn no_lost_wakeup(db: Db) {
    let s = db.open().await;
    // Already written: the job does not wait at all. Another connection's record does not count.
    let row = |conn: &str, key: &str| RecordRow {
        connection: conn.into(),
        record_key: key.into(),
        version: 1,
        state: "written".into(),
        canonical: None,
        ledger: None,
        last_error: None,
        updated_at: 0,
    };
    s.commit(&Batch { audits: vec![], record: Some(row("c", "invoice/early")), release: None }).await.unwrap();
    s.commit(&Batch { audits: vec![], record: Some(row("d", "invoice/elsewhere")), release: None }).await.unwrap();
    for k in ["early", "late"] {
        s.enqueue(job("c", k)).await.unwrap();
    }
    let two = s.claim("w", 600_000, 2).await.unwrap();
    assert!(s.wait_for(two[0].id, "w", "invoice/early", "waiting").await.unwrap());
    assert!(s.wait_for(two[1].id, "w", "invoice/elsewhere", "waiting").await.unwrap());
    let (a, b) = (s.job(two[0].id).await.unwrap().unwrap(), s.job(two[1].id).await.unwrap().unwrap());
    assert_eq!((a.state, a.wait_key), (JobState::Available, None));
    assert_eq!((b.state, b.wait_key.as_deref()), (JobState::Waiting, Some("invoice/elsewhere")));
    assert_eq!(s.release("c", "invoice/elsewhere").await.unwrap(), 1);
    for j in s.claim("w", 600_000, 2).await.unwrap() {
        assert!(s.ack(j.id, "w").await.unwrap());
    }

    let n = 500;
    for i in 0..n {
        s.enqueue(job("c", &format!("pay_{i}"))).await.unwrap();
    }
    let claimed = s.claim("w", 600_000, n).await.unwrap();
    assert_eq!(claimed.len(), n);
    let mut tasks = Vec::new();
    for (i, j) in claimed.iter().enumerate() {
        let dep = format!("invoice/dep_{i}");
        let row = RecordRow {
            connection: "c".into(),
            record_key: dep.clone(),
            version: 1,
            state: "written".into(),
            canonical: None,
            ledger: None,
            last_error: None,
            updated_at: 0,
        };
        let (s1, s2, id, dep2) = (s.clone(), s.clone(), j.id, dep.clone());
        tasks.push(tokio::spawn(async move {
            s1.commit(&Batch { audits: vec![], record: Some(row), release: Some(("c".into(), dep)) }).await.unwrap();
        }));
        tasks.push(tokio::spawn(async move {
            assert!(s2.wait_for(id, "w", &dep2, "waiting for its invoice").await.unwrap());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let st = s.stats(Some("c")).await.unwrap();
    assert_eq!((st.waiting, st.available), (0, n as i64), "{st:?}");
}

async fn admin_tokens_and_state_usage(db: Db) {
    let s = db.open().await;
    assert!(s.token_create("ops", "h1", "operate", None).await.unwrap());
    assert!(!s.token_create("ops", "h2", "read", None).await.unwrap(), "a name is taken once");
    assert!(s.token_create("acme-ro", "h3", "read", Some("acme")).await.unwrap());
    let t = s.token_by_hash("h3").await.unwrap().unwrap();
    assert_eq!((t.name.as_str(), t.scope.as_str(), t.connection.as_deref()), ("acme-ro", "read", Some("acme")));
    assert!(t.last_used_at.is_none());
    s.token_used("acme-ro").await.unwrap();
    assert!(s.token_by_hash("h3").await.unwrap().unwrap().last_used_at.is_some());
    assert!(s.token_revoke("acme-ro").await.unwrap());
    assert!(!s.token_revoke("acme-ro").await.unwrap(), "revoked once");
    assert!(s.token_by_hash("h3").await.unwrap().is_none(), "a revoked token authenticates nothing");
    let list = s.token_list().await.unwrap();
    assert_eq!(list.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["acme-ro", "ops"]);
    assert!(list[0].revoked_at.is_some() && list[1].revoked_at.is_none());

    assert_eq!(s.state_usage("a/x").await.unwrap(), (0, 0));
    s.state_put("a/x", "k1", b"abc").await.unwrap();
    s.state_put("a/x", "k2", b"de").await.unwrap();
    s.state_put("a/y", "k1", b"zzzz").await.unwrap();
    assert_eq!(s.state_usage("a/x").await.unwrap(), (2, 5));
}
