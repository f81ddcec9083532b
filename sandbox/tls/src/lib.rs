//! HTTPS for the emulators, as the real systems speak it (Chargebee is HTTPS-only; GP Web Services
//! and SBA are normally behind TLS). At start a sandbox generates a throw-away CA and one server
//! certificate for the names it answers to; it writes the CA's PEM to a file and prints its path,
//! so any client — the connector with `[host] extra_ca`, curl `--cacert`, Node's
//! `NODE_EXTRA_CA_CERTS`, Python's `REQUESTS_CA_BUNDLE` — trusts it without turning verification off.
//!
//! [`Conn`] is one stream type for plain and TLS connections, so an emulator's per-connection code
//! (hyper, NTLM state) is one path for both.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The names a sandbox certificate covers when none are given.
pub fn default_names() -> Vec<String> {
    vec!["localhost".to_string(), "127.0.0.1".to_string()]
}

/// A generated CA and a server certificate signed by it, ready to accept TLS connections.
#[derive(Clone)]
pub struct SandboxTls {
    ca_pem: String,
    /// The server certificate and the CA (PEM), and its private key (PKCS#8 PEM): for a server
    /// that reads files (the host's `[agents.tls]`).
    chain_pem: String,
    key_pem: String,
    names: Vec<String>,
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for SandboxTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key stays out of every Debug output.
        f.debug_struct("SandboxTls").field("names", &self.names).finish_non_exhaustive()
    }
}

impl SandboxTls {
    /// A new CA and a certificate for `names` (DNS names or IP addresses; `*.example.com` allowed).
    pub fn generate(names: &[String]) -> anyhow::Result<SandboxTls> {
        anyhow::ensure!(!names.is_empty(), "a sandbox certificate needs at least one name");
        for name in names {
            anyhow::ensure!(
                valid_name(name),
                "{name:?} is neither an IP address nor a DNS name (letters, digits, '-', '.', a leading '*.')"
            );
        }
        let ca = new_ca()?;
        let leaf_key = KeyPair::generate().context("generating the server key")?;
        let mut params = CertificateParams::new(names.to_vec())
            .with_context(|| format!("certificate names {names:?} (DNS names or IP addresses)"))?;
        params.distinguished_name.push(DnType::CommonName, names[0].clone());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        let leaf = params.signed_by(&leaf_key, &ca).context("signing the server certificate")?;
        let chain_pem = format!("{}{}", leaf.pem(), ca.pem());
        let key_pem = leaf_key.serialize_pem();
        let chain = vec![leaf.der().clone(), CertificateDer::from(ca.der().to_vec())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .context("TLS server certificate")?;
        // hyper serves HTTP/1.1 here (NTLM authenticates one connection; HTTP/2 would break it).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));
        Ok(SandboxTls { ca_pem: ca.pem(), chain_pem, key_pem, names: names.to_vec(), acceptor })
    }

    /// The CA certificate (PEM) clients must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The names the server certificate covers.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Write the CA's PEM to `path` (parent directories created).
    pub fn write_ca(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(path, &self.ca_pem).with_context(|| format!("writing the CA certificate to {}", path.display()))
    }

    /// Write the server certificate chain and its key as PEM files (key file mode 0600).
    pub fn write_server_files(&self, cert: &Path, key: &Path) -> anyhow::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::write(cert, &self.chain_pem).with_context(|| format!("writing {}", cert.display()))?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(key)
            .with_context(|| format!("writing {}", key.display()))?;
        f.write_all(self.key_pem.as_bytes())?;
        Ok(())
    }

    /// TLS handshake on an accepted TCP connection.
    pub async fn accept(&self, tcp: TcpStream) -> io::Result<Conn> {
        Ok(Conn::Tls(Box::new(self.acceptor.accept(tcp).await?)))
    }
}

/// An IP address, or a DNS name (labels of letters, digits and '-'; a leading `*.` allowed).
fn valid_name(name: &str) -> bool {
    if name.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let host = name.strip_prefix("*.").unwrap_or(name);
    !host.is_empty()
        && host.len() <= 253
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

fn new_ca() -> anyhow::Result<CertifiedIssuer<'static, KeyPair>> {
    let key = KeyPair::generate().context("generating the CA key")?;
    let mut params = CertificateParams::new(Vec::<String>::new()).context("CA parameters")?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.distinguished_name.push(DnType::CommonName, "ml-connector sandbox CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, key).context("self-signing the CA")
}

/// An accepted connection, plain or TLS.
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Conn {
    /// The host name the client asked for in TLS SNI (plain connections have none).
    pub fn sni(&self) -> Option<&str> {
        match self {
            Conn::Plain(_) => None,
            Conn::Tls(s) => s.get_ref().1.server_name(),
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Conn::Tls(_))
    }
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
