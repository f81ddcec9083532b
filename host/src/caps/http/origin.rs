//! Origins (`scheme://host:port`), allowlist entries (`https://*.suffix` for subdomains), and
//! the addresses a role may not reach unless it is granted private networks. A leaf module: the
//! config, the secrets and the NTLM pool all name origins.

use std::net::IpAddr;

use anyhow::{Context, bail};

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

    /// Exactly `origin`.
    pub fn exact(origin: &Origin) -> AllowedOrigin {
        AllowedOrigin { scheme: origin.scheme.clone(), host: HostPattern::Exact(origin.host.clone()), port: origin.port }
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
}
