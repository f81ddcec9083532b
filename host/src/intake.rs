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
use mlc_store::{AuditEvent, Enqueued, JobFilter, JobState};
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::bindings::source::exports::ml_connector::plugin::source_api::{SourceError, Webhook};
use crate::caps::queue::{record_key, trigger_job};

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

async fn intake_audit(app: &App, connection: &str, outcome: &str, detail: String) {
    let ev = AuditEvent {
        id: 0,
        at: 0,
        connection: connection.to_string(),
        record_key: None,
        job_id: None,
        stage: "intake".into(),
        outcome: outcome.into(),
        detail,
        component: None,
        duration_ms: None,
    };
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
        intake_audit(
            &app,
            &connection,
            "denied",
            "webhook refused: the connection has no webhook_secret configured".into(),
        )
        .await;
        return error(StatusCode::UNAUTHORIZED, "webhooks are not enabled for this connection");
    };
    if !authorized(&headers, cred.value.expose()) {
        intake_audit(&app, &connection, "denied", "webhook refused: missing or wrong Basic credentials".into()).await;
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
    let triggers = async {
        let mut store = conn.source.store(&app, &connection, None, None)?;
        let inst = conn.source.pre.instantiate_async(&mut store).await?;
        Ok::<_, anyhow::Error>(inst.ml_connector_plugin_source_api().call_intake(&mut store, &hook).await?)
    };
    let limit = std::time::Duration::from_millis(conn.source.component.config.call_timeout_ms);
    let triggers = match tokio::time::timeout(limit, triggers).await {
        Ok(Ok(Ok(t))) => t,
        Ok(Ok(Err(SourceError::BadWebhook(m)))) => {
            intake_audit(&app, &connection, "failed", format!("webhook rejected by the source: {m}")).await;
            return error(StatusCode::BAD_REQUEST, m);
        }
        Ok(Ok(Err(e))) => {
            intake_audit(&app, &connection, "failed", format!("source intake failed: {e:?}")).await;
            return error(StatusCode::INTERNAL_SERVER_ERROR, "source intake failed; retry");
        }
        Ok(Err(trap)) => {
            intake_audit(
                &app,
                &connection,
                "failed",
                format!("source intake trapped: {}", crate::pipeline::trap_message(&trap)),
            )
            .await;
            return error(StatusCode::INTERNAL_SERVER_ERROR, "source intake failed; retry");
        }
        Err(_) => return error(StatusCode::SERVICE_UNAVAILABLE, "source intake timed out; retry"),
    };
    let (mut created, mut duplicates) = (0, 0);
    for t in &triggers {
        // The job key is the Chargebee event id; without one, the resource id and time stand in.
        let key = t.event_id.clone().unwrap_or_else(|| format!("{}:{}:{}", t.event_type, t.resource_id, t.occurred_at));
        let job = match trigger_job(&connection, key.clone(), t, None, app.config.host.max_attempts) {
            Ok(j) => j,
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
        };
        // The job and its "queued" line commit together: one durable write before the 2xx.
        let line = AuditEvent {
            id: 0,
            at: 0,
            connection: connection.clone(),
            record_key: Some(record_key(t)),
            job_id: None,
            stage: "intake".into(),
            outcome: "ok".into(),
            detail: format!("webhook {} ({}) queued", key, t.event_type),
            component: Some(conn.source.component.digest.clone()),
            duration_ms: None,
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
