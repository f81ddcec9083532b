//! The admin API: `GET /healthz`; `GET /api/jobs` and `GET /api/timeline/{connection}/{kind}/{id}`
//! (read); `POST /api/replay` (operate, audited with the token's name); `GET /api/tokens`
//! (admin; names, scopes, last use — never a token).

use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mlc_store::{JobFilter, JobState};
use serde::Deserialize;
use serde_json::json;

use super::{Caller, Scope};
use crate::app::App;
use crate::intake::error;
use crate::keys::RecordKey;
use crate::timeline::{Label, Line};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/jobs", get(jobs))
        .route("/api/timeline/{connection}/{kind}/{id}", get(timeline))
        .route("/api/replay", post(replay))
        .route("/api/tokens", get(tokens))
        .route("/api/agents", get(agents))
        .route("/metrics", get(metrics))
}

fn internal(e: anyhow::Error) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}"))
}

#[derive(Deserialize)]
struct JobsQuery {
    connection: Option<String>,
    state: Option<String>,
    limit: Option<i64>,
}

async fn jobs(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<JobsQuery>,
) -> Response {
    if let Err(r) = caller.require(Scope::Read) {
        return r.into_response();
    }
    // A tenant's token sees its own connection: asked for none, it gets that one.
    let connection = q.connection.or_else(|| caller.connection.clone());
    if let Some(Err(r)) = connection.as_deref().map(|c| caller.may_see(c)) {
        return r.into_response();
    }
    let mut states = Vec::new();
    if let Some(s) = &q.state {
        match JobState::parse(s) {
            Some(st) => states.push(st),
            None => return error(StatusCode::BAD_REQUEST, format!("unknown state {s:?}")),
        }
    }
    let filter =
        JobFilter { connection, states, limit: Some(q.limit.unwrap_or(100).clamp(1, 1000)), ..Default::default() };
    match app.store.jobs(&filter).await {
        Ok(j) => Json(json!({ "jobs": j.iter().map(|j| json!({
            "id": j.id, "connection": j.connection, "key": j.key, "record": j.record_key,
            "state": j.state, "attempt": j.attempt, "last_error": j.last_error,
        })).collect::<Vec<_>>() }))
        .into_response(),
        Err(e) => internal(e),
    }
}

async fn timeline(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    Path((connection, kind, id)): Path<(String, String, String)>,
) -> Response {
    if let Err(r) = caller.require(Scope::Read).and_then(|()| caller.may_see(&connection)) {
        return r.into_response();
    }
    let key = format!("{kind}/{id}");
    if RecordKey::parse(&key).is_none() {
        return error(StatusCode::BAD_REQUEST, format!("{key:?} is not a record (kind/id)"));
    }
    match app.store.audit(&connection, Some(&key), None).await {
        Ok(events) => Json(json!({ "record": key, "events": events })).into_response(),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayRequest {
    connection: String,
    /// A record (`invoice/inv_1`) or a prefix (`invoice/`).
    record: Option<String>,
    #[serde(default)]
    states: Vec<String>,
}

/// Queue jobs again from the start; the target's look-ups keep it from posting twice.
async fn replay(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<ReplayRequest>,
) -> Response {
    if let Err(r) = caller.require(Scope::Operate).and_then(|()| caller.may_see(&req.connection)) {
        return r.into_response();
    }
    if !app.connections.contains_key(&req.connection) {
        return error(StatusCode::NOT_FOUND, format!("no connection {:?}", req.connection));
    }
    let mut states = Vec::new();
    for s in &req.states {
        match JobState::parse(s) {
            Some(st) => states.push(st),
            None => return error(StatusCode::BAD_REQUEST, format!("unknown state {s:?}")),
        }
    }
    let filter = JobFilter {
        connection: Some(req.connection.clone()),
        states,
        record_key_prefix: req.record.clone(),
        ..Default::default()
    };
    let n = match app.store.replay(&filter).await {
        Ok(n) => n,
        Err(e) => return internal(e),
    };
    let what = req.record.as_deref().unwrap_or("every record");
    let detail = format!("replay of {what} ({n} job(s)) by token {:?}", caller.name);
    let line = Line::new(&req.connection, "admin", Label::Info, &detail).build();
    if let Err(e) = app.store.append_audit(&line).await {
        return internal(e);
    }
    app.wake.notify_waiters();
    Json(json!({ "replayed": n })).into_response()
}

async fn tokens(State(app): State<Arc<App>>, Extension(caller): Extension<Caller>) -> Response {
    if let Err(r) = caller.require(Scope::Admin) {
        return r.into_response();
    }
    match app.store.token_list().await {
        Ok(list) => Json(json!({ "tokens": list })).into_response(),
        Err(e) => internal(e),
    }
}

/// The local agents connected to this replica, per connection through an agent: online, or
/// offline since when; each tunnel's credential, version, address, heartbeat, in flight,
/// requests and errors. A tenant's token sees its own connection only.
async fn agents(State(app): State<Arc<App>>, Extension(caller): Extension<Caller>) -> Response {
    if let Err(r) = caller.require(Scope::Read) {
        return r.into_response();
    }
    Json(json!({ "replica": app.owner, "connections": app.agents.status(&agent_connections(&app, &caller)) }))
        .into_response()
}

/// The connections through an agent the caller may see.
fn agent_connections(app: &App, caller: &Caller) -> Vec<String> {
    let visible = app.connections.values().filter(|c| c.config.via_agent() && caller.may_see(c.id()).is_ok());
    visible.map(|c| c.id().to_string()).collect()
}

/// Prometheus text format: the agents' status on this replica (a read token, as a scraper's
/// bearer credential).
async fn metrics(State(app): State<Arc<App>>, Extension(caller): Extension<Caller>) -> Response {
    if let Err(r) = caller.require(Scope::Read) {
        return r.into_response();
    }
    match crate::agent::metrics::render(&app.agents.status(&agent_connections(&app, &caller))) {
        Ok(text) => ([("content-type", "text/plain; version=0.0.4; charset=utf-8")], text).into_response(),
        Err(e) => internal(e),
    }
}
