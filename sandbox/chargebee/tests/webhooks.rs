//! The webhook sender: body = bare event JSON, Basic credentials, Chargebee's retry schedule
//! (compressed), duplicates and out-of-order delivery.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// The receiver helpers live outside #[test] fns, where clippy.toml's test allowance ends.

mod support;

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use chargebee_sandbox::*;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use support::*;

/// What the receiver answers for one event id on its n-th delivery (1-based).
type Plan = Arc<dyn Fn(&str, usize) -> Answer + Send + Sync>;

#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    Hang,
}

#[derive(Default)]
struct Received {
    /// (event id, event_type, authorization header) per request, in arrival order.
    posts: Vec<(String, String, Option<String>)>,
}

async fn receiver(plan: Plan) -> (String, Arc<Mutex<Received>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/chargebee/webhook", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Received::default()));
    let rec = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                break;
            };
            let rec = rec.clone();
            let plan = plan.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let rec = rec.clone();
                    let plan = plan.clone();
                    async move {
                        let auth = req.headers().get("authorization").and_then(|h| h.to_str().ok()).map(str::to_string);
                        assert_eq!(req.uri().path(), "/chargebee/webhook");
                        assert_eq!(req.headers()["content-type"], "application/json");
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let event: serde_json::Value = serde_json::from_slice(&body).expect("JSON body");
                        // The bare event, not {"event": …}.
                        assert_eq!(event["object"], "event");
                        let id = event["id"].as_str().unwrap().to_string();
                        let n = {
                            let mut r = rec.lock().unwrap();
                            r.posts.push((id.clone(), event["event_type"].as_str().unwrap().into(), auth));
                            r.posts.iter().filter(|p| p.0 == id).count()
                        };
                        let status = match plan(&id, n) {
                            Answer::Status(s) => s,
                            Answer::Hang => {
                                tokio::time::sleep(Duration::from_secs(5)).await;
                                200
                            }
                        };
                        let mut resp = Response::new(Full::new(Bytes::from_static(b"ok")));
                        *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    (url, received)
}

async fn site_with_events(n_customers: usize) -> (ChargebeeSandbox, SiteInfo, Vec<Event>) {
    let (sb, site) = seeded(&spec(n_customers, 2)).await;
    let events = sb.control().events(&site.name).unwrap();
    (sb, site, events)
}

#[tokio::test]
async fn retries_on_chargebees_schedule_until_2xx_or_exhausted() {
    let (sb, site, events) = site_with_events(2).await;
    let events: Vec<Event> = events.into_iter().take(4).collect();
    let (flaky, slow, dead) = (events[1].id.clone(), events[2].id.clone(), events[3].id.clone());
    let plan: Plan = {
        let (flaky, slow, dead) = (flaky.clone(), slow.clone(), dead.clone());
        Arc::new(move |id: &str, n: usize| {
            if id == flaky && n <= 2 {
                Answer::Status(500)
            } else if id == slow && n == 1 {
                Answer::Hang
            } else if id == dead {
                Answer::Status(503)
            } else {
                Answer::Status(200)
            }
        })
    };
    let (url, received) = receiver(plan).await;
    let mut config = WebhookConfig::new(&url).basic("cb-hook", "s3cret").compressed(100_000.0);
    config.timeout = Duration::from_millis(300);
    let sender = sb.control().webhooks(&site.name, config).unwrap();
    let started = std::time::Instant::now();
    let report = sender.deliver(events.clone()).await;
    // 2+6+30 min +1+5 h +1+2 days = 286 920 s → 2.87 s at 1:100 000.
    assert!(started.elapsed() >= Duration::from_millis(2_800), "{:?}", started.elapsed());

    let by_id = &report.per_event;
    assert_eq!(by_id[&events[0].id].outcome, DeliveryOutcome::Delivered { status: 200, attempt: 1 });
    assert_eq!(by_id[&flaky].outcome, DeliveryOutcome::Delivered { status: 200, attempt: 3 });
    assert_eq!(by_id[&slow].outcome, DeliveryOutcome::Delivered { status: 200, attempt: 2 });
    assert_eq!(by_id[&dead].attempts, 8, "first try + 7 retries");
    assert_eq!(by_id[&dead].outcome, DeliveryOutcome::Failed { last: Ok(503) });
    assert!(report.attempts.iter().any(|a| a.event_id == slow && a.result == Err("timeout".into())));
    assert_eq!((report.delivered(), report.failed()), (3, 1));

    let expected_auth = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("cb-hook:s3cret"));
    let rec = received.lock().unwrap();
    assert!(rec.posts.iter().all(|p| p.2.as_deref() == Some(expected_auth.as_str())));
    // Retries do not hold up later events: the dead one's last try comes after everything else.
    assert_eq!(rec.posts.last().unwrap().0, dead);
    drop(rec);

    let status: HashMap<String, String> =
        sb.control().events(&site.name).unwrap().into_iter().map(|e| (e.id, e.webhook_status)).collect();
    assert_eq!(status[&flaky], "succeeded");
    assert_eq!(status[&dead], "failed");
}

#[tokio::test]
async fn duplicates_and_out_of_order_are_seeded_and_complete() {
    let (sb, site, events) = site_with_events(6).await;
    assert!(events.len() >= 20);
    let (url, received) = receiver(Arc::new(|_: &str, _: usize| Answer::Status(204))).await;
    let config = WebhookConfig {
        duplicate_rate: 0.3,
        out_of_order: true,
        seed: 9,
        ..WebhookConfig::new(&url).compressed(1_000_000.0)
    };
    let report = sb.control().webhooks(&site.name, config.clone()).unwrap().deliver_new().await;
    {
        let rec = received.lock().unwrap();
        let ids: Vec<&str> = rec.posts.iter().map(|p| p.0.as_str()).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), events.len(), "every event arrives");
        let dups = ids.len() - unique.len();
        assert!(dups > 0 && dups < events.len(), "{dups} duplicates of {}", events.len());
        let total_dups: u32 = report.per_event.values().map(|d| d.duplicates).sum();
        assert_eq!(total_dups as usize, dups);
        let in_order: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        let first_arrivals: Vec<&str> = {
            let mut seen = HashSet::new();
            ids.iter().copied().filter(|i| seen.insert(*i)).collect()
        };
        assert_ne!(first_arrivals, in_order, "delivered out of order");
    }

    // Same seed, same first-delivery order.
    let first_order = |r: &WebhookReport| -> Vec<String> {
        r.attempts.iter().filter(|a| !a.duplicate).map(|a| a.event_id.clone()).collect()
    };
    let again = sb.control().webhooks(&site.name, config).unwrap().deliver(events.clone()).await;
    assert_eq!(first_order(&again), first_order(&report));

    // deliver_new only sends what is new since the last call.
    let sender = sb.control().webhooks(&site.name, WebhookConfig::new(&url)).unwrap();
    assert_eq!(sender.deliver_new().await.per_event.len(), events.len());
    let cust = sb.control().customers(&site.name).unwrap()[0].id.clone();
    sb.control()
        .update_customer(
            &site.name,
            &cust,
            CustomerUpdate { email: Some("new@example.com".into()), ..Default::default() },
        )
        .unwrap();
    let next = sender.deliver_new().await;
    assert_eq!(next.per_event.len(), 1);
    assert_eq!(received.lock().unwrap().posts.last().unwrap().1, "customer_changed");
}
