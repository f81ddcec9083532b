//! Every request gp-target builds, natively, read by the emulator's strict readers (SOAP
//! against the WSDL, SBA routed and its payload read as the WSDL object, eConnect documents by
//! the host's document reader against the emulator's procedures) and kept as golden copies.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use gp_target::model::{Doc, DocKind, Party};
use gp_target::sba::Sba;
use gp_target::settle::{Applied, Apply, Void};
use gp_target::soap::Soap;
use gp_target::wire::{Call, Protocol, Verb};
use ml_connector_tests::repo_root;

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

/// No golden file without a case that produces it (a renamed case must not leave a stale
/// copy); with UPDATE_GOLDEN=1 the orphans are deleted.
fn no_orphans(dir: &str, produced: &BTreeSet<String>) {
    for e in std::fs::read_dir(golden_dir().join(dir)).unwrap() {
        let e = e.unwrap();
        let name = format!("{dir}/{}", e.file_name().to_string_lossy());
        if produced.contains(&name) {
            continue;
        }
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::remove_file(e.path()).unwrap();
        } else {
            panic!("{name} is produced by no case: delete it (or run with UPDATE_GOLDEN=1)");
        }
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

/// Every document shape gp-target writes (unapplied: applies are settle's): an invoice with
/// every optional member, a minimal one in a zero-decimal currency, a receipt, a credit memo, a
/// debit memo (a refund paid out), and an invoice and a receipt whose GL posting date was moved
/// into the next open period (`gp.closed_period = next_open_period`).
pub fn documents() -> Vec<(&'static str, Doc)> {
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
        ..doc(DocKind::CashReceipt, "CBPAY-1", "USD")
    };
    let memo = Doc {
        sales: 1_000,
        tax: 80,
        total: 1_080,
        description: Some("Refund".into()),
        ..doc(DocKind::CreditMemo, "CBCN-1", "USD")
    };
    let debit = Doc {
        sales: 2_500,
        total: 2_500,
        description: Some("Refund paid".into()),
        ..doc(DocKind::DebitMemo, "CBRF-1", "USD")
    };
    let moved = Doc {
        batch: "CB251125-SLSP12".into(),
        gl_date: Some("2025-12-01".into()),
        ..Doc { sales: 700, total: 700, ..doc(DocKind::Invoice, "CBINV-1003", "USD") }
    };
    let moved_receipt = Doc {
        gl_date: Some("2025-12-01".into()),
        receipt_type: "Check".into(),
        check_number: Some("1042".into()),
        ..Doc { total: 700, ..doc(DocKind::CashReceipt, "CBPAY-2", "USD") }
    };
    vec![
        ("invoice-full", full),
        ("invoice-minimal-jpy", minimal),
        ("receipt", receipt),
        ("credit-memo", memo),
        ("debit-memo", debit),
        ("invoice-next-open-period", moved),
        ("receipt-next-open-period", moved_receipt),
    ]
}

fn kind_name(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Invoice => "ReceivablesInvoice",
        DocKind::DebitMemo => "ReceivablesDebitMemo",
        DocKind::CreditMemo => "ReceivablesCreditMemo",
        DocKind::CashReceipt => "CashReceipt",
    }
}

/// A request, the operation GP must read it as, and for a document the GL posting date GP
/// must read from it (`YYYY-MM-DD`).
struct Case {
    name: String,
    call: Call,
    operation: String,
    gl_date: Option<String>,
}

fn case(name: String, call: Call, operation: &str) -> Case {
    Case { name, call, operation: operation.into(), gl_date: None }
}

fn cases(p: &dyn Protocol, ext: &str) -> Vec<Case> {
    let theirs = theirs(p, ext);
    let changes = gp_target::model::customer_changes(&party(), &theirs.party);
    assert!(!changes.is_empty(), "the update changes name and email");
    let update = p.save_customer(&party(), Some(&theirs), &changes).unwrap();
    let no_email = Party { email: None, short_name: None, ..party() };
    let mut out = vec![
        case(format!("CreateCustomer.{ext}"), p.save_customer(&party(), None, &[]).unwrap(), "CreateCustomer"),
        case(format!("UpdateCustomer.{ext}"), update, "UpdateCustomer"),
        case(
            format!("CreateCustomer-no-email.{ext}"),
            p.save_customer(&no_email, None, &[]).unwrap(),
            "CreateCustomer",
        ),
        case(format!("GetCustomerByKey.{ext}"), p.get_customer("ACME 001"), "GetCustomerByKey"),
    ];
    for (name, d) in documents() {
        let op = format!("Create{}", kind_name(d.kind));
        let mut c = case(format!("{op}-{name}.{ext}"), p.create_document(&d), &op);
        c.gl_date = Some(d.posting_date().to_string());
        out.push(c);
    }
    for kind in [DocKind::Invoice, DocKind::DebitMemo, DocKind::CreditMemo, DocKind::CashReceipt] {
        let op = format!("Get{}ByKey", kind_name(kind));
        out.push(case(format!("{op}.{ext}"), p.get_document(kind, "CB INV-1"), &op));
    }
    for (i, call) in p.list_documents("ACME-001").into_iter().enumerate() {
        out.push(case(format!("GetReceivablesDocumentList-{i}.{ext}"), call, "GetReceivablesDocumentList"));
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

#[test]
fn soap_envelopes_follow_the_wsdl_and_their_golden_copies() {
    let schema = schema();
    let soap = soap();
    let mut produced = BTreeSet::new();
    let mut all = cases(&soap, "xml");
    all.push(case(
        "GetLoggedValidationResultByKey.xml".into(),
        soap.validation_result("0f8fad5b-d9cb-469f-a165-70867728950e"),
        "GetLoggedValidationResultByKey",
    ));
    for Case { name, call, operation, gl_date } in all {
        assert_eq!((call.verb, call.url.as_str()), (Verb::Post, soap.url.as_str()), "{name}");
        let req = read_soap(&schema, &call).unwrap_or_else(|e| panic!("{name}: GP's contract refuses it: {e}"));
        assert_eq!(req.operation, operation, "{name}");
        let member = ["cashReceipt", "receivablesCreditMemo", "receivablesInvoice", "receivablesDebitMemo"]
            .into_iter()
            .find_map(|m| req.body.at(&[m]));
        assert_eq!(member.is_some(), gl_date.is_some(), "{name}: a document member iff a document case");
        if let Some(member) = member {
            // Documents are written unapplied: no RMApply extension (GP has none installed).
            let found = gp_sandbox::soap::applies_from_extensions(member).map_err(|e| e.to_string()).unwrap();
            assert!(found.is_empty() && member.at(&["Extensions"]).is_none(), "{name}: applies sent");
            assert_eq!(member.str_at(&["CustomerKey", "Id"]), Some("ACME-001"), "{name}");
            let gl = format!("{}T00:00:00", gl_date.unwrap());
            assert_eq!(member.str_at(&["GeneralLedgerPostingDate"]), Some(gl.as_str()), "{name}");
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
    for Case { name, call, operation, gl_date } in cases(&sba(), "http") {
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
        assert_eq!(routed, operation, "{name}");
        match (payload_type, &call.body) {
            (Some(ty), Some(body)) => {
                let (node, found) = gp_sandbox::sba::read_payload(&schema, true, body.as_bytes(), ty)
                    .unwrap_or_else(|e| panic!("{name}: the emulator refuses the payload: {e}"));
                assert!(found.is_empty() && !body.contains("\"Applies\""), "{name}: applies sent");
                assert!(node.str_at(&["Key", "Id"]).is_some(), "{name}");
                if let Some(gl) = &gl_date {
                    let gl = format!("{gl}T00:00:00");
                    assert_eq!(node.str_at(&["GeneralLedgerPostingDate"]), Some(gl.as_str()), "{name}");
                }
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

fn settle_apply() -> Apply {
    Apply {
        from: DocKind::CashReceipt,
        from_number: "CBPAY-1".into(),
        to: DocKind::Invoice,
        to_number: "CBINV-1001".into(),
        customer: "ACME-001".into(),
        customer_source: String::new(),
        currency: "USD".into(),
        amount: 5_000,
        write_off: 5,
        date: "2025-11-30".into(),
    }
}

/// The eConnect documents of the settle step and of a document with a moved GL posting date:
/// read by the host's eConnect reader (catalogued nodes and elements, each value typed), every
/// parameter one the emulator's procedure declares and every required one present, and kept as
/// golden copies under `tests/golden/econnect/`.
#[test]
fn econnect_documents_are_read_by_the_host_and_the_emulator_and_match_their_golden_copies() {
    let memo_apply = Apply {
        from: DocKind::CreditMemo,
        from_number: "CBCN-1".into(),
        to: DocKind::DebitMemo,
        to_number: "CBRF-1".into(),
        amount: 2_500,
        write_off: 0,
        ..settle_apply()
    };
    let void = Void {
        kind: DocKind::CashReceipt,
        number: "CBPAY-1".into(),
        customer: String::new(),
        customer_source: "acme".into(),
        date: "2025-12-02".into(),
        description: Some("Payment voided".into()),
    };
    let docs = documents();
    let by = |n: &str| docs.iter().find(|(name, _)| *name == n).unwrap().1.clone();
    let existing = gp_target::books::Batch { documents: 2, total: "1400.00000".into() };
    let cases: Vec<(&str, String, &[&str])> = vec![
        // The difference only: 12.00 of 50.00 (GP held 38.00), the write-off's 0.05 with it.
        (
            "taRMApply-receipt-to-invoice.xml",
            gp_target::econnect::doc::apply(&settle_apply(), Applied { amount: 1_200, write_off: 5 }, "2025-12-01"),
            &["taRMApply"],
        ),
        (
            "taRMApply-credit-memo-to-debit-memo.xml",
            gp_target::econnect::doc::apply(&memo_apply, Applied { amount: 2_500, write_off: 0 }, "2025-11-30"),
            &["taRMApply"],
        ),
        (
            "taRMVoidTransaction-receipt.xml",
            gp_target::econnect::doc::void(&void, "ACME-001", "2025-12-02"),
            &["taRMVoidTransaction"],
        ),
        (
            "taRMTransaction-debit-memo.xml",
            gp_target::econnect::doc::document(&by("debit-memo"), None).unwrap(),
            &["taRMTransaction"],
        ),
        // A moved GL posting date: the batch header first (GP's totals kept), then the document.
        (
            "taRMTransaction-invoice-next-open-period.xml",
            gp_target::econnect::doc::document(&by("invoice-next-open-period"), Some(&existing)).unwrap(),
            &["taCreateUpdateBatchHeaderRcd", "taRMTransaction"],
        ),
        (
            "taRMCashReceiptInsert-next-open-period.xml",
            gp_target::econnect::doc::document(&by("receipt-next-open-period"), None).unwrap(),
            &["taRMCashReceiptInsert"],
        ),
    ];
    let mut produced = BTreeSet::new();
    for (name, xml, nodes) in cases {
        let parsed = mlc_econnect::Document::parse(&xml).unwrap_or_else(|e| panic!("{name}: the host refuses it: {e}"));
        assert_eq!(parsed.nodes(), nodes, "{name}");
        for call in &parsed.calls {
            emulator_takes(name, call);
        }
        golden(&format!("econnect/{name}"), &xml);
        produced.insert(format!("econnect/{name}"));
    }
    no_orphans("econnect", &produced);
}

/// Every parameter of `call` is one the emulator's procedure declares, and every parameter it
/// requires is there.
fn emulator_takes(name: &str, call: &mlc_econnect::Call) {
    let (_, params) = gp_sandbox::econnect::PROCEDURES
        .iter()
        .find(|(p, _)| p.eq_ignore_ascii_case(call.proc.name))
        .unwrap_or_else(|| panic!("{name}: the emulator has no procedure {}", call.proc.name));
    let sent: BTreeSet<&str> = call.params.iter().map(|(p, _)| p.name).collect();
    for p in &sent {
        assert!(params.iter().any(|(n, _, _)| n == p), "{name}: {} has no parameter {p}", call.proc.name);
    }
    for (n, _, required) in params.iter() {
        assert!(!required || sent.contains(n), "{name}: {} needs {n}", call.proc.name);
    }
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
    // The host's eConnect reader refuses an element the procedure does not have.
    let apply = gp_target::econnect::doc::apply(&settle_apply(), Applied { amount: 1, write_off: 0 }, "2025-12-01");
    let bad = apply.replace("APPTOAMT>", "APPLYAMT>");
    assert!(mlc_econnect::Document::parse(&apply).is_ok());
    assert!(mlc_econnect::Document::parse(&bad).is_err(), "{bad}");
}

#[test]
fn settings_choose_the_protocol() {
    use gp_target::config::{Company, Endpoint, settings_from};
    let settings = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let soap =
        settings_from(&settings(&[("gp.soap_url", "http://gp/soap"), ("gp.company", "Fabrikam, Inc.")])).unwrap();
    assert_eq!(soap.endpoint, Endpoint::Soap { url: "http://gp/soap".into() });
    assert_eq!(soap.company, Some(Company::Name("Fabrikam, Inc.".into())));
    let sba = settings_from(&settings(&[
        ("gp.endpoint", "sba"),
        ("gp.sba_url", "http://gp/GPService/Tenants(T)/Companies(C)"),
    ]))
    .unwrap();
    assert_eq!(sba.timeout_ms, 30_000);
    assert_eq!(sba.endpoint, Endpoint::Sba { url: "http://gp/GPService/Tenants(T)/Companies(C)".into() });
    assert!(
        settings_from(&settings(&[("gp.endpoint", "sba"), ("gp.soap_url", "http://gp/soap")]))
            .is_err_and(|e| e.contains("gp.sba_url"))
    );
    assert!(settings_from(&settings(&[("gp.endpoint", "odata")])).is_err_and(|e| e.contains("odata")));
    // No silent default company: SOAP and eConnect without gp.company are refused, naming it.
    assert!(settings_from(&settings(&[("gp.soap_url", "http://gp/soap")])).is_err_and(|e| e.contains("gp.company")));
    assert!(settings_from(&settings(&[("gp.endpoint", "econnect")])).is_err_and(|e| e.contains("gp.company")));
    // The closed-period rule: two values, anything else refused at load, naming the setting.
    let econnect =
        |extra: (&str, &str)| settings_from(&settings(&[("gp.endpoint", "econnect"), ("gp.company", "F"), extra]));
    assert!(econnect(("gp.closed_period", "next_open_period")).is_ok());
    assert!(econnect(("gp.closed_period", "next_period")).is_err_and(|e| e.contains("gp.closed_period")));
    assert!(econnect(("gp.batch.max_documents", "0")).is_err_and(|e| e.contains("gp.batch.max_documents")));
}
