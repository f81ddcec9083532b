//! Refused webhook requests, counted instead of audited one by one: a flood of wrong passwords
//! must not become a flood of audit rows (each a write on the single SQLite writer). Each
//! connection's refusals since the last summary go on its timeline as one line per period; a
//! source that keeps failing is answered 429 before anything is checked.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mlc_store::Store;

use crate::timeline::{Label, Line};

/// Failures a source may have per window before it is refused outright.
const SOURCE_FAILURES: u32 = 20;
const SOURCE_WINDOW: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct Denials {
    /// Connection id → refusals since the last summary (unknown ids are not connections: they
    /// are counted under "" and only logged).
    by_connection: Mutex<HashMap<String, u64>>,
    /// Source address → (window start, failures in it).
    by_source: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Denials {
    /// Whether `source` failed too often lately to be heard at all.
    pub fn throttled(&self, source: IpAddr) -> bool {
        let map = self.by_source.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&source).is_some_and(|(start, n)| start.elapsed() < SOURCE_WINDOW && *n >= SOURCE_FAILURES)
    }

    /// A refused request: counted for its connection (if it is one) and its source.
    pub fn refused(&self, connection: Option<&str>, source: Option<IpAddr>) {
        let mut by_conn = self.by_connection.lock().unwrap_or_else(|p| p.into_inner());
        *by_conn.entry(connection.unwrap_or_default().to_string()).or_default() += 1;
        drop(by_conn);
        let Some(source) = source else { return };
        let mut map = self.by_source.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| start.elapsed() < SOURCE_WINDOW); // bounded memory
        }
        let entry = map.entry(source).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= SOURCE_WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }

    /// One timeline line per connection with refusals since the last call; returns the lines.
    pub async fn flush(&self, store: &dyn Store, period: Duration) -> anyhow::Result<usize> {
        let counts: Vec<(String, u64)> =
            std::mem::take(&mut *self.by_connection.lock().unwrap_or_else(|p| p.into_inner())).into_iter().collect();
        let mut lines = 0;
        for (connection, n) in counts {
            let detail = format!(
                "{n} webhook request(s) refused in the last {} s (unknown connection, or missing or wrong credentials)",
                period.as_secs()
            );
            if connection.is_empty() {
                tracing::warn!("{detail}, for connection ids this host does not have");
                continue;
            }
            store.append_audit(&Line::new(&connection, "intake", Label::Denied, &detail).build()).await?;
            lines += 1;
        }
        Ok(lines)
    }
}
