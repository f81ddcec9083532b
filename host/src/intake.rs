//! The host's HTTP server: Chargebee webhooks in (verified, made durable, then 2xx) and a small
//! read-only admin API (jobs, a record's timeline).
//!
//! Webhook flow: Basic credentials of the connection (401 + audit otherwise) → the source
//! component turns the body into triggers (it may not call out: no grants are needed) → each
//! trigger is enqueued under its event id → 200 only after every enqueue committed. A duplicate
//! delivery is a no-op that still answers 200, so Chargebee stops retrying.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use mlc_store::{Enqueued, JobFilter, JobState};
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::bindings::source::exports::ml_connector::plugin::source_api::{SourceError, Webhook};
use crate::call::{CallFailure, Scope, call_component};
use crate::jobs::{TriggerJob, trigger_job};
use crate::keys::{JobKey, RecordKey};
use crate::role::Role;
use crate::timeline::{Label, Line};

const MAX_WEBHOOK: usize = 1024 * 1024;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/webhooks/{connection}", post(webhook))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/jobs", get(jobs))
        .route("/api/timeline/{connection}/{kind}/{id}", get(timeline))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK))
        .with_state(app)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// Constant-time comparison, so a wrong password does not leak its matching prefix by timing.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(headers: &HeaderMap, expected_user_pass: &str) -> bool {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else { return false };
    let Some(b64) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) else { return false };
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else { return false };
    same(&given, expected_user_pass.as_bytes())
}

async fn intake_audit(app: &App, connection: &str, label: Label, detail: String) {
    let ev = Line::new(connection, "intake", label, &detail).build();
    if let Err(e) = app.store.append_audit(&ev).await {
        tracing::error!("audit append failed: {e:#}");
    }
}

async fn webhook(
    State(app): State<Arc<App>>,
    Path(connection): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(conn) = app.connections.get(&connection).cloned() else {
        return error(StatusCode::NOT_FOUND, format!("no connection {connection:?}"));
    };
    let Some(cred) = &conn.webhook_credential else {
        let detail = "webhook refused: the connection has no webhook_secret configured";
        intake_audit(&app, &connection, Label::Denied, detail.into()).await;
        return error(StatusCode::UNAUTHORIZED, "webhooks are not enabled for this connection");
    };
    if !authorized(&headers, cred.value.expose()) {
        intake_audit(&app, &connection, Label::Denied, "webhook refused: missing or wrong Basic credentials".into()).await;
        let mut r = error(StatusCode::UNAUTHORIZED, "missing or wrong credentials");
        r.headers_mut()
            .insert("www-authenticate", axum::http::HeaderValue::from_static("Basic realm=\"ml-connector\""));
        return r;
    }
    let hook = Webhook {
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .filter(|(k, _)| k != "authorization")
            .collect(),
        body: body.to_vec(),
    };
    let triggers = call_component(&app, &connection, &conn.source, Scope::default(), async |store, source| {
        source.ml_connector_plugin_source_api().call_intake(store, &hook).await
    })
    .await;
    let triggers = match triggers {
        Ok(Ok(Ok(t))) => t,
        Ok(Ok(Err(SourceError::BadWebhook(m)))) => {
            intake_audit(&app, &connection, Label::Failed, format!("webhook rejected by the source: {m}")).await;
            return error(StatusCode::BAD_REQUEST, m);
        }
        Ok(Ok(Err(e))) => {
            intake_audit(&app, &connection, Label::Failed, format!("source intake failed: {e:?}")).await;
            return error(StatusCode::INTERNAL_SERVER_ERROR, "source intake failed; retry");
        }
        Ok(Err(CallFailure::Timeout { .. })) => {
            return error(StatusCode::SERVICE_UNAVAILABLE, "source intake timed out; retry");
        }
        Ok(Err(failure)) => {
            intake_audit(&app, &connection, Label::Failed, format!("source intake: {failure}")).await;
            return error(StatusCode::INTERNAL_SERVER_ERROR, "source intake failed; retry");
        }
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    };
    let (mut created, mut duplicates) = (0, 0);
    for t in &triggers {
        // The job key is the Chargebee event id; without one, the resource id and time stand in.
        let key = match JobKey::trigger(t) {
            Ok(k) => k,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("event id: {e}")),
        };
        // The job and its "queued" line commit together: one durable write before the 2xx.
        let line = Line::new(&connection, "intake", Label::Ok, &format!("webhook {key} ({}) queued", t.event_type))
            .record(Some(RecordKey::of_trigger(t)))
            .component(conn.digest(Role::Source))
            .build();
        let job = match trigger_job(&connection, key, TriggerJob::new(t.clone()), None, app.config.host.max_attempts) {
            Ok(j) => j,
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
        };
        match app.store.enqueue_audited(job, line).await {
            Ok(Enqueued::Created(_)) => created += 1,
            Ok(Enqueued::Duplicate(_)) => duplicates += 1,
            // Not durable → not 2xx: Chargebee will deliver again.
            Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, format!("could not store the job: {e:#}")),
        }
    }
    if created > 0 {
        app.wake.notify_waiters();
    }
    (StatusCode::OK, axum::Json(json!({ "enqueued": created, "duplicates": duplicates }))).into_response()
}

#[derive(Deserialize)]
struct JobsQuery {
    connection: Option<String>,
    state: Option<String>,
    limit: Option<i64>,
}

async fn jobs(State(app): State<Arc<App>>, Query(q): Query<JobsQuery>) -> Response {
    let mut states = Vec::new();
    if let Some(s) = &q.state {
        match JobState::parse(s) {
            Some(st) => states.push(st),
            None => return error(StatusCode::BAD_REQUEST, format!("unknown state {s:?}")),
        }
    }
    let filter = JobFilter {
        connection: q.connection,
        states,
        limit: Some(q.limit.unwrap_or(100).clamp(1, 1000)),
        ..Default::default()
    };
    match app.store.jobs(&filter).await {
        Ok(j) => axum::Json(json!({ "jobs": j.iter().map(|j| json!({
            "id": j.id, "connection": j.connection, "key": j.key, "record": j.record_key,
            "state": j.state, "attempt": j.attempt, "last_error": j.last_error,
        })).collect::<Vec<_>>() }))
        .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    }
}

async fn timeline(
    State(app): State<Arc<App>>,
    Path((connection, kind, id)): Path<(String, String, String)>,
) -> Response {
    let key = format!("{kind}/{id}");
    match app.store.audit(&connection, Some(&key), None).await {
        Ok(events) => axum::Json(json!({ "record": key, "events": events })).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    }
}
