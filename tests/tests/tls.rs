//! The connector over HTTPS, as production runs: Chargebee is HTTPS-only and GP Web Services sit
//! behind IIS with TLS. Both emulators serve HTTPS from generated CAs; the host trusts them only
//! through `[host] extra_ca` — never by turning verification off.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use chargebee_sandbox::SeedSpec;
use ml_connector::bindings::host::ml_connector::plugin::http::{Host as Http, HttpError, Method, Request};
use ml_connector::bindings::host::ml_connector::plugin::secrets::Host as Secrets;
use ml_connector::role::Role;
use ml_connector_tests::{TestDb, init_tracing, scratch};
use mlc_harness::stack::{Stack, StackSpec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_over_https_with_ntlm_over_tls() {
    init_tracing();
    let db = TestDb::from_env().await;
    let mut spec = StackSpec { database: Some(db.url.clone()), tls: true, ..StackSpec::default() };
    for t in &mut spec.tenants {
        t.settings.push(("map.refunds".into(), "skip".into()));
        t.settings.push(("map.invoice.voided".into(), "skip".into()));
    }
    let s = Stack::start(&scratch("tls-e2e"), spec).await.unwrap();
    assert!(s.gp.soap_url().starts_with("https://"), "{}", s.gp.soap_url());
    assert!(s.config.chargebee.regions["us"].starts_with("https://"), "{:?}", s.config.chargebee.regions);
    let site = s.site("acme").unwrap();
    let seed = SeedSpec {
        customers: 3,
        invoices_per_customer: 2,
        currencies: vec!["USD".into(), "EUR".into()],
        seed: 11,
        ..SeedSpec::default()
    };
    s.cb.control().seed(&site.name, &seed).unwrap();
    s.backfill("acme").await.unwrap();
    let stats = s.drain("acme", Duration::from_secs(120)).await;
    let parked = s.stuck("acme").await.unwrap();
    let reasons: Vec<_> = parked.iter().map(|j| (&j.key, &j.last_error)).collect();
    assert!(parked.is_empty(), "parked or dead: {reasons:#?}");
    let stats = stats.unwrap();
    assert!(stats.done > 0, "{stats:?}");
    let conn = s.app.connections["acme"].clone();
    let report = ml_connector::reconcile::run(&s.app, &conn).await.unwrap();
    assert!(report.is_clean() && report.records_read > 0, "{:?}", report.differences);
    s.shutdown().await;
}

/// A target role allowed to GP with its NTLM account, trusting `extra_ca` (or only the
/// platform's roots).
fn target_config(gp: &gp_sandbox::Sandbox, extra_ca: Option<&std::path::Path>) -> String {
    let origin = ml_connector::caps::http::Origin::parse(&gp.soap_url()).unwrap();
    let ca = extra_ca.map(|p| format!("extra_ca = \"{}\"\n", p.display())).unwrap_or_default();
    format!(
        "[host]\n{ca}\n[components.c]\npath = \"c.wasm\"\nsha256 = \"00\"\n\n[secrets.gp]\nscheme = \"ntlm\"\norigin = \"{origin}\"\nvalue = {account:?}\n\n[[connections]]\nid = \"t\"\n[connections.source]\ncomponent = \"c\"\n[connections.mapper]\ncomponent = \"c\"\n[connections.target]\ncomponent = \"c\"\nallow_http = [\"{origin}\"]\nallow_private_network = true\nsecrets = {{ gp = \"gp\" }}\n",
        account = gp.credentials().user_spec(),
    )
}

/// GET the WSDL through the target role's `http` capability, with its NTLM account.
async fn wsdl_over_ntlm(config: &str, wsdl: &str) -> Result<u16, HttpError> {
    let store = ml_connector::caps::testing::scratch_store().await.unwrap();
    let mut target = ml_connector::caps::testing::instance(config, "t", Role::Target, store).await.unwrap();
    let gp = target.lookup("gp".into()).await.unwrap().unwrap();
    let req = Request { method: Method::Get, url: wsdl.into(), headers: vec![], body: None, timeout_ms: Some(10_000) };
    target.send(req, Some(gp)).await.unwrap().map(|r| r.status)
}

#[tokio::test(flavor = "current_thread")]
async fn the_host_trusts_the_extra_ca_and_nothing_else() {
    init_tracing();
    let tls = gp_sandbox::GpTls::default();
    let gp = gp_sandbox::GpSandbox::start(gp_sandbox::GpConfig { tls: Some(tls), ..Default::default() }).await.unwrap();
    let wsdl = gp.wsdl_url();
    let dir = scratch("tls-ca");
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, gp.ca_pem().unwrap()).unwrap();
    // Trusting the emulator's CA: NTLM over TLS, the WSDL comes back.
    assert_eq!(wsdl_over_ntlm(&target_config(&gp, Some(&ca)), &wsdl).await, Ok(200));
    // The platform's roots only: refused at the handshake, nothing sent.
    let refused = wsdl_over_ntlm(&target_config(&gp, None), &wsdl).await;
    assert!(matches!(&refused, Err(HttpError::Connect(m)) if m.contains("certificate")), "{refused:?}");
    // Another CA: refused too.
    let other = gp_sandbox::GpSandbox::start(gp_sandbox::GpConfig {
        tls: Some(gp_sandbox::GpTls::default()),
        ..Default::default()
    })
    .await
    .unwrap();
    let wrong = dir.join("wrong.pem");
    std::fs::write(&wrong, other.ca_pem().unwrap()).unwrap();
    let refused = wsdl_over_ntlm(&target_config(&gp, Some(&wrong)), &wsdl).await;
    assert!(matches!(&refused, Err(HttpError::Connect(m)) if m.contains("certificate")), "{refused:?}");
    // A file that holds no certificate is refused at load, naming it.
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let store = ml_connector::caps::testing::scratch_store().await.unwrap();
    let err = ml_connector::caps::testing::instance(&target_config(&gp, Some(&empty)), "t", Role::Target, store)
        .await
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("empty.pem"), "{err:#}");
    gp.shutdown().await;
    other.shutdown().await;
}
