//! Rate governor for a secret's calls (a Chargebee API key): every worker and every component
//! instance of this process that sends with the key waits here first.
//!
//! A sliding-window log rather than a token bucket: a bucket of N refilling N per minute lets up
//! to 2N through in some 60 s window, and Chargebee counts "requests in the last 60 s". The log
//! admits a call only when fewer than `limit` calls were sent in the last `window`, so no
//! rolling window ever holds more than `limit`. A 429 pauses the key for everyone: for the
//! Retry-After it gave (at most `max_pause`: a server's `Retry-After: 999999999` must not stop
//! a key for decades), else for a capped exponential backoff with jitter.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct RateGovernor {
    limit: usize,
    window: Duration,
    /// Longest pause a 429's Retry-After may impose (`[host] max_retry_after_s`).
    max_pause: Duration,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
    /// 429s without Retry-After in a row (drives the backoff); reset by a success.
    strikes: u32,
}

const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(60);

impl RateGovernor {
    /// `limit` calls per `window`. The remote counts arrivals and we count departures; a small
    /// headroom (5 % of the calls, at least one, and 5 % of the window, 10 ms to 3 s) keeps
    /// network jitter from pushing one of its windows over.
    pub fn new(limit: u32, window: Duration) -> RateGovernor {
        let limit = limit.max(1) as usize;
        let headroom = (limit / 20).max(1);
        let margin = (window / 20).clamp(Duration::from_millis(10), Duration::from_secs(3));
        RateGovernor {
            limit: limit.saturating_sub(headroom).max(1),
            window: window + margin,
            max_pause: super::guard::DEFAULT_MAX_RETRY_AFTER,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The same governor with another ceiling on Retry-After pauses.
    pub fn with_max_pause(mut self, max_pause: Duration) -> RateGovernor {
        self.max_pause = max_pause;
        self
    }

    /// Calls admitted per window after headroom.
    pub fn effective_limit(&self) -> usize {
        self.limit
    }

    /// Wait until a call may be sent, and count it as sent.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                while g.sent.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                    g.sent.pop_front();
                }
                match g.paused_until {
                    Some(until) if until > now => until - now,
                    _ if g.sent.len() < self.limit => {
                        g.sent.push_back(now);
                        return;
                    }
                    _ => (g.sent[0] + self.window).saturating_duration_since(now) + Duration::from_millis(1),
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// The remote said 429. Returns how long the key is paused (the Retry-After, capped).
    pub fn rate_limited(&self, retry_after: Option<Duration>) -> Duration {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let pause = match retry_after {
            Some(d) => d.min(self.max_pause),
            None => {
                g.strikes = g.strikes.saturating_add(1);
                backoff(g.strikes)
            }
        };
        let until = Instant::now() + pause;
        g.paused_until = Some(g.paused_until.map_or(until, |u| u.max(until)));
        pause
    }

    pub fn succeeded(&self) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).strikes = 0;
    }
}

/// Equal jitter: half the exponential step fixed, half random, capped.
fn backoff(strikes: u32) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << strikes.saturating_sub(1).min(16)).min(BACKOFF_CAP);
    let half = exp / 2;
    half + half.mul_f64(rand::random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_limit_in_any_window() {
        let g = RateGovernor::new(21, Duration::from_secs(1)); // 20 after headroom
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..100 {
            g.acquire().await;
            times.push(Instant::now());
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..].iter().take_while(|u| u.duration_since(*t) < Duration::from_secs(1)).count();
            assert!(in_window <= 20, "{in_window} calls within 1 s of call {i}");
        }
        // 100 calls at 20/s need at least 4 full windows, and the governor should not dawdle.
        let took = start.elapsed();
        assert!(took >= Duration::from_secs(4) && took < Duration::from_secs(6), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_everyone() {
        let g = RateGovernor::new(1000, Duration::from_secs(60));
        assert_eq!(g.rate_limited(Some(Duration::from_secs(3))), Duration::from_secs(3));
        let t = Instant::now();
        g.acquire().await;
        assert!(t.elapsed() >= Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_retry_after_pauses_for_the_maximum_only() {
        let g = RateGovernor::new(1000, Duration::from_secs(60)).with_max_pause(Duration::from_secs(30));
        let paused = g.rate_limited(Some(Duration::from_secs(999_999_999)));
        assert_eq!(paused, Duration::from_secs(30));
        let t = Instant::now();
        g.acquire().await;
        let waited = t.elapsed();
        assert!(waited >= Duration::from_secs(30) && waited < Duration::from_secs(31), "{waited:?}");
        // The default ceiling is an hour.
        let g = RateGovernor::new(1000, Duration::from_secs(60));
        assert_eq!(g.rate_limited(Some(Duration::from_secs(999_999_999))), Duration::from_secs(3600));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for strikes in 1..30 {
            let exp = BACKOFF_BASE.saturating_mul(1u32 << (strikes - 1).min(16)).min(BACKOFF_CAP);
            let d = backoff(strikes);
            assert!(d >= exp / 2 && d <= exp, "strike {strikes}: {d:?} vs {exp:?}");
        }
        assert!(backoff(40) <= BACKOFF_CAP);
    }
}
