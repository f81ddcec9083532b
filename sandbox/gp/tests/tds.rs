//! The SQL Server endpoint (TDS 7.4) with a real client, tiberius, against `serve` and an
//! in-memory backend that records what reaches the Session.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "tds_client/fake.rs"]
mod fake;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use fake::{Fake, PASSWORD, USER};
use gp_sandbox::tds::{SqlValue, serve};
use tiberius::numeric::Numeric;
use tiberius::time::chrono::{NaiveDate, NaiveDateTime};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

type Tds = Client<Compat<TcpStream>>;

async fn start() -> (SocketAddr, Fake) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = Fake::default();
    tokio::spawn(serve(listener, Arc::new(fake.clone())));
    (addr, fake)
}

async fn connect_as(addr: SocketAddr, user: &str, password: &str) -> tiberius::Result<Tds> {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(addr.port());
    config.database("TWO");
    config.authentication(AuthMethod::sql_server(user, password));
    config.encryption(EncryptionLevel::NotSupported);
    let tcp = TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    Client::connect(config, tcp.compat_write()).await
}

async fn connect(addr: SocketAddr) -> Tds {
    connect_as(addr, USER, PASSWORD).await.unwrap()
}

fn server_code(e: &tiberius::error::Error) -> u32 {
    match e {
        tiberius::error::Error::Server(token) => token.code(),
        other => panic!("expected a server error, got {other:?}"),
    }
}

/// The error of a request that must fail.
fn refused<T>(result: tiberius::Result<T>) -> tiberius::error::Error {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

/// The server error a batch ends with (tiberius reports it at the send or at the read).
async fn batch_error(c: &mut Tds, sql: &str) -> u32 {
    match c.simple_query(sql).await {
        Err(e) => server_code(&e),
        Ok(stream) => server_code(&stream.into_results().await.expect_err("an error")),
    }
}

const WRAPPER: &str = "DECLARE @rc int, @e int, @s varchar(255); EXEC @rc = dbo.taRMTransaction @I_vDOCNUMBR = @P1, \
    @I_vRMDTYPAL = @P2, @I_vDOCAMNT = @P3, @I_vDOCDATE = @P4, @O_iErrorState = @e OUTPUT, @oErrString = @s OUTPUT; \
    SELECT @rc AS rc, @e AS error_state, @s AS error_string";

fn doc_date() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 1, 31).unwrap().and_hms_opt(0, 0, 0).unwrap()
}

fn prim(y: i32, m: u8, d: u8) -> SqlValue {
    let date = time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap();
    SqlValue::DateTime(time::PrimitiveDateTime::new(date, time::Time::MIDNIGHT))
}

#[tokio::test]
async fn login_right_and_wrong_password() {
    let (addr, fake) = start().await;
    let client = connect(addr).await;
    client.close().await.unwrap();
    let err = refused(connect_as(addr, USER, "wrong").await);
    assert_eq!(server_code(&err), 18456);
    assert!(err.to_string().contains(&format!("Login failed for user '{USER}'")), "{err}");
    assert_eq!(fake.events(), vec!["login TWO"]);
}

#[tokio::test]
async fn wrapper_call_reaches_the_session_in_a_transaction() {
    let (addr, fake) = start().await;
    let mut c = connect(addr).await;
    c.simple_query("BEGIN TRANSACTION").await.unwrap().into_results().await.unwrap();
    let amount = Numeric::new_with_scale(12_345_000, 5);
    let row = c
        .query(WRAPPER, &[&"INV-0001", &1i32, &amount, &doc_date()])
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .expect("one row");
    assert_eq!(row.get::<i32, _>("rc"), Some(0));
    assert_eq!(row.get::<i32, _>("error_state"), Some(0));
    assert_eq!(row.get::<&str, _>("error_string"), Some(""));
    c.simple_query("COMMIT TRANSACTION").await.unwrap().into_results().await.unwrap();

    let rec = fake.snapshot();
    assert_eq!(rec.events, vec!["login TWO", "begin", "call taRMTransaction", "commit"]);
    let (proc, params) = &rec.calls[0];
    assert_eq!(proc, "taRMTransaction");
    assert_eq!(
        params,
        &vec![
            ("@I_vDOCNUMBR".to_string(), SqlValue::Text("INV-0001".into())),
            ("@I_vRMDTYPAL".to_string(), SqlValue::Int(1)),
            ("@I_vDOCAMNT".to_string(), SqlValue::Decimal { units: 12_345_000, scale: 5 }),
            ("@I_vDOCDATE".to_string(), prim(2024, 1, 31)),
        ]
    );
}

#[tokio::test]
async fn refused_call_then_rollback() {
    let (addr, fake) = start().await;
    let mut c = connect(addr).await;
    c.simple_query("BEGIN TRAN").await.unwrap().into_results().await.unwrap();
    let wrapper = WRAPPER.replace("taRMTransaction", "taFail");
    let row = c.query(wrapper, &[&"X", &1i32, &Numeric::new_with_scale(1, 0), &doc_date()]).await.unwrap();
    let row = row.into_row().await.unwrap().unwrap();
    assert_eq!(row.get::<i32, _>(0), Some(1));
    assert_eq!(row.get::<i32, _>(1), Some(1234));
    assert_eq!(row.get::<&str, _>(2), Some("1234 5678"));
    c.simple_query("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION").await.unwrap().into_results().await.unwrap();
    // Nothing open any more: the same statement is a no-op, a bare ROLLBACK is error 3903.
    c.simple_query("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION").await.unwrap().into_results().await.unwrap();
    assert_eq!(batch_error(&mut c, "ROLLBACK").await, 3903);
    assert_eq!(fake.events(), vec!["login TWO", "begin", "call taFail", "rollback"]);
}

#[tokio::test]
async fn query_returns_every_column_type() {
    let (addr, fake) = start().await;
    let mut c = connect(addr).await;
    let sql = "SELECT RMDTYPAL, DOCAMNT, CUSTNAME, DOCDATE, CSTPONBR FROM RM00101 WHERE CUSTNMBR = @P1";
    let rows = c.query(sql, &[&"AARONFIT0001"]).await.unwrap().into_first_result().await.unwrap();
    assert_eq!(rows.len(), 2);
    let (a, b) = (&rows[0], &rows[1]);
    assert_eq!(a.get::<i32, _>(0), Some(1));
    assert_eq!(a.get::<Numeric, _>(1), Some(Numeric::new_with_scale(12_345_000, 5)));
    assert_eq!(a.get::<&str, _>(2), Some("Aäron Fitz "));
    assert_eq!(a.get::<NaiveDateTime, _>(3), Some(doc_date()));
    assert_eq!(a.get::<&str, _>(4), None);
    assert_eq!(b.get::<i32, _>(0), Some(-7));
    assert_eq!(b.get::<Numeric, _>(1), Some(Numeric::new_with_scale(-5_000, 5)));
    assert_eq!(b.get::<&str, _>(2), None);
    assert_eq!(b.get::<NaiveDateTime, _>(3), None);
    assert_eq!(b.get::<&str, _>("CSTPONBR"), Some("PO-1"));
    let (got, params) = &fake.snapshot().queries[0];
    assert_eq!(got, sql);
    assert_eq!(params, &vec![SqlValue::Text("AARONFIT0001".into())]);
    // The same text as a plain batch (no parameters) reaches the session too.
    let plain = c.simple_query("SELECT 1 AS one; SELECT CUSTNMBR FROM RM00101").await.unwrap();
    let sets = plain.into_results().await.unwrap();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0][0].get::<i32, _>("one"), Some(1));
    assert_eq!(fake.snapshot().queries[1], ("SELECT CUSTNMBR FROM RM00101".to_string(), vec![]));
}

#[tokio::test]
async fn long_statement_goes_plp_and_still_parses() {
    let (addr, fake) = start().await;
    let mut c = connect(addr).await;
    let padding = format!("/* {} */", "x".repeat(6000));
    let long = WRAPPER.replacen("EXEC", &format!("{padding} EXEC"), 1);
    assert!(long.len() > 4000);
    let row = c.query(long, &[&"INV-2", &3i32, &Numeric::new_with_scale(5, 1), &doc_date()]).await.unwrap();
    assert_eq!(row.into_row().await.unwrap().unwrap().get::<i32, _>("error_state"), Some(0));
    assert_eq!(fake.snapshot().calls[0].1[0].1, SqlValue::Text("INV-2".into()));
}

#[tokio::test]
async fn unknown_statements_and_session_errors_leave_the_connection_usable() {
    let (addr, _fake) = start().await;
    let mut c = connect(addr).await;
    let err = refused(c.simple_query("DROP TABLE RM00101").await);
    assert_eq!(server_code(&err), 102);
    assert!(err.to_string().contains("Incorrect syntax near 'DROP'."), "{err}");
    let err = refused(c.query("SELECT X FROM NOWHERE WHERE A = @P1", &[&1i32]).await);
    assert_eq!(server_code(&err), 208);
    let nope = WRAPPER.replace("taRMTransaction", "taNope");
    let err = refused(c.query(nope, &[&"X", &1i32, &Numeric::new_with_scale(1, 0), &doc_date()]).await);
    assert_eq!(server_code(&err), 2812);
    let one = c.query("SELECT 1", &[]).await.unwrap().into_row().await.unwrap().unwrap();
    assert_eq!(one.get::<i32, _>(0), Some(1));
    let version = c.simple_query("SELECT @@VERSION").await.unwrap().into_row().await.unwrap().unwrap();
    assert!(version.get::<&str, _>(0).unwrap().contains("SQL Server"));
}

#[tokio::test]
async fn use_set_and_several_statements() {
    let (addr, fake) = start().await;
    let mut c = connect(addr).await;
    let batch =
        "SET NOCOUNT ON; SET XACT_ABORT ON\nset textsize 2147483647\nUSE [DYNAMICS]; USE TWO; BEGIN TRAN; COMMIT TRAN";
    c.simple_query(batch).await.unwrap().into_results().await.unwrap();
    assert_eq!(batch_error(&mut c, "USE NOPE").await, 911);
    assert_eq!(fake.events(), vec!["login TWO", "use DYNAMICS", "use TWO", "begin", "commit"]);
}

#[tokio::test]
async fn a_procedure_that_rolls_back_ends_the_transaction() {
    let (addr, fake) = start().await;
    let mut c = connect(addr).await;
    c.simple_query("BEGIN TRANSACTION").await.unwrap().into_results().await.unwrap();
    let wrapper = WRAPPER.replace("taRMTransaction", "taRollsBack");
    let row = c.query(wrapper, &[&"X", &1i32, &Numeric::new_with_scale(1, 0), &doc_date()]).await.unwrap();
    assert_eq!(row.into_row().await.unwrap().unwrap().get::<i32, _>(1), Some(99));
    let n = c.simple_query("SELECT @@TRANCOUNT").await.unwrap().into_row().await.unwrap().unwrap();
    assert_eq!(n.get::<i32, _>(0), Some(0));
    assert_eq!(batch_error(&mut c, "COMMIT TRANSACTION").await, 3902);
    assert_eq!(fake.events(), vec!["login TWO", "begin", "call taRollsBack"]);
}

#[tokio::test]
async fn closing_mid_transaction_rolls_back() {
    let (addr, fake) = start().await;
    let mut c = connect(addr).await;
    c.simple_query("BEGIN TRANSACTION").await.unwrap().into_results().await.unwrap();
    drop(c);
    for _ in 0..100 {
        if fake.events().last().map(String::as_str) == Some("rollback") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no rollback after disconnect: {:?}", fake.events());
}

// ------------------------------------------------------------------------------------------
// python-tds (pytds): RPC by name with OUTPUT parameters, TM requests, parameterised queries.

fn python() -> String {
    std::env::var("GP_SANDBOX_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn has_pytds() -> bool {
    std::process::Command::new(python()).args(["-c", "import pytds"]).status().is_ok_and(|s| s.success())
}

#[tokio::test]
async fn python_tds_client() {
    if !tokio::task::spawn_blocking(has_pytds).await.unwrap() {
        eprintln!("SKIPPED python_tds_client: {} cannot `import pytds` (pip install python-tds)", python());
        return;
    }
    let (addr, fake) = start().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tds_client/pytds_client.py");
    let args = [script.to_string(), "127.0.0.1".into(), addr.port().to_string(), USER.into(), PASSWORD.into()];
    let run = move || std::process::Command::new(python()).args(&args).output().expect("run python");
    let out = tokio::time::timeout(Duration::from_secs(60), tokio::task::spawn_blocking(run)).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "pytds script failed:\n{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("bad report ({e}): {stdout}\n{stderr}"));
    eprintln!("pytds report: {report}");
    assert_eq!(report["wrong_login"]["number"], 18456, "{report}");
    assert_eq!(report["ok_outputs"], serde_json::json!([0, ""]));
    assert_eq!(report["ok_status"], 0);
    assert_eq!(report["fail_outputs"], serde_json::json!([1234, "1234 5678"]));
    assert_eq!(report["fail_status"], 1);
    assert_eq!(report["error_text"], serde_json::json!([["text of Some(Int(1234))"]]));
    assert_eq!(report["columns"], serde_json::json!(["RMDTYPAL", "DOCAMNT", "CUSTNAME", "DOCDATE", "CSTPONBR"]));
    // (pytds reads NUMERIC(19,5) 123.45000 as Decimal('123.45').)
    assert_eq!(
        report["rows"],
        serde_json::json!([
            [1, "123.45", "Aäron Fitz ", "2024-01-31T00:00:00", null],
            [-7, "-0.05", null, null, "PO-1"]
        ])
    );
    assert_eq!(report["bad_statement"], 102);
    assert_eq!(report["after_error"], 1);
    assert_eq!(report["autocommit_outputs"], serde_json::json!([0, ""]));

    let rec = fake.snapshot();
    let (proc, params) = &rec.calls[0];
    assert_eq!(proc, "taRMTransaction");
    assert_eq!(
        params,
        &vec![
            ("@I_vDOCNUMBR".to_string(), SqlValue::Text("INV-PY-1".into())),
            ("@I_vRMDTYPAL".to_string(), SqlValue::Int(1)),
            // pytds sends Decimal('123.45000') at the scale it normalises to: NUMERIC(5,2).
            ("@I_vDOCAMNT".to_string(), SqlValue::Decimal { units: 12_345, scale: 2 }),
            ("@I_vDOCDATE".to_string(), prim(2024, 1, 31)),
        ]
    );
    assert_eq!(rec.calls[1].0, "taFail");
    assert_eq!(rec.queries[0].1, vec![SqlValue::Int(1234)]);
    assert_eq!(rec.queries[1].1, vec![SqlValue::Text("AARONFIT0001".into())]);
    // Transactions: TM begin before the first call, commit (+ begin again: pytds commits with
    // "continue"), the rest rolled back at close; the autocommit connection has none.
    let events: Vec<&str> = rec.events.iter().map(String::as_str).collect();
    assert_eq!(&events[..4], &["login TWO", "begin", "call taRMTransaction", "call taFail"], "{events:?}");
    let commit = events.iter().position(|e| *e == "commit").expect("a commit");
    assert_eq!(events[commit + 1], "begin", "{events:?}");
    assert_eq!(&events[events.len() - 2..], &["login TWO", "call taRMApply"], "{events:?}");
}

// ------------------------------------------------------------------------------------------
// Fuzz-ish: a real client's bytes, mutated and truncated, plus random packets after a valid
// login. The server must neither panic (serve_connection is awaited here, so a panic fails the
// test) nor hang (each connection ends within the timeout once the client's bytes end).

mod fuzz {
    use super::*;
    use gp_sandbox::tds::serve_connection;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::pin::Pin;
    use std::sync::Mutex;
    use std::task::{Context, Poll};
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

    /// A TCP stream that keeps a copy of everything written to it.
    struct Recording {
        inner: TcpStream,
        log: Arc<Mutex<Vec<u8>>>,
    }

    impl AsyncRead for Recording {
        fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Recording {
        fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
            let this = self.get_mut();
            let polled = Pin::new(&mut this.inner).poll_write(cx, data);
            if let Poll::Ready(Ok(n)) = polled {
                this.log.lock().unwrap().extend_from_slice(&data[..n]);
            }
            polled
        }
        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.get_mut().inner).poll_flush(cx)
        }
        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
        }
    }

    /// What tiberius sends for login, a transaction, the wrapper call, a query and a long
    /// (PLP) statement.
    async fn record_session() -> Vec<u8> {
        let (addr, _fake) = start().await;
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut config = Config::new();
        config.port(addr.port());
        config.database("TWO");
        config.authentication(AuthMethod::sql_server(USER, PASSWORD));
        config.encryption(EncryptionLevel::NotSupported);
        let tcp = Recording { inner: TcpStream::connect(addr).await.unwrap(), log: log.clone() };
        let mut c = Client::connect(config, tcp.compat_write()).await.unwrap();
        c.simple_query("BEGIN TRANSACTION").await.unwrap().into_results().await.unwrap();
        let amount = Numeric::new_with_scale(12_345_000, 5);
        c.query(WRAPPER, &[&"INV-1", &1i32, &amount, &doc_date()]).await.unwrap().into_results().await.unwrap();
        c.query("SELECT CUSTNMBR FROM RM00101 WHERE CUSTNMBR = @P1", &[&"A"])
            .await
            .unwrap()
            .into_results()
            .await
            .unwrap();
        let long = format!("SELECT 1 /* {} */", "y".repeat(5000));
        c.query(long, &[&1.5f64]).await.unwrap().into_results().await.unwrap();
        c.simple_query("COMMIT").await.unwrap().into_results().await.unwrap();
        c.close().await.unwrap();
        log.lock().unwrap().clone()
    }

    /// Where the LOGIN7 message ends in `wire`.
    fn login_end(wire: &[u8]) -> usize {
        let mut at = 0;
        while at + 8 <= wire.len() {
            let len = u16::from_be_bytes([wire[at + 2], wire[at + 3]]) as usize;
            let (kind, eom) = (wire[at], wire[at + 1] & 1 == 1);
            at += len;
            if kind == 0x10 && eom {
                return at;
            }
        }
        panic!("no LOGIN7 in the recording");
    }

    fn packet(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![kind, 1];
        p.extend_from_slice(&((payload.len() + 8) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0, 1, 0]);
        p.extend_from_slice(payload);
        p
    }

    fn random_bytes(rng: &mut StdRng, max: usize) -> Vec<u8> {
        let n = rng.random_range(0..max);
        (0..n).map(|_| rng.random()).collect()
    }

    /// A request with a valid header and ALL_HEADERS, then random bytes (after an RPC or TM
    /// prefix now and then).
    fn random_request(rng: &mut StdRng) -> Vec<u8> {
        let kinds = [0x01, 0x03, 0x03, 0x06, 0x0E, 0x10, 0x11, 0x12, rng.random()];
        let kind = kinds[rng.random_range(0..kinds.len())];
        let mut payload = Vec::new();
        if rng.random_bool(0.7) {
            payload.extend_from_slice(&22u32.to_le_bytes());
            payload.extend_from_slice(&18u32.to_le_bytes());
            payload.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
        }
        match (kind, rng.random_range(0..3)) {
            (0x03, 0) => payload.extend_from_slice(&[0xFF, 0xFF, 10, 0, 0, 0]),
            (0x03, 1) => payload.extend_from_slice(&[3, 0, b't', 0, b'a', 0, b'X', 0, 0, 0, 2, b'@', 0, b'A', 0, 0]),
            (0x0E, _) => payload.extend_from_slice(&[rng.random_range(0..12), 0]),
            _ => {}
        }
        payload.extend(random_bytes(rng, 300));
        packet(kind, &payload)
    }

    fn mutate(rng: &mut StdRng, wire: &[u8], login: usize) -> Vec<u8> {
        let mut out = wire.to_vec();
        match rng.random_range(0..7) {
            0 => out.truncate(rng.random_range(0..wire.len())),
            1 | 2 => {
                let from = if rng.random_bool(0.5) { 0 } else { login };
                for _ in 0..rng.random_range(1..8) {
                    let at = rng.random_range(from..out.len());
                    out[at] = rng.random();
                }
            }
            3 => {
                out.truncate(login);
                for _ in 0..rng.random_range(1..5) {
                    out.extend(random_request(rng));
                }
            }
            4 => out = random_bytes(rng, 2000),
            5 => {
                out.truncate(login);
                out.extend(random_bytes(rng, 2000));
            }
            _ => {
                out.truncate(login);
                let mut p = random_request(rng);
                p[2..4].copy_from_slice(&rng.random::<u16>().to_be_bytes());
                out.extend(p);
            }
        }
        out
    }

    /// Plays `bytes` as a client and returns the server's answer.
    async fn feed(bytes: Vec<u8>) -> Vec<u8> {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let (_stop, shutdown) = tokio::sync::watch::channel(false);
        let backend: Arc<dyn gp_sandbox::tds::Backend> = Arc::new(Fake::default());
        let talk = async move {
            let _ = client.write_all(&bytes).await;
            let _ = client.shutdown().await;
            let mut reply = Vec::new();
            let _ = client.read_to_end(&mut reply).await;
            reply
        };
        let both = async { tokio::join!(serve_connection(server, backend, shutdown), talk) };
        tokio::time::timeout(Duration::from_secs(5), both).await.expect("the server hung").1
    }

    #[tokio::test]
    async fn mutated_and_random_requests_never_panic_or_hang() {
        let wire = record_session().await;
        let login = login_end(&wire);
        assert!(wire.len() > login + 5000, "the recording holds the requests after login");
        let replay = feed(wire.clone()).await;
        let utf16 = |s: &str| s.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
        let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        assert!(has(&replay, &utf16("error_state")), "the replayed session got its answers");
        let mut answered = 0;
        let mut rng = StdRng::seed_from_u64(0x7D5_2024);
        for _ in 0..600 {
            let bytes = mutate(&mut rng, &wire, login);
            let reply = feed(bytes).await;
            answered += usize::from(reply.len() > 300);
        }
        eprintln!("fuzz: 600 mutated sessions, {answered} got past login");
        assert!(answered > 100);
    }
}
