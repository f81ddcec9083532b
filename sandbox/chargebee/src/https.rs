//! HTTPS beside the plain listeners, as Chargebee serves it (HTTPS only, at
//! `https://{site}.chargebee.com`): a generated CA and server certificate (`sandbox-tls`), the
//! CA written to a file for clients to trust, and the names the certificate covers.
//!
//! A request whose host name (Host header, else TLS SNI) is `{site}.chargebee.com` is served
//! as that site — whichever region's listener it reached, the way Chargebee's DNS sends each
//! site to its data center — so a client that hardcodes Chargebee's host name works with a
//! hosts entry and the CA file.

use std::path::PathBuf;

use anyhow::Context as _;
use sandbox_tls::SandboxTls;

use crate::SiteConfig;

/// Chargebee's API host suffix: `{site}.chargebee.com`.
pub const HOST_SUFFIX: &str = ".chargebee.com";

/// HTTPS listeners beside the plain ones (off unless set on [`crate::ChargebeeConfig::tls`]).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Names the certificate covers besides `localhost`, `127.0.0.1` and
    /// `{site}.chargebee.com` of every configured site.
    pub names: Vec<String>,
    /// Where the CA certificate (PEM) is written; `None` → a fresh file under the temp dir.
    pub ca_file: Option<PathBuf>,
    /// Port of the US HTTPS origin; EU and AU take the next two. 0 → free ports.
    pub base_port: u16,
}

/// The default names, every site's Chargebee host name, then the extra ones; no duplicates.
pub fn certificate_names(sites: &[SiteConfig], extra: &[String]) -> Vec<String> {
    let mut names = sandbox_tls::default_names();
    let site_hosts = sites.iter().map(|s| format!("{}{HOST_SUFFIX}", s.name));
    for name in site_hosts.chain(extra.iter().cloned()) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Generates the certificate and writes the CA file; returns the TLS setup and the file.
pub(crate) fn prepare(options: &TlsOptions, sites: &[SiteConfig]) -> anyhow::Result<(SandboxTls, PathBuf)> {
    let tls = SandboxTls::generate(&certificate_names(sites, &options.names))
        .context("generating the Chargebee sandbox certificate")?;
    let path = match &options.ca_file {
        Some(path) => path.clone(),
        None => std::env::temp_dir()
            .join(format!("chargebee-sandbox-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()))
            .join("ca.pem"),
    };
    tls.write_ca(&path)?;
    Ok((tls, path))
}

/// The site label of a Chargebee host name: `acme.chargebee.com[:443]` → `acme`. Any other
/// host (`localhost`, an IP address) names no site.
pub fn site_label(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.');
    // Drop a port; IPv6 literals (`[::1]:443`) never end in the suffix anyway.
    let host = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    let host = host.to_ascii_lowercase();
    let label = host.strip_suffix(HOST_SUFFIX)?;
    (!label.is_empty() && !label.contains('.')).then(|| label.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_labels_come_from_chargebee_host_names_only() {
        assert_eq!(site_label("acme.chargebee.com").as_deref(), Some("acme"));
        assert_eq!(site_label("Acme-Test.Chargebee.com:48633").as_deref(), Some("acme-test"));
        assert_eq!(site_label("acme.chargebee.com.").as_deref(), Some("acme"));
        assert_eq!(site_label("localhost:443"), None);
        assert_eq!(site_label("127.0.0.1"), None);
        assert_eq!(site_label("chargebee.com"), None);
        assert_eq!(site_label("a.b.chargebee.com"), None);
    }

    #[test]
    fn names_cover_loopback_every_site_and_the_extras_once() {
        let sites = crate::ChargebeeConfig::default().sites;
        let names = certificate_names(&sites, &["acme.chargebee.com".into(), "localhost".into()]);
        assert_eq!(&names[..2], ["localhost", "127.0.0.1"]);
        assert!(names.contains(&"acme-test.chargebee.com".to_string()));
        assert!(names.contains(&"acme.chargebee.com".to_string()));
        assert_eq!(names.len(), 2 + sites.len() + 1);
    }
}
