//! gp-target, the Dynamics GP target component.
//!
//! 1. Envelopes: every request gp-target can build, built natively (the crate without its
//!    `component` feature), read by the GP emulator's own strict request readers against the real
//!    WSDL (names, namespaces, order, required members, enumerations; SBA payloads as WSDL
//!    objects, paths and methods routed), and compared byte for byte with golden copies under
//!    `tests/golden/` (`UPDATE_GOLDEN=1` rewrites them after a reviewed change).
//! 2. The real component in the real host against the emulator, over SOAP and SBA alike (each
//!    scenario runs once per protocol): every document type written and read back, the customer
//!    first, a closed fiscal period, duplicates of our own documents, conflicts, ambiguous
//!    failures (lost response, timeouts), refusals, list-documents.
//! 3. One end-to-end run on SBA through the whole stack (SOAP's are in e2e.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use gp_sandbox::{DocType, FaultKind, FaultRule, GpConfig, GpSandbox, Sandbox};
use gp_target::model::{Doc, DocKind, Party};
use gp_target::sba::Sba;
use gp_target::soap::Soap;
use gp_target::wire::{Call, Protocol, Verb};
use ml_connector::app::App;
use ml_connector::bindings::target::exports::ml_connector::plugin::target_api::{TargetError, WriteOutcome};
use ml_connector::bindings::types::{
    Apply, BatchKey, CashReceipt, CreditMemo, DocKind as WitKind, GpCustomer, LedgerDoc, ReceiptType,
    ReceivablesInvoice,
};
use ml_connector_tests::*;

const FABRIKAM: i32 = -1;

// =============================================================================== 1. envelopes

fn schema() -> Arc<gp_sandbox::schema::Schema> {
    gp_sandbox::schema::Schema::load_cached(&gp_sandbox::schema::default_wsdl_path()).unwrap()
}

fn golden_dir() -> PathBuf {
    repo_root().join("tests/golden")
}

/// Compares `actual` with `tests/golden/<rel>` byte for byte, or writes it with UPDATE_GOLDEN=1.
fn golden(rel: &str, actual: &str) {
    let path = golden_dir().join(rel);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing: run with UPDATE_GOLDEN=1 to write it", path.display()));
    assert!(
        expected == actual,
        "{rel} differs from its golden copy (review, then UPDATE_GOLDEN=1 rewrites it)\n--- golden\n{expected}\n--- now\n{actual}\n"
    );
}

/// No golden file without a case that produces it (a renamed case must not leave a stale copy).
fn no_orphans(dir: &str, produced: &BTreeSet<String>) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        return;
    }
    for e in std::fs::read_dir(golden_dir().join(dir)).unwrap() {
        let name = format!("{dir}/{}", e.unwrap().file_name().to_string_lossy());
        assert!(produced.contains(&name), "{name} is produced by no case: delete it");
    }
}

fn party() -> Party {
    Party {
        id: "ACME-001".into(),
        name: "Acme & Sons <Holdings>".into(),
        short_name: Some("ACME".into()),
        currency: "USD".into(),
        email: Some("ap@acme.example".into()),
        ..Party::default()
    }
}

/// GP's copy of the customer before an update: another name and email, read back the way each
/// protocol answers a by-key read (SOAP's GetCustomerByKeyResult, SBA's JSON payload).
fn theirs(p: &dyn Protocol, ext: &str) -> gp_target::transport::Theirs {
    let old = Party { name: "Acme Old Name".into(), email: Some("old@acme.example".into()), ..party() };
    let create = p.save_customer(&old, None, &[]).unwrap().body.unwrap();
    let raw = match ext {
        "xml" => {
            create.replace("<customer>", "<GetCustomerByKeyResult>").replace("</customer>", "</GetCustomerByKeyResult>")
        }
        _ => create,
    };
    let party = p.parse_customer(&raw).unwrap().expect("GP's copy reads back");
    gp_target::transport::Theirs { party, raw }
}

fn doc(kind: DocKind, number: &str, currency: &str) -> Doc {
    let batch = if kind == DocKind::CashReceipt { "CB251125-CASH" } else { "CB251125-SLS" };
    Doc::new(kind, number, "ACME-001", batch, "2025-11-25", currency)
}

/// Every document shape gp-target writes: an invoice with every optional member, a minimal
/// one in a zero-decimal currency, a receipt and a credit memo with applies.
fn documents() -> Vec<(&'static str, Doc)> {
    let full = Doc {
        sales: 10_000,
        discount: 500,
        freight: 250,
        misc: 100,
        tax: 790,
        total: 10_640,
        description: Some("Plan & seats".into()),
        po: Some("PO-7".into()),
        ..doc(DocKind::Invoice, "CBINV-1001", "USD")
    };
    let minimal = Doc { sales: 1_500, total: 1_500, ..doc(DocKind::Invoice, "CBINV-1002", "JPY") };
    let receipt = Doc {
        total: 6_000,
        description: Some("Card payment".into()),
        checkbook: Some("UPTOWN TRUST".into()),
        receipt_type: "Payment Card".into(),
        check_number: Some("txn_1".into()),
        applies: vec![("CBINV-1001".into(), 5_000), ("CBINV-1003".into(), 1_000)],
        ..doc(DocKind::CashReceipt, "CBPAY-1", "USD")
    };
    let memo = Doc {
        sales: 1_000,
        tax: 80,
        total: 1_080,
        description: Some("Refund".into()),
        applies: vec![("CBINV-1001".into(), 1_080)],
        ..doc(DocKind::CreditMemo, "CBCN-1", "USD")
    };
    vec![
        ("invoice-full", full),
        ("invoice-minimal-jpy", minimal),
        ("receipt-applies", receipt),
        ("credit-memo-applies", memo),
    ]
}

fn kind_name(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Invoice => "ReceivablesInvoice",
        DocKind::CreditMemo => "ReceivablesCreditMemo",
        DocKind::CashReceipt => "CashReceipt",
    }
}

/// (golden name, the request, the operation GP must read it as, the applies it must carry in
/// minor units of the currency).
type Case = (String, Call, String, (Vec<(String, i64)>, String));

fn cases(p: &dyn Protocol, ext: &str) -> Vec<Case> {
    let none = || (vec![], String::new());
    let theirs = theirs(p, ext);
    let changes = gp_target::model::customer_changes(&party(), &theirs.party);
    assert!(!changes.is_empty(), "the update changes name and email");
    let update = p.save_customer(&party(), Some(&theirs), &changes).unwrap();
    let mut out: Vec<Case> = vec![
        (
            format!("CreateCustomer.{ext}"),
            p.save_customer(&party(), None, &[]).unwrap(),
            "CreateCustomer".into(),
            none(),
        ),
        (format!("UpdateCustomer.{ext}"), update, "UpdateCustomer".into(), none()),
        (
            format!("CreateCustomer-no-email.{ext}"),
            p.save_customer(&Party { email: None, short_name: None, ..party() }, None, &[]).unwrap(),
            "CreateCustomer".into(),
            none(),
        ),
        (format!("GetCustomerByKey.{ext}"), p.get_customer("ACME 001"), "GetCustomerByKey".into(), none()),
    ];
    for (name, d) in documents() {
        let applies = (d.applies.clone(), d.currency.clone());
        out.push((
            format!("Create{}-{name}.{ext}", kind_name(d.kind)),
            p.create_document(&d),
            format!("Create{}", kind_name(d.kind)),
            applies,
        ));
    }
    for kind in [DocKind::Invoice, DocKind::CreditMemo, DocKind::CashReceipt] {
        out.push((
            format!("Get{}ByKey.{ext}", kind_name(kind)),
            p.get_document(kind, "CB INV-1"),
            format!("Get{}ByKey", kind_name(kind)),
            none(),
        ));
    }
    for (i, call) in p.list_documents("ACME-001").into_iter().enumerate() {
        out.push((format!("GetReceivablesDocumentList-{i}.{ext}"), call, "GetReceivablesDocumentList".into(), none()));
    }
    out
}

fn soap() -> Soap {
    Soap { url: "http://gp.example:48620/DynamicsGPWebServices/DynamicsGPService.asmx".into(), company: "-1".into() }
}

fn sba() -> Sba {
    Sba::new("http://gp.example:48620/GPService/Tenants(DefaultTenant)/Companies(Fabrikam%2C%20Inc%2E)")
}

/// What the emulator's SOAP endpoint makes of an envelope: its operation, or the fault.
fn read_soap(schema: &gp_sandbox::schema::Schema, call: &Call) -> Result<gp_sandbox::soap::SoapRequest, String> {
    let action = call.headers.iter().find(|(k, _)| k == "soapaction").map(|(_, v)| v.as_str());
    assert!(action.is_some(), "{}: no SOAPAction", call.label);
    gp_sandbox::soap::read_envelope(schema, true, call.body.as_deref().unwrap_or_default(), action)
        .map_err(|e| e.to_string())
}

/// Applies as GP read them, in minor units (a JSON reader may write 50.00 as 50.0).
fn applies_of(list: &[gp_sandbox::service::ApplyRequest], currency: &str) -> Vec<(String, i64)> {
    list.iter()
        .map(|a| (a.to_number.clone(), ml_connector_sdk::money::from_decimal(&a.amount, currency).unwrap()))
        .collect()
}

#[test]
fn soap_envelopes_follow_the_wsdl_and_their_golden_copies() {
    let schema = schema();
    let soap = soap();
    let mut produced = BTreeSet::new();
    let mut all = cases(&soap, "xml");
    all.push((
        "GetLoggedValidationResultByKey.xml".into(),
        soap.validation_result("0f8fad5b-d9cb-469f-a165-70867728950e"),
        "GetLoggedValidationResultByKey".into(),
        (vec![], String::new()),
    ));
    for (name, call, op, applies) in all {
        assert_eq!((call.verb, call.url.as_str()), (Verb::Post, soap.url.as_str()), "{name}");
        let req = read_soap(&schema, &call).unwrap_or_else(|e| panic!("{name}: GP's contract refuses it: {e}"));
        assert_eq!(req.operation, op, "{name}");
        // The document member carries the applies as the emulator (and the taRMApply
        // extension) reads them.
        let member = req
            .body
            .at(&["cashReceipt"])
            .or(req.body.at(&["receivablesCreditMemo"]))
            .or(req.body.at(&["receivablesInvoice"]));
        if let Some(member) = member {
            let found = gp_sandbox::soap::applies_from_extensions(member).map_err(|e| e.to_string()).unwrap();
            assert_eq!(applies_of(&found, &applies.1), applies.0, "{name}");
            assert_eq!(member.str_at(&["CustomerKey", "Id"]), Some("ACME-001"), "{name}");
        }
        golden(&format!("soap/{name}"), call.body.as_deref().unwrap());
        produced.insert(format!("soap/{name}"));
    }
    no_orphans("soap", &produced);
}

#[test]
fn sba_requests_follow_the_emulator_contract_and_their_golden_copies() {
    let schema = schema();
    let mut produced = BTreeSet::new();
    for (name, call, op, applies) in cases(&sba(), "http") {
        let url = url::Url::parse(&call.url).unwrap();
        let path =
            gp_sandbox::sba::parse_path(url.path()).unwrap_or_else(|| panic!("{name}: not an SBA path: {}", call.url));
        assert_eq!(
            (path.tenant.as_str(), path.company.as_deref()),
            ("DefaultTenant", Some("Fabrikam, Inc.")),
            "{name}"
        );
        let method = reqwest::Method::from_bytes(call.verb.as_str().as_bytes()).unwrap();
        let (routed, payload_type) = gp_sandbox::sba::route(&method, &path)
            .unwrap_or_else(|| panic!("{name}: no SBA route for {} {}", call.verb.as_str(), url.path()));
        assert_eq!(routed, op, "{name}");
        match (payload_type, &call.body) {
            (Some(ty), Some(body)) => {
                let (node, found) = gp_sandbox::sba::read_payload(&schema, true, body.as_bytes(), ty)
                    .unwrap_or_else(|e| panic!("{name}: the emulator refuses the payload: {e}"));
                assert_eq!(applies_of(&found, &applies.1), applies.0, "{name}");
                assert!(node.str_at(&["Key", "Id"]).is_some(), "{name}");
            }
            (None, None) => {}
            (ty, body) => panic!("{name}: payload type {ty:?} but body {body:?}"),
        }
        assert!(call.headers.iter().any(|(k, v)| k == "accept" && v == "application/json"), "{name}");
        // Path and body in one file: a moved resource is as visible as a changed member.
        let text = format!("{} {}\n\n{}", call.verb.as_str(), url.path(), call.body.as_deref().unwrap_or_default());
        golden(&format!("sba/{name}"), &text);
        produced.insert(format!("sba/{name}"));
    }
    no_orphans("sba", &produced);
}

/// The validators above are not lenient: a misnamed, misordered or wrongly namespaced member
/// of a real envelope, or a misnamed SBA member, is refused.
#[test]
fn the_contract_check_refuses_broken_requests() {
    let schema = schema();
    let invoice = documents().remove(0).1;
    let call = soap().create_document(&invoice);
    let body = call.body.clone().unwrap();
    assert!(read_soap(&schema, &call).is_ok());
    let ns_dyn = "http://schemas.microsoft.com/dynamics/2006/01";
    let ns_gp = "http://schemas.microsoft.com/dynamics/gp/2006/01";
    let date = "<Date>2025-11-25T00:00:00</Date>";
    // (what, the mutated envelope, what GP's reader must say about it)
    let broken = [
        (
            "misnamed",
            body.replace("<SalesAmount>", "<SaleAmount>").replace("</SalesAmount>", "</SaleAmount>"),
            "SaleAmount: is not a member",
        ),
        (
            "misordered",
            body.replace(date, "").replacen("<Key>", &format!("{date}<Key>"), 1),
            "receivablesInvoice/Key: out of WSDL order",
        ),
        (
            "wrong namespace",
            body.replacen(
                &format!("<OrganizationKey xmlns=\"{ns_dyn}\""),
                &format!("<OrganizationKey xmlns=\"{ns_gp}\""),
                1,
            ),
            "OrganizationKey: must be in namespace",
        ),
        ("required member missing", body.replace("<DecimalDigits>2</DecimalDigits>", ""), "DecimalDigits"),
    ];
    for (what, text, why) in broken {
        assert_ne!(text, body, "{what}: the mutation did not apply");
        let call = Call { body: Some(text), ..call.clone() };
        let Err(err) = read_soap(&schema, &call) else { panic!("{what}: accepted") };
        assert!(err.starts_with("soap:Client") && err.contains(why), "{what}: {err}");
    }
    let call = sba().create_document(&invoice);
    let body = call.body.unwrap().replace("\"SalesAmount\"", "\"SaleAmount\"");
    assert!(gp_sandbox::sba::read_payload(&schema, true, body.as_bytes(), "ReceivablesInvoice").is_err());
}

#[test]
fn settings_choose_the_protocol() {
    use gp_target::config::{Company, Endpoint, settings_from};
    let settings = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| v.to_string())
    };
    let soap = settings_from(settings(&[("gp.soap_url", "http://gp/soap"), ("gp.company", "Fabrikam, Inc.")])).unwrap();
    assert_eq!(soap.endpoint, Endpoint::Soap { url: "http://gp/soap".into() });
    assert_eq!(soap.company, Some(Company::Name("Fabrikam, Inc.".into())));
    let sba = settings_from(settings(&[
        ("gp.endpoint", "sba"),
        ("gp.sba_url", "http://gp/GPService/Tenants(T)/Companies(C)"),
    ]))
    .unwrap();
    assert_eq!(sba.timeout_ms, 30_000);
    assert_eq!(sba.endpoint, Endpoint::Sba { url: "http://gp/GPService/Tenants(T)/Companies(C)".into() });
    assert!(
        settings_from(settings(&[("gp.endpoint", "sba"), ("gp.soap_url", "http://gp/soap")]))
            .is_err_and(|e| e.contains("gp.sba_url"))
    );
    assert!(settings_from(settings(&[("gp.endpoint", "odata")])).is_err_and(|e| e.contains("odata")));
    // No silent default company: SOAP and eConnect without gp.company are refused, naming it.
    assert!(settings_from(settings(&[("gp.soap_url", "http://gp/soap")])).is_err_and(|e| e.contains("gp.company")));
    assert!(settings_from(settings(&[("gp.endpoint", "econnect")])).is_err_and(|e| e.contains("gp.company")));
}

// =============================================================== 2. the component in the host

/// The GP emulator and a host whose connection `t` runs the real gp-target over `endpoint`
/// (NTLM with the emulator's account), as an operator would configure it. `settings` override
/// the defaults; `{gp}` in a value is the emulator's `http://host:port`.
struct Env {
    gp: Sandbox,
    app: Arc<App>,
    endpoint: &'static str,
    _db: TestDb,
}

fn toml_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

async fn env(endpoint: &'static str, settings: &[(&str, &str)]) -> Env {
    init_tracing();
    let gp = GpSandbox::start(GpConfig::default()).await.unwrap();
    let db = TestDb::from_env().await;
    let origin = format!("http://{}", gp.addr());
    let mut cfg = format!(
        "[host]\ndatabase = {}\ncache_dir = {}\n",
        toml_str(&db.url),
        toml_str(&shared_cache().display().to_string())
    );
    for name in ["standin-source", "standin-mapper", "gp-target"] {
        let (path, digest) = component(name);
        cfg.push_str(&format!(
            "\n[components.{name}]\npath = {}\nsha256 = \"{digest}\"\ncall_timeout_ms = 30000\n",
            toml_str(&path.display().to_string())
        ));
    }
    cfg.push_str(&format!(
        "\n[secrets.gp]\nscheme = \"ntlm\"\norigin = \"{origin}\"\nvalue = {}\n",
        toml_str(&gp.credentials().user_spec())
    ));
    cfg.push_str("\n[[connections]]\nid = \"t\"\n[connections.settings]\n");
    let mut all = vec![
        ("gp.endpoint", endpoint.to_string()),
        ("gp.soap_url", gp.soap_url()),
        ("gp.sba_url", gp.sba_company_url("Fabrikam, Inc.")),
        ("gp.company", "Fabrikam, Inc.".into()),
    ];
    for (k, v) in settings {
        all.retain(|(key, _)| key != k);
        all.push((k, v.replace("{gp}", &origin)));
    }
    for (k, v) in all {
        cfg.push_str(&format!("{} = {}\n", toml_str(k), toml_str(&v)));
    }
    cfg.push_str(&format!(
        "[connections.source]\ncomponent = \"standin-source\"\n[connections.mapper]\ncomponent = \"standin-mapper\"\n[connections.target]\ncomponent = \"gp-target\"\nallow_http = [\"{origin}\"]\nallow_private_network = true\nallow_insecure_ntlm = true\npaced = true\nsecrets = {{ gp = \"gp\" }}\n"
    ));
    if endpoint == "econnect" {
        // The SQL login is the host's (a `sql` secret bound to the server); the guest never sees it.
        let sql = gp.sql_addr().expect("the emulator's SQL endpoint");
        cfg.push_str(&format!(
            "econnect = {{ server = \"{sql}\", database = \"TWO\", secret = \"gp-sql\" }}\n[secrets.gp-sql]\nscheme = \"sql\"\norigin = \"tds://{sql}\"\nvalue = {}\n",
            toml_str(&format!("{}:{}", gp.sql_login().user, gp.sql_login().password))
        ));
    }
    let dir = scratch("gp-target");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ml-connector.toml");
    std::fs::write(&path, cfg).unwrap();
    let app = App::build(ml_connector::config::Config::load(&path).unwrap()).await.unwrap();
    Env { gp, app, endpoint, _db: db }
}

/// One call of the target's export on a fresh sandboxed instance, as the host makes it.
macro_rules! target {
    ($env:expr, $call:ident $(, $arg:expr)*) => {{
        let c = &$env.app.connections["t"];
        let mut store = ml_connector::call::new_store(&$env.app, "t", &c.target, Default::default()).unwrap();
        let inst = c.target.pre.instantiate_async(&mut store).await.unwrap();
        inst.ml_connector_plugin_target_api().$call(&mut store $(, $arg)*).await.expect("the call completes")
    }};
}

impl Env {
    async fn ensure(&self, c: &GpCustomer) -> Result<WriteOutcome, TargetError> {
        target!(self, call_ensure_customer, c)
    }

    async fn write(&self, d: &LedgerDoc) -> Result<WriteOutcome, TargetError> {
        target!(self, call_write_document, d)
    }

    async fn find(&self, kind: WitKind, number: &str) -> Result<Option<LedgerDoc>, TargetError> {
        target!(self, call_find_document, kind, number)
    }

    async fn list(
        &self,
        customer: &str,
    ) -> Result<
        Vec<ml_connector::bindings::target::exports::ml_connector::plugin::target_api::LedgerBalance>,
        TargetError,
    > {
        target!(self, call_list_documents, customer)
    }

    /// The customer's e-mail as GP holds it (SY01200, whichever transport wrote it), read with
    /// eConnect's `customer-email` query on the emulator's database.
    async fn email(&self, customer: &str) -> Option<String> {
        use gp_sandbox::tds::backend::{Session, SqlValue};
        let mut s = self.gp.econnect_backend().session("TWO").await.unwrap();
        let sql = "SELECT INET1 FROM SY01200 WHERE Master_Type = 'CUS' AND Master_ID = @P1 AND ADRSCODE = @P2";
        let rows = s.query(sql, &[SqlValue::Text(customer.into()), SqlValue::Text("PRIMARY".into())]).await.unwrap();
        rows.rows.first().and_then(|r| match r.first() {
            Some(SqlValue::Text(t)) => Some(t.trim().to_string()),
            _ => None,
        })
    }

    async fn docs(&self, t: DocType) -> Vec<gp_sandbox::model::Document> {
        self.gp.control().documents_of(FABRIKAM, t).await.unwrap()
    }

    /// Create calls GP counted for `op` over this env's protocol.
    fn calls(&self, op: &str) -> u64 {
        let name = if self.endpoint == "sba" { format!("sba:{op}") } else { op.to_string() };
        self.gp.control().counters().calls.get(&name).copied().unwrap_or(0)
    }
}

/// Each scenario once per protocol: `mod name { soap, sba }`.
macro_rules! both_protocols {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn soap() {
                super::$name("soap").await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sba() {
                super::$name("sba").await
            }
        }
    };
}

/// Each scenario once per transport: SOAP, SBA and eConnect (`mod name { soap, sba, econnect }`).
macro_rules! every_transport {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn soap() {
                super::$name("soap").await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sba() {
                super::$name("sba").await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn econnect() {
                super::$name("econnect").await
            }
        }
    };
}

fn today() -> String {
    gp_sandbox::date::Date::today().iso()
}

fn customer(id: &str, name: &str) -> GpCustomer {
    GpCustomer {
        id: id.into(),
        source_id: id.to_lowercase(),
        name: name.into(),
        short_name: Some("ACME".into()),
        email: Some("ap@acme.example".into()),
        phone: None,
        currency: "USD".into(),
        currency_id: "Z-US$".into(),
        class_id: None,
        payment_terms: None,
        address: None,
    }
}

fn invoice(number: &str, customer: &str, sales: i64, tax: i64) -> ReceivablesInvoice {
    ReceivablesInvoice {
        description: Some("Plan".into()),
        ..ml_connector_tests::receivables_invoice(number, customer, "CB-SLS", &today(), sales, tax)
    }
}

fn receipt(number: &str, customer: &str, amount: i64, applies: &[(&str, i64)]) -> CashReceipt {
    CashReceipt {
        number: number.into(),
        customer_id: customer.into(),
        customer_source_id: customer.to_lowercase(),
        batch: BatchKey { source: "RM_Cash".into(), id: "CB-CASH".into() },
        date: today(),
        currency: "USD".into(),
        currency_id: "Z-US$".into(),
        exchange: None,
        amount,
        checkbook: "UPTOWN TRUST".into(),
        receipt_type: ReceiptType::PaymentCard,
        check_card_number: Some("txn_42".into()),
        card_name: Some("VISA".into()),
        description: Some("Card payment".into()),
        applies: applies.iter().map(|(n, a)| Apply { invoice_number: n.to_string(), amount: *a }).collect(),
        distributions: vec![],
    }
}

fn memo(number: &str, customer: &str, sales: i64, tax: i64, applies: &[(&str, i64)]) -> CreditMemo {
    CreditMemo {
        number: number.into(),
        customer_id: customer.into(),
        customer_source_id: customer.to_lowercase(),
        batch: BatchKey { source: "RM_Sales".into(), id: "CB-SLS".into() },
        date: today(),
        currency: "USD".into(),
        currency_id: "Z-US$".into(),
        exchange: None,
        sales,
        trade_discount: 0,
        misc: 0,
        tax,
        total: sales + tax,
        description: Some("Credit".into()),
        applies: applies.iter().map(|(n, a)| Apply { invoice_number: n.to_string(), amount: *a }).collect(),
        distributions: vec![],
        tax_schedule: None,
        tax_details: vec![],
    }
}

every_transport!(every_document_type_is_written_and_read_back);
async fn every_document_type_is_written_and_read_back(endpoint: &'static str) {
    let e = env(endpoint, &[]).await;
    let mut inv = invoice("CBINV-1", "ACME-1", 10_000, 800);
    (inv.trade_discount, inv.freight, inv.misc, inv.customer_po) = (500, 250, 100, Some("PO-7".into()));
    inv.total = 10_000 - 500 + 250 + 100 + 800;
    let inv = LedgerDoc::Invoice(inv);

    // The customer comes first: GP refuses a document for a customer it does not have.
    let r = e.write(&inv).await;
    assert!(matches!(&r, Err(TargetError::MissingDependency(m)) if m.contains("CUSTNMBR")), "{r:?}");
    assert!(e.docs(DocType::Invoice).await.is_empty());
    assert_eq!(e.ensure(&customer("ACME-1", "Acme Corp")).await, Ok(WriteOutcome::Created));
    let c = e.gp.control().customer(FABRIKAM, "ACME-1").await.unwrap().expect("customer in GP");
    assert_eq!((c.name.as_deref(), c.shortname.as_deref()), (Some("Acme Corp"), Some("ACME")));
    assert_eq!(e.email("ACME-1").await.as_deref(), Some("ap@acme.example"), "GP's e-mail for the customer");
    assert_eq!(e.ensure(&customer("ACME-1", "Acme Corp")).await, Ok(WriteOutcome::AlreadyPresent));
    assert_eq!(e.ensure(&customer("ACME-1", "Acme Corporation")).await, Ok(WriteOutcome::Updated));
    assert_eq!(
        e.gp.control().customer(FABRIKAM, "ACME-1").await.unwrap().unwrap().name.as_deref(),
        Some("Acme Corporation")
    );

    assert_eq!(e.write(&inv).await, Ok(WriteOutcome::Created));
    let rc = LedgerDoc::CashReceipt(receipt("CBPAY-1", "ACME-1", 6_000, &[("CBINV-1", 4_000)]));
    assert_eq!(e.write(&rc).await, Ok(WriteOutcome::Created));
    let cm = LedgerDoc::CreditMemo(memo("CBCN-1", "ACME-1", 1_000, 80, &[("CBINV-1", 1_080)]));
    assert_eq!(e.write(&cm).await, Ok(WriteOutcome::Created));

    // GP holds what was sent: amounts, batch (with its source), customer, date, applies.
    let LedgerDoc::Invoice(i) = &inv else { unreachable!() };
    let gi = &e.docs(DocType::Invoice).await[0];
    assert_eq!(
        (gi.number.as_str(), gi.customer_id.as_str(), gi.batch_id.as_str(), gi.batch_source.as_str()),
        ("CBINV-1", "ACME-1", "CB-SLS", "RM_Sales")
    );
    assert_eq!(
        (
            gi.amounts.sales,
            gi.amounts.trade_discount,
            gi.amounts.freight,
            gi.amounts.misc,
            gi.amounts.tax,
            gi.amounts.document
        ),
        (i.sales, 500, 250, 100, 800, i.total)
    );
    assert_eq!((gi.date.iso(), gi.currency.iso_code.as_str(), gi.po_number.as_deref()), (today(), "USD", Some("PO-7")));
    assert_eq!(gi.remaining, i.total - 4_000 - 1_080, "both applies reduce the invoice");
    let gr = &e.docs(DocType::CashReceipt).await[0];
    assert_eq!(
        (gr.batch_id.as_str(), gr.batch_source.as_str(), gr.amounts.document, gr.remaining),
        ("CB-CASH", "RM_Cash", 6_000, 2_000)
    );
    assert_eq!(
        (gr.checkbook_id.as_deref(), gr.cash_type.as_deref(), gr.check_number.as_deref()),
        (Some("UPTOWN TRUST"), Some("Payment Card"), Some("txn_42"))
    );
    let gc = &e.docs(DocType::CreditMemo).await[0];
    assert_eq!(
        (gc.amounts.sales, gc.amounts.tax, gc.amounts.document, gc.remaining, gc.batch_id.as_str()),
        (1_000, 80, 1_080, 0, "CB-SLS")
    );
    let applies: BTreeSet<_> =
        e.gp.control()
            .applies(FABRIKAM)
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.from_number, a.to_number, a.amount_minor))
            .collect();
    assert_eq!(
        applies,
        BTreeSet::from([("CBPAY-1".into(), "CBINV-1".into(), 4_000), ("CBCN-1".into(), "CBINV-1".into(), 1_080)])
    );

    // find-document reads each back as GP holds it (applies are not part of GP's answer).
    // (GP knows no Chargebee id; its currency id is read only where the protocol carries it.)
    match e.find(WitKind::Invoice, "CBINV-1").await {
        Ok(Some(LedgerDoc::Invoice(back))) => {
            let (customer_source_id, currency_id) = (back.customer_source_id.clone(), back.currency_id.clone());
            assert_eq!(back, ReceivablesInvoice { distributions: vec![], customer_source_id, currency_id, ..i.clone() })
        }
        other => panic!("{other:?}"),
    }
    match e.find(WitKind::CashReceipt, "CBPAY-1").await {
        Ok(Some(LedgerDoc::CashReceipt(back))) => {
            let expected = CashReceipt {
                applies: vec![],
                customer_source_id: back.customer_source_id.clone(),
                currency_id: back.currency_id.clone(),
                card_name: back.card_name.clone(),
                ..receipt("CBPAY-1", "ACME-1", 6_000, &[])
            };
            assert_eq!(back, expected)
        }
        other => panic!("{other:?}"),
    }
    match e.find(WitKind::CreditMemo, "CBCN-1").await {
        Ok(Some(LedgerDoc::CreditMemo(back))) => {
            let expected = CreditMemo {
                customer_source_id: back.customer_source_id.clone(),
                currency_id: back.currency_id.clone(),
                ..memo("CBCN-1", "ACME-1", 1_000, 80, &[])
            };
            assert_eq!(back, expected)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.find(WitKind::Invoice, "CBINV-404").await, Ok(None));
    assert_eq!(e.find(WitKind::CashReceipt, "CBINV-1").await, Ok(None), "numbers are per document type");
}

every_transport!(closed_fiscal_period_is_refused_and_nothing_written);
async fn closed_fiscal_period_is_refused_and_nothing_written(endpoint: &'static str) {
    let e = env(endpoint, &[]).await;
    e.ensure(&customer("ACME-1", "Acme")).await.unwrap();
    let now = gp_sandbox::date::Date::today();
    e.gp.control().set_period_closed(FABRIKAM, now.year, now.month, true).await.unwrap();
    for doc in [
        LedgerDoc::Invoice(invoice("CBINV-1", "ACME-1", 1_000, 0)),
        LedgerDoc::CashReceipt(receipt("CBPAY-1", "ACME-1", 500, &[])),
    ] {
        // PeriodClosed is what the host parks on (it waits on `period:<date>`).
        let r = e.write(&doc).await;
        assert!(
            matches!(&r, Err(TargetError::PeriodClosed(m)) if m.contains("fiscal period that contains the document date is closed")),
            "{r:?}"
        );
    }
    assert!(e.gp.control().documents(FABRIKAM).await.unwrap().is_empty(), "nothing written while closed");
    // No period read exists in GP's services: the host's re-check hears "open" and GP decides.
    // eConnect reads the period itself (SY40100), so it says closed.
    let readable = endpoint == "econnect";
    assert_eq!(target!(e, call_fiscal_period_open, &today()), Ok(!readable));
    e.gp.control().set_period_closed(FABRIKAM, now.year, now.month, false).await.unwrap();
    assert_eq!(e.write(&LedgerDoc::Invoice(invoice("CBINV-1", "ACME-1", 1_000, 0))).await, Ok(WriteOutcome::Created));
    assert_eq!(e.docs(DocType::Invoice).await.len(), 1);
}

every_transport!(duplicates_of_our_documents_are_present_and_others_conflict);
async fn duplicates_of_our_documents_are_present_and_others_conflict(endpoint: &'static str) {
    let e = env(endpoint, &[]).await;
    e.ensure(&customer("ACME-1", "Acme")).await.unwrap();
    let inv = LedgerDoc::Invoice(invoice("CBINV-1", "ACME-1", 1_000, 80));
    let rc = LedgerDoc::CashReceipt(receipt("CBPAY-1", "ACME-1", 500, &[("CBINV-1", 500)]));
    for d in [&inv, &rc] {
        assert_eq!(e.write(d).await, Ok(WriteOutcome::Created));
        assert_eq!(e.write(d).await, Ok(WriteOutcome::AlreadyPresent), "a replay of our own document");
    }
    // (Call counts are per HTTP operation; over eConnect the documents themselves tell.)
    let asked = match endpoint {
        "econnect" => {
            (e.docs(DocType::Invoice).await.len() as u64 * 2, e.docs(DocType::CashReceipt).await.len() as u64 * 2)
        }
        _ => (e.calls("CreateReceivablesInvoice"), e.calls("CreateCashReceipt")),
    };
    assert_eq!(asked, (2, 2), "GP was asked twice and refused the second");
    assert_eq!((e.docs(DocType::Invoice).await.len(), e.docs(DocType::CashReceipt).await.len()), (1, 1));
    assert_eq!(e.gp.control().applies(FABRIKAM).await.unwrap().len(), 1, "the apply is not made twice");

    // The same number with other content: conflict naming the fields; GP's copy untouched.
    let mut other = invoice("CBINV-1", "ACME-1", 2_000, 80);
    other.date = format!("{}-01-01", &today()[..4]);
    let r = e.write(&LedgerDoc::Invoice(other)).await;
    let Err(TargetError::Conflict(m)) = &r else { panic!("{r:?}") };
    assert!(m.contains("amount") && m.contains("sales") && m.contains("date") && !m.contains("customer"), "{m}");
    let gi = &e.docs(DocType::Invoice).await[0];
    assert_eq!((gi.amounts.document, gi.amounts.sales), (1_080, 1_000), "nothing overwritten");
    e.ensure(&customer("ACME-2", "Other")).await.unwrap();
    let r = e.write(&LedgerDoc::CashReceipt(receipt("CBPAY-1", "ACME-2", 500, &[]))).await;
    assert!(matches!(&r, Err(TargetError::Conflict(m)) if m.contains("customer")), "{r:?}");
}

both_protocols!(ambiguous_failures_end_with_exactly_one_document);
async fn ambiguous_failures_end_with_exactly_one_document(endpoint: &'static str) {
    let e = env(endpoint, &[("gp.timeout_ms", "1500")]).await;
    e.ensure(&customer("ACME-1", "Acme")).await.unwrap();
    let control = e.gp.control();

    // GP commits, then the connection drops before the answer: the look-up finds ours.
    control.inject(FaultRule::once("CreateReceivablesInvoice", FaultKind::LostResponse));
    assert_eq!(
        e.write(&LedgerDoc::Invoice(invoice("CBINV-1", "ACME-1", 1_000, 0))).await,
        Ok(WriteOutcome::AlreadyPresent)
    );
    assert_eq!(e.docs(DocType::Invoice).await.len(), 1);
    assert_eq!(control.counters().faults_injected, 1);

    // GP commits but answers after our timeout.
    control.inject(FaultRule::once("CreateCashReceipt", FaultKind::HangAfterCommit(Duration::from_secs(4))));
    assert_eq!(
        e.write(&LedgerDoc::CashReceipt(receipt("CBPAY-1", "ACME-1", 500, &[("CBINV-1", 500)]))).await,
        Ok(WriteOutcome::AlreadyPresent)
    );
    assert_eq!(e.docs(DocType::CashReceipt).await.len(), 1);

    // GP never processed it (hang, then a timeout): not there → transient, and the retry writes it once.
    control.inject(FaultRule::once("CreateReceivablesCreditMemo", FaultKind::Hang(Duration::from_secs(4))));
    let cm = LedgerDoc::CreditMemo(memo("CBCN-1", "ACME-1", 100, 0, &[]));
    let r = e.write(&cm).await;
    assert!(matches!(&r, Err(TargetError::Transient(m)) if m.contains("not in GP")), "{r:?}");
    assert!(e.docs(DocType::CreditMemo).await.is_empty());
    assert_eq!(e.write(&cm).await, Ok(WriteOutcome::Created));

    // GP's system exception on a create (nothing committed): looked up, absent → transient.
    control.inject(FaultRule::once("CreateReceivablesInvoice", FaultKind::SystemFault));
    let r = e.write(&LedgerDoc::Invoice(invoice("CBINV-2", "ACME-1", 300, 0))).await;
    assert!(matches!(&r, Err(TargetError::Transient(_))), "{r:?}");
    // … and on a read: transient, not "absent".
    control.inject(FaultRule::once("GetReceivablesInvoiceByKey", FaultKind::SystemFault));
    let r = e.find(WitKind::Invoice, "CBINV-1").await;
    assert!(matches!(&r, Err(TargetError::Transient(m)) if m.contains("unhandled system exception")), "{r:?}");
    assert_eq!(
        (
            e.docs(DocType::Invoice).await.len(),
            e.docs(DocType::CashReceipt).await.len(),
            e.docs(DocType::CreditMemo).await.len()
        ),
        (1, 1, 1)
    );
}

every_transport!(refusals_are_classified_as_on_the_other_protocol);
async fn refusals_are_classified_as_on_the_other_protocol(endpoint: &'static str) {
    let e = env(endpoint, &[]).await;
    e.ensure(&customer("ACME-1", "Acme")).await.unwrap();
    let mut rc = receipt("CBPAY-1", "ACME-1", 500, &[]);
    rc.checkbook = "NO SUCH BANK".into();
    let r = e.write(&LedgerDoc::CashReceipt(rc)).await;
    assert!(matches!(&r, Err(TargetError::Rejected(m)) if m.contains("CHEKBKID")), "GP's own message: {r:?}");
    let r = e.write(&LedgerDoc::CashReceipt(receipt("CBPAY-2", "ACME-1", 500, &[("CBINV-404", 500)]))).await;
    assert!(
        matches!(&r, Err(TargetError::MissingDependency(m)) if m.contains("APTODCNM")),
        "the applied invoice is not there yet: {r:?}"
    );
    let r = e.ensure(&customer("acme-lower", "Lower")).await;
    assert!(matches!(&r, Err(TargetError::Rejected(m)) if m.contains("CUSTNMBR")), "{r:?}");
    assert!(e.gp.control().documents(FABRIKAM).await.unwrap().is_empty());
}

every_transport!(list_documents_returns_what_gp_holds);
async fn list_documents_returns_what_gp_holds(endpoint: &'static str) {
    let e = env(endpoint, &[]).await;
    for c in ["ACME-1", "GLOBEX-1"] {
        e.ensure(&customer(c, c)).await.unwrap();
    }
    for d in [
        LedgerDoc::Invoice(invoice("CBINV-1", "ACME-1", 1_000, 80)),
        LedgerDoc::Invoice(invoice("CBINV-2", "ACME-1", 2_000, 0)),
        LedgerDoc::Invoice(invoice("CBINV-3", "GLOBEX-1", 700, 0)),
        LedgerDoc::CashReceipt(receipt("CBPAY-1", "ACME-1", 1_500, &[("CBINV-1", 1_080), ("CBINV-2", 400)])),
        LedgerDoc::CreditMemo(memo("CBCN-1", "ACME-1", 300, 0, &[("CBINV-2", 100)])),
    ] {
        assert_eq!(e.write(&d).await, Ok(WriteOutcome::Created));
    }
    let wit = |t: DocType| match t {
        DocType::Invoice => WitKind::Invoice,
        DocType::CreditMemo => WitKind::CreditMemo,
        DocType::CashReceipt => WitKind::CashReceipt,
        DocType::DebitMemo => unreachable!("the connector writes no debit memos"),
    };
    let held = e.gp.control().documents(FABRIKAM).await.unwrap();
    for c in ["ACME-1", "GLOBEX-1", "NOBODY"] {
        let listed: BTreeSet<_> = e
            .list(c)
            .await
            .unwrap()
            .into_iter()
            .map(|b| (format!("{:?}", b.kind), b.number, b.customer_id, b.currency, b.date, b.amount, b.remaining))
            .collect();
        // GP exposes no unapplied amount for cash receipts: the target reports 0 for them.
        let expected: BTreeSet<_> = held
            .iter()
            .filter(|d| d.customer_id == c)
            .map(|d| {
                (
                    format!("{:?}", wit(d.doc_type)),
                    d.number.clone(),
                    d.customer_id.clone(),
                    d.currency.iso_code.clone(),
                    d.date.iso(),
                    d.amounts.document,
                    // eConnect reads GP's work tables, which carry no remaining amount: an
                    // unposted document is wholly unapplied there until GP posts it.
                    if endpoint == "econnect" {
                        d.amounts.document
                    } else if d.doc_type == DocType::CashReceipt {
                        0
                    } else {
                        d.remaining
                    },
                )
            })
            .collect();
        assert_eq!(listed, expected, "{c}");
    }
    assert_eq!(e.list("ACME-1").await.unwrap().len(), 4);
}

/// Settings that cannot work are permanent (parked, not retried): an unknown protocol, an SBA
/// company GP does not have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misconfiguration_is_permanent() {
    let e = env("odata", &[]).await;
    let r = e.ensure(&customer("ACME-1", "Acme")).await;
    assert!(matches!(&r, Err(TargetError::Permanent(m)) if m.contains("gp.endpoint")), "{r:?}");
    let e2 =
        env("sba", &[("gp.sba_url", "{gp}/GPService/Tenants(DefaultTenant)/Companies(No%20Such%20Company)")]).await;
    let r = e2.ensure(&customer("ACME-1", "Acme")).await;
    assert!(matches!(&r, Err(TargetError::Permanent(m)) if m.contains("404")), "{r:?}");
    let r = e2.write(&LedgerDoc::Invoice(invoice("CBINV-1", "ACME-1", 1_000, 0))).await;
    assert!(matches!(&r, Err(TargetError::Permanent(_))), "{r:?}");
    assert!(e2.gp.control().documents(FABRIKAM).await.unwrap().is_empty());
}

// ============================================================ 3. end to end over SBA (stack)

/// The whole product with the tenant on SBA: backfill, drain, replay, reconciliation — every
/// Chargebee record once in GP, nothing over SOAP. (The SOAP runs are in e2e.rs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sba_end_to_end_backfill_replay_and_reconcile_clean() {
    use mlc_harness::stack::{Stack, StackSpec, TenantSpec};
    init_tracing();
    let db = TestDb::from_env().await;
    let mut tenant = TenantSpec::new("acme", "acme-test", chargebee_sandbox::Region::Us);
    tenant.endpoint = "sba";
    tenant.settings = vec![("map.refunds".into(), "skip".into()), ("map.invoice.voided".into(), "skip".into())];
    let spec = StackSpec { tenants: vec![tenant], database: Some(db.url.clone()), ..StackSpec::default() };
    let s = Stack::start(&scratch("gp-target-sba-e2e"), spec).await.expect("stack starts");
    let site = s.site("acme").unwrap();
    let cb = s.cb.control();
    cb.seed(
        &site.name,
        &chargebee_sandbox::SeedSpec {
            customers: 4,
            invoices_per_customer: 3,
            currencies: vec!["USD".into(), "EUR".into(), "JPY".into()],
            days: 20,
            seed: 11,
            ..Default::default()
        },
    )
    .unwrap();

    s.backfill("acme").await.unwrap();
    let drained = s.drain("acme", Duration::from_secs(180)).await;
    let stuck = s.stuck("acme").await.unwrap();
    let st = drained.unwrap_or_else(|e| {
        panic!("{e}\nparked: {:#?}", stuck.iter().map(|j| (&j.key, &j.last_error)).collect::<Vec<_>>())
    });
    assert!(
        stuck.is_empty() && st.parked + st.dead == 0,
        "{:#?}",
        stuck.iter().map(|j| (&j.key, &j.last_error)).collect::<Vec<_>>()
    );

    let gp = s.gp.control();
    let docs = |t| async move { gp.documents_of(FABRIKAM, t).await.unwrap() };
    let invoices = cb
        .invoices(&site.name)
        .unwrap()
        .into_iter()
        .filter(|i| !i.deleted && i.status != "voided" && i.status != "pending")
        .count();
    let payments = cb
        .transactions(&site.name)
        .unwrap()
        .into_iter()
        .filter(|t| t.kind == "payment" && t.status == "success" && !t.deleted)
        .count();
    let counts = (
        docs(DocType::Invoice).await.len(),
        docs(DocType::CashReceipt).await.len(),
        gp.customers(FABRIKAM).await.unwrap().len(),
    );
    assert_eq!(counts, (invoices, payments, cb.customers(&site.name).unwrap().len()), "every record once");
    assert!(!docs(DocType::CreditMemo).await.is_empty(), "the seed's credit notes went through SBA too");
    let calls = gp.counters().calls;
    assert!(calls.get("sba:CreateReceivablesInvoice").copied().unwrap_or(0) >= invoices as u64, "{calls:?}");
    assert!(calls.keys().all(|k| k.starts_with("sba:")), "nothing over SOAP: {calls:?}");

    // Replaying everything writes nothing new.
    let before = gp.documents(FABRIKAM).await.unwrap().len();
    assert!(
        s.app
            .store
            .replay(&mlc_store::JobFilter { connection: Some("acme".into()), ..Default::default() })
            .await
            .unwrap()
            > 0
    );
    s.app.wake.notify_waiters();
    s.drain("acme", Duration::from_secs(120)).await.unwrap();
    assert_eq!(gp.documents(FABRIKAM).await.unwrap().len(), before, "replay → no new GP documents");

    // Reconciliation reads GP over SBA (list-documents): zero difference.
    let conn = s.app.connections["acme"].clone();
    let report = ml_connector::reconcile::run(&s.app, &conn).await.unwrap();
    assert!(report.is_clean() && report.lines.len() >= 2, "{report:#?}");
    s.shutdown().await;
}
