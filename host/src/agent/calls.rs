//! The host's side of each request through a tunnel: pick the connection's tunnel, send one
//! HTTP/2 request, read the answer (bounded), and turn what went wrong into the capability's
//! own error — so a component cannot tell a GP reached through the agent from one reached
//! directly, except by the texts. A call in flight when the tunnel drops is **ambiguous** (GP
//! may have acted on it): it is reported as such, never replayed here; the target's look-up
//! before any rewrite decides (design invariant 2).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, StatusCode};

use super::hub::{Hub, Tunnel, since_text};
use super::{
    AgentReport, Goodbye, H_ERROR, H_GOODBYE, H_SQL, H_TIMEOUT, H_URL, MAX_BODY, PATH_EXECUTE, PATH_GOODBYE, PATH_HTTP,
    PATH_QUERY, PATH_STATUS, QueryRequest, QueryRows, WireEconnectError,
};
use crate::bindings::host::ml_connector::plugin::http::{HttpError, Response};

/// How a round trip failed before an answer came back.
#[derive(Debug)]
pub enum Failure {
    /// No tunnel: offline since (unix ms).
    Offline(i64),
    /// The tunnel broke with the request sent or being sent.
    Dropped(String),
    Timeout,
}

/// An answer: status, headers, body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The agent's own error kind, when the agent (not GP) made this answer.
    pub fn agent_error(&self) -> Option<&str> {
        self.headers.get(H_ERROR).and_then(|v| v.to_str().ok())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request on one tunnel, with a deadline for the whole answer.
pub async fn roundtrip(tunnel: &Arc<Tunnel>, req: Request<Full<Bytes>>, timeout: Duration) -> Result<Answer, Failure> {
    let _in_flight = tunnel.begin();
    let result = tokio::time::timeout(timeout, async {
        let mut sender = tunnel.sender();
        sender.ready().await.map_err(|e| Failure::Dropped(format!("tunnel not ready: {e}")))?;
        let resp = sender.send_request(req).await.map_err(|e| Failure::Dropped(e.to_string()))?;
        let (parts, body) = resp.into_parts();
        let body = Limited::new(body, MAX_BODY)
            .collect()
            .await
            .map_err(|e| Failure::Dropped(format!("reading the answer: {e}")))?
            .to_bytes();
        Ok(Answer { status: parts.status, headers: parts.headers, body })
    })
    .await
    .unwrap_or(Err(Failure::Timeout));
    match &result {
        Ok(_) => tunnel.heartbeat(),
        Err(_) => tunnel.failed(),
    }
    result
}

/// One request on the connection's least busy tunnel.
pub async fn send(
    hub: &Hub,
    connection: &str,
    req: Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<Answer, Failure> {
    let tunnel = hub.pick(connection).map_err(Failure::Offline)?;
    roundtrip(&tunnel, req, timeout).await
}

fn offline(connection: &str, since: i64) -> String {
    format!("the agent of connection {connection} is offline since {}", since_text(since))
}

/// An HTTP call to GP through the agent, as the `http` capability answers it.
pub struct HttpCall {
    pub method: hyper::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeout: Duration,
}

pub async fn http(
    hub: &Hub,
    connection: &str,
    call: HttpCall,
    max_retry_after: Duration,
) -> Result<Response, HttpError> {
    let mut b = Request::builder()
        .method(call.method)
        .uri(format!("http://agent{PATH_HTTP}"))
        .header(H_URL, call.url.as_str())
        .header(H_TIMEOUT, call.timeout.as_millis().to_string());
    for (k, v) in &call.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let req = b.body(Full::new(Bytes::from(call.body))).map_err(|e| HttpError::Protocol(e.to_string()))?;
    // The agent's own deadline is the call's; the tunnel gets a little more to say so itself.
    let answer = match send(hub, connection, req, call.timeout + Duration::from_secs(2)).await {
        Ok(a) => a,
        Err(Failure::Offline(since)) => return Err(HttpError::Connect(offline(connection, since))),
        Err(Failure::Timeout) => return Err(HttpError::Timeout),
        Err(Failure::Dropped(why)) => {
            return Err(HttpError::Protocol(format!(
                "the agent's tunnel dropped with the call in flight (GP may have acted on it): {why}"
            )));
        }
    };
    if let Some(kind) = answer.agent_error() {
        let msg = format!("agent: {}", answer.text());
        return Err(match kind {
            "denied" => HttpError::Denied(msg),
            "connect" => HttpError::Connect(msg),
            "timeout" => HttpError::Timeout,
            _ => HttpError::Protocol(msg),
        });
    }
    if answer.status == StatusCode::TOO_MANY_REQUESTS {
        let after = crate::caps::http::retry_after_ms(&answer.headers);
        return Err(HttpError::RateLimited(crate::caps::http::guard::cap_retry_after(after, max_retry_after)));
    }
    let headers = answer
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    Ok(Response { status: answer.status.as_u16(), headers, body: answer.body.to_vec() })
}

/// Where an eConnect call goes: the SQL Server and company database, as the agent lists them.
pub fn sql_target(host: &str, port: u16, database: &str) -> String {
    format!("{host}:{port}/{database}")
}

async fn econnect(
    hub: &Hub,
    connection: &str,
    path: &str,
    sql: &str,
    body: Bytes,
    timeout: Duration,
) -> Result<Answer, mlc_econnect::EconnectError> {
    use mlc_econnect::EconnectError as E;
    let req = Request::builder()
        .method(hyper::Method::POST)
        .uri(format!("http://agent{path}"))
        .header(H_SQL, sql)
        .header(H_TIMEOUT, timeout.as_millis().to_string())
        .body(Full::new(body))
        .map_err(|e| E::Invalid(e.to_string()))?;
    let answer = send(hub, connection, req, timeout + Duration::from_secs(2)).await.map_err(|f| match f {
        Failure::Offline(since) => E::Transient(format!("{}: not sent, not committed", offline(connection, since))),
        Failure::Timeout => E::Transient("no answer through the agent in time: outcome unknown".into()),
        Failure::Dropped(why) => E::Transient(format!("the agent's tunnel dropped in flight: outcome unknown ({why})")),
    })?;
    match answer.agent_error() {
        None => Ok(answer),
        Some("econnect") => match serde_json::from_slice::<WireEconnectError>(&answer.body) {
            Ok(e) => Err(e.into()),
            Err(e) => Err(E::Transient(format!("the agent's error could not be read ({e}): outcome unknown"))),
        },
        Some("denied") => Err(E::Denied(format!("agent: {}", answer.text()))),
        Some(_) => Err(E::Transient(format!("agent: {}: outcome unknown", answer.text()))),
    }
}

/// Run an eConnect document on the agent's SQL Server.
pub async fn execute(
    hub: &Hub,
    connection: &str,
    sql: &str,
    document: String,
    timeout: Duration,
) -> Result<(), mlc_econnect::EconnectError> {
    econnect(hub, connection, PATH_EXECUTE, sql, Bytes::from(document), timeout).await.map(|_| ())
}

/// Run a read query on the agent's SQL Server.
pub async fn query(
    hub: &Hub,
    connection: &str,
    sql: &str,
    name: mlc_econnect::QueryName,
    params: &[String],
    timeout: Duration,
) -> Result<mlc_econnect::Rows, mlc_econnect::EconnectError> {
    use mlc_econnect::EconnectError as E;
    let body = serde_json::to_vec(&QueryRequest { name: name.name().to_string(), params: params.to_vec() })
        .map_err(|e| E::Invalid(e.to_string()))?;
    let answer = econnect(hub, connection, PATH_QUERY, sql, Bytes::from(body), timeout).await?;
    let rows: QueryRows = serde_json::from_slice(&answer.body)
        .map_err(|e| E::Transient(format!("the agent's rows could not be read: {e}")))?;
    Ok(mlc_econnect::Rows { columns: rows.columns, rows: rows.rows })
}

/// The agent's report (the heartbeat).
pub async fn status(tunnel: &Arc<Tunnel>, timeout: Duration) -> anyhow::Result<AgentReport> {
    let req = Request::get(format!("http://agent{PATH_STATUS}")).body(Full::new(Bytes::new()))?;
    let answer = roundtrip(tunnel, req, timeout).await.map_err(|f| anyhow::anyhow!("status: {f:?}"))?;
    anyhow::ensure!(answer.status.is_success(), "status: {} {}", answer.status, answer.text());
    Ok(serde_json::from_slice(&answer.body)?)
}

/// Tell the agent why its tunnel is being closed (best effort: it may be gone already).
pub async fn goodbye(tunnel: &Arc<Tunnel>, why: Goodbye, text: &str) {
    let req = Request::post(format!("http://agent{PATH_GOODBYE}"))
        .header(H_GOODBYE, why.as_str())
        .body(Full::new(Bytes::from(text.to_string())));
    if let Ok(req) = req {
        let _ = roundtrip(tunnel, req, Duration::from_secs(3)).await;
    }
}
