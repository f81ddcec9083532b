//! The `http` capability's guards against a guest and against a remote, each against a local
//! server that counts what reaches it: forbidden headers and private addresses are refused
//! before a byte leaves (and audited); a 429's Retry-After is capped where it becomes
//! `rate-limited` and where it pauses a key; NTLM refuses plain http unless allowed, and an
//! endless 401 body does not exhaust memory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ml_connector::bindings::host::ml_connector::plugin::http::{Host as Http, HttpError, Method, Request};
use ml_connector::bindings::host::ml_connector::plugin::secrets::Host as Secrets;
use ml_connector::caps::testing::instance;
use ml_connector::role::Role;

/// A server on 127.0.0.1 answering every request with `reply`, counting the requests.
async fn server(reply: fn(&HeaderMap) -> Response) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            reply(&headers)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), hits)
}

fn ok(_: &HeaderMap) -> Response {
    Response::new(Body::from("ok"))
}

async fn store() -> Arc<dyn mlc_store::Store> {
    ml_connector::caps::testing::scratch_store().await.expect("store")
}

fn request(url: &str, headers: &[(&str, &str)]) -> Request {
    Request {
        method: Method::Get,
        url: url.into(),
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body: None,
        timeout_ms: Some(5_000),
    }
}

/// A target role allowed `origin` (a loopback server), with a bearer token bound to it.
fn target_config(origin: &str, extra_target: &str) -> String {
    format!(
        r#"
[components.c]
path = "c.wasm"
sha256 = "00"

[secrets.tok]
scheme = "bearer"
origin = "{origin}"
value = "t0ken"

[[connections]]
id = "acme"
[connections.source]
component = "c"
[connections.mapper]
component = "c"
[connections.target]
component = "c"
allow_http = ["{origin}"]
allow_private_network = true
secrets = {{ tok = "tok" }}
{extra_target}
"#
    )
}

#[tokio::test]
async fn forbidden_headers_are_denied_audited_and_never_sent() {
    ml_connector::install_crypto();
    let (origin, hits) = server(ok).await;
    let store = store().await;
    let mut target = instance(&target_config(&origin, ""), "acme", Role::Target, store.clone()).await.unwrap();
    let forbidden = [
        "Connection",
        "keep-alive",
        "Proxy-Authenticate",
        "proxy-authorization",
        "Proxy-Connection",
        "TE",
        "transfer-encoding",
        "Upgrade",
        "HOST",
        "http2-settings",
        "Content-Length",
        "proxy-anything",
    ];
    for name in forbidden {
        let r = target.send(request(&format!("{origin}/x"), &[(name, "1")]), None).await.unwrap();
        assert!(matches!(&r, Err(HttpError::Denied(m)) if m.contains(name)), "{name}: {r:?}");
    }
    // With a credential, the host owns `authorization` too.
    let tok = target.lookup("tok".into()).await.unwrap().unwrap();
    let r = target.send(request(&format!("{origin}/x"), &[("Authorization", "Bearer mine")]), Some(tok)).await.unwrap();
    assert!(matches!(&r, Err(HttpError::Denied(m)) if m.contains("Authorization")), "{r:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no denied request reached the server");
    let lines = store.audit("acme", None, None).await.unwrap();
    assert_eq!(lines.len(), forbidden.len() + 1, "each denial audited once");
    assert!(lines.iter().all(|l| l.outcome == "denied"));
    // Control: the same server, ordinary headers, goes through (and a guest's own
    // `authorization` without a credential is its business).
    let r = target.send(request(&format!("{origin}/x"), &[("accept", "*/*"), ("authorization", "x")]), None).await;
    assert_eq!(r.unwrap().unwrap().status, 200);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn private_addresses_hidden_in_ipv6_forms_are_denied() {
    ml_connector::install_crypto();
    let (origin, hits) = server(ok).await;
    let port = origin.rsplit(':').next().unwrap();
    let store = store().await;
    let hidden = [
        format!("http://[::7f00:1]:{port}"),           // IPv4-compatible 127.0.0.1
        format!("http://[::ffff:127.0.0.1]:{port}"),   // IPv4-mapped
        format!("http://[64:ff9b::a9fe:a9fe]:{port}"), // NAT64 of the metadata address
        format!("http://[2002:7f00:1::1]:{port}"),     // 6to4 of 127.0.0.1
        format!("http://[fec0::1]:{port}"),            // site-local
        format!("http://0.0.0.0:{port}"),
        format!("http://198.18.0.1:{port}"),
    ];
    let allow: Vec<String> = hidden.iter().map(|o| format!("{o:?}")).collect();
    let config = format!(
        "[components.c]\npath = \"c.wasm\"\nsha256 = \"00\"\n[[connections]]\nid = \"acme\"\n[connections.source]\ncomponent = \"c\"\n[connections.mapper]\ncomponent = \"c\"\n[connections.target]\ncomponent = \"c\"\nallow_http = [{}]\n",
        allow.join(", ")
    );
    let mut target = instance(&config, "acme", Role::Target, store.clone()).await.unwrap();
    for o in &hidden {
        let r = target.send(request(&format!("{o}/"), &[]), None).await.unwrap();
        assert!(matches!(&r, Err(HttpError::Denied(m)) if m.contains("private address")), "{o}: {r:?}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    assert_eq!(store.audit("acme", None, None).await.unwrap().len(), hidden.len());
}

fn too_many(_: &HeaderMap) -> Response {
    let mut r = Response::new(Body::from("slow down"));
    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    r.headers_mut().insert("retry-after", "999999999".parse().unwrap());
    r
}

#[tokio::test]
async fn a_huge_retry_after_is_capped_for_the_guest_and_the_key() {
    ml_connector::install_crypto();
    let (origin, hits) = server(too_many).await;
    let config = format!(
        r#"
[host]
max_retry_after_s = 1
[chargebee.regions]
us = "{origin}"
[components.c]
path = "c.wasm"
sha256 = "00"
[secrets.cb]
scheme = "basic-api-key"
value = "k"
[[connections]]
id = "acme"
[connections.chargebee]
site = "acme"
region = "us"
api_key = "cb"
[connections.source]
component = "c"
allow_private_network = true
[connections.mapper]
component = "c"
[connections.target]
component = "c"
"#
    );
    let mut source = instance(&config, "acme", Role::Source, store().await).await.unwrap();
    let key = source.lookup("chargebee-api-key".into()).await.unwrap().unwrap();
    let r = source.send(request(&format!("{origin}/api/v2/invoices"), &[]), Some(key)).await.unwrap();
    assert!(matches!(r, Err(HttpError::RateLimited(Some(1_000)))), "capped at max_retry_after_s: {r:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // The key is paused for the capped second, not for 31 years: the next call goes out soon.
    let key = source.lookup("chargebee-api-key".into()).await.unwrap().unwrap();
    let t = Instant::now();
    let next = source.send(request(&format!("{origin}/api/v2/invoices"), &[]), Some(key));
    let r = tokio::time::timeout(Duration::from_secs(10), next).await.expect("the pause is capped").unwrap();
    assert!(matches!(r, Err(HttpError::RateLimited(Some(1_000)))), "{r:?}");
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(900), "the key was paused: {waited:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 2, "nothing else was sent");
}

fn ntlm_config(origin: &str, insecure: bool) -> String {
    format!(
        r#"
[components.c]
path = "c.wasm"
sha256 = "00"
[secrets.gp]
scheme = "ntlm"
origin = "{origin}"
value = 'GP\svc:pw'
[[connections]]
id = "acme"
[connections.source]
component = "c"
[connections.mapper]
component = "c"
[connections.target]
component = "c"
allow_http = ["{origin}"]
allow_private_network = true
allow_insecure_ntlm = {insecure}
secrets = {{ gp = "gp" }}
"#
    )
}

#[tokio::test]
async fn ntlm_over_plain_http_is_refused_unless_allowed() {
    ml_connector::install_crypto();
    let (origin, hits) = server(ok).await;
    // At start: the config is refused, naming the way out.
    let err = instance(&ntlm_config(&origin, false), "acme", Role::Target, store().await).await.err().unwrap();
    assert!(format!("{err:#}").contains("allow_insecure_ntlm"), "{err:#}");
    // The pool itself refuses too (for any caller that bypasses the config).
    let tls = ml_connector::caps::http::tls::client_config(None).unwrap();
    let pools = ml_connector::caps::http::ntlm::NtlmPools::new(1, true, tls);
    let secret = Arc::new(ml_connector::caps::secrets::ResolvedSecret {
        name: "gp".into(),
        scheme: ml_connector::config::SecretScheme::Ntlm,
        origin: ml_connector::caps::http::Origin::parse(&origin).unwrap(),
        value: ml_connector::caps::secrets::SecretValue::new("GP\\svc:pw".into()),
        governor: None,
        on_agent: false,
    });
    let req = ml_connector::caps::http::ntlm::NtlmRequest {
        method: hyper::Method::GET,
        url: url::Url::parse(&format!("{origin}/x")).unwrap(),
        headers: vec![],
        body: vec![],
    };
    let r = pools.send(&secret, &secret.origin, req, Duration::from_secs(5)).await;
    assert!(matches!(&r, Err(HttpError::Denied(m)) if m.contains("plain http")), "{r:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

/// 401 with an NTLM challenge and a body that never ends.
fn endless_401(_: &HeaderMap) -> Response {
    let chunk = bytes::Bytes::from(vec![b'x'; 16 * 1024]);
    let stream = futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = StatusCode::UNAUTHORIZED;
    r.headers_mut().insert("www-authenticate", "NTLM AAAA".parse().unwrap());
    r
}

#[tokio::test]
async fn an_endless_401_body_is_cut_off_not_buffered() {
    ml_connector::install_crypto();
    let (origin, hits) = server(endless_401).await;
    let store = store().await;
    let mut target = instance(&ntlm_config(&origin, true), "acme", Role::Target, store).await.unwrap();
    let gp = target.lookup("gp".into()).await.unwrap().unwrap();
    let t = Instant::now();
    let r = target.send(request(&format!("{origin}/x"), &[]), Some(gp)).await.unwrap();
    let msg = match &r {
        Err(HttpError::Protocol(m)) => m.clone(),
        other => panic!("expected the handshake to fail on the body's size, got {other:?}"),
    };
    assert!(msg.contains("limit") && msg.contains("65536"), "{msg}");
    assert!(t.elapsed() < Duration::from_secs(4), "cut off at once, not at the timeout: {:?}", t.elapsed());
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the NEGOTIATE leg only; no AUTHENTICATE was sent");
    // A forbidden header is refused on the NTLM path before any connection is made.
    let gp = target.lookup("gp".into()).await.unwrap().unwrap();
    let r = target.send(request(&format!("{origin}/x"), &[("Authorization", "NTLM x")]), Some(gp)).await.unwrap();
    assert!(matches!(&r, Err(HttpError::Denied(_))), "{r:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}
