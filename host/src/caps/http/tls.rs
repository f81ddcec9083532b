//! The host's one TLS client configuration, for plain requests (reqwest) and the NTLM pool
//! alike: the platform's roots, plus the CAs of `[host] extra_ca` — how an operator trusts a
//! private CA (a GP server's internal certificate, the emulators' generated CA). Verification
//! is never turned off.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// A client config trusting the platform's roots and every certificate in `extra_ca` (PEM).
pub fn client_config(extra_ca: Option<&Path>) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let extra = match extra_ca {
        Some(path) => read_certificates(path)?,
        None => Vec::new(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
        .context("TLS certificate verifier")?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .dangerous() // a custom verifier: the platform's, with extra roots — it still verifies
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Every certificate of a PEM file; a file with none is refused (a typo must not silently
/// leave the CA untrusted).
pub fn read_certificates(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("extra_ca {}: reading", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("extra_ca {}: not a PEM certificate file", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "extra_ca {}: holds no certificate", path.display());
    Ok(certs)
}
