//! `http`: how a guest makes an outbound call.
//!
//! Order of checks, all before a byte leaves: the URL parses and is http(s); its origin is on the
//! role's allowlist (deny by default); a credential, if given, is bound to exactly this origin;
//! the host name resolves to public addresses unless the role may reach private networks. Only
//! then does the host inject the credential and send. Redirects are never followed (a redirect
//! could leave the allowlist); headers the host owns are refused (`guard`). Denials are audited.
//! 429 becomes `rate-limited` with Retry-After, capped at `[host] max_retry_after_s`. NTLM over
//! plain http only where the role allows it (`allow_insecure_ntlm`).

pub mod governor;
pub mod guard;
pub mod ntlm;
pub mod origin;
pub mod tls;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use wasmtime::component::{HasSelf, Linker, Resource};

use crate::bindings::host::ml_connector::plugin::http::{Host, HttpError, Method, Request, Response, add_to_linker};
use crate::config::SecretScheme;

use super::secrets::value::{ResolvedSecret, SecretHandle};
use super::{Capability, ConfigureEnv, InstanceState, granted};

pub use origin::{AllowedOrigin, Origin, is_private};

pub fn link(linker: &mut Linker<InstanceState>) -> anyhow::Result<()> {
    Ok(add_to_linker::<InstanceState, HasSelf<InstanceState>>(linker, |s| s)?)
}

/// The role's outbound policy: its allowlist (plus its Chargebee site's origin for a source),
/// private networks if granted, the NTLM pool and, for a paced role, the connection's GP gate.
pub fn configure(env: &ConfigureEnv<'_>) -> anyhow::Result<HttpPolicy> {
    let mut allow =
        env.role_config.allow_http.iter().map(|o| AllowedOrigin::parse(o)).collect::<anyhow::Result<Vec<_>>>()?;
    if env.role == crate::role::Role::Source
        && let Some(site) = env.chargebee
    {
        allow.push(AllowedOrigin::exact(&site.origin));
    }
    let max_in_flight = usize::try_from(env.connection.max_in_flight).unwrap_or(1).max(1);
    let private = env.role_config.allow_private_network;
    let insecure_ntlm = env.role_config.allow_insecure_ntlm;
    if insecure_ntlm {
        warn_insecure_ntlm(env);
    }
    let max_retry_after = Duration::from_secs(env.host.max_retry_after_s);
    Ok(HttpPolicy {
        allow,
        allow_private_network: private,
        allow_insecure_ntlm: insecure_ntlm,
        max_retry_after,
        clients: env.clients.clone(),
        ntlm: ntlm::NtlmPools::new(max_in_flight, private, env.clients.tls.clone())
            .insecure_http(insecure_ntlm)
            .max_retry_after(max_retry_after),
        // GP pacing is the role's explicit setting: its other requests share the same limit.
        pacer: env.role_config.paced.then(|| Arc::new(tokio::sync::Semaphore::new(max_in_flight))),
        agent: (env.role == crate::role::Role::Target && env.connection.via_agent())
            .then(|| AgentRoute { hub: env.agents.clone(), connection: env.connection.id.clone() }),
    })
}

/// Said once per role at start: its NTLM account may cross the network in the clear.
fn warn_insecure_ntlm(env: &ConfigureEnv<'_>) {
    for name in env.role_config.secrets.values() {
        if let Some(s) = env.secrets.get(name)
            && s.scheme == SecretScheme::Ntlm
            && !s.on_agent
            && s.origin.scheme == "http"
        {
            tracing::warn!(
                connection = %env.connection.id,
                role = %env.role,
                "NTLM secret {name:?} is used over plain http ({}) because allow_insecure_ntlm = true: its handshake can be relayed or cracked by anyone on the path; use https",
                s.origin
            );
        }
    }
}

/// Largest response body handed to a guest.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Ceiling on any one call, whatever the guest asks for.
const MAX_TIMEOUT_MS: u32 = 120_000;
const DEFAULT_TIMEOUT_MS: u32 = 30_000;

/// DNS that refuses names resolving only to private addresses (checked after resolution, so a
/// public name pointing at 10.0.0.1 is caught too).
struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| !is_private(a.ip())).collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no public address (private networks are not granted)").into());
            }
            let it: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(it)
        })
    }
}

/// The two shared clients: public-only and private-allowed. No redirects, no proxies, no
/// cookies; TLS as [`tls::client_config`] sets it up (the NTLM pool uses the same config).
#[derive(Clone)]
pub struct HttpClients {
    public: reqwest::Client,
    private: reqwest::Client,
    pub tls: Arc<rustls::ClientConfig>,
}

impl HttpClients {
    pub fn new(tls: Arc<rustls::ClientConfig>) -> anyhow::Result<HttpClients> {
        let base = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .pool_max_idle_per_host(32)
                .tls_backend_preconfigured((*tls).clone())
                .user_agent(concat!("ml-connector/", env!("CARGO_PKG_VERSION")))
        };
        let public = base().dns_resolver(Arc::new(GuardedResolver)).build()?;
        Ok(HttpClients { public, private: base().build()?, tls })
    }
}

/// One connection role's outbound policy.
pub struct HttpPolicy {
    pub allow: Vec<AllowedOrigin>,
    pub allow_private_network: bool,
    /// NTLM over plain http (the role's `allow_insecure_ntlm`).
    pub allow_insecure_ntlm: bool,
    /// Ceiling on a 429's Retry-After (`[host] max_retry_after_s`).
    pub max_retry_after: Duration,
    pub clients: HttpClients,
    /// Authenticated keep-alive connections for `ntlm` secrets, sized by the connection's
    /// pacing limit (see `ntlm`).
    pub ntlm: ntlm::NtlmPools,
    /// The target role's gate for non-NTLM requests: at most `max_in_flight` at once (GP pacing).
    pub pacer: Option<Arc<tokio::sync::Semaphore>>,
    /// `gp.via = "agent"`: the target's calls go through the connection's agent tunnel.
    pub agent: Option<AgentRoute>,
}

/// Where a target's calls go when GP is reached through the local agent.
#[derive(Clone)]
pub struct AgentRoute {
    pub hub: Arc<crate::agent::hub::Hub>,
    pub connection: String,
}

impl HttpPolicy {
    /// Everything that must hold before sending; `Err` is the reason for `denied`.
    pub fn check(&self, url: &url::Url, credential: Option<&ResolvedSecret>) -> Result<Origin, String> {
        let origin = Origin::of(url).map_err(|e| format!("{url}: {e}"))?;
        if !self.allow.iter().any(|a| a.matches(&origin)) {
            return Err(format!("{origin} is not on this component's allowlist"));
        }
        if let Some(secret) = credential
            && secret.origin != origin
        {
            return Err(format!("secret {:?} is bound to {}, not {origin}", secret.name, secret.origin));
        }
        // Through the agent the address is the agent's to judge, on the customer's network.
        if !self.allow_private_network
            && self.agent.is_none()
            && let Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) = url.host()
            && let Ok(ip) = origin.host.trim_matches(['[', ']']).parse::<IpAddr>()
            && is_private(ip)
        {
            return Err(format!("{origin} is a private address and private networks are not granted"));
        }
        Ok(origin)
    }
}

fn method(m: Method) -> reqwest::Method {
    match m {
        Method::Get => reqwest::Method::GET,
        Method::Head => reqwest::Method::HEAD,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    }
}

/// Retry-After, as the SDK reads it (seconds or an HTTP date), in ms, uncapped.
pub(crate) fn retry_after_ms(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    ml_connector_sdk::retry_after::retry_after_ms(v, std::time::SystemTime::now())
}

pub(crate) fn inject(
    builder: reqwest::RequestBuilder,
    secret: &ResolvedSecret,
) -> Result<reqwest::RequestBuilder, HttpError> {
    Ok(builder.header("authorization", authorization(secret)?))
}

/// The `authorization` header a Basic or Bearer secret makes.
fn authorization(secret: &ResolvedSecret) -> Result<String, HttpError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let value = secret.value.expose();
    Ok(match secret.scheme {
        SecretScheme::BasicApiKey => format!("Basic {}", b64.encode(format!("{value}:"))),
        SecretScheme::Basic => format!("Basic {}", b64.encode(value)),
        SecretScheme::Bearer => format!("Bearer {value}"),
        SecretScheme::Ntlm => {
            return Err(HttpError::Protocol("NTLM secrets are sent through the connection pool".into()));
        }
        SecretScheme::Sql => {
            return Err(HttpError::Denied("a sql login is for econnect, not for HTTP".into()));
        }
    })
}

impl InstanceState {
    async fn deny(&mut self, what: &str, reason: String) -> anyhow::Result<Result<Response, HttpError>> {
        let detail = format!("{what} denied: {reason}");
        tracing::warn!(connection = %self.caps.call.connection, component = %self.caps.call.component, "{detail}");
        let ev = super::audit::line(&self.caps.call, "http", crate::timeline::Label::Denied, &detail);
        self.caps.audit(ev.build()).await?;
        Ok(Err(HttpError::Denied(reason)))
    }
}

impl Host for InstanceState {
    async fn send(
        &mut self,
        req: Request,
        credential: Option<Resource<SecretHandle>>,
    ) -> anyhow::Result<Result<Response, HttpError>> {
        let url = match url::Url::parse(&req.url) {
            Ok(u) => u,
            Err(e) => return Ok(Err(HttpError::Protocol(format!("bad URL {:?}: {e}", req.url)))),
        };
        let what = format!("{} {}", method(req.method), redact_url(&url));
        let secret = match &credential {
            Some(h) => Some(self.table.get(h)?.secret.clone()),
            None => None,
        };
        let policy = self.caps.policy.clone();
        let http = granted(&policy.http, Capability::Http)?;
        if let Err(reason) = http.check(&url, secret.as_deref()) {
            return self.deny(&what, reason).await;
        }
        if let Err(reason) = guard::check_headers(&req.headers, secret.is_some()) {
            return self.deny(&what, reason).await;
        }
        let timeout = req.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS).min(MAX_TIMEOUT_MS);
        if let Some(route) = &http.agent {
            let timeout = Duration::from_millis(u64::from(timeout));
            return Ok(through_agent(http, route, req, url, secret.as_deref(), timeout).await);
        }
        let ntlm_secret = secret.as_ref().filter(|s| s.scheme == SecretScheme::Ntlm);
        if ntlm_secret.is_some() && url.scheme() == "http" && !http.allow_insecure_ntlm {
            let reason = "NTLM over plain http is refused (use https, or allow_insecure_ntlm on a trusted network)";
            return self.deny(&what, reason.into()).await;
        }
        if let Some(secret) = ntlm_secret {
            let origin = Origin::of(&url).map_err(|e| anyhow::anyhow!("checked origin: {e}"))?;
            let ntlm_req = ntlm::NtlmRequest {
                method: method(req.method),
                url,
                headers: req.headers,
                body: req.body.unwrap_or_default(),
            };
            return Ok(http.ntlm.send(secret, &origin, ntlm_req, Duration::from_millis(u64::from(timeout))).await);
        }
        let client = if http.allow_private_network { &http.clients.private } else { &http.clients.public };
        let mut builder =
            client.request(method(req.method), url.clone()).timeout(Duration::from_millis(u64::from(timeout)));
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = req.body {
            builder = builder.body(body);
        }
        if let Some(secret) = &secret {
            builder = match inject(builder, secret) {
                Ok(b) => b,
                Err(e) => return Ok(Err(e)),
            };
        }
        let governor = secret.as_ref().and_then(|s| s.governor.clone());
        if let Some(g) = &governor {
            g.acquire().await;
        }
        let permit = match &http.pacer {
            Some(p) => Some(p.clone().acquire_owned().await.map_err(|_| anyhow::anyhow!("pacer closed"))?),
            None => None,
        };
        let result = send(builder, http.max_retry_after).await;
        drop(permit);
        if let Some(g) = &governor {
            match &result {
                Err(HttpError::RateLimited(after)) => {
                    let paused = g.rate_limited(after.map(Duration::from_millis));
                    tracing::warn!(connection = %self.caps.call.connection, "429 from {}; key paused for {} ms", redact_url(&url), paused.as_millis());
                }
                Ok(_) => g.succeeded(),
                Err(_) => {}
            }
        }
        Ok(result)
    }
}

/// A target call through the connection's agent: a Basic/Bearer secret the host holds is sent
/// as its header (inside the tunnel's TLS); an agent-held one (NTLM) is the agent's to add.
/// Paced by the connection's `max_in_flight` like a direct call.
async fn through_agent(
    http: &HttpPolicy,
    route: &AgentRoute,
    req: Request,
    url: url::Url,
    secret: Option<&ResolvedSecret>,
    timeout: Duration,
) -> Result<Response, HttpError> {
    let mut headers = req.headers;
    if let Some(s) = secret.filter(|s| !s.on_agent) {
        headers.push(("authorization".into(), authorization(s)?));
    }
    let _permit = match &http.pacer {
        Some(p) => Some(p.clone().acquire_owned().await.map_err(|_| HttpError::Protocol("pacer closed".into()))?),
        None => None,
    };
    let call = crate::agent::calls::HttpCall {
        method: method(req.method),
        url: url.to_string(),
        headers,
        body: req.body.unwrap_or_default(),
        timeout,
    };
    crate::agent::calls::http(&route.hub, &route.connection, call, http.max_retry_after).await
}

pub(crate) async fn send(builder: reqwest::RequestBuilder, max_retry_after: Duration) -> Result<Response, HttpError> {
    let mut resp = builder.send().await.map_err(classify)?;
    let status = resp.status().as_u16();
    if status == 429 {
        return Err(HttpError::RateLimited(guard::cap_retry_after(retry_after_ms(resp.headers()), max_retry_after)));
    }
    let headers = resp
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(HttpError::Protocol(format!("response body over {MAX_BODY} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response { status, headers, body })
}

fn classify(e: reqwest::Error) -> HttpError {
    if e.is_timeout() {
        HttpError::Timeout
    } else if e.is_connect() {
        // The resolver's refusal of private addresses surfaces here; say so plainly.
        HttpError::Connect(error_chain(&e))
    } else {
        HttpError::Protocol(error_chain(&e))
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// URLs in audit lines without query strings (they can carry tokens).
fn redact_url(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    let _ = u.set_password(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after_ms(&h), Some(7000));
        h.insert("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap());
        assert_eq!(retry_after_ms(&h), Some(0));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after_ms(&h), None);
    }
}
