//! The webhook listener: the one port that faces the internet (Chargebee must reach it). It
//! serves `POST /webhooks/{connection}` and `GET /healthz`, nothing else.
//!
//! A webhook is checked from its headers before its body is read: the connection and its Basic
//! credentials (one 401 for an unknown connection and for wrong credentials, so the answer does
//! not tell which connection ids exist; the comparison is of digests, in constant time, so its
//! timing leaks neither a prefix nor the length). Refusals are counted, not audited one by one
//! ([`crate::denials`]); a source that keeps failing is answered 429 before any check. Then the
//! body (at most 1 MiB) goes to the source component (which may not call out) → triggers → each
//! event id checked and enqueued → 200 only after every enqueue committed. A duplicate delivery
//! is a no-op that still answers 200, so Chargebee stops retrying.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use mlc_store::Enqueued;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::app::{App, Connection};
use crate::bindings::source::exports::ml_connector::plugin::source_api::{SourceError, Webhook};
use crate::bindings::types::Trigger;
use crate::call::{CallFailure, Scope, call_component};
use crate::jobs::{TriggerJob, trigger_job};
use crate::keys::{JobKey, RecordKey};
use crate::listener::Peer;
use crate::role::Role;
use crate::timeline::{Label, Line};

/// Largest webhook body read.
pub const MAX_WEBHOOK: usize = 1024 * 1024;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/webhooks/{connection}", post(webhook))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(app)
}

pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// Equal digests, compared in constant time: no early exit, no length to learn.
fn same_digest(given: &[u8], expected: &[u8]) -> bool {
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the request carries the connection's webhook credentials.
fn authorized(conn: Option<&Connection>, headers: &HeaderMap) -> bool {
    let Some(expected) = conn.and_then(|c| c.webhook_credential.as_ref()) else { return false };
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else { return false };
    let Some(b64) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) else { return false };
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else { return false };
    same_digest(&given, expected.value.expose().as_bytes())
}

fn unauthorized() -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, "unknown connection or wrong credentials");
    r.headers_mut().insert("www-authenticate", axum::http::HeaderValue::from_static("Basic realm=\"ml-connector\""));
    r
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
    peer: Option<axum::Extension<Peer>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let source = peer.map(|p| p.0.0.ip());
    if source.is_some_and(|ip| app.denials.throttled(ip)) {
        return error(StatusCode::TOO_MANY_REQUESTS, "too many refused requests from this address; wait a minute");
    }
    let conn = app.connections.get(&connection).cloned();
    if !authorized(conn.as_deref(), &headers) {
        app.denials.refused(conn.as_ref().map(|c| c.id()), source);
        return unauthorized();
    }
    let Some(conn) = conn else { return unauthorized() };
    let body = match axum::body::to_bytes(body, MAX_WEBHOOK).await {
        Ok(b) => b,
        Err(_) => {
            let reason = format!("the body is over {MAX_WEBHOOK} bytes, or was not received in time");
            return error(StatusCode::PAYLOAD_TOO_LARGE, reason);
        }
    };
    let hook = Webhook {
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .filter(|(k, _)| k != "authorization")
            .collect(),
        body: body.to_vec(),
    };
    match triggers(&app, &conn, &hook).await {
        Ok(t) => enqueue(&app, &conn, t).await,
        Err(response) => response,
    }
}

/// The source component's reading of the body.
async fn triggers(app: &App, conn: &Connection, hook: &Webhook) -> Result<Vec<Trigger>, Response> {
    let id = conn.id();
    let called = call_component(app, id, &conn.source, Scope::default(), async |store, source| {
        source.ml_connector_plugin_source_api().call_intake(store, hook).await
    })
    .await;
    match called {
        Ok(Ok(Ok(t))) => Ok(t),
        Ok(Ok(Err(SourceError::BadWebhook(m)))) => {
            intake_audit(app, id, Label::Failed, format!("webhook rejected by the source: {m}")).await;
            Err(error(StatusCode::BAD_REQUEST, m))
        }
        Ok(Ok(Err(e))) => {
            intake_audit(app, id, Label::Failed, format!("source intake failed: {e:?}")).await;
            Err(error(StatusCode::INTERNAL_SERVER_ERROR, "source intake failed; retry"))
        }
        Ok(Err(CallFailure::Timeout { .. })) => {
            Err(error(StatusCode::SERVICE_UNAVAILABLE, "source intake timed out; retry"))
        }
        Ok(Err(failure)) => {
            intake_audit(app, id, Label::Failed, format!("source intake: {failure}")).await;
            Err(error(StatusCode::INTERNAL_SERVER_ERROR, "source intake failed; retry"))
        }
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}"))),
    }
}

/// Every trigger's job, each with its "queued" line, committed before the 2xx. Event ids are
/// checked first, so a bad one enqueues nothing.
async fn enqueue(app: &App, conn: &Connection, triggers: Vec<Trigger>) -> Response {
    let mut keyed = Vec::with_capacity(triggers.len());
    for t in triggers {
        // The job key is the Chargebee event id; without one, the resource id and time stand in.
        match JobKey::trigger(&t) {
            Ok(k) => keyed.push((k, t)),
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("event id: {e}")),
        }
    }
    let (mut created, mut duplicates) = (0, 0);
    for (key, t) in keyed {
        let line = Line::new(conn.id(), "intake", Label::Ok, &format!("webhook {key} ({}) queued", t.event_type))
            .record(Some(RecordKey::of_trigger(&t)))
            .component(conn.digest(Role::Source))
            .build();
        let job = match trigger_job(conn.id(), key, TriggerJob::new(t), None, app.config.host.max_attempts) {
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
