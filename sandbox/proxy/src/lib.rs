//! A corporate HTTP forward proxy for tests: HTTP/1.1, `CONNECT` only, like Squid set up for
//! HTTPS tunnels. The local agent dials out through one of these in the field, so its tests dial
//! through this, with the refusals a real proxy gives (`403`, `407`, `405`, `502`) and the ways a
//! real network loses a tunnel (an idle cut that closes, or one that silently black-holes, and
//! [`Proxy::cut_all`]).
//!
//! A test fixture only: it binds `127.0.0.1` and trusts its clients.

mod head;
mod tunnel;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use head::{Answer, ReadOutcome};

/// How long dialling the CONNECT target may take before the client gets `502`.
const DIAL_TIMEOUT: Duration = Duration::from_secs(10);

/// What the proxy allows. The default is an open proxy with no limits.
#[derive(Debug, Clone, Default)]
pub struct ProxyConfig {
    /// Basic credentials (user, password) every CONNECT must carry in `Proxy-Authorization`.
    pub auth: Option<(String, String)>,
    /// Answer every CONNECT with `403 Forbidden` (a proxy whose policy denies the agent).
    pub refuse_connect: bool,
    /// The only target ports a CONNECT may name (Squid's `SSL_ports`); `None` allows any.
    pub allowed_ports: Option<Vec<u16>>,
    /// A tunnel with no bytes moving in either direction for this long is cut.
    pub idle_cut: Option<Duration>,
    /// How an idle tunnel is cut: `true` stops forwarding but keeps both sockets open (a load
    /// balancer that forgets idle flows without a reset; the client only notices by timing out);
    /// `false` closes both sides.
    pub idle_cut_silently: bool,
}

/// State shared by the accept loop and every connection.
struct Shared {
    config: ProxyConfig,
    opened: AtomicU64,
    open: AtomicUsize,
    refused: AtomicU64,
    /// Bumped by `cut_all`; every tunnel watches it.
    cut: watch::Sender<u64>,
}

/// A running proxy on `127.0.0.1`. Dropping it stops it (like [`Proxy::shutdown`], without
/// waiting).
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Binds `127.0.0.1:0` and starts accepting.
    pub async fn start(config: ProxyConfig) -> anyhow::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the proxy on 127.0.0.1")?;
        let addr = listener.local_addr().context("reading the proxy's address")?;
        let shared = Arc::new(Shared {
            config,
            opened: AtomicU64::new(0),
            open: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
            cut: watch::Sender::new(0),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), stopped));
        Ok(Proxy { addr, shared, stop, task: Some(task) })
    }

    /// Where the proxy listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy URL clients are given, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Tunnels established (answered `200`) since start.
    pub fn tunnels_opened(&self) -> u64 {
        self.shared.opened.load(Ordering::SeqCst)
    }

    /// Tunnels whose sockets are open now (a black-holed tunnel still counts).
    pub fn tunnels_open(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }

    /// CONNECT requests not answered `200`: refused (`403`), unauthenticated (`407`), or whose
    /// target could not be dialled (`502`). Malformed and non-CONNECT requests do not count.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Severs every tunnel open now (every one whose client has seen `200`), closing both sides.
    pub fn cut_all(&self) {
        self.shared.cut.send_modify(|generation| *generation += 1);
    }

    /// Stops accepting, closes every connection and tunnel, and waits until they are gone.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Accepts until stopped; each connection is a task in `conns`, so stopping closes them all.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(serve(stream, Arc::clone(&shared)));
                }
                Err(error) => {
                    tracing::warn!(%error, "proxy accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next() => {}
            _ = stop.changed() => break,
        }
    }
    conns.shutdown().await;
}

/// One client connection: its head, the decision, the dial, then the tunnel.
async fn serve(mut client: TcpStream, shared: Arc<Shared>) {
    let _ = client.set_nodelay(true);
    let (head, early) = match head::read_head(&mut client).await {
        ReadOutcome::Head(head, early) => (head, early),
        ReadOutcome::Closed => return,
        ReadOutcome::TooLarge => return answer(client, Answer::new(431, "request head too large")).await,
        ReadOutcome::TimedOut => return answer(client, Answer::new(408, "request head timed out")).await,
        ReadOutcome::Malformed => return answer(client, Answer::new(400, "malformed request")).await,
    };
    if head.method != "CONNECT" {
        return answer(client, Answer::new(405, "this proxy only supports CONNECT")).await;
    }
    let Some((host, port)) = head::authority(&head.target) else {
        return answer(client, Answer::new(400, "CONNECT target must be host:port")).await;
    };
    if let Err(refusal) = admit(&shared.config, &head, port) {
        shared.refused.fetch_add(1, Ordering::SeqCst);
        tracing::debug!(target = %head.target, status = refusal.status, "CONNECT refused");
        return answer(client, refusal).await;
    }
    let upstream = match tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect((host.as_str(), port))).await {
        Ok(Ok(upstream)) => upstream,
        Ok(Err(error)) => return dial_failed(client, &shared, &head.target, &error.to_string()).await,
        Err(_) => return dial_failed(client, &shared, &head.target, "timed out").await,
    };
    let _ = upstream.set_nodelay(true);
    // Subscribe and count before the client sees 200, so `cut_all` and the counters cover a
    // tunnel from the moment its client can use it.
    let cut = shared.cut.subscribe();
    shared.opened.fetch_add(1, Ordering::SeqCst);
    let _open = OpenGuard::new(&shared);
    if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_err() {
        return;
    }
    let rules =
        tunnel::Rules { idle_cut: shared.config.idle_cut, idle_cut_silently: shared.config.idle_cut_silently, cut };
    tunnel::relay(client, upstream, early, rules).await;
}

/// The policy checks, in the order a proxy applies them: policy, then credentials, then port.
fn admit(config: &ProxyConfig, head: &head::Head, port: u16) -> Result<(), Answer> {
    if config.refuse_connect {
        return Err(Answer::new(403, "CONNECT is not allowed by policy"));
    }
    if let Some((user, password)) = &config.auth
        && !head::authorized(head, user, password)
    {
        return Err(Answer::new(407, "proxy credentials required"));
    }
    if config.allowed_ports.as_ref().is_some_and(|ports| !ports.contains(&port)) {
        return Err(Answer::new(403, format!("CONNECT to port {port} is not allowed")));
    }
    Ok(())
}

async fn dial_failed(client: TcpStream, shared: &Shared, target: &str, why: &str) {
    shared.refused.fetch_add(1, Ordering::SeqCst);
    tracing::debug!(%target, %why, "CONNECT dial failed");
    answer(client, Answer::new(502, format!("cannot reach {target}: {why}"))).await;
}

/// Sends an error answer and closes. The close lingers, reading what the client still sends,
/// so unread input does not turn the close into a reset that could destroy the answer in flight.
async fn answer(mut client: TcpStream, answer: Answer) {
    let send_and_linger = async {
        client.write_all(&answer.bytes()).await?;
        client.shutdown().await?;
        let mut sink = [0u8; 1024];
        while client.read(&mut sink).await? > 0 {}
        std::io::Result::Ok(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), send_and_linger).await;
}

/// Counts a tunnel as open for as long as its task holds this (also when the task is aborted).
struct OpenGuard<'a>(&'a Shared);

impl<'a> OpenGuard<'a> {
    fn new(shared: &'a Shared) -> OpenGuard<'a> {
        shared.open.fetch_add(1, Ordering::SeqCst);
        OpenGuard(shared)
    }
}

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}
