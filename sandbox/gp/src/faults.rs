//! Pacing, injected faults and counters: the misbehaviour a connector must survive, switchable
//! while the sandbox runs.
//!
//! Every business call (a SOAP operation or an SBA request, after authentication) passes the
//! concurrency gate and holds its slot for the configured latency L in all, its own processing
//! included (unless that takes longer) — so a ceiling of c with latency L caps throughput at
//! exactly c/L, as a saturated GP Web Services host does, and a benchmark's ratio to c/L measures
//! the client, not the emulator's own SQLite writes.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::Notify;

/// What happens to calls beyond the concurrency ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Overload {
    /// Wait for a slot (IIS request queue).
    #[default]
    Queue,
    /// Refuse at once with HTTP 503 (IIS queue full).
    Reject,
}

/// A misbehaviour to inject into a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this HTTP status and a short body, without processing.
    HttpStatus(u16),
    /// SOAP: GP's generic "unhandled system exception" fault (HTTP 500); SBA: a 500 with the
    /// same message. Not processed.
    SystemFault,
    /// Hold the request this long (longer than the client's timeout), then drop the
    /// connection without an answer. Not processed.
    Hang(Duration),
    /// Process and commit, then hold the response this long and drop the connection.
    HangAfterCommit(Duration),
    /// Process and commit, then reset the connection (TCP RST) without a response: the client
    /// cannot tell whether the document went in.
    LostResponse,
    /// Reset the connection before processing anything.
    Reset,
}

impl FaultKind {
    /// Whether the call is processed (and its writes committed) before the fault shows.
    pub fn processes(&self) -> bool {
        matches!(self, Self::HangAfterCommit(_) | Self::LostResponse)
    }
}

/// One injected fault: applies to the next `times` calls of `operation` (any if `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// Operation name as counted (`CreateReceivablesInvoice`; SBA calls use the same names).
    pub operation: Option<String>,
    pub kind: FaultKind,
    pub times: u32,
}

impl FaultRule {
    pub fn once(operation: &str, kind: FaultKind) -> Self {
        Self { operation: Some(operation.to_string()), kind, times: 1 }
    }
}

struct RandomFaults {
    rate: f64,
    kinds: Vec<FaultKind>,
    rng: StdRng,
}

/// Injected faults: explicit rules first (in order), then an optional seeded random rate.
pub struct Faults {
    rules: Mutex<VecDeque<FaultRule>>,
    random: Mutex<Option<RandomFaults>>,
    seed: u64,
}

impl Faults {
    pub fn new(seed: u64) -> Self {
        Self { rules: Mutex::new(VecDeque::new()), random: Mutex::new(None), seed }
    }

    pub fn inject(&self, rule: FaultRule) {
        if let Ok(mut r) = self.rules.lock() {
            r.push_back(rule);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut r) = self.rules.lock() {
            r.clear();
        }
        if let Ok(mut r) = self.random.lock() {
            *r = None;
        }
    }

    /// Faults a `rate` (0..=1) share of calls with one of `kinds`, reproducibly from the seed.
    pub fn set_random(&self, rate: f64, kinds: Vec<FaultKind>) {
        if let Ok(mut r) = self.random.lock() {
            *r = (rate > 0.0 && !kinds.is_empty()).then(|| RandomFaults {
                rate: rate.min(1.0),
                kinds,
                rng: StdRng::seed_from_u64(self.seed),
            });
        }
    }

    /// The fault for this call of `operation`, if any (consumes one use of a rule).
    pub fn take(&self, operation: &str) -> Option<FaultKind> {
        if let Ok(mut rules) = self.rules.lock() {
            let hit =
                rules.iter().position(|r| r.operation.as_deref().is_none_or(|o| o.eq_ignore_ascii_case(operation)));
            if let Some(i) = hit {
                let kind = rules[i].kind.clone();
                rules[i].times = rules[i].times.saturating_sub(1);
                if rules[i].times == 0 {
                    rules.remove(i);
                }
                return Some(kind);
            }
        }
        let mut random = self.random.lock().ok()?;
        let r = random.as_mut()?;
        if r.rng.random_bool(r.rate) {
            let i = r.rng.random_range(0..r.kinds.len());
            return Some(r.kinds[i].clone());
        }
        None
    }
}

/// What the sandbox has seen.
#[derive(Default)]
pub struct Counters {
    calls: Mutex<BTreeMap<String, u64>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    documents_written: AtomicU64,
    customers_written: AtomicU64,
    rejected_overload: AtomicU64,
    faults_injected: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Calls per operation (SOAP operation name; SBA calls are counted as `sba:<Operation>`).
    pub calls: BTreeMap<String, u64>,
    pub in_flight: usize,
    pub max_in_flight: usize,
    /// Receivables documents committed (invoices, credit memos, cash receipts).
    pub documents_written: u64,
    pub customers_written: u64,
    pub rejected_overload: u64,
    pub faults_injected: u64,
}

impl Counters {
    pub fn call(&self, op: &str) {
        if let Ok(mut c) = self.calls.lock() {
            *c.entry(op.to_string()).or_default() += 1;
        }
    }

    pub fn document_written(&self) {
        self.documents_written.fetch_add(1, Ordering::SeqCst);
    }

    pub fn customer_written(&self) {
        self.customers_written.fetch_add(1, Ordering::SeqCst);
    }

    pub fn fault_injected(&self) {
        self.faults_injected.fetch_add(1, Ordering::SeqCst);
    }

    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            calls: self.calls.lock().map(|c| c.clone()).unwrap_or_default(),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            max_in_flight: self.max_in_flight.load(Ordering::SeqCst),
            documents_written: self.documents_written.load(Ordering::SeqCst),
            customers_written: self.customers_written.load(Ordering::SeqCst),
            rejected_overload: self.rejected_overload.load(Ordering::SeqCst),
            faults_injected: self.faults_injected.load(Ordering::SeqCst),
        }
    }

    pub fn reset(&self) {
        if let Ok(mut c) = self.calls.lock() {
            c.clear();
        }
        self.max_in_flight.store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
        self.documents_written.store(0, Ordering::SeqCst);
        self.customers_written.store(0, Ordering::SeqCst);
        self.rejected_overload.store(0, Ordering::SeqCst);
        self.faults_injected.store(0, Ordering::SeqCst);
    }
}

/// Latency and the concurrency ceiling, both changeable at run time.
pub struct Pacing {
    latency_ms: AtomicU64,
    /// 0 = no ceiling.
    ceiling: AtomicUsize,
    reject: std::sync::atomic::AtomicBool,
    slots: Mutex<usize>,
    freed: Notify,
}

/// A held concurrency slot; released on drop.
pub struct Slot<'a> {
    pacing: &'a Pacing,
    counters: &'a Counters,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.pacing.slots.lock() {
            *s = s.saturating_sub(1);
        }
        self.counters.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.pacing.freed.notify_waiters();
    }
}

impl Pacing {
    pub fn new(latency: Duration, ceiling: Option<usize>, overload: Overload) -> Self {
        Self {
            latency_ms: AtomicU64::new(latency.as_millis() as u64),
            ceiling: AtomicUsize::new(ceiling.unwrap_or(0)),
            reject: std::sync::atomic::AtomicBool::new(overload == Overload::Reject),
            slots: Mutex::new(0),
            freed: Notify::new(),
        }
    }

    pub fn set_latency(&self, latency: Duration) {
        self.latency_ms.store(latency.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms.load(Ordering::SeqCst))
    }

    pub fn set_ceiling(&self, ceiling: Option<usize>, overload: Overload) {
        self.ceiling.store(ceiling.unwrap_or(0), Ordering::SeqCst);
        self.reject.store(overload == Overload::Reject, Ordering::SeqCst);
        self.freed.notify_waiters();
    }

    /// Takes a slot, waiting or refusing (`None`) per the overload mode.
    pub async fn enter<'a>(&'a self, counters: &'a Counters) -> Option<Slot<'a>> {
        loop {
            // Registered before the check so a release between check and await is not lost.
            let freed = self.freed.notified();
            {
                let mut slots = self.slots.lock().ok()?;
                let ceiling = self.ceiling.load(Ordering::SeqCst);
                if ceiling == 0 || *slots < ceiling {
                    *slots += 1;
                    let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    counters.max_in_flight.fetch_max(now, Ordering::SeqCst);
                    return Some(Slot { pacing: self, counters });
                }
                if self.reject.load(Ordering::SeqCst) {
                    counters.rejected_overload.fetch_add(1, Ordering::SeqCst);
                    return None;
                }
            }
            freed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_apply_in_order_and_run_out() {
        let f = Faults::new(1);
        f.inject(FaultRule { operation: Some("CreateCustomer".into()), kind: FaultKind::SystemFault, times: 2 });
        f.inject(FaultRule { operation: None, kind: FaultKind::HttpStatus(503), times: 1 });
        assert_eq!(f.take("GetCompanyList"), Some(FaultKind::HttpStatus(503)));
        assert_eq!(f.take("createcustomer"), Some(FaultKind::SystemFault));
        assert_eq!(f.take("CreateCustomer"), Some(FaultKind::SystemFault));
        assert_eq!(f.take("CreateCustomer"), None);
    }

    #[test]
    fn random_faults_are_reproducible() {
        let draw = || {
            let f = Faults::new(42);
            f.set_random(0.5, vec![FaultKind::SystemFault]);
            (0..32).map(|_| f.take("X").is_some()).collect::<Vec<_>>()
        };
        let a = draw();
        assert_eq!(a, draw());
        assert!(a.iter().any(|x| *x) && a.iter().any(|x| !*x));
    }

    #[tokio::test]
    async fn ceiling_rejects_or_queues() {
        let counters = Counters::default();
        let p = Pacing::new(Duration::ZERO, Some(1), Overload::Reject);
        let first = p.enter(&counters).await;
        assert!(first.is_some());
        assert!(p.enter(&counters).await.is_none());
        drop(first);
        assert!(p.enter(&counters).await.is_some());
        assert_eq!(counters.snapshot().max_in_flight, 1);
        assert_eq!(counters.snapshot().rejected_overload, 1);
    }
}
