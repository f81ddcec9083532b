//! Origins (`scheme://host:port`), allowlist entries (`https://*.suffix` for subdomains), and
//! the addresses a role may not reach unless it is granted private networks. A leaf module: the
//! config, the secrets and the NTLM pool all name origins.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use anyhow::{Context, bail};

/// `scheme://host:port`, normalised (lower-case host, explicit port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// An origin as the config writes it: `http(s)://host[:port]`, or `tds://host[:port]` (a SQL
    /// Server, port 1433 by default) for a `sql` secret. Requests are only ever http(s)
    /// ([`Origin::of`]), so a `tds` origin never matches one.
    pub fn parse(text: &str) -> anyhow::Result<Origin> {
        let url = url::Url::parse(text).with_context(|| format!("not a URL: {text:?}"))?;
        if url.scheme() == "tds" {
            if !matches!(url.path(), "" | "/") || url.query().is_some() || !url.username().is_empty() {
                bail!("{text:?} must be tds://host[:port] without path, query or user");
            }
            let host = url.host_str().filter(|h| !h.is_empty()).context("tds origin has no host")?;
            let port = url.port().unwrap_or(crate::config::SQL_DEFAULT_PORT);
            return Ok(Origin { scheme: "tds".into(), host: host.to_ascii_lowercase(), port });
        }
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
        AllowedOrigin {
            scheme: origin.scheme.clone(),
            host: HostPattern::Exact(origin.host.clone()),
            port: origin.port,
        }
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

/// Addresses a role may not reach unless it is granted private networks: everything that is
/// not ordinary public unicast. IPv6 forms that carry an IPv4 address (mapped, compatible,
/// NAT64, 6to4, Teredo) are judged by the IPv4 address they lead to, so `[::ffff:127.0.0.1]`,
/// `[::7f00:1]` or `[64:ff9b::a9fe:a9fe]` (the cloud metadata address) are as private as the
/// address they embed.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // 0.0.0.0/8 "this network", 0.0.0.0 included
        || a == 10 // 10/8
        || a == 127 // loopback
        || (a == 100 && (b & 0xc0) == 64) // 100.64/10 CGNAT
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (b & 0xf0) == 16) // 172.16/12
        || (a == 192 && b == 168) // 192.168/16
        || (a == 192 && b == 0 && c == 0) // 192.0.0/24 IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // 192.0.2/24 TEST-NET-1
        || (a == 198 && (b & 0xfe) == 18) // 198.18/15 benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224 // 224/4 multicast, 240/4 reserved, 255.255.255.255 broadcast
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if s[..6] == [0, 0, 0, 0, 0, 0xffff] || s[..6] == [0; 6] {
        // IPv4-mapped and IPv4-compatible (`::` and `::1` land in 0.0.0.0/8: private too).
        return is_private_v4(embedded(s[6], s[7]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_private_v4(embedded(s[6], s[7])); // NAT64 well-known prefix
    }
    match s[0] {
        0x2002 => is_private_v4(embedded(s[1], s[2])), // 6to4 carries its gateway's IPv4
        // Teredo: server IPv4 in bits 32..64, client IPv4 (inverted) in the last 32.
        0x2001 if s[1] == 0 => is_private_v4(embedded(s[2], s[3])) || is_private_v4(embedded(!s[6], !s[7])),
        0x2001 if s[1] == 0xdb8 => true,       // documentation
        0x64 if s[1] == 0xff9b => true,        // 64:ff9b:1::/48 local-use NAT64 and the rest
        0x100 if s[1..4] == [0, 0, 0] => true, // 100::/64 discard-only
        x => {
            (x & 0xfe00) == 0xfc00 // fc00::/7 unique local
                || (x & 0xffc0) == 0xfe80 // fe80::/10 link-local
                || (x & 0xffc0) == 0xfec0 // fec0::/10 site-local (deprecated, still routable inside)
                || (x & 0xff00) == 0xff00 // ff00::/8 multicast
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
        let private = [
            // IPv4
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "198.18.0.1",
            "198.19.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            // IPv6
            "::",
            "::1",
            "fc00::1",
            "fd00::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::7f00:1",
            "::a9fe:a9fe",
            "::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "2002:c0a8:101::",
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1 (inverted)
            "2001:db8::1",
            "100::1",
        ];
        for ip in private {
            assert!(is_private(ip.parse().unwrap()), "{ip} should be private");
        }
        let public = [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "100.63.255.255",
            "172.32.0.1",
            "172.15.255.255",
            "192.169.0.1",
            "198.20.0.1",
            "198.17.255.255",
            "223.255.255.255",
            "11.0.0.1",
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ];
        for ip in public {
            assert!(!is_private(ip.parse().unwrap()), "{ip} should be public");
        }
    }
}
