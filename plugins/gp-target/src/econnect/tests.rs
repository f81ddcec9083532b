//! The eConnect transport natively: documents against eConnect.xsd's element order, rows,
//! errors, and the flows over a fake `econnect`.

use std::cell::RefCell;

use super::*;
use crate::books::Rules;
use crate::flows::{self, Outcome};
use crate::model::{Address, Dist, DistKind, TaxLine};
use crate::numbers::tests::Mem;

const XSD: &str = include_str!("../../../../sandbox/gp/wsdl/eConnect.xsd");

/// The element names of an eConnect.xsd complexType, in order.
fn xsd_members(t: &str) -> Vec<String> {
    // A node of an `_Items` list is an anonymous type inside the list's.
    let (start, skip) = match XSD.find(&format!("<xs:complexType name=\"{t}\">")) {
        Some(i) => (i, 2),
        None => (
            XSD.find(&format!("<xs:complexType name=\"{t}_Items\">")).unwrap_or_else(|| panic!("{t} not in the XSD")),
            3,
        ),
    };
    let body = &XSD[start..];
    let body = &body[..body.find("</xs:complexType>").unwrap_or(body.len())];
    body.split(" name=\"").skip(skip).filter_map(|s| s.split('"').next()).map(str::to_string).collect()
}

/// The child element names of the first `<node>` in `xml`.
fn children(xml: &str, node: &str) -> Vec<String> {
    let el = crate::dom::find(xml, node).ok().flatten().unwrap_or_else(|| panic!("no {node} in {xml}"));
    el.children.iter().map(|c| c.name.clone()).collect()
}

fn in_xsd_order(xml: &str, node: &str) {
    let order = xsd_members(node);
    let got = children(xml, node);
    let ranks: Vec<usize> = got
        .iter()
        .map(|n| order.iter().position(|o| o == n).unwrap_or_else(|| panic!("{node} has no element {n}")))
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{node}: {got:?} not in eConnect.xsd order");
}

fn invoice() -> Doc {
    Doc {
        sales: 10_000,
        discount: 500,
        freight: 250,
        misc: 100,
        tax: 790,
        total: 10_640,
        currency_id: "Z-US$".into(),
        description: Some("Plan & seats <annual> for the whole company".into()),
        po: Some("PO-7".into()),
        tax_schedule: Some("USASTCITY-6*".into()),
        taxes: vec![TaxLine { id: "USASTE-PS6N-0".into(), amount: 790, taxable: 9_500, account: None }],
        distributions: vec![
            Dist {
                kind: DistKind::Receivables,
                account: "000-1200-00".into(),
                debit: 10_640,
                credit: 0,
                reference: None,
            },
            Dist {
                kind: DistKind::Sales,
                account: "000-4100-00".into(),
                debit: 0,
                credit: 9_850,
                reference: Some("Plan".into()),
            },
            Dist { kind: DistKind::Tax, account: "000-2310-00".into(), debit: 0, credit: 790, reference: None },
        ],
        exchange: Some(Exchange {
            rate: "1.0850000".into(),
            date: "2025-11-24".into(),
            rate_type: Some("SELL".into()),
        }),
        ..Doc::new(DocKind::Invoice, "CBINV-1001", "ACME0001", "CB251125-SLS", "2025-11-25", "USD")
    }
}

fn receipt() -> Doc {
    Doc {
        total: 6_000,
        currency_id: "Z-US$".into(),
        checkbook: Some("UPTOWN TRUST".into()),
        receipt_type: "Payment Card".into(),
        check_number: Some("txn_1".into()),
        card_name: Some("Visa".into()),
        ..Doc::new(DocKind::CashReceipt, "CBPAY-1", "ACME0001", "CB251125-CASH", "2025-11-25", "USD")
    }
}

#[test]
fn amounts_have_five_decimals_and_rates_are_checked() {
    assert_eq!(doc::amount(12_345, "USD"), "123.45000");
    assert_eq!(doc::amount(-5, "USD"), "-0.05000");
    assert_eq!(doc::amount(1_500, "JPY"), "1500.00000");
    assert_eq!(doc::amount(1_234, "KWD"), "1.23400");
    assert_eq!(doc::rate("1.0850000"), Ok("1.0850000".into()));
    assert!(doc::rate("1.08500001").is_err() && doc::rate("1e3").is_err() && doc::rate("<x>").is_err());
}

#[test]
fn an_invoice_is_one_rm_transaction_in_xsd_order() -> Result<(), String> {
    let xml = doc::document(&invoice(), None)?;
    assert!(xml.starts_with("<eConnect><RMTransactionType><taRMTransactionTaxInsert_Items>"), "{xml}");
    assert!(xml.find("<taRMDistribution_Items>") < xml.find("<taRMTransaction>"), "header last: {xml}");
    for node in ["taRMTransaction", "taRMDistribution", "taRMTransactionTaxInsert"] {
        in_xsd_order(&xml, node);
    }
    for part in [
        "<RMDTYPAL>1</RMDTYPAL><DOCNUMBR>CBINV-1001</DOCNUMBR><DOCDATE>2025-11-25</DOCDATE>",
        "<DOCAMNT>106.40000</DOCAMNT><SLSAMNT>100.00000</SLSAMNT><DOCDESCR>Plan &amp; seats &lt;annual&gt; for the </DOCDESCR>",
        "<TRDISAMT>5.00000</TRDISAMT><FRTAMNT>2.50000</FRTAMNT><MISCAMNT>1.00000</MISCAMNT><TAXAMNT>7.90000</TAXAMNT>",
        "<CURNCYID>Z-US$</CURNCYID><XCHGRATE>1.0850000</XCHGRATE><RATETPID>SELL</RATETPID><EXCHDATE>2025-11-24</EXCHDATE><CREATEDIST>0</CREATEDIST>",
        "<SEQNUMBR>32768</SEQNUMBR><DISTTYPE>9</DISTTYPE><DistRef>Plan</DistRef><ACTNUMST>000-4100-00</ACTNUMST><DEBITAMT>0.00000</DEBITAMT><CRDTAMNT>98.50000</CRDTAMNT>",
        "<TAXDTLID>USASTE-PS6N-0</TAXDTLID><TAXAMNT>7.90000</TAXAMNT><STAXAMNT>7.90000</STAXAMNT><TAXDTSLS>95.00000</TAXDTSLS>",
    ] {
        assert!(xml.contains(part), "{part} not in {xml}");
    }
    let memo = Doc { kind: DocKind::CreditMemo, distributions: vec![], exchange: None, ..invoice() };
    let xml = doc::document(&memo, None)?;
    assert!(xml.contains("<RMDTYPAL>7</RMDTYPAL>") && xml.contains("<CREATEDIST>1</CREATEDIST>"), "{xml}");
    assert!(!xml.contains("FRTAMNT") && !xml.contains("taRMDistribution") && !xml.contains("XCHGRATE"), "{xml}");
    Ok(())
}

#[test]
fn a_card_receipt_is_written_unapplied_with_its_gl_posting_date() -> Result<(), String> {
    let xml = doc::document(&receipt(), None)?;
    in_xsd_order(&xml, "taRMCashReceiptInsert");
    assert!(xml.contains("<GLPOSTDT>2025-11-25</GLPOSTDT><BACHNUMB>CB251125-CASH</BACHNUMB><CSHRCTYP>2</CSHRCTYP><CHEKBKID>UPTOWN TRUST</CHEKBKID><CHEKNMBR>txn_1</CHEKNMBR><CRCARDID>Visa</CRCARDID>"), "{xml}");
    assert!(xml.contains("<CREATEDIST>1</CREATEDIST>"), "{xml}");
    assert!(!xml.contains("RMApplyType") && xml.matches("<eConnect>").count() == 1, "{xml}");
    let check = Doc { receipt_type: "Check".into(), ..receipt() };
    assert!(
        doc::document(&check, None)?.contains("<CSHRCTYP>0</CSHRCTYP>")
            && !doc::document(&check, None)?.contains("CRCARDID")
    );
    let moved = Doc { gl_date: Some("2026-01-01".into()), ..receipt() };
    let xml = doc::document(&moved, None)?;
    assert!(xml.contains("<DOCDATE>2025-11-25</DOCDATE>") && xml.contains("<GLPOSTDT>2026-01-01</GLPOSTDT>"), "{xml}");
    assert!(!xml.contains("SMTransactionBatchType"), "a receipt carries GLPOSTDT itself: {xml}");
    Ok(())
}

#[test]
fn a_debit_memo_is_rmdtypal_3_and_a_moved_invoice_brings_its_batch_header() -> Result<(), String> {
    let dm = Doc { kind: DocKind::DebitMemo, distributions: vec![], ..invoice() };
    let xml = doc::document(&dm, None)?;
    assert!(xml.contains("<RMDTYPAL>3</RMDTYPAL>") && xml.contains("<FRTAMNT>2.50000</FRTAMNT>"), "{xml}");
    assert!(!xml.contains("SMTransactionBatchType"), "{xml}");
    let moved = Doc { gl_date: Some("2026-01-01".into()), batch: "CB251125-SLSP01".into(), ..invoice() };
    let existing = crate::books::Batch { documents: 4, total: "812.50000".into() };
    let xml = doc::document(&moved, Some(&existing))?;
    in_xsd_order(&xml, "taCreateUpdateBatchHeaderRcd");
    assert!(
        xml.starts_with("<eConnect><SMTransactionBatchType><taCreateUpdateBatchHeaderRcd><BACHNUMB>CB251125-SLSP01</BACHNUMB><SERIES>3</SERIES><GLPOSTDT>2026-01-01</GLPOSTDT><BCHSOURC>RM_Sales</BCHSOURC><DOCAMT>812.50000</DOCAMT><ORIGIN>1</ORIGIN><NUMOFTRX>4</NUMOFTRX></taCreateUpdateBatchHeaderRcd></SMTransactionBatchType><RMTransactionType>"),
        "{xml}"
    );
    assert!(xml.contains("<DOCDATE>2025-11-25</DOCDATE><BACHNUMB>CB251125-SLSP01</BACHNUMB>"), "{xml}");
    Ok(())
}

fn acme() -> Party {
    Party {
        id: "ACME0001".into(),
        source_id: "cb_1".into(),
        name: "Acme & Sons".into(),
        currency: "USD".into(),
        currency_id: "Z-US$".into(),
        email: Some("ap@acme.example".into()),
        phone: Some("555".into()),
        class_id: Some("USA-ILMO-T1".into()),
        payment_terms: Some("Net 30".into()),
        address: Some(Address { line1: Some("1 Road".into()), city: Some("Chicago".into()), ..Address::default() }),
        ..Party::default()
    }
}

#[test]
fn a_customer_create_sends_everything_and_an_update_only_what_changed() {
    let xml = doc::customer(&acme(), false, &[]);
    in_xsd_order(&xml, "taUpdateCreateCustomerRcd");
    in_xsd_order(&xml, "taCreateInternetAddresses");
    assert!(xml.contains("<CUSTNMBR>ACME0001</CUSTNMBR><CUSTNAME>Acme &amp; Sons</CUSTNAME><CUSTCLAS>USA-ILMO-T1</CUSTCLAS><ADRSCODE>PRIMARY</ADRSCODE><ADDRESS1>1 Road</ADDRESS1>"), "{xml}");
    assert!(
        xml.contains("<UpdateIfExists>0</UpdateIfExists>") && xml.contains("<INET1>ap@acme.example</INET1>"),
        "{xml}"
    );
    let xml = doc::customer(&acme(), true, &[Owned::Name]);
    assert_eq!(children(&xml, "taUpdateCreateCustomerRcd"), vec!["CUSTNMBR", "CUSTNAME", "UpdateIfExists"], "{xml}");
    assert!(xml.contains("<UpdateIfExists>1</UpdateIfExists>") && !xml.contains("INET1"), "{xml}");
    let xml = doc::customer(&acme(), true, &[Owned::Email]);
    assert_eq!(children(&xml, "taUpdateCreateCustomerRcd"), vec!["CUSTNMBR", "UpdateIfExists"]);
    assert!(xml.contains("<INET1>ap@acme.example</INET1>"), "{xml}");
}

fn rows(columns: &[&str], values: &[&[&str]]) -> Rows {
    Rows {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows: values.iter().map(|r| r.iter().map(|v| (!v.is_empty()).then(|| v.to_string())).collect()).collect(),
    }
}

#[test]
fn rows_read_into_customers_and_documents() -> Result<(), Failure> {
    let c = rows(
        &[
            "CUSTNMBR", "CUSTNAME", "SHRTNAME", "CUSTCLAS", "CURNCYID", "PYMTRMID", "ADRSCODE", "ADDRESS1", "CITY",
            "PHONE1",
        ],
        &[&["ACME0001", "Acme & Sons", "", "USA-ILMO-T1", "Z-US$", "Net 30", "PRIMARY", "1 Road", "Chicago", "555"]],
    );
    let theirs = read::customer(&c, Some("ap@acme.example".into())).ok_or(Failure::Transient("none".into()))?;
    assert_eq!(crate::model::customer_changes(&acme(), &theirs), vec![]);
    let moved = Party { name: "Acme Ltd".into(), currency_id: "Z-EURO".into(), ..acme() };
    assert_eq!(crate::model::customer_changes(&moved, &theirs), vec![Owned::Name, Owned::Currency]);
    let work = rows(
        &["RMDTYPAL", "DOCNUMBR", "CUSTNMBR", "DOCDATE", "BACHNUMB", "CURNCYID", "DOCAMNT", "SLSAMNT", "TAXAMNT"],
        &[&["1", "CBINV-1001", "ACME0001", "2025-11-25", "B", "Z-US$", "106.40000", "100.00000", "7.90000"]],
    );
    let d = read::document(DocKind::Invoice, &work, "USD")?.ok_or(Failure::Transient("none".into()))?;
    assert_eq!((d.total, d.sales, d.tax, d.totals_only), (10_640, 10_000, 790, false));
    let open = rows(
        &["RMDTYPAL", "DOCNUMBR", "CUSTNMBR", "DOCDATE", "CURNCYID", "ORTRXAMT", "CURTRXAM"],
        &[&["1", "CBINV-1001", "ACME0001", "2025-11-25 00:00:00", "Z-US$", "106.40000", "50.00000"]],
    );
    let d = read::document(DocKind::Invoice, &open, "USD")?.ok_or(Failure::Transient("none".into()))?;
    assert_eq!((d.total, d.date.as_str(), d.totals_only), (10_640, "2025-11-25", true));
    assert!(read::minor(&open, 0, "ORTRXAMT", "JPY").is_err(), "106.4 yen is not a yen amount");
    Ok(())
}

#[test]
fn econnect_errors_map_to_the_flows_failures() {
    let refused = |n: i32, text: &str| EcError::Refused {
        node: "taRMTransaction".into(),
        number: n,
        text: text.into(),
        details: vec![(n, text.into())],
    };
    let dup = read::write_failure(refused(
        190,
        "Document number (DOCNUMBR) already exists in either RM00401, RM10301, RM20101 or RM30101",
    ));
    assert!(
        matches!(&dup, Failure::Duplicate(m) if m.starts_with("eConnect error 190: Document number") && m.ends_with("(taRMTransaction)")),
        "{dup:?}"
    );
    assert!(matches!(read::write_failure(refused(9001, PERIOD_CLOSED)), Failure::PeriodClosed(_)));
    assert!(matches!(
        read::write_failure(refused(
            221,
            "The Customer Number (CUSTNMBR) does not exist in the Customer Master Table - RM00101"
        )),
        Failure::MissingDependency(_)
    ));
    assert!(
        matches!(read::write_failure(refused(621, "Document Amount is incorrect")), Failure::Rejected(m) if m == "eConnect error 621: Document Amount is incorrect (taRMTransaction)")
    );
    assert!(matches!(read::write_failure(EcError::Transient("lost".into())), Failure::Ambiguous(_)));
    assert!(matches!(read::write_failure(EcError::Invalid("x".into())), Failure::Permanent(m) if m.contains("bug")));
    assert!(matches!(read::write_failure(EcError::Denied("x".into())), Failure::Permanent(_)));
    assert!(matches!(read::write_failure(EcError::Server("18456".into())), Failure::Permanent(_)));
    assert!(matches!(read::read_failure(EcError::Transient("x".into())), Failure::Transient(_)));
}

/// A fake `econnect`: canned rows per query, execute answers in turn, everything recorded.
#[derive(Default)]
struct Fake {
    /// Answers for one query and exact parameters, before `queued` and `answers`.
    exact: RefCell<Vec<(Query, Vec<String>, Rows)>>,
    /// Answers given once each, in turn, before `answers`.
    queued: RefCell<Vec<(Query, Rows)>>,
    answers: RefCell<Vec<(Query, Rows)>>,
    executes: RefCell<Vec<Result<(), EcError>>>,
    sent: RefCell<Vec<String>>,
    asked: RefCell<Vec<(Query, Vec<String>)>>,
    notes: RefCell<Vec<String>>,
}

impl Fake {
    fn answer(self, q: Query, r: Rows) -> Self {
        self.answers.borrow_mut().push((q, r));
        self
    }
    fn answer_for(self, q: Query, params: &[&str], r: Rows) -> Self {
        self.exact.borrow_mut().push((q, params.iter().map(|p| p.to_string()).collect(), r));
        self
    }
    fn answer_once(self, q: Query, r: Rows) -> Self {
        self.queued.borrow_mut().push((q, r));
        self
    }
    fn execute_fails(self, e: EcError) -> Self {
        self.executes.borrow_mut().push(Err(e));
        self
    }
}

impl Sql for Fake {
    fn execute(&self, document: &str) -> Result<(), EcError> {
        self.sent.borrow_mut().push(document.into());
        let mut e = self.executes.borrow_mut();
        if e.is_empty() { Ok(()) } else { e.remove(0) }
    }
    fn query(&self, name: Query, params: &[String]) -> Result<Rows, EcError> {
        self.asked.borrow_mut().push((name, params.to_vec()));
        if let Some((_, _, r)) = self.exact.borrow().iter().find(|(q, p, _)| *q == name && p.as_slice() == params) {
            return Ok(r.clone());
        }
        let mut queued = self.queued.borrow_mut();
        if let Some(i) = queued.iter().position(|(q, _)| *q == name) {
            return Ok(queued.remove(i).1);
        }
        Ok(self.answers.borrow().iter().find(|(q, _)| *q == name).map(|(_, r)| r.clone()).unwrap_or_default())
    }
    fn note(&self, detail: &str) {
        self.notes.borrow_mut().push(detail.into());
    }
}

/// `flows::write` over eConnect (its own books), default rules, empty state.
fn write(fake: &Fake, d: &Doc) -> Result<Outcome, Failure> {
    let ec = Econnect { sql: fake };
    flows::write(&ec, &Mem::default(), Some(&ec), &Rules::default(), d)
}

fn open_period() -> Rows {
    rows(&["PERIODID", "YEAR1", "PSERIES_2"], &[&["11", "2025", "0"]])
}

#[test]
fn the_period_is_checked_before_anything_is_written() {
    let closed =
        Fake::default().answer(Query::FiscalPeriod, rows(&["PERIODID", "YEAR1", "PSERIES_2"], &[&["11", "2025", "1"]]));
    let r = write(&closed, &invoice());
    assert_eq!(r, Err(Failure::PeriodClosed(PERIOD_CLOSED.into())));
    assert!(closed.sent.borrow().is_empty());
    let missing = Fake::default();
    assert!(matches!(write(&missing, &invoice()), Err(Failure::PeriodClosed(m)) if m.contains("not been set up")));
    assert_eq!(Econnect { sql: &missing }.period_open("2025-11-25"), Ok(Some(false)));
}

#[test]
fn a_foreign_currency_without_a_rate_takes_gp_s_or_is_refused() {
    let d = Doc { exchange: None, ..invoice() };
    let funl = rows(&["FUNLCURR", "DEFSLSTP"], &[&["Z-EURO", "SELL"]]);
    let none =
        Fake::default().answer(Query::FiscalPeriod, open_period()).answer(Query::FunctionalCurrency, funl.clone());
    let r = write(&none, &d);
    assert!(
        matches!(&r, Err(Failure::Rejected(m)) if m.contains("Z-US$") && m.contains("SELL") && m.contains("2025-11-25")),
        "{r:?}"
    );
    assert!(none.sent.borrow().is_empty());
    let rated =
        Fake::default().answer(Query::FiscalPeriod, open_period()).answer(Query::FunctionalCurrency, funl).answer(
            Query::ExchangeRate,
            rows(&["XCHGRATE", "EXCHDATE", "EXPNDATE", "EXGTBLID"], &[&["0.9200000", "2025-11-20", "", "T"]]),
        );
    assert_eq!(write(&rated, &d), Ok(Outcome::Created));
    assert!(
        rated.sent.borrow()[0]
            .contains("<XCHGRATE>0.9200000</XCHGRATE><RATETPID>SELL</RATETPID><EXCHDATE>2025-11-20</EXCHDATE>")
    );
    assert!(
        rated.asked.borrow().contains(&(Query::ExchangeRate, vec!["Z-US$".into(), "SELL".into(), "2025-11-25".into()]))
    );
}

#[test]
fn after_an_ambiguous_or_duplicate_failure_the_document_is_looked_up() {
    let work = rows(
        &["RMDTYPAL", "DOCNUMBR", "CUSTNMBR", "DOCDATE", "BACHNUMB", "CURNCYID", "DOCAMNT", "SLSAMNT", "TAXAMNT"],
        &[&["1", "CBINV-1001", "ACME0001", "2025-11-25", "B", "Z-US$", "106.40000", "100.00000", "7.90000"]],
    );
    let usd = rows(&["CURNCYID", "ISOCURRC", "DECPLCUR"], &[&["Z-US$", "USD", "3"]]);
    let same = Fake::default()
        .answer(Query::FiscalPeriod, open_period())
        .answer(Query::SalesWork, work)
        .answer(Query::Currency, usd.clone())
        .execute_fails(EcError::Transient("connection lost after COMMIT".into()));
    assert_eq!(write(&same, &invoice()), Ok(Outcome::AlreadyPresent));
    let other = rows(
        &["RMDTYPAL", "DOCNUMBR", "CUSTNMBR", "DOCDATE", "CURNCYID", "ORTRXAMT", "CURTRXAM"],
        &[&["1", "CBINV-1001", "OTHER", "2025-11-25", "Z-US$", "1.00000", "1.00000"]],
    );
    let conflict = Fake::default()
        .answer(Query::FiscalPeriod, open_period())
        .answer(Query::DocumentOpen, other)
        .answer(Query::Currency, usd)
        .execute_fails(EcError::Refused {
            node: "taRMTransaction".into(),
            number: 190,
            text: "Document number (DOCNUMBR) already exists".into(),
            details: vec![],
        });
    let r = write(&conflict, &invoice());
    assert!(matches!(&r, Err(Failure::Conflict(m)) if m.contains("customer") && m.contains("amount")), "{r:?}");
    let nothing =
        Fake::default().answer(Query::FiscalPeriod, open_period()).execute_fails(EcError::Transient("timeout".into()));
    assert!(matches!(write(&nothing, &invoice()), Err(Failure::Transient(_))));
}

#[test]
fn customers_get_numbers_and_documents_resolve_them() {
    let store = Mem::default();
    let fake = Fake::default();
    let new = Party { id: String::new(), ..acme() };
    assert_eq!(flows::ensure_customer(&Econnect { sql: &fake }, &store, &new), Ok(Outcome::Created));
    assert!(fake.sent.borrow()[0].contains("<CUSTNMBR>ACMESONS0001</CUSTNMBR>"), "{:?}", fake.sent.borrow());
    let d = Doc { customer: String::new(), customer_source: "cb_1".into(), ..receipt() };
    assert_eq!(flows::resolved(&store, &d).map(|d| d.customer), Ok("ACMESONS0001".into()));
    let orphan = Doc { customer: String::new(), customer_source: "cb_2".into(), ..receipt() };
    assert!(
        matches!(flows::write(&Econnect { sql: &fake }, &store, Some(&Econnect { sql: &fake }), &Rules::default(), &orphan), Err(Failure::MissingDependency(m)) if m == "customer cb_2 has no GP number yet")
    );
}

#[test]
fn the_company_is_checked_against_the_database() {
    let fake = Fake::default()
        .answer(Query::Company, rows(&["CMPANYID", "INTERID", "CMPNYNAM"], &[&["1", "TWO", "Fabrikam, Inc."]]));
    assert_eq!(check_company(&fake, "Fabrikam, Inc.", Some("two")), Ok(()));
    assert!(
        matches!(check_company(&fake, "Fabrikam, Inc.", Some("FAB")), Err(Failure::Permanent(m)) if m.contains("TWO") && m.contains("gp.database"))
    );
    assert!(
        matches!(check_company(&Fake::default(), "Acme", None), Err(Failure::Permanent(m)) if m.contains("gp.company"))
    );
}

#[path = "settle_tests.rs"]
mod settle_tests;
