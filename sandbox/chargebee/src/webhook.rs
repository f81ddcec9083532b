//! Chargebee's webhook delivery: POST the bare event JSON to a URL with optional HTTP Basic
//! credentials (Chargebee signs nothing), retry non-2xx answers and timeouts on Chargebee's
//! schedule (+2 min, +6 min, +30 min, +1 h, +5 h, +1 day, +2 days, each after the previous
//! attempt) compressed by a factor, and optionally deliver duplicates and out of order, the
//! two things Chargebee warns receivers about.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tokio::task::JoinSet;

use crate::control::Control;
use crate::model::Event;
use crate::server::lock;

/// Chargebee's retry delays after a failed delivery (KB article 257941).
pub const CHARGEBEE_RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(2 * 60),
    Duration::from_secs(6 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(86_400),
    Duration::from_secs(2 * 86_400),
];

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    /// (user, password) sent as HTTP Basic, as configured on a Chargebee webhook endpoint.
    pub basic: Option<(String, String)>,
    /// Delays before each retry; Chargebee's by default.
    pub schedule: Vec<Duration>,
    /// Real delay = scheduled delay / this (120 000 turns 2 min into 1 ms and 2 days into 1.44 s).
    pub time_compression: f64,
    /// Per attempt; Chargebee's value is not published (INFERRED 10 s).
    pub timeout: Duration,
    /// Share of successfully delivered events that are delivered a second time.
    pub duplicate_rate: f64,
    /// Deliver a batch in a seeded random order instead of event order.
    pub out_of_order: bool,
    pub seed: u64,
}

impl WebhookConfig {
    pub fn new(url: &str) -> Self {
        WebhookConfig {
            url: url.into(),
            basic: None,
            schedule: CHARGEBEE_RETRY_SCHEDULE.to_vec(),
            time_compression: 1.0,
            timeout: Duration::from_secs(10),
            duplicate_rate: 0.0,
            out_of_order: false,
            seed: 0,
        }
    }

    pub fn basic(mut self, user: &str, password: &str) -> Self {
        self.basic = Some((user.into(), password.into()));
        self
    }

    pub fn compressed(mut self, factor: f64) -> Self {
        self.time_compression = factor;
        self
    }

    fn scaled(&self, d: Duration) -> Duration {
        if self.time_compression > 0.0 { d.div_f64(self.time_compression) } else { d }
    }
}

/// One POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub event_id: String,
    /// 1 = first delivery, 2.. = retries; duplicates count on their own.
    pub number: u32,
    pub duplicate: bool,
    /// HTTP status, or the transport error (timeout, refused connection).
    pub result: Result<u16, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Answered 2xx on attempt `attempt`.
    Delivered { status: u16, attempt: u32 },
    /// Every attempt failed; the last answer or error.
    Failed { last: Result<u16, String> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDelivery {
    pub event_id: String,
    /// Attempts including retries, excluding duplicates.
    pub attempts: u32,
    pub duplicates: u32,
    pub outcome: DeliveryOutcome,
}

#[derive(Debug, Clone, Default)]
pub struct WebhookReport {
    /// Every POST in the order it finished.
    pub attempts: Vec<Attempt>,
    /// Event ids in the order the receiver accepted them (duplicates included).
    pub accepted_order: Vec<String>,
    pub per_event: BTreeMap<String, EventDelivery>,
}

impl WebhookReport {
    pub fn delivered(&self) -> usize {
        self.per_event.values().filter(|d| matches!(d.outcome, DeliveryOutcome::Delivered { .. })).count()
    }

    pub fn failed(&self) -> usize {
        self.per_event.len() - self.delivered()
    }
}

/// Delivers a site's events. Keeps a cursor so [`WebhookSender::deliver_new`] sends each
/// event once (plus retries and configured duplicates).
pub struct WebhookSender {
    control: Control,
    site: String,
    config: WebhookConfig,
    sent_upto: Mutex<usize>,
    rng: Mutex<StdRng>,
}

impl WebhookSender {
    pub(crate) fn new(control: Control, site: String, config: WebhookConfig) -> Self {
        let rng = StdRng::seed_from_u64(config.seed);
        WebhookSender { control, site, config, sent_upto: Mutex::new(0), rng: Mutex::new(rng) }
    }

    /// Every event of the site not yet handed to this sender.
    pub async fn deliver_new(&self) -> WebhookReport {
        let events = self.control.events(&self.site).unwrap_or_default();
        let fresh = {
            let mut upto = lock(&self.sent_upto);
            let fresh = events.get(*upto..).map(<[Event]>::to_vec).unwrap_or_default();
            *upto = events.len();
            fresh
        };
        self.deliver(fresh).await
    }

    /// Delivers `events` (first attempts one after another, as Chargebee calls endpoints;
    /// retries and duplicates run beside later events) and waits for every retry to end.
    pub async fn deliver(&self, mut events: Vec<Event>) -> WebhookReport {
        let duplicates: Vec<bool> = {
            let mut rng = lock(&self.rng);
            if self.config.out_of_order {
                events.shuffle(&mut *rng);
            }
            events.iter().map(|_| rng.random_bool(self.config.duplicate_rate.clamp(0.0, 1.0))).collect()
        };
        let report = Arc::new(Mutex::new(WebhookReport::default()));
        let mut later = JoinSet::new();
        for (event, duplicate) in events.into_iter().zip(duplicates) {
            let body = match serde_json::to_vec(&event) {
                Ok(b) => b,
                Err(_) => continue,
            };
            let job = Job {
                config: self.config.clone(),
                control: self.control.clone(),
                site: self.site.clone(),
                event_id: event.id.clone(),
                body,
                report: report.clone(),
            };
            let first = job.post(1, false).await;
            if is_success(&first) {
                job.finish(1, &first);
                if duplicate {
                    later.spawn(async move {
                        tokio::time::sleep(job.config.scaled(job.config.schedule.first().copied().unwrap_or_default()))
                            .await;
                        let _ = job.post(1, true).await;
                    });
                }
            } else {
                self.control.set_webhook_status(&self.site, &event.id, "re_scheduled");
                later.spawn(async move { job.retry(first, duplicate).await });
            }
        }
        while later.join_next().await.is_some() {}
        lock(&report).clone()
    }
}

fn is_success(r: &Result<u16, String>) -> bool {
    matches!(r, Ok(s) if (200..300).contains(s))
}

struct Job {
    config: WebhookConfig,
    control: Control,
    site: String,
    event_id: String,
    body: Vec<u8>,
    report: Arc<Mutex<WebhookReport>>,
}

impl Job {
    /// One POST over a fresh connection (Chargebee does not reuse connections between
    /// deliveries as far as anyone can tell; a fresh one also makes timeouts independent).
    async fn send_once(&self) -> Result<u16, String> {
        let url = url::Url::parse(&self.config.url).map_err(|e| format!("bad webhook URL: {e}"))?;
        if url.scheme() != "http" {
            return Err(format!("the sandbox sender speaks plain http only, not {}", url.scheme()));
        }
        let host = url.host_str().ok_or("webhook URL without host")?.to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let stream =
            tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| format!("connect: {e}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let mut req = hyper::Request::post(path)
            .header(hyper::header::HOST, url[url::Position::BeforeHost..url::Position::AfterPort].to_string())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, "ChargeBee");
        if let Some((user, password)) = &self.config.basic {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            req = req.header(hyper::header::AUTHORIZATION, format!("Basic {token}"));
        }
        let req = req
            .body(http_body_util::Full::new(bytes::Bytes::from(self.body.clone())))
            .map_err(|e| format!("request: {e}"))?;
        let resp = sender.send_request(req).await.map_err(|e| format!("transport error: {e}"))?;
        Ok(resp.status().as_u16())
    }

    async fn post(&self, number: u32, duplicate: bool) -> Result<u16, String> {
        let result = match tokio::time::timeout(self.config.timeout, self.send_once()).await {
            Ok(r) => r,
            Err(_) => Err("timeout".to_string()),
        };
        let mut r = lock(&self.report);
        if is_success(&result) {
            r.accepted_order.push(self.event_id.clone());
        }
        r.attempts.push(Attempt { event_id: self.event_id.clone(), number, duplicate, result: result.clone() });
        if duplicate && let Some(d) = r.per_event.get_mut(&self.event_id) {
            d.duplicates += 1;
        }
        result
    }

    fn finish(&self, attempts: u32, last: &Result<u16, String>) {
        let outcome = match last {
            Ok(status) if is_success(last) => DeliveryOutcome::Delivered { status: *status, attempt: attempts },
            _ => DeliveryOutcome::Failed { last: last.clone() },
        };
        self.control.set_webhook_status(
            &self.site,
            &self.event_id,
            if matches!(outcome, DeliveryOutcome::Delivered { .. }) { "succeeded" } else { "failed" },
        );
        lock(&self.report).per_event.insert(
            self.event_id.clone(),
            EventDelivery { event_id: self.event_id.clone(), attempts, duplicates: 0, outcome },
        );
    }

    async fn retry(self, first: Result<u16, String>, duplicate: bool) {
        let mut last = first;
        let mut number = 1;
        for delay in self.config.schedule.clone() {
            tokio::time::sleep(self.config.scaled(delay)).await;
            number += 1;
            last = self.post(number, false).await;
            if is_success(&last) {
                break;
            }
        }
        self.finish(number, &last);
        if duplicate && is_success(&last) {
            let _ = self.post(number, true).await;
        }
    }
}
