//! A stand-in billing API and ledger, for the host's own tests and the foundation demo until the
//! Chargebee and GP emulators carry them: `GET /records/{kind}/{id}` serves canonical-ish JSON,
//! `POST /ledger/{connection}/documents/{kind}/{number}` stores a document (201 new, 200 the
//! same again, 409 different content), `GET /collect` counts hits. It records what tests check:
//! fetches per record, writes per document, calls in flight per connection, Authorization
//! headers seen.
#![allow(clippy::unwrap_used)] // poisoned test-stub mutexes should fail loudly

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

/// State of the stub billing API + ledger + collector.
#[derive(Default)]
pub struct StubState {
    /// (kind, id) → record JSON served by GET /records/{kind}/{id}
    pub records: Mutex<HashMap<(String, String), Value>>,
    /// fetch count per (kind, id)
    pub fetches: Mutex<HashMap<(String, String), usize>>,
    /// (connection, kind, number) → document JSON
    pub documents: Mutex<HashMap<(String, String, String), Value>>,
    /// write requests per (connection, kind, number), including already-present ones
    pub write_calls: Mutex<HashMap<(String, String, String), usize>>,
    /// calls in flight and the most seen at once, per connection
    pub in_flight: Mutex<HashMap<String, (usize, usize)>>,
    /// Authorization headers seen by the API, the ledger and the collector
    pub api_auth: Mutex<Vec<Option<String>>>,
    pub ledger_auth: Mutex<Vec<Option<String>>>,
    pub collector_auth: Mutex<Vec<Option<String>>>,
    /// Ledger answer delay (to make concurrency observable, or to hold a job in flight)
    pub ledger_delay_ms: Mutex<u64>,
}

pub struct Stub {
    pub addr: SocketAddr,
    pub state: Arc<StubState>,
}

impl Stub {
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn origin(&self) -> String {
        self.base()
    }
    pub fn add_invoice(&self, id: &str, customer: &str, currency: &str, total: i64) {
        self.state.records.lock().unwrap().insert(
            ("invoice".into(), id.into()),
            json!({"id": id, "customer_id": customer, "currency": currency, "total": total, "date": "2026-11-20", "version": 1}),
        );
    }
    pub fn documents(&self, connection: &str) -> Vec<((String, String), Value)> {
        let docs = self.state.documents.lock().unwrap();
        let mut v: Vec<_> = docs
            .iter()
            .filter(|((c, _, _), _)| c == connection)
            .map(|((_, k, n), d)| ((k.clone(), n.clone()), d.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
    pub fn max_in_flight(&self, connection: &str) -> usize {
        self.state.in_flight.lock().unwrap().get(connection).map(|x| x.1).unwrap_or(0)
    }
    pub fn fetch_count(&self, kind: &str, id: &str) -> usize {
        self.state.fetches.lock().unwrap().get(&(kind.to_string(), id.to_string())).copied().unwrap_or(0)
    }
}

fn auth(h: &HeaderMap) -> Option<String> {
    h.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string)
}

async fn get_record(
    State(s): State<Arc<StubState>>,
    Path((kind, id)): Path<(String, String)>,
    h: HeaderMap,
) -> (StatusCode, Json<Value>) {
    s.api_auth.lock().unwrap().push(auth(&h));
    *s.fetches.lock().unwrap().entry((kind.clone(), id.clone())).or_default() += 1;
    match s.records.lock().unwrap().get(&(kind, id)) {
        Some(v) => (StatusCode::OK, Json(v.clone())),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "not found"}))),
    }
}

async fn post_document(
    State(s): State<Arc<StubState>>,
    Path((conn, kind, number)): Path<(String, String, String)>,
    h: HeaderMap,
    body: Bytes,
) -> StatusCode {
    s.ledger_auth.lock().unwrap().push(auth(&h));
    {
        let mut f = s.in_flight.lock().unwrap();
        let e = f.entry(conn.clone()).or_default();
        e.0 += 1;
        e.1 = e.1.max(e.0);
    }
    let delay = *s.ledger_delay_ms.lock().unwrap();
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let key = (conn.clone(), kind, number);
    *s.write_calls.lock().unwrap().entry(key.clone()).or_default() += 1;
    let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let status = {
        let mut docs = s.documents.lock().unwrap();
        match docs.get(&key) {
            Some(existing) if *existing == doc => StatusCode::OK,
            Some(_) => StatusCode::CONFLICT,
            None => {
                docs.insert(key, doc);
                StatusCode::CREATED
            }
        }
    };
    s.in_flight.lock().unwrap().entry(conn).or_default().0 -= 1;
    status
}

async fn collect(State(s): State<Arc<StubState>>, h: HeaderMap) -> &'static str {
    s.collector_auth.lock().unwrap().push(auth(&h));
    "collected"
}

/// Start the stub on 127.0.0.1 with an ephemeral port.
pub async fn start_stub() -> Stub {
    start_stub_on("127.0.0.1:0").await.unwrap()
}

/// Start the stub on `addr`.
pub async fn start_stub_on(addr: &str) -> std::io::Result<Stub> {
    let state = Arc::new(StubState::default());
    let app = Router::new()
        .route("/records/{kind}/{id}", get(get_record))
        .route("/ledger/{conn}/documents/{kind}/{number}", post(post_document))
        .route("/collect", get(collect))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Stub { addr, state })
}
