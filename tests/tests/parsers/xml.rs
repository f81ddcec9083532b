//! gp-target's XML reader (`gp_target::xml::Tree` and every SOAP answer parser on it) against
//! random bytes, markup soup and mutated real envelopes; and the escaping of every value the
//! request builders put into a SOAP body.

use std::path::PathBuf;

use gp_target::model::{Doc, DocKind, Party};
use gp_target::soap::{self, Soap};
use gp_target::wire::{Call, Protocol, Verb};
use gp_target::xml::{Tree, el, escape};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::{apply, check, edits, soup};

/// What trips a hand-written reader: CDATA, comments, attributes holding `>` or `<`,
/// references of every kind, DTDs, prefixes, unclosed and stray tags.
const TOKENS: &[&str] = &[
    "<Key>",
    "</Key>",
    "<Id>",
    "</Id>",
    "<d:Id>",
    "</d:Id>",
    "<Value>",
    "</Value>",
    "<Type>",
    "</Type>",
    "<ReceivablesDocumentSummary>",
    "</ReceivablesDocumentSummary>",
    "<soap:Fault>",
    "</soap:Fault>",
    "<faultstring>",
    "</faultstring>",
    "<Nil xsi:nil=\"true\"/>",
    "<a x=\">\">",
    "<a x='<'>",
    "</a>",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<?xml version=\"1.0\"?>",
    "<?pi x?>",
    "<!DOCTYPE r>",
    "&amp;",
    "&lt;",
    "&#xD;",
    "&#65;",
    "&#x110000;",
    "&#0;",
    "&nbsp;",
    "&",
    "<",
    ">",
    "\"",
    "'",
    "=",
    "/",
    ":",
    "INV-1",
    "12.50",
    " ",
    "\r\n",
    "\u{e9}",
    "\u{1F600}",
];

/// Every SOAP answer parser over `body`, with the bounds their outputs must keep.
fn read_all(body: &str) -> Result<(), TestCaseError> {
    if let Ok(tree) = Tree::parse(body) {
        let (mut count, mut bytes) = (0usize, 0usize);
        for (name, text) in tree.elements() {
            count += 1;
            bytes += name.len() + text.len();
        }
        // The smallest element is `<a/>`; names and texts are slices of the input, unescaped.
        prop_assert!(count <= body.len() / 4, "{count} elements from {} bytes", body.len());
        prop_assert!(bytes <= body.len(), "{bytes} bytes of names and text from {}", body.len());
    }
    let soap = Soap { url: "http://gp/soap".into(), company: "-1".into() };
    let _ = soap.parse_customer(body);
    for kind in [DocKind::Invoice, DocKind::CreditMemo, DocKind::CashReceipt] {
        let _ = soap.parse_document(kind, body);
    }
    if let Ok(list) = soap.parse_document_list(body) {
        prop_assert!(list.len() <= body.len() / 4);
    }
    let _ = soap.current_amount(body, "USD");
    let messages: usize = soap.validation_messages(body).iter().map(String::len).sum();
    prop_assert!(messages <= body.len());
    let call = Call {
        label: "GetCustomerByKey".into(),
        verb: Verb::Post,
        url: soap.url.clone(),
        headers: vec![],
        body: None,
        lookup: true,
    };
    for status in [400, 404, 500] {
        let _ = soap.refusal(&call, status, body);
    }
    Ok(())
}

fn golden() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden/soap");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    assert!(out.len() >= 10, "golden SOAP envelopes in {}", dir.display());
    out.extend(answers().into_iter().map(|(name, body)| (name.to_string(), body)));
    out
}

fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

/// GP's answers as the emulator writes them: a customer, a document list, a fault, a logged
/// validation result.
fn answers() -> Vec<(&'static str, String)> {
    let ns = r#"xmlns="http://schemas.microsoft.com/dynamics/gp/2006/01""#;
    vec![
        (
            "customer answer",
            envelope(&format!(
                "<GetCustomerByKeyResponse {ns}><GetCustomerByKeyResult><Key><Id>ACME</Id></Key><Name>Acme &amp; Sons</Name><CurrencyKey><ISOCode>USD</ISOCode></CurrencyKey></GetCustomerByKeyResult></GetCustomerByKeyResponse>"
            )),
        ),
        (
            "list answer",
            envelope(&format!(
                "<GetReceivablesDocumentListResponse {ns}><GetReceivablesDocumentListResult><ReceivablesDocumentSummary><Key><Id>INV-1</Id></Key><CustomerKey><Id>ACME</Id></CustomerKey><Type>Invoice</Type></ReceivablesDocumentSummary><ReceivablesDocumentSummary><Key><Id>PAY-1</Id></Key><CustomerKey><Id>ACME</Id></CustomerKey><Type>Payment</Type></ReceivablesDocumentSummary></GetReceivablesDocumentListResult></GetReceivablesDocumentListResponse>"
            )),
        ),
        (
            "fault answer",
            envelope(
                "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>The transaction was not completed successfully.</faultstring><detail><Message>0f8fad5b-d9cb-469f-a165-70867728950e</Message></detail></soap:Fault>",
            ),
        ),
        (
            "validation answer",
            envelope(&format!(
                "<GetLoggedValidationResultByKeyResponse {ns}><GetLoggedValidationResultByKeyResult><Errors><ValidationError><Message>The fiscal period that contains the document date is closed.</Message></ValidationError></Errors></GetLoggedValidationResultByKeyResult></GetLoggedValidationResultByKeyResponse>"
            )),
        ),
    ]
}

#[test]
fn the_xml_reader_survives_random_bytes() {
    check(
        "xml: random bytes",
        2000,
        || prop::collection::vec(any::<u8>(), 0..512),
        |bytes| read_all(&String::from_utf8_lossy(&bytes)),
    );
}

#[test]
fn the_xml_reader_survives_markup_soup() {
    check("xml: markup soup", 2000, || soup(TOKENS, 64), |text| read_all(&text));
}

#[test]
fn the_xml_reader_survives_mutated_real_envelopes() {
    let corpus = golden();
    // Unmutated, each is well-formed and the document envelopes read back as documents.
    for (name, body) in &corpus {
        assert!(Tree::parse(body).is_ok(), "{name} does not parse");
        let kind =
            [("Invoice", DocKind::Invoice), ("CreditMemo", DocKind::CreditMemo), ("CashReceipt", DocKind::CashReceipt)]
                .into_iter()
                .find(|(k, _)| {
                    name.starts_with(&format!("CreateReceivables{k}")) || name.starts_with(&format!("Create{k}"))
                });
        if let Some((_, kind)) = kind {
            let doc = soap::parse_document(kind, body).unwrap().unwrap_or_else(|| panic!("{name}: no document"));
            assert!(!doc.number.is_empty() && doc.total > 0, "{name}: {doc:?}");
        }
    }
    let n = corpus.len();
    check(
        "xml: mutated envelopes",
        1500,
        move || (0..n, edits(8)),
        move |(i, edits)| {
            let bytes = apply(corpus[i].1.clone().into_bytes(), &edits, TOKENS);
            read_all(&String::from_utf8_lossy(&bytes))
        },
    );
}

#[test]
fn cdata_comments_and_attributes_holding_markup_are_read_as_xml() {
    let body = envelope(
        r#"<GetCustomerByKeyResponse xmlns="http://schemas.microsoft.com/dynamics/gp/2006/01" note="a > b"><GetCustomerByKeyResult><!-- <Name>not this</Name> --><Key><Id>ACME</Id></Key><Name q="<>"><![CDATA[Acme <&> ]]>Sons</Name><CurrencyKey><ISOCode>EUR</ISOCode></CurrencyKey></GetCustomerByKeyResult></GetCustomerByKeyResponse>"#,
    );
    let c = soap::customer::parse(&body).unwrap().expect("a customer");
    assert_eq!((c.id.as_str(), c.name.as_str(), c.currency.as_str()), ("ACME", "Acme <&> Sons", "EUR"));

    let doc = envelope(
        r#"<GetReceivablesInvoiceByKeyResponse><GetReceivablesInvoiceByKeyResult a=">"><Key><Id>INV-1</Id></Key><!-- <Key><Id>WRONG</Id></Key> --><Date>2026-01-02T00:00:00</Date><CustomerKey><Id><![CDATA[A>B]]></Id></CustomerKey><CurrencyKey><ISOCode>USD</ISOCode></CurrencyKey><DocumentAmount><Value>10.00</Value></DocumentAmount><SalesAmount><Value>10.00</Value></SalesAmount></GetReceivablesInvoiceByKeyResult></GetReceivablesInvoiceByKeyResponse>"#,
    );
    let d = soap::parse_document(DocKind::Invoice, &doc).unwrap().expect("a document");
    assert_eq!(
        (d.number.as_str(), d.customer.as_str(), d.date.as_str(), d.total),
        ("INV-1", "A>B", "2026-01-02", 1000)
    );
    // Cut short: an error to retry, not a document with its amounts missing.
    assert!(soap::parse_document(DocKind::Invoice, &doc[..doc.len() / 2]).is_err());
}

#[test]
fn hostile_values_reach_the_body_escaped() {
    let receipt = Doc {
        total: 1234,
        receipt_type: "Check & <Cash>".into(),
        description: Some("\"quoted\" & <tagged>".into()),
        ..Doc::new(DocKind::CashReceipt, "PAY&1", "A<B", "B\"1", "2026-01-02\"<&", "USD")
    };
    let (_, body) = soap::create_document("-1", &receipt);
    assert!(body.contains("<Type>Check &amp; &lt;Cash&gt;</Type>"), "{body}");
    assert!(body.contains("<Date>2026-01-02&quot;&lt;&amp;T00:00:00</Date>"), "{body}");
    let x = Tree::parse(&body).expect("well-formed");
    assert_eq!(x.text(&["cashReceipt", "Type"]).as_deref(), Some("Check & <Cash>"));
    assert_eq!(x.text(&["cashReceipt", "Date"]).as_deref(), Some("2026-01-02\"<&T00:00:00"));
    let back = soap::parse_document(DocKind::CashReceipt, &body).unwrap().unwrap();
    assert_eq!((back.number, back.customer, back.batch), ("PAY&1".into(), "A<B".into(), "B\"1".into()));

    let party = Party {
        id: "A&B".into(),
        name: "Tom & \"Jerry\" <Ltd>".into(),
        short_name: Some("T&J".into()),
        currency: "USD".into(),
        email: Some("a<b@c.d".into()),
        ..Party::default()
    };
    let (_, body) = soap::customer::create("-1", &party);
    assert!(body.contains("<Name>Tom &amp; &quot;Jerry&quot; &lt;Ltd&gt;</Name>"), "{body}");
    let x = Tree::parse(&body).expect("well-formed");
    assert_eq!(x.text(&["customer", "Name"]).as_deref(), Some("Tom & \"Jerry\" <Ltd>"));
    assert_eq!(x.text(&["EmailToAddress"]).as_deref(), Some("a<b@c.d"));
}

/// Any text, and text dense in what XML treats specially.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[&<>\"'\\]\\[!\\-;#xD \r\n\tA-Za-z0-9]{0,24}"]
}

#[test]
fn every_value_round_trips_through_a_soap_body() {
    let fields = || (prop::collection::vec(value(), 10), any::<bool>(), any::<i64>());
    check("xml: request values round-trip", 400, fields, |(v, receipt, amount)| {
        let kind = if receipt { DocKind::CashReceipt } else { DocKind::Invoice };
        let d = Doc {
            total: amount,
            description: Some(v[5].clone()),
            po: Some(v[6].clone()),
            checkbook: Some(v[7].clone()),
            receipt_type: v[8].clone(),
            check_number: Some(v[9].clone()),
            ..Doc::new(kind, &v[0], &v[1], &v[2], &v[3], &v[4])
        };
        let (_, body) = soap::create_document(&v[9], &d);
        let x = Tree::parse(&body).map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
        let member = if receipt { "cashReceipt" } else { "receivablesInvoice" };
        let read = |path: &[&str]| x.text(&[&[member][..], path].concat());
        prop_assert_eq!(read(&["Key", "Id"]), Some(v[0].trim().to_string()));
        prop_assert_eq!(read(&["CustomerKey", "Id"]), Some(v[1].trim().to_string()));
        prop_assert_eq!(read(&["BatchKey", "Id"]), Some(v[2].trim().to_string()));
        prop_assert_eq!(read(&["Date"]), Some(format!("{}T00:00:00", v[3]).trim().to_string()));
        prop_assert_eq!(read(&["CurrencyKey", "ISOCode"]), Some(v[4].trim().to_string()));
        prop_assert_eq!(read(&["Description"]), Some(v[5].trim().to_string()));
        // The GL posting date is the document date's (none moved); documents carry no applies.
        prop_assert_eq!(read(&["GeneralLedgerPostingDate"]), Some(format!("{}T00:00:00", v[3]).trim().to_string()));
        prop_assert_eq!(x.text(&["APTODCNM"]), None);
        if receipt {
            prop_assert_eq!(read(&["Type"]), Some(v[8].trim().to_string()));
            prop_assert_eq!(read(&["CheckCardNumber"]), Some(v[9].trim().to_string()));
        } else {
            prop_assert_eq!(read(&["CustomerPONumber"]), Some(v[6].trim().to_string()));
        }
        prop_assert_eq!(x.text(&["OrganizationKey", "Id"]), Some(v[9].trim().to_string()));
        let party = Party {
            id: v[0].clone(),
            name: v[1].clone(),
            short_name: Some(v[2].clone()),
            currency: v[4].clone(),
            email: Some(v[5].clone()),
            ..Party::default()
        };
        let (_, body) = soap::customer::create("-1", &party);
        let x = Tree::parse(&body).map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
        prop_assert_eq!(x.text(&["customer", "Name"]), Some(v[1].trim().to_string()));
        prop_assert_eq!(x.text(&["EmailToAddress"]), Some(v[5].trim().to_string()));
        prop_assert_eq!(Tree::parse(&el("v", &v[3])).ok().and_then(|x| x.text(&["v"])), Some(v[3].trim().to_string()));
        prop_assert!(!escape(&v[3]).contains(['<', '>', '"', '\'', '\r']));
        Ok(())
    });
}
