//! Capabilities without Wasm: each role's per-call state is built from an inline config by
//! `caps::testing` (exactly as the host configures it) and its host functions are called
//! directly. Grants and denials, quotas and scoping, fast.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use ml_connector::bindings::host::ml_connector::plugin::audit::{Host as Audit, Outcome};
use ml_connector::bindings::host::ml_connector::plugin::http::{Host as Http, HttpError, Method, Request};
use ml_connector::bindings::host::ml_connector::plugin::queue::Host as Queue;
use ml_connector::bindings::host::ml_connector::plugin::secrets::{Host as Secrets, SecretError};
use ml_connector::bindings::host::ml_connector::plugin::settings::Host as Settings;
use ml_connector::bindings::host::ml_connector::plugin::state::Host as State;
use ml_connector::bindings::types::{RecordKind, Trigger};
use ml_connector::caps::testing::instance;
use ml_connector::role::Role;

const CONFIG: &str = r#"
[chargebee.regions]
us = "https://{site}.chargebee.com"

[components.c]
path = "c.wasm"
sha256 = "00"

[secrets.cb]
scheme = "basic-api-key"
value = "test_key"

[secrets.gp]
scheme = "basic"
origin = "https://gp.example.com"
value = "svc:pw"

[[connections]]
id = "acme"
[connections.chargebee]
site = "acme"
region = "us"
api_key = "cb"
[connections.settings]
"gp.company" = "Fabrikam, Inc."
[connections.source]
component = "c"
[connections.mapper]
component = "c"
[connections.target]
component = "c"
allow_http = ["https://gp.example.com"]
secrets = { gp = "gp" }
"#;

async fn store() -> Arc<dyn mlc_store::Store> {
    ml_connector::caps::testing::scratch_store().await.expect("store")
}

fn get(url: &str) -> Request {
    Request { method: Method::Get, url: url.into(), headers: vec![], body: None, timeout_ms: Some(2_000) }
}

#[tokio::test]
async fn http_is_deny_by_default_and_denials_are_audited() {
    ml_connector::install_crypto();
    let store = store().await;
    let mut target = instance(CONFIG, "acme", Role::Target, store.clone()).await.unwrap();
    let r = target.send(get("https://evil.example.net/x?token=1"), None).await.unwrap();
    assert!(matches!(&r, Err(HttpError::Denied(m)) if m.contains("not on this component's allowlist")), "{r:?}");
    let lines = store.audit("acme", None, None).await.unwrap();
    assert_eq!(lines.len(), 1, "one denial line");
    assert_eq!(lines[0].outcome, "denied");
    assert!(!lines[0].detail.contains("token=1"), "query strings are not audited: {}", lines[0].detail);
    // The source was granted its Chargebee site's origin only (by the binding, not the config).
    let mut source = instance(CONFIG, "acme", Role::Source, store.clone()).await.unwrap();
    let r = source.send(get("https://gp.example.com/"), None).await.unwrap();
    assert!(matches!(r, Err(HttpError::Denied(_))), "{r:?}");
}

#[tokio::test]
async fn secrets_only_as_granted_and_only_to_their_origin() {
    ml_connector::install_crypto();
    let store = store().await;
    let mut source = instance(CONFIG, "acme", Role::Source, store.clone()).await.unwrap();
    assert!(matches!(source.lookup("gp".into()).await.unwrap(), Err(SecretError::NotGranted(_))));
    let key = source.lookup("chargebee-api-key".into()).await.unwrap().expect("the site's key is granted");
    // The key may only go to its site's origin, even if another origin were allowed.
    let mut target = instance(CONFIG, "acme", Role::Target, store).await.unwrap();
    assert!(matches!(target.lookup("chargebee-api-key".into()).await.unwrap(), Err(SecretError::NotGranted(_))));
    let gp = target.lookup("gp".into()).await.unwrap().expect("granted");
    let http = target.caps.policy.http.as_ref().unwrap();
    let secret = target.table.get(&gp).unwrap().secret.clone();
    let wrong = url::Url::parse("https://acme.chargebee.com/api/v2/invoices").unwrap();
    assert!(http.check(&wrong, Some(&secret)).is_err());
    assert_eq!(source.table.get(&key).unwrap().guest_name, "chargebee-api-key");
}

#[tokio::test]
async fn a_mapper_has_no_policy_but_log() {
    let mapper = instance(CONFIG, "acme", Role::Mapper, store().await).await.unwrap();
    let p = &mapper.caps.policy;
    assert!(p.log.is_some());
    assert!(p.http.is_none() && p.secrets.is_none() && p.queue.is_none() && p.audit.is_none());
    assert!(p.state.is_none() && p.settings.is_none());
}

#[tokio::test]
async fn state_is_bounded_and_scoped_per_component() {
    let store = store().await;
    let mut source = instance(CONFIG, "acme", Role::Source, store.clone()).await.unwrap();
    assert!(source.set("k".into(), b"v".to_vec()).await.unwrap().is_ok());
    assert!(source.set("".into(), b"v".to_vec()).await.unwrap().is_err());
    assert!(source.set("x".repeat(257), b"v".to_vec()).await.unwrap().is_err());
    assert!(source.set("big".into(), vec![0; 64 * 1024 + 1]).await.unwrap().is_err());
    assert_eq!(State::get(&mut source, "k".into()).await.unwrap(), Some(b"v".to_vec()));
    assert_eq!(store.state_get("acme/c", "k").await.unwrap(), Some(b"v".to_vec()), "scope = connection/component");
}

#[tokio::test]
async fn queue_keys_are_checked_and_scoped_to_the_connection() {
    let store = store().await;
    let mut source = instance(CONFIG, "acme", Role::Source, store.clone()).await.unwrap();
    let t = Trigger {
        event_id: None,
        event_type: "poll".into(),
        kind: RecordKind::Invoice,
        resource_id: "inv_1".into(),
        occurred_at: 0,
    };
    assert!(source.enqueue("x".repeat(201), t.clone(), None).await.unwrap().is_err());
    assert!(source.enqueue("a\nb".into(), t.clone(), None).await.unwrap().is_err());
    assert!(source.enqueue("ev_1".into(), t.clone(), None).await.unwrap().is_ok());
    let jobs = store.jobs(&Default::default()).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].connection.as_str(), jobs[0].key.as_str()), ("acme", "ev_1"));
    assert_eq!(jobs[0].record_key.as_deref(), Some("invoice/inv_1"));
}

#[tokio::test]
async fn audit_lines_per_call_are_capped_with_one_line_saying_so() {
    let store = store().await;
    let mut target = instance(CONFIG, "acme", Role::Target, store.clone()).await.unwrap();
    for i in 0..1_200 {
        target.append("flood".into(), Outcome::Info, format!("line {i}")).await.unwrap();
    }
    let lines = store.audit("acme", None, None).await.unwrap();
    assert_eq!(lines.len(), 1_001, "1,000 lines and the one that says the rest were dropped");
    assert_eq!(lines.iter().filter(|l| l.outcome == "denied").count(), 1);
    let denied: Vec<_> = lines.iter().filter(|l| l.outcome == "denied").collect();
    assert_eq!((denied.len(), denied[0].stage.as_str()), (1, "audit"), "{denied:?}");
    assert!(lines.iter().filter(|l| l.outcome != "denied").all(|l| l.stage == "target:flood"));
}

#[tokio::test]
async fn settings_carry_the_chargebee_binding() {
    let mut source = instance(CONFIG, "acme", Role::Source, store().await).await.unwrap();
    assert_eq!(
        Settings::get(&mut source, "chargebee.api_base".into()).await.unwrap().as_deref(),
        Some("https://acme.chargebee.com:443")
    );
    assert_eq!(Settings::get(&mut source, "gp.company".into()).await.unwrap().as_deref(), Some("Fabrikam, Inc."));
}

#[tokio::test]
async fn state_quota_per_component_is_a_typed_error_audited_once() {
    let store = store().await;
    let mut source = instance(CONFIG, "acme", Role::Source, store.clone()).await.unwrap();
    for i in 0..1_000 {
        assert!(source.set(format!("k{i}"), b"v".to_vec()).await.unwrap().is_ok(), "key {i}");
    }
    let refused = source.set("one-too-many".into(), b"v".to_vec()).await.unwrap();
    assert!(matches!(&refused, Err(m) if m.starts_with("state quota")), "{refused:?}");
    assert!(source.set("k1".into(), b"overwrite is fine".to_vec()).await.unwrap().is_ok());
    for _ in 0..10 {
        assert!(source.set("again".into(), b"v".to_vec()).await.unwrap().is_err());
    }
    let lines = store.audit("acme", None, None).await.unwrap();
    assert_eq!(lines.iter().filter(|l| l.stage == "state" && l.outcome == "denied").count(), 1, "{lines:#?}");
    // Bytes count too: 16 values of 64 KiB fill the 1 MiB quota.
    let mut other = instance(CONFIG, "acme", Role::Target, self::store().await).await.unwrap();
    let results: Vec<bool> = {
        let mut r = Vec::new();
        for i in 0..17 {
            r.push(other.set(format!("big{i}"), vec![0; 64 * 1024]).await.unwrap().is_ok());
        }
        r
    };
    assert_eq!(results.iter().filter(|ok| **ok).count(), 16, "{results:?}");
}

#[tokio::test]
async fn queue_enqueues_per_call_are_capped_with_a_typed_error_audited_once() {
    let store = store().await;
    let mut source = instance(CONFIG, "acme", Role::Source, store.clone()).await.unwrap();
    let trigger = |i: usize| Trigger {
        event_id: None,
        event_type: "poll".into(),
        kind: RecordKind::Invoice,
        resource_id: format!("inv_{i}"),
        occurred_at: 0,
    };
    for i in 0..1_000 {
        assert!(source.enqueue(format!("ev_{i}"), trigger(i), None).await.unwrap().is_ok(), "enqueue {i}");
    }
    for i in 1_000..1_010 {
        let refused = source.enqueue(format!("ev_{i}"), trigger(i), None).await.unwrap();
        assert!(matches!(&refused, Err(m) if m.starts_with("queue quota")), "{refused:?}");
    }
    assert_eq!(
        store.jobs(&mlc_store::JobFilter { limit: Some(5_000), ..Default::default() }).await.unwrap().len(),
        1_000
    );
    let lines = store.audit("acme", None, None).await.unwrap();
    assert_eq!(lines.iter().filter(|l| l.stage == "queue" && l.outcome == "denied").count(), 1, "{lines:#?}");
}

/// A config whose target holds an eConnect grant to `port` on loopback (or none).
fn econnect_config(port: Option<u16>) -> String {
    let grant = port.map_or(String::new(), |p| {
        format!(
            "econnect = {{ server = \"127.0.0.1:{p}\", database = \"TWO\", secret = \"gp-sql\", timeout_ms = 2000 }}\n"
        )
    });
    let origin = port.unwrap_or(1433);
    format!(
        "[components.c]\npath = \"c.wasm\"\nsha256 = \"00\"\n\
         [secrets.gp-sql]\nscheme = \"sql\"\norigin = \"tds://127.0.0.1:{origin}\"\nvalue = \"mlc:secret-pw\"\n\
         [[connections]]\nid = \"acme\"\n\
         [connections.source]\ncomponent = \"c\"\n[connections.mapper]\ncomponent = \"c\"\n\
         [connections.target]\ncomponent = \"c\"\n{grant}"
    )
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

const APPLY_DOC: &str = "<eConnect><RMApplyType><taRMApply><APTODCNM>INV1</APTODCNM><APFRDCNM>PAY1</APFRDCNM>\
<APPTOAMT>10</APPTOAMT><APFRDCTY>9</APFRDCTY><APTODCTY>1</APTODCTY></taRMApply></RMApplyType></eConnect>";

#[tokio::test]
async fn econnect_without_a_grant_is_denied_and_audited_once() {
    use ml_connector::bindings::host::ml_connector::plugin::econnect::{EconnectError, Host as Econnect, QueryName};
    ml_connector::install_crypto();
    let store = store().await;
    let mut target = instance(&econnect_config(None), "acme", Role::Target, store.clone()).await.unwrap();
    let r = target.execute(APPLY_DOC.into()).await.unwrap();
    assert!(matches!(&r, Err(EconnectError::Denied(m)) if m.contains("no econnect grant")), "{r:?}");
    let r = target.query(QueryName::Customer, vec!["C1".into()]).await.unwrap();
    assert!(matches!(&r, Err(EconnectError::Denied(_))), "{r:?}");
    let lines = store.audit("acme", None, None).await.unwrap();
    assert_eq!(lines.len(), 1, "one denial line per call: {lines:?}");
    assert_eq!(lines[0].outcome, "denied");
}

#[tokio::test]
async fn an_invalid_document_or_query_costs_no_connection() {
    use ml_connector::bindings::host::ml_connector::plugin::econnect::{EconnectError, Host as Econnect, QueryName};
    ml_connector::install_crypto();
    let store = store().await;
    let port = closed_port();
    let mut target = instance(&econnect_config(Some(port)), "acme", Role::Target, store.clone()).await.unwrap();
    // Refused before any connection: a connect error would say "connecting".
    let bad = APPLY_DOC.replace("<APPTOAMT>10</APPTOAMT>", "<APPTOAMT>10.123456</APPTOAMT>");
    let r = target.execute(bad).await.unwrap();
    assert!(matches!(&r, Err(EconnectError::Invalid(m)) if m.contains("taRMApply/APPTOAMT")), "{r:?}");
    let r = target.execute("<eConnect><!DOCTYPE x></eConnect>".into()).await.unwrap();
    assert!(matches!(&r, Err(EconnectError::Invalid(_))), "{r:?}");
    let r = target.query(QueryName::SalesWork, vec!["one".into(), "INV1".into()]).await.unwrap();
    assert!(matches!(&r, Err(EconnectError::Invalid(m)) if m.contains("sales-work @P1")), "{r:?}");
    let r = target.query(QueryName::FiscalPeriod, vec![]).await.unwrap();
    assert!(matches!(&r, Err(EconnectError::Invalid(m)) if m.contains("takes 1 parameter")), "{r:?}");
    // A valid document does try to connect (and the port is closed): transient, not committed.
    let r = target.execute(APPLY_DOC.into()).await.unwrap();
    assert!(
        matches!(&r, Err(EconnectError::Transient(m)) if m.contains(&format!("connecting to 127.0.0.1:{port}")) && m.contains("not sent")),
        "{r:?}"
    );
    let r = target.query(QueryName::Customer, vec!["C1".into()]).await.unwrap();
    assert!(matches!(&r, Err(EconnectError::Transient(_))), "{r:?}");
    // The login never shows in an answer.
    assert!(!format!("{r:?}").contains("secret-pw"));
    assert!(store.audit("acme", None, None).await.unwrap().is_empty(), "nothing audited by the host");
}
