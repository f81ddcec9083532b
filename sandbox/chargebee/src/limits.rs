//! Per-site request-rate limits, the counters tests assert on, and injected faults.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How the per-site window is counted. Chargebee documents "requests in the last 60 s"
/// without saying how; both readings are offered (INFERRED, configurable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LimitAlgorithm {
    /// At most `limit` accepted requests in any trailing window.
    #[default]
    SlidingLog,
    /// At most `limit` per fixed window starting at the first request; a client can get up to
    /// twice the limit through around a window boundary.
    FixedWindow,
}

/// What the per-site limiter decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Accepted,
    /// Refused; `retry_after` is when the window has room again.
    Limited {
        retry_after: Duration,
    },
}

pub struct Limiter {
    pub limit: u32,
    pub window: Duration,
    pub algorithm: LimitAlgorithm,
    /// Refused requests count toward the limit as well, so a client that keeps hammering
    /// stays blocked ("blocks all requests until traffic falls back under the limit").
    pub count_refused: bool,
    /// What decisions are taken on: accepted (and with `count_refused`, refused) requests.
    decisions: VecDeque<Instant>,
    /// Accepted requests in the trailing window, for the rolling maximum.
    accepted: VecDeque<Instant>,
    fixed_start: Option<Instant>,
    fixed_count: u32,
    pub max_rolling_accepted: usize,
}

impl Limiter {
    pub fn new(limit: u32, window: Duration, algorithm: LimitAlgorithm, count_refused: bool) -> Self {
        Limiter {
            limit,
            window,
            algorithm,
            count_refused,
            decisions: VecDeque::new(),
            accepted: VecDeque::new(),
            fixed_start: None,
            fixed_count: 0,
            max_rolling_accepted: 0,
        }
    }

    fn prune(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
    }

    pub fn admit(&mut self, now: Instant) -> Admission {
        Self::prune(&mut self.decisions, now, self.window);
        Self::prune(&mut self.accepted, now, self.window);
        let verdict = match self.algorithm {
            LimitAlgorithm::SlidingLog => {
                if (self.decisions.len() as u64) < u64::from(self.limit) {
                    Admission::Accepted
                } else {
                    // Room again when the oldest counted request leaves the window; with
                    // `count_refused` that is the request `limit` places back.
                    let idx = self.decisions.len() - self.limit.max(1) as usize;
                    let oldest = self.decisions.get(idx).copied().unwrap_or(now);
                    Admission::Limited { retry_after: (oldest + self.window).saturating_duration_since(now) }
                }
            }
            LimitAlgorithm::FixedWindow => {
                let start = *self.fixed_start.get_or_insert(now);
                let elapsed = now.duration_since(start);
                if elapsed >= self.window {
                    let windows = elapsed.as_nanos() / self.window.as_nanos().max(1);
                    let step = self.window.as_nanos() * windows;
                    self.fixed_start = Some(start + Duration::from_nanos(step as u64));
                    self.fixed_count = 0;
                }
                let start = self.fixed_start.unwrap_or(now);
                if self.fixed_count < self.limit {
                    self.fixed_count += 1;
                    Admission::Accepted
                } else {
                    Admission::Limited { retry_after: (start + self.window).saturating_duration_since(now) }
                }
            }
        };
        match verdict {
            Admission::Accepted => {
                self.decisions.push_back(now);
                self.accepted.push_back(now);
                self.max_rolling_accepted = self.max_rolling_accepted.max(self.accepted.len());
            }
            Admission::Limited { .. } => {
                if self.count_refused {
                    self.decisions.push_back(now);
                }
            }
        }
        verdict
    }

    pub fn reset(&mut self) {
        self.decisions.clear();
        self.accepted.clear();
        self.fixed_start = None;
        self.fixed_count = 0;
        self.max_rolling_accepted = 0;
    }
}

/// Per-site counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteCounters {
    /// Every request that named this site's key (accepted, limited, faulted or refused).
    pub calls: u64,
    /// Requests let through the rate limiter.
    pub accepted: u64,
    /// 429s served.
    pub rate_limited: u64,
    /// 401s for this site's key presented at another region's origin.
    pub wrong_region: u64,
    /// Injected 5xx answers and dropped connections.
    pub faults_served: u64,
    pub connections_dropped: u64,
    /// Highest number of accepted requests within any trailing window.
    pub max_rolling_accepted: u64,
    pub in_flight: u64,
    pub max_in_flight: u64,
    /// Accepted requests per path (`/api/v2/invoices`, `/api/v2/invoices/{id}` counted as
    /// `/api/v2/invoices/:id`).
    pub by_endpoint: std::collections::BTreeMap<String, u64>,
}

/// What an injected fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer with this 5xx status in Chargebee's error shape (500 internal_error, 503
    /// internal_temporary_error).
    Status(u16),
    /// Close the connection without a response.
    Drop,
}

/// A fault applied to the next `remaining` matching requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub action: FaultAction,
    pub remaining: u32,
    /// Only requests whose path starts with this (`/api/v2/invoices` or `/invoices`).
    pub path_prefix: Option<String>,
    /// Only requests for this site.
    pub site: Option<String>,
}

impl FaultRule {
    pub fn status(status: u16) -> Self {
        FaultRule { action: FaultAction::Status(status), remaining: 1, path_prefix: None, site: None }
    }

    pub fn drop_connection() -> Self {
        FaultRule { action: FaultAction::Drop, remaining: 1, path_prefix: None, site: None }
    }

    pub fn times(mut self, n: u32) -> Self {
        self.remaining = n;
        self
    }

    pub fn path(mut self, prefix: &str) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    pub fn site(mut self, site: &str) -> Self {
        self.site = Some(site.into());
        self
    }

    pub(crate) fn matches(&self, site: &str, path: &str) -> bool {
        self.remaining > 0
            && self.site.as_deref().is_none_or(|s| s == site)
            && self.path_prefix.as_deref().is_none_or(|p| path_matches(p, path))
    }
}

/// A prefix matches with or without the `/api/v2` part.
pub(crate) fn path_matches(prefix: &str, path: &str) -> bool {
    path.starts_with(prefix) || path.strip_prefix("/api/v2").is_some_and(|rest| rest.starts_with(prefix))
}

/// Fixed latency added before answering, optionally only on some paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latency {
    pub delay: Duration,
    pub path_prefix: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_log_never_exceeds_the_limit_and_says_when_room_returns() {
        let mut l = Limiter::new(3, Duration::from_secs(10), LimitAlgorithm::SlidingLog, false);
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(l.admit(t0 + Duration::from_secs(i)), Admission::Accepted);
        }
        assert_eq!(l.admit(t0 + Duration::from_secs(4)), Admission::Limited { retry_after: Duration::from_secs(6) });
        assert_eq!(l.admit(t0 + Duration::from_secs(10)), Admission::Accepted);
        assert_eq!(l.max_rolling_accepted, 3);
    }

    #[test]
    fn fixed_window_lets_a_boundary_burst_through() {
        let mut l = Limiter::new(2, Duration::from_secs(10), LimitAlgorithm::FixedWindow, false);
        let t0 = Instant::now();
        assert_eq!(l.admit(t0), Admission::Accepted);
        assert_eq!(l.admit(t0 + Duration::from_secs(9)), Admission::Accepted);
        assert!(matches!(l.admit(t0 + Duration::from_secs(9)), Admission::Limited { .. }));
        assert_eq!(l.admit(t0 + Duration::from_secs(10)), Admission::Accepted);
        assert_eq!(l.admit(t0 + Duration::from_secs(10)), Admission::Accepted);
        assert_eq!(l.max_rolling_accepted, 3);
    }

    #[test]
    fn counting_refused_requests_keeps_a_hammering_client_blocked() {
        let mut l = Limiter::new(1, Duration::from_secs(10), LimitAlgorithm::SlidingLog, true);
        let t0 = Instant::now();
        assert_eq!(l.admit(t0), Admission::Accepted);
        assert!(matches!(l.admit(t0 + Duration::from_secs(9)), Admission::Limited { .. }));
        // The first request left the window, but the refused one at 9 s still counts.
        assert!(matches!(l.admit(t0 + Duration::from_secs(11)), Admission::Limited { .. }));
        assert_eq!(l.admit(t0 + Duration::from_secs(22)), Admission::Accepted);
    }
}
