//! What the agent serves on its tunnel (it is the HTTP/2 server there): its status, the HTTP
//! calls to GP's listed origins, eConnect on its listed databases, and the host's goodbye. A
//! request for anything not listed in `agent.toml` is refused here and logged — the agent is
//! never an open proxy, whatever the host asks.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};

use super::config::AgentConfig;
use super::{
    AgentReport, Goodbye, H_ERROR, H_GOODBYE, H_SQL, H_TIMEOUT, H_URL, MAX_BODY, PATH_EXECUTE, PATH_GOODBYE, PATH_HTTP,
    PATH_QUERY, PATH_STATUS, PROTOCOL, QueryRequest, QueryRows, VERSION, WireEconnectError, now_ms,
};
use crate::bindings::host::ml_connector::plugin::http::HttpError;
use crate::caps::http::Origin;
use crate::caps::http::ntlm::{NtlmPools, NtlmRequest};
use crate::caps::secrets::{ResolvedSecret, SecretValue};
use crate::config::SecretScheme;

/// Ceiling on one forwarded call.
const MAX_TIMEOUT: Duration = Duration::from_secs(120);

struct HttpRoute {
    credential: Option<Arc<ResolvedSecret>>,
}

/// The agent's targets, opened: origins with their credentials, databases with their executors.
pub struct Targets {
    http: BTreeMap<String, HttpRoute>,
    sql: BTreeMap<String, Arc<mlc_econnect::Executor>>,
    ntlm: NtlmPools,
    plain: reqwest::Client,
    proxy: Option<String>,
    instance: String,
    started_at: i64,
    in_flight: AtomicU64,
    served: AtomicU64,
    errors: AtomicU64,
}

impl Targets {
    /// Open every credential and build the NTLM pools and eConnect executors (no connection is
    /// made until the first call).
    pub fn open(cfg: &AgentConfig, instance: String, tls: Arc<rustls::ClientConfig>) -> anyhow::Result<Targets> {
        let values = cfg.open_credentials()?;
        let secret = |name: &str, origin: Origin| -> anyhow::Result<Arc<ResolvedSecret>> {
            let c = cfg.credentials.get(name).ok_or_else(|| anyhow::anyhow!("credential {name:?} missing"))?;
            let value = values.get(name).cloned().unwrap_or_default();
            Ok(Arc::new(ResolvedSecret {
                name: name.to_string(),
                scheme: c.scheme,
                origin,
                value: SecretValue::new(value),
                governor: None,
                on_agent: false,
            }))
        };
        let mut http = BTreeMap::new();
        let insecure = cfg.http.iter().any(|t| t.allow_insecure_ntlm);
        for t in &cfg.http {
            let origin = Origin::parse(&t.origin)?;
            let credential = t.credential.as_deref().map(|c| secret(c, origin.clone())).transpose()?;
            http.insert(origin.to_string(), HttpRoute { credential });
        }
        let mut sql = BTreeMap::new();
        for t in &cfg.econnect {
            let grant = crate::config::EconnectGrant {
                server: t.server.clone(),
                database: t.database.clone(),
                secret: t.credential.clone(),
                max_connections: None,
                timeout_ms: t.timeout_ms,
            };
            let (host, port) = grant.host_port()?;
            let login = values.get(&t.credential).cloned().unwrap_or_default();
            let (user, password) = crate::caps::econnect::split_login(&login)
                .map_err(|e| anyhow::anyhow!("credential {}: {e} (user:password)", t.credential))?;
            let key = super::calls::sql_target(&host, port, &t.database);
            let server = mlc_econnect::Server {
                host,
                port,
                database: t.database.clone(),
                user,
                password,
                max_connections: t.max_connections.unwrap_or(cfg.max_in_flight).max(1),
                timeout: Duration::from_millis(t.timeout_ms),
            };
            sql.insert(key, Arc::new(mlc_econnect::Executor::new(server)));
        }
        let plain = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tls_backend_preconfigured((*tls).clone())
            .user_agent(concat!("ml-connector-agent/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Targets {
            http,
            sql,
            ntlm: NtlmPools::new(cfg.max_in_flight, true, tls).insecure_http(insecure),
            plain,
            proxy: cfg
                .proxy_url()?
                .map(|u| format!("{}:{}", u.host_str().unwrap_or_default(), u.port_or_known_default().unwrap_or(0))),
            instance,
            started_at: now_ms(),
            in_flight: AtomicU64::new(0),
            served: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        })
    }

    pub fn report(&self) -> AgentReport {
        AgentReport {
            version: VERSION.into(),
            protocol: PROTOCOL,
            instance: self.instance.clone(),
            started_at: self.started_at,
            http: self.http.keys().cloned().collect(),
            econnect: self.sql.keys().cloned().collect(),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            served: self.served.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            proxy: self.proxy.clone(),
        }
    }
}

/// What the host said when it closed the tunnel.
#[derive(Default)]
pub struct Session {
    pub goodbye: std::sync::Mutex<Option<(Goodbye, String)>>,
    pub closing: tokio::sync::Notify,
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

/// An answer the agent makes itself (not GP's).
fn agent_error(status: StatusCode, kind: &str, message: String) -> Reply {
    let mut r = reply(status, message);
    if let Ok(v) = hyper::header::HeaderValue::from_str(kind) {
        r.headers_mut().insert(H_ERROR, v);
    }
    r
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// One request from the host.
pub async fn handle(targets: Arc<Targets>, session: Arc<Session>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Ok(agent_error(StatusCode::PAYLOAD_TOO_LARGE, "protocol", format!("request body: {e}"))),
    };
    let path = parts.uri.path();
    if path == PATH_STATUS {
        let json = serde_json::to_vec(&targets.report()).unwrap_or_default();
        return Ok(reply(StatusCode::OK, json));
    }
    if path == PATH_GOODBYE {
        let why = Goodbye::parse(header(&parts.headers, H_GOODBYE)).unwrap_or(Goodbye::Shutdown);
        *session.goodbye.lock().unwrap_or_else(|p| p.into_inner()) = Some((why, String::from_utf8_lossy(&body).into()));
        session.closing.notify_one();
        return Ok(reply(StatusCode::NO_CONTENT, Bytes::new()));
    }
    targets.in_flight.fetch_add(1, Ordering::Relaxed);
    let answer = match (path, &parts.method) {
        (PATH_HTTP, _) => forward(&targets, &parts.method, &parts.headers, body).await,
        (PATH_EXECUTE, &Method::POST) => execute(&targets, &parts.headers, body).await,
        (PATH_QUERY, &Method::POST) => query(&targets, &parts.headers, body).await,
        _ => agent_error(StatusCode::NOT_FOUND, "protocol", format!("this agent ({VERSION}) serves no {path}")),
    };
    targets.in_flight.fetch_sub(1, Ordering::Relaxed);
    targets.served.fetch_add(1, Ordering::Relaxed);
    if answer.headers().contains_key(H_ERROR) {
        targets.errors.fetch_add(1, Ordering::Relaxed);
    }
    Ok(answer)
}

fn timeout_of(h: &HeaderMap) -> Duration {
    header(h, H_TIMEOUT).parse::<u64>().map(Duration::from_millis).unwrap_or(Duration::from_secs(30)).min(MAX_TIMEOUT)
}

/// Connection-specific headers HTTP/2 may not carry, dropped from GP's answers.
const HOP_BY_HOP: [&str; 6] = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"];

/// One HTTP call to a listed origin, with the agent's credential for it.
async fn forward(t: &Targets, method: &Method, headers: &HeaderMap, body: Bytes) -> Reply {
    let url = match url::Url::parse(header(headers, H_URL)) {
        Ok(u) => u,
        Err(e) => return agent_error(StatusCode::BAD_REQUEST, "protocol", format!("{H_URL}: {e}")),
    };
    let origin = match Origin::of(&url) {
        Ok(o) => o,
        Err(e) => return agent_error(StatusCode::BAD_REQUEST, "protocol", format!("{url}: {e}")),
    };
    let Some(route) = t.http.get(&origin.to_string()) else {
        tracing::warn!(%origin, "refused: not on this agent's list");
        return agent_error(
            StatusCode::FORBIDDEN,
            "denied",
            format!("{origin} is not on this agent's list ([[http]] in its agent.toml)"),
        );
    };
    // The tunnel's own headers (ours, and the stream's framing) are not the call's.
    let fwd: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| !k.as_str().starts_with("mlc-") && *k != hyper::header::CONTENT_LENGTH)
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    if let Err(why) = crate::caps::http::guard::check_headers(&fwd, route.credential.is_some()) {
        return agent_error(StatusCode::FORBIDDEN, "denied", why);
    }
    let timeout = timeout_of(headers);
    let result = match &route.credential {
        Some(s) if s.scheme == SecretScheme::Ntlm => {
            let req = NtlmRequest { method: method.clone(), url, headers: fwd, body: body.to_vec() };
            t.ntlm.send(s, &origin, req, timeout).await
        }
        credential => plain(t, method, url, fwd, body, credential.as_deref(), timeout).await,
    };
    match result {
        Ok(r) => {
            let mut out = reply(StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_GATEWAY), r.body);
            for (k, v) in r.headers {
                if HOP_BY_HOP.contains(&k.to_ascii_lowercase().as_str()) {
                    continue;
                }
                if let (Ok(k), Ok(v)) = (hyper::header::HeaderName::from_bytes(k.as_bytes()), v.parse()) {
                    out.headers_mut().append(k, v);
                }
            }
            out
        }
        Err(HttpError::RateLimited(after)) => {
            let mut r = reply(StatusCode::TOO_MANY_REQUESTS, "GP is throttling");
            if let Some(ms) = after {
                r.headers_mut().insert("retry-after", hyper::header::HeaderValue::from(ms.div_ceil(1000)));
            }
            r
        }
        Err(HttpError::Denied(m)) => agent_error(StatusCode::FORBIDDEN, "denied", m),
        Err(HttpError::Connect(m)) => agent_error(StatusCode::BAD_GATEWAY, "connect", m),
        Err(HttpError::Timeout) => agent_error(StatusCode::GATEWAY_TIMEOUT, "timeout", format!("{origin}: timed out")),
        Err(HttpError::Protocol(m)) => agent_error(StatusCode::BAD_GATEWAY, "protocol", m),
    }
}

/// A call without NTLM (Basic or Bearer from the agent's credential, or none).
async fn plain(
    t: &Targets,
    method: &Method,
    url: url::Url,
    headers: Vec<(String, String)>,
    body: Bytes,
    credential: Option<&ResolvedSecret>,
    timeout: Duration,
) -> Result<crate::bindings::host::ml_connector::plugin::http::Response, HttpError> {
    let mut b = t.plain.request(method.clone(), url).timeout(timeout).body(body);
    for (k, v) in &headers {
        b = b.header(k.as_str(), v.as_str());
    }
    if let Some(s) = credential {
        b = crate::caps::http::inject(b, s)?;
    }
    crate::caps::http::send(b, crate::caps::http::guard::DEFAULT_MAX_RETRY_AFTER).await
}

fn econnect_error(e: mlc_econnect::EconnectError) -> Reply {
    let json = serde_json::to_vec(&WireEconnectError::from(e)).unwrap_or_default();
    agent_error(StatusCode::UNPROCESSABLE_ENTITY, "econnect", String::new()).map(|_| Full::new(Bytes::from(json)))
}

/// The listed database's executor, or the refusal.
fn executor<'a>(t: &'a Targets, headers: &HeaderMap) -> Result<&'a Arc<mlc_econnect::Executor>, Box<Reply>> {
    let target = header(headers, H_SQL);
    t.sql.get(target).ok_or_else(|| {
        tracing::warn!(%target, "refused: not on this agent's list");
        Box::new(agent_error(
            StatusCode::FORBIDDEN,
            "denied",
            format!("{target} is not on this agent's list ([[econnect]] in its agent.toml)"),
        ))
    })
}

async fn execute(t: &Targets, headers: &HeaderMap, body: Bytes) -> Reply {
    let ex = match executor(t, headers) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    let doc = match std::str::from_utf8(&body) {
        Ok(x) => mlc_econnect::Document::parse(x),
        Err(e) => Err(mlc_econnect::EconnectError::Invalid(format!("the document is not UTF-8: {e}"))),
    };
    match doc {
        Ok(doc) => match ex.execute(&doc).await {
            Ok(()) => reply(StatusCode::NO_CONTENT, Bytes::new()),
            Err(e) => econnect_error(e),
        },
        Err(e) => econnect_error(e),
    }
}

async fn query(t: &Targets, headers: &HeaderMap, body: Bytes) -> Reply {
    let ex = match executor(t, headers) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    let q: QueryRequest = match serde_json::from_slice(&body) {
        Ok(q) => q,
        Err(e) => return econnect_error(mlc_econnect::EconnectError::Invalid(format!("query: {e}"))),
    };
    let Some(name) = mlc_econnect::QueryName::from_name(&q.name) else {
        return econnect_error(mlc_econnect::EconnectError::Invalid(format!("unknown query {:?}", q.name)));
    };
    match ex.query(name, &q.params).await {
        Ok(rows) => {
            let json = serde_json::to_vec(&QueryRows { columns: rows.columns, rows: rows.rows }).unwrap_or_default();
            reply(StatusCode::OK, json)
        }
        Err(e) => econnect_error(e),
    }
}
