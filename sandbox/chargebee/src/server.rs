//! The HTTP side: one listener per region (plus one HTTPS listener per region with TLS on),
//! site host names, Basic auth bound to the key's site or region, the per-site rate limiter,
//! injected latency and faults, and the read API.
//!
//! hyper's connection-level server is used so an injected fault can close a connection
//! without writing any response.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use sandbox_tls::{Conn, SandboxTls};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::error::ApiError;
use crate::https::site_label;
use crate::limits::{Admission, FaultAction, FaultRule, Latency, Limiter, SiteCounters, path_matches};
use crate::query::{ListQuery, Listed, check_retrieve};
use crate::store::SiteData;
use crate::{ChargebeeConfig, Region, SiteInfo};

pub type HttpResponse = Response<Full<Bytes>>;

/// Locks a mutex even if a panicking holder poisoned it: the data is plain records and
/// counters, still consistent enough for an emulator.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) struct Gate {
    pub limiter: Limiter,
    pub counters: SiteCounters,
}

pub(crate) struct Site {
    pub info: SiteInfo,
    pub gate: Mutex<Gate>,
    pub data: Mutex<SiteData>,
}

#[derive(Default)]
pub(crate) struct Behaviour {
    pub faults: Vec<FaultRule>,
    pub latency: Option<Latency>,
}

pub(crate) struct Shared {
    pub sites: Vec<Site>,
    by_key: HashMap<String, usize>,
    pub behaviour: Mutex<Behaviour>,
    pub retry_after: std::sync::atomic::AtomicBool,
    pub strict_params: bool,
    /// Requests with a missing/undecodable header or a key no site has.
    pub refused_unknown: AtomicU64,
    /// Fixed "now" in ms for mutations (`None` = the system clock).
    pub clock: Mutex<Option<i64>>,
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub fn new(config: &ChargebeeConfig, shutdown: watch::Receiver<bool>) -> Self {
        let mut by_key = HashMap::new();
        let sites = config
            .sites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                by_key.insert(s.api_key.clone(), i);
                let limit = s.limit.unwrap_or_else(|| s.plan.requests_per_minute());
                Site {
                    info: SiteInfo {
                        name: s.name.clone(),
                        region: s.region,
                        api_key: s.api_key.clone(),
                        plan: s.plan,
                        limit,
                        window: config.window,
                    },
                    gate: Mutex::new(Gate {
                        limiter: Limiter::new(limit, config.window, config.algorithm, config.count_refused),
                        counters: SiteCounters::default(),
                    }),
                    // Each site's id stream differs but is fixed by the sandbox seed.
                    data: Mutex::new(SiteData::new(config.seed ^ fnv(&s.name))),
                }
            })
            .collect();
        Shared {
            sites,
            by_key,
            behaviour: Mutex::new(Behaviour::default()),
            retry_after: std::sync::atomic::AtomicBool::new(config.retry_after),
            strict_params: config.strict_params,
            refused_unknown: AtomicU64::new(0),
            clock: Mutex::new(None),
            shutdown,
        }
    }

    pub fn site(&self, name: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.info.name == name)
    }

    pub fn now_ms(&self) -> i64 {
        lock(&self.clock).unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        })
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Returned to hyper so it closes the connection without a response.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose (injected fault)")
    }
}

impl std::error::Error for DropConnection {}

fn json_response(status: u16, body: Vec<u8>) -> HttpResponse {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json;charset=utf-8"));
    r
}

fn error_response(e: &ApiError) -> HttpResponse {
    json_response(e.status, e.to_json().to_string().into_bytes())
}

async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections of one region's origin (HTTPS with `tls`) until shutdown; open
/// connections are dropped then.
pub(crate) async fn serve(listener: TcpListener, region: Region, shared: Arc<Shared>, tls: Option<SandboxTls>) {
    let mut shutdown = shared.shutdown.clone();
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped(&mut shutdown) => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let tls = tls.clone();
                conns.spawn(async move {
                    let conn = match &tls {
                        // A failed handshake (an untrusted CA, plain HTTP on the TLS port) ends
                        // the connection, the client reports it; a silent client gets 10 s.
                        Some(tls) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
                            Ok(Ok(conn)) => conn,
                            _ => return,
                        },
                        None => Conn::Plain(stream),
                    };
                    let sni: Option<Arc<str>> = conn.sni().map(Arc::from);
                    let svc = service_fn(move |req| {
                        let (shared, sni) = (shared.clone(), sni.clone());
                        async move { handle(&shared, region, sni.as_deref(), req).await }
                    });
                    let _ = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(conn), svc)
                        .await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

enum Authn {
    Site(usize),
    Refused(&'static str),
}

/// The site a request's host name names (`{site}.chargebee.com` in the Host header, else in
/// TLS SNI): `Ok(None)` for any other host (`localhost`, an IP address), 404 site_not_found
/// for a Chargebee host name of no site here.
fn named_site(shared: &Shared, sni: Option<&str>, req: &Request<Incoming>) -> Result<Option<usize>, ApiError> {
    let host = req.headers().get(HOST).and_then(|h| h.to_str().ok()).or(sni);
    let Some(label) = host.and_then(site_label) else {
        return Ok(None);
    };
    match shared.sites.iter().position(|s| s.info.name == label) {
        Some(ix) => Ok(Some(ix)),
        None => Err(ApiError::site_not_found(&label)),
    }
}

/// HTTP Basic with the key as user and an empty password. The Go SDK omits the `:`, so a
/// credential without one is the key as well. On a site's own host name the key must be that
/// site's (its region's listener does not matter: Chargebee's DNS sends each site to its data
/// center); otherwise the key must belong to a site of this listener's region.
fn authenticate(shared: &Shared, region: Region, named: Option<usize>, req: &Request<Incoming>) -> Authn {
    let Some(header) = req.headers().get(AUTHORIZATION).and_then(|h| h.to_str().ok()) else {
        return Authn::Refused("Authorization header missing (HTTP Basic, API key as the user name)");
    };
    let Some(encoded) = header.strip_prefix("Basic ").or_else(|| header.strip_prefix("basic ")) else {
        return Authn::Refused("Only HTTP Basic authentication is supported");
    };
    let Some(decoded) =
        base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok().and_then(|b| String::from_utf8(b).ok())
    else {
        return Authn::Refused("Invalid Authorization header");
    };
    let key = decoded.split_once(':').map_or(decoded.as_str(), |(user, _)| user);
    match shared.by_key.get(key) {
        None => Authn::Refused("Invalid api key"),
        // INFERRED: another site's key on a site's host name is refused like an unknown key.
        Some(&ix) if named.is_some_and(|n| n != ix) => Authn::Refused("Invalid api key"),
        Some(&ix) if named == Some(ix) => Authn::Site(ix),
        Some(&ix) if shared.sites[ix].info.region != region => {
            lock(&shared.sites[ix].gate).counters.wrong_region += 1;
            lock(&shared.sites[ix].gate).counters.calls += 1;
            Authn::Refused("Invalid api key")
        }
        Some(&ix) => Authn::Site(ix),
    }
}

/// Decrements the site's in-flight count however the request ends.
struct InFlight<'a>(&'a Site);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut g = lock(&self.0.gate);
        g.counters.in_flight = g.counters.in_flight.saturating_sub(1);
    }
}

/// Path shape for the per-endpoint counter: ids become `:id`.
fn endpoint_label(path: &str) -> String {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["api", "v2", res] => format!("/api/v2/{res}"),
        ["api", "v2", res, _] => format!("/api/v2/{res}/:id"),
        _ => path.to_string(),
    }
}

async fn handle(
    shared: &Shared,
    region: Region,
    sni: Option<&str>,
    req: Request<Incoming>,
) -> Result<HttpResponse, DropConnection> {
    let named = match named_site(shared, sni, &req) {
        Ok(named) => named,
        Err(e) => return Ok(error_response(&e)),
    };
    let ix = match authenticate(shared, region, named, &req) {
        Authn::Site(ix) => ix,
        Authn::Refused(reason) => {
            shared.refused_unknown.fetch_add(1, Ordering::Relaxed);
            return Ok(error_response(&ApiError::authentication(reason)));
        }
    };
    let site = &shared.sites[ix];
    let path = req.uri().path().to_string();
    if let Admission::Limited { retry_after } = admit(site, &path) {
        return Ok(rate_limited(shared, retry_after));
    }
    let _in_flight = InFlight(site);
    if let Some(response) = injected(shared, site, &path).await {
        return response;
    }
    if req.method() != Method::GET {
        return Ok(error_response(&ApiError::method_not_supported(req.method().as_str())));
    }
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()).into_owned().collect();
    Ok(match route(shared, site, &path, &pairs) {
        Ok(body) => json_response(200, body),
        Err(e) => error_response(&e),
    })
}

/// The site's rate limiter decides; the counters record the outcome (an accepted request is
/// in flight until its [`InFlight`] drops).
fn admit(site: &Site, path: &str) -> Admission {
    let mut g = lock(&site.gate);
    g.counters.calls += 1;
    let a = g.limiter.admit(Instant::now());
    match a {
        Admission::Accepted => {
            g.counters.accepted += 1;
            g.counters.max_rolling_accepted = g.limiter.max_rolling_accepted as u64;
            g.counters.in_flight += 1;
            g.counters.max_in_flight = g.counters.max_in_flight.max(g.counters.in_flight);
            *g.counters.by_endpoint.entry(endpoint_label(path)).or_default() += 1;
        }
        Admission::Limited { .. } => g.counters.rate_limited += 1,
    }
    a
}

fn rate_limited(shared: &Shared, retry_after: Duration) -> HttpResponse {
    let mut r = error_response(&ApiError::rate_limited());
    if shared.retry_after.load(Ordering::Relaxed) {
        // Integer seconds (what the SDKs parse), rounded up and at least 1: "0" would
        // make the Node SDK give up instead of waiting.
        let secs = retry_after.as_millis().div_ceil(1000).max(1);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(RETRY_AFTER, v);
        }
    }
    r
}

/// Injected latency (waited out here) and the next matching fault, if any: `Some` is the
/// answer to give instead of the real one.
async fn injected(shared: &Shared, site: &Site, path: &str) -> Option<Result<HttpResponse, DropConnection>> {
    let (delay, fault) = {
        let mut b = lock(&shared.behaviour);
        let delay = b
            .latency
            .as_ref()
            .filter(|l| l.path_prefix.as_deref().is_none_or(|p| path_matches(p, path)))
            .map(|l| l.delay);
        let fault = b.faults.iter_mut().find(|f| f.matches(&site.info.name, path)).map(|f| {
            f.remaining -= 1;
            f.action
        });
        b.faults.retain(|f| f.remaining > 0);
        (delay, fault)
    };
    if let Some(d) = delay {
        let mut rx = shared.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = stopped(&mut rx) => {}
        }
    }
    match fault? {
        FaultAction::Drop => {
            let mut g = lock(&site.gate);
            g.counters.faults_served += 1;
            g.counters.connections_dropped += 1;
            Some(Err(DropConnection))
        }
        FaultAction::Status(status) => {
            lock(&site.gate).counters.faults_served += 1;
            Some(Ok(error_response(&ApiError::server_fault(status))))
        }
    }
}

fn route(shared: &Shared, site: &Site, path: &str, pairs: &[(String, String)]) -> Result<Vec<u8>, ApiError> {
    let Some(rest) = path.strip_prefix("/api/v2/") else {
        return Err(ApiError::unknown_path());
    };
    let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let data = lock(&site.data);
    let strict = shared.strict_params;
    match segs.as_slice() {
        ["customers"] => list(&data.customers, pairs, strict),
        ["invoices"] => list(&data.invoices, pairs, strict),
        ["transactions"] => list(&data.transactions, pairs, strict),
        ["credit_notes"] => list(&data.credit_notes, pairs, strict),
        ["events"] => list(&data.events, pairs, strict),
        ["configurations"] => Ok(serde_json::json!({
            "configurations": [{"domain": site.info.name, "product_catalog_version": "v2"}]
        })
        .to_string()
        .into_bytes()),
        ["customers", id] => retrieve(&data.customers, id, pairs, strict),
        ["invoices", id] => retrieve(&data.invoices, id, pairs, strict),
        ["transactions", id] => retrieve(&data.transactions, id, pairs, strict),
        ["credit_notes", id] => retrieve(&data.credit_notes, id, pairs, strict),
        ["events", id] => retrieve(&data.events, id, pairs, strict),
        _ => Err(ApiError::unknown_path()),
    }
}

fn list<T: Listed>(records: &[T], pairs: &[(String, String)], strict: bool) -> Result<Vec<u8>, ApiError> {
    let spec = T::spec();
    let q = ListQuery::parse(spec, pairs, strict)?;
    let page = q.page(records);
    let mut out = Vec::with_capacity(256 + page.indices.len() * 1024);
    out.extend_from_slice(b"{\"list\":[");
    for (n, i) in page.indices.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(format!("{{\"{}\":", spec.key).as_bytes());
        serde_json::to_writer(&mut out, &records[*i]).map_err(|e| internal(&e))?;
        out.push(b'}');
    }
    out.push(b']');
    if let Some(next) = page.next_offset {
        out.extend_from_slice(b",\"next_offset\":");
        serde_json::to_writer(&mut out, &next).map_err(|e| internal(&e))?;
    }
    out.push(b'}');
    Ok(out)
}

fn retrieve<T: Listed>(
    records: &[T],
    raw_id: &str,
    pairs: &[(String, String)],
    strict: bool,
) -> Result<Vec<u8>, ApiError> {
    let spec = T::spec();
    check_retrieve(spec, pairs, strict)?;
    let id = percent_encoding::percent_decode_str(raw_id).decode_utf8_lossy();
    let Some(record) = records.iter().find(|r| r.id() == id) else {
        return Err(ApiError::not_found(spec.key, &id));
    };
    let mut out = format!("{{\"{}\":", spec.key).into_bytes();
    serde_json::to_writer(&mut out, record).map_err(|e| internal(&e))?;
    out.push(b'}');
    Ok(out)
}

fn internal(e: &dyn std::fmt::Display) -> ApiError {
    tracing::error!("chargebee sandbox: serializing a response failed: {e}");
    ApiError::server_fault(500)
}

/// Used by `Control::set_latency`: kept here so the server's view of it stays in one place.
pub(crate) fn latency(delay: Duration, path_prefix: Option<&str>) -> Option<Latency> {
    (!delay.is_zero()).then(|| Latency { delay, path_prefix: path_prefix.map(str::to_string) })
}
