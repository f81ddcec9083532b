//! The host's tunnels, per connection: which agents are connected to this replica, since when,
//! what they report, and which one takes the next call (the one with the fewest in flight).
//! A connection with no tunnel is *offline since* the last one dropped (or since this replica
//! started): its jobs wait on [`crate::keys::WaitKey::Agent`] and are released when an agent
//! connects.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http2::SendRequest;
use tokio_util::sync::CancellationToken;

use super::now_ms;

/// One agent's tunnel to this replica.
pub struct Tunnel {
    pub id: u64,
    pub connection: String,
    /// The agent credential's name.
    pub credential: String,
    /// The agent process (new at every start; the same on each replica it dials).
    pub instance: String,
    pub version: String,
    pub protocol: u32,
    pub peer: SocketAddr,
    pub connected_at: i64,
    last_heartbeat: AtomicI64,
    in_flight: AtomicU64,
    requests: AtomicU64,
    errors: AtomicU64,
    sender: Mutex<SendRequest<Full<Bytes>>>,
    /// Cancelled to close the tunnel (revocation, replacement, host stop).
    pub close: CancellationToken,
}

/// What a tunnel is, for the admin API and metrics.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TunnelStatus {
    pub connection: String,
    pub credential: String,
    pub instance: String,
    pub version: String,
    pub protocol: u32,
    pub address: String,
    pub connected_at: i64,
    pub last_heartbeat: i64,
    pub in_flight: u64,
    pub requests: u64,
    pub errors: u64,
}

/// A connection's agents as this replica sees them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConnectionAgents {
    pub connection: String,
    pub online: bool,
    /// Unix ms since when no agent has been connected (absent while online).
    pub offline_since: Option<i64>,
    pub tunnels: Vec<TunnelStatus>,
}

/// Who the new tunnel is.
pub struct Hello {
    pub connection: String,
    pub credential: String,
    pub instance: String,
    pub version: String,
    pub protocol: u32,
    pub peer: SocketAddr,
}

impl Tunnel {
    pub fn new(id: u64, hello: Hello, sender: SendRequest<Full<Bytes>>) -> Tunnel {
        let now = now_ms();
        Tunnel {
            id,
            connection: hello.connection,
            credential: hello.credential,
            instance: hello.instance,
            version: hello.version,
            protocol: hello.protocol,
            peer: hello.peer,
            connected_at: now,
            last_heartbeat: AtomicI64::new(now),
            in_flight: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            sender: Mutex::new(sender),
            close: CancellationToken::new(),
        }
    }

    /// A handle to send one request on (HTTP/2 streams share the connection).
    pub fn sender(&self) -> SendRequest<Full<Bytes>> {
        self.sender.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn heartbeat(&self) {
        self.last_heartbeat.store(now_ms(), Ordering::Relaxed);
    }

    /// Counts a call in flight until the guard drops.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    pub fn failed(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub fn status(&self) -> TunnelStatus {
        TunnelStatus {
            connection: self.connection.clone(),
            credential: self.credential.clone(),
            instance: self.instance.clone(),
            version: self.version.clone(),
            protocol: self.protocol,
            address: self.peer.to_string(),
            connected_at: self.connected_at,
            last_heartbeat: self.last_heartbeat.load(Ordering::Relaxed),
            in_flight: self.in_flight(),
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}

/// A call in flight on a tunnel.
pub struct InFlight(Arc<Tunnel>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct Slot {
    tunnels: Vec<Arc<Tunnel>>,
    offline_since: Option<i64>,
}

/// Every tunnel of this replica.
pub struct Hub {
    started: i64,
    next_id: AtomicU64,
    slots: Mutex<HashMap<String, Slot>>,
    /// Cancelled when the host stops: every tunnel says goodbye and closes.
    pub stopping: CancellationToken,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            started: now_ms(),
            next_id: AtomicU64::new(1),
            slots: Mutex::default(),
            stopping: CancellationToken::new(),
        }
    }
}

impl Hub {
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add(&self, tunnel: Arc<Tunnel>) {
        let mut slots = self.slots();
        let slot = slots.entry(tunnel.connection.clone()).or_default();
        slot.tunnels.push(tunnel);
        slot.offline_since = None;
    }

    /// Forget a closed tunnel; the connection goes offline when it was the last.
    pub fn remove(&self, tunnel: &Tunnel) {
        let mut slots = self.slots();
        if let Some(slot) = slots.get_mut(&tunnel.connection) {
            slot.tunnels.retain(|t| t.id != tunnel.id);
            if slot.tunnels.is_empty() {
                slot.offline_since = Some(now_ms());
            }
        }
    }

    /// The live tunnel of this credential, if any.
    pub fn by_credential(&self, connection: &str, credential: &str) -> Option<Arc<Tunnel>> {
        let slots = self.slots();
        slots.get(connection)?.tunnels.iter().find(|t| t.credential == credential).cloned()
    }

    /// The tunnel for the next call: the one with the fewest calls in flight. `Err` = offline
    /// since (unix ms).
    pub fn pick(&self, connection: &str) -> Result<Arc<Tunnel>, i64> {
        let slots = self.slots();
        match slots.get(connection) {
            Some(slot) => slot
                .tunnels
                .iter()
                .filter(|t| !t.close.is_cancelled())
                .min_by_key(|t| t.in_flight())
                .cloned()
                .ok_or(slot.offline_since.unwrap_or(self.started)),
            None => Err(self.started),
        }
    }

    /// `Some(since)` when no agent of `connection` is connected to this replica.
    pub fn offline_since(&self, connection: &str) -> Option<i64> {
        self.pick(connection).err()
    }

    /// Every tunnel of every connection named (all when `connections` is `None`).
    pub fn status(&self, connections: &[String]) -> Vec<ConnectionAgents> {
        let slots = self.slots();
        connections
            .iter()
            .map(|c| {
                let slot = slots.get(c);
                let tunnels: Vec<TunnelStatus> =
                    slot.map(|s| s.tunnels.iter().map(|t| t.status()).collect()).unwrap_or_default();
                let online = !tunnels.is_empty();
                let offline_since = (!online).then(|| slot.and_then(|s| s.offline_since).unwrap_or(self.started));
                ConnectionAgents { connection: c.clone(), online, offline_since, tunnels }
            })
            .collect()
    }
}

/// `10:42:07 UTC` (or the date too when not today), for "agent offline since …".
pub fn since_text(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (day, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let today = now_ms().div_euclid(1000).div_euclid(86_400);
    let hms = format!("{:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60);
    if day == today { hms } else { format!("{} {hms}", ml_connector_sdk::dates::iso_date(secs)) }
}
