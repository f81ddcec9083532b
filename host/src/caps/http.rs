//! `http`: how a guest makes an outbound call.
//!
//! Order of checks, all before a byte leaves: the URL parses and is http(s); its origin is on the
//! role's allowlist (deny by default); a credential, if given, is bound to exactly this origin;
//! the host name resolves to public addresses unless the role may reach private networks. Only
//! then does the host inject the credential and send. Redirects are never followed (a redirect
//! could leave the allowlist). Denials are audited. 429 becomes `rate-limited` with Retry-After.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use wasmtime::component::Resource;

use crate::bindings::host::ml_connector::plugin::http::{Host, HttpError, Method, Request, Response};
use crate::config::SecretScheme;

use super::InstanceState;
use super::secrets::{ResolvedSecret, SecretHandle};

/// Largest response body handed to a guest.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Ceiling on any one call, whatever the guest asks for.
const MAX_TIMEOUT_MS: u32 = 120_000;
const DEFAULT_TIMEOUT_MS: u32 = 30_000;

/// `scheme://host:port`, normalised (lower-case host, explicit port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl Origin {
    pub fn parse(text: &str) -> anyhow::Result<Origin> {
        let url = url::Url::parse(text).with_context(|| format!("not a URL: {text:?}"))?;
        Origin::of(&url)
    }

    pub fn of(url: &url::Url) -> anyhow::Result<Origin> {
        let scheme = url.scheme();
        if scheme != "http" && scheme != "https" {
            bail!("scheme {scheme:?} is not http or https");
        }
        let host = url.host_str().context("URL has no host")?.to_ascii_lowercase();
        let port = url.port_or_known_default().context("URL has no port")?;
        Ok(Origin { scheme: scheme.to_string(), host, port })
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// An allowlist entry: an exact origin, or `scheme://*.suffix[:port]` for a domain's subdomains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigin {
    scheme: String,
    host: HostPattern,
    port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    /// Matches `x.suffix` (any depth), not `suffix` itself.
    Subdomains(String),
}

impl AllowedOrigin {
    pub fn parse(text: &str) -> anyhow::Result<AllowedOrigin> {
        // url can't parse a `*` label, so swap it for a placeholder label first.
        const WILD: &str = "wildcard-label-x";
        let (wild, parsed) = match text.find("://*.") {
            Some(i) => (true, format!("{}://{WILD}.{}", &text[..i], &text[i + 5..])),
            None => (false, text.to_string()),
        };
        let url = url::Url::parse(&parsed).with_context(|| format!("not an origin: {text:?}"))?;
        if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
            bail!("{text:?} must be an origin (scheme://host[:port]) without path, query or user");
        }
        let o = Origin::of(&url)?;
        let host = match o.host.strip_prefix(&format!("{WILD}.")) {
            Some(suffix) if wild => HostPattern::Subdomains(suffix.to_string()),
            _ => HostPattern::Exact(o.host),
        };
        Ok(AllowedOrigin { scheme: o.scheme, host, port: o.port })
    }

    pub fn matches(&self, o: &Origin) -> bool {
        self.scheme == o.scheme
            && self.port == o.port
            && match &self.host {
                HostPattern::Exact(h) => *h == o.host,
                HostPattern::Subdomains(s) => {
                    o.host.strip_suffix(s.as_str()).is_some_and(|p| p.ends_with('.') && p.len() > 1)
                }
            }
    }
}

/// Addresses a role may not reach unless it is granted private networks.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64 // 100.64/10 CGNAT
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00 // unique local
                || (v6.segments()[0] & 0xffc0) == 0xfe80 // link local
                || v6.to_ipv4_mapped().is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

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

/// The two shared clients: public-only and private-allowed. No redirects, no proxies, no cookies.
#[derive(Clone)]
pub struct HttpClients {
    public: reqwest::Client,
    private: reqwest::Client,
}

impl HttpClients {
    pub fn new() -> anyhow::Result<HttpClients> {
        let base = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .pool_max_idle_per_host(32)
                .user_agent(concat!("ml-connector/", env!("CARGO_PKG_VERSION")))
        };
        Ok(HttpClients { public: base().dns_resolver(Arc::new(GuardedResolver)).build()?, private: base().build()? })
    }
}

/// One connection role's outbound policy.
pub struct HttpPolicy {
    pub allow: Vec<AllowedOrigin>,
    pub allow_private_network: bool,
    pub clients: HttpClients,
    /// Authenticated keep-alive connections for `ntlm` secrets, sized by the connection's
    /// pacing limit (see `ntlm`).
    pub ntlm: super::ntlm::NtlmPools,
    /// The target role's gate for non-NTLM requests: at most `max_in_flight` at once (GP pacing).
    pub pacer: Option<Arc<tokio::sync::Semaphore>>,
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
        if !self.allow_private_network
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

/// Retry-After as seconds (Chargebee) or an HTTP date; returned in ms.
fn retry_after_ms(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    let when = httpdate_parse(v)?;
    Some(when.duration_since(std::time::SystemTime::now()).map(|d| d.as_millis() as u64).unwrap_or(0))
}

fn httpdate_parse(v: &str) -> Option<std::time::SystemTime> {
    // Avoid a dependency for a rarely used form: "Sun, 06 Nov 1994 08:49:37 GMT".
    let parts: Vec<&str> = v.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    let day: u32 = parts[1].parse().ok()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| *m == parts[2])?
        + 1;
    let year: i64 = parts[3].parse().ok()?;
    let hms: Vec<u64> = parts[4].split(':').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    if hms.len() != 3 {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    let days = ml_connector_sdk::dates::parse_iso_date(&date).ok()?;
    let secs = u64::try_from(days).ok()? + hms[0] * 3600 + hms[1] * 60 + hms[2];
    Some(std::time::UNIX_EPOCH + Duration::from_secs(secs))
}

fn inject(builder: reqwest::RequestBuilder, secret: &ResolvedSecret) -> Result<reqwest::RequestBuilder, HttpError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let value = secret.value.expose();
    Ok(match secret.scheme {
        SecretScheme::BasicApiKey => {
            builder.header("authorization", format!("Basic {}", b64.encode(format!("{value}:"))))
        }
        SecretScheme::Basic => builder.header("authorization", format!("Basic {}", b64.encode(value))),
        SecretScheme::Bearer => builder.header("authorization", format!("Bearer {value}")),
        SecretScheme::Ntlm => {
            return Err(HttpError::Protocol("NTLM secrets are sent through the connection pool".into()));
        }
    })
}

impl InstanceState {
    async fn deny(&mut self, what: &str, reason: String) -> anyhow::Result<Result<Response, HttpError>> {
        let detail = format!("{what} denied: {reason}");
        tracing::warn!(connection = %self.caps.call.connection, component = %self.caps.call.component, "{detail}");
        let ev = super::audit::event(&self.caps.call, "http", "denied", &detail);
        self.caps.audit(ev).await?;
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
        if let Err(reason) = policy.http.check(&url, secret.as_deref()) {
            return self.deny(&what, reason).await;
        }
        let timeout = req.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS).min(MAX_TIMEOUT_MS);
        if let Some(secret) = secret.as_ref().filter(|s| s.scheme == SecretScheme::Ntlm) {
            let origin = Origin::of(&url).map_err(|e| anyhow::anyhow!("checked origin: {e}"))?;
            let ntlm_req = super::ntlm::NtlmRequest {
                method: method(req.method),
                url,
                headers: req.headers,
                body: req.body.unwrap_or_default(),
            };
            return Ok(policy
                .http
                .ntlm
                .send(secret, &origin, ntlm_req, Duration::from_millis(u64::from(timeout)))
                .await);
        }
        let client =
            if policy.http.allow_private_network { &policy.http.clients.private } else { &policy.http.clients.public };
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
        let permit = match &policy.http.pacer {
            Some(p) => Some(p.clone().acquire_owned().await.map_err(|_| anyhow::anyhow!("pacer closed"))?),
            None => None,
        };
        let result = send(builder).await;
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

async fn send(builder: reqwest::RequestBuilder) -> Result<Response, HttpError> {
    let mut resp = builder.send().await.map_err(classify)?;
    let status = resp.status().as_u16();
    if status == 429 {
        return Err(HttpError::RateLimited(retry_after_ms(resp.headers())));
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
    fn allowlist_matching() {
        let exact = AllowedOrigin::parse("https://acme.chargebee.com").unwrap();
        assert!(exact.matches(&Origin::parse("https://acme.chargebee.com/api/v2/x").unwrap()));
        assert!(exact.matches(&Origin::parse("https://ACME.chargebee.com:443/").unwrap()));
        assert!(!exact.matches(&Origin::parse("http://acme.chargebee.com").unwrap()));
        assert!(!exact.matches(&Origin::parse("https://acme.chargebee.com:8443").unwrap()));
        assert!(!exact.matches(&Origin::parse("https://acme.chargebee.com.evil.io").unwrap()));
        let wild = AllowedOrigin::parse("https://*.chargebee.com").unwrap();
        assert!(wild.matches(&Origin::parse("https://acme.chargebee.com").unwrap()));
        assert!(wild.matches(&Origin::parse("https://a.b.chargebee.com").unwrap()));
        assert!(!wild.matches(&Origin::parse("https://chargebee.com").unwrap()));
        assert!(!wild.matches(&Origin::parse("https://evilchargebee.com").unwrap()));
        assert!(AllowedOrigin::parse("https://acme.chargebee.com/api").is_err());
        assert!(AllowedOrigin::parse("ftp://x").is_err());
    }

    #[test]
    fn private_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

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
