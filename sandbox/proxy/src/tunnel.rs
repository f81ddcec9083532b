//! Splicing an established tunnel. Our own loop rather than `copy_bidirectional`, because the
//! idle cut needs to know when bytes last moved in either direction.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::sync::watch;

/// When bytes last moved, as milliseconds since the tunnel opened (atomic so the relay stays `Send`).
struct Activity {
    opened: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn quiet_for(&self) -> Duration {
        self.opened.elapsed().saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// How a tunnel's relay ended.
enum End {
    /// Both directions finished (EOF passed on), or one failed.
    Done,
    Idle,
    Cut,
}

/// What the relay needs from the proxy's configuration and control.
pub(crate) struct Rules {
    pub idle_cut: Option<Duration>,
    pub idle_cut_silently: bool,
    /// Changes when `cut_all` is called; subscribed before the client saw `200`.
    pub cut: watch::Receiver<u64>,
}

/// Relays until both sides are done, an idle cut, or `cut_all`. `early` is what the client sent
/// after its CONNECT head and goes upstream first. Returning drops (closes) both sockets.
pub(crate) async fn relay(mut client: TcpStream, mut upstream: TcpStream, early: Vec<u8>, mut rules: Rules) {
    let activity = Activity { opened: Instant::now(), last_ms: AtomicU64::new(0) };
    let end = {
        let (client_read, client_write) = client.split();
        let (upstream_read, upstream_write) = upstream.split();
        let both = async {
            tokio::try_join!(
                pump(client_read, upstream_write, early, &activity),
                pump(upstream_read, client_write, Vec::new(), &activity),
            )
        };
        tokio::select! {
            _ = both => End::Done,
            () = idle(&activity, rules.idle_cut) => End::Idle,
            _ = rules.cut.changed() => End::Cut,
        }
    };
    if matches!(end, End::Idle) && rules.idle_cut_silently {
        // A black hole: both sockets stay open, nothing is read or forwarded, until `cut_all`
        // or shutdown.
        tracing::debug!("tunnel idle: black-holed");
        let _ = rules.cut.changed().await;
    }
}

/// One direction: forwards until EOF, then passes the EOF on (half-close) so the other
/// direction can still finish; an error ends the whole tunnel (via `try_join!`).
async fn pump(
    mut from: ReadHalf<'_>,
    mut to: WriteHalf<'_>,
    early: Vec<u8>,
    activity: &Activity,
) -> std::io::Result<()> {
    if !early.is_empty() {
        to.write_all(&early).await?;
        activity.touch();
    }
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        activity.touch();
        to.write_all(&buf[..n]).await?;
        activity.touch();
    }
}

/// Completes once nothing has moved for `limit`; never without a limit.
async fn idle(activity: &Activity, limit: Option<Duration>) {
    let Some(limit) = limit else { return std::future::pending().await };
    loop {
        let quiet = activity.quiet_for();
        if quiet >= limit {
            return;
        }
        tokio::time::sleep(limit - quiet).await;
    }
}
