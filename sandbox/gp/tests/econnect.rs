//! The eConnect backend called directly (no TDS): procedures write GP's tables, refusals
//! return eConnect's numbers and leave nothing, read queries answer, SOAP reads what eConnect
//! wrote and eConnect reads what SOAP wrote.

// Test helpers: a failed step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use gp_sandbox::DocType;
use gp_sandbox::econnect::{EconnectSession, query_texts};
use gp_sandbox::tds::backend::{Backend, Login, ProcOutcome, Session, SqlValue};
use support::*;

fn t(s: &str) -> SqlValue {
    SqlValue::Text(s.to_string())
}

fn n(s: &str) -> SqlValue {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let scale = frac.len() as u8;
    SqlValue::Decimal { units: format!("{whole}{frac}").parse().unwrap(), scale }
}

fn d(s: &str) -> SqlValue {
    SqlValue::Text(s.to_string())
}

fn p(list: &[(&str, SqlValue)]) -> Vec<(String, SqlValue)> {
    list.iter().map(|(k, v)| (format!("@I_v{k}"), v.clone())).collect()
}

async fn session(sb: &gp_sandbox::Sandbox) -> EconnectSession {
    sb.econnect_backend().session("TWO").await.unwrap()
}

async fn call(s: &mut EconnectSession, proc: &str, list: &[(&str, SqlValue)]) -> ProcOutcome {
    s.call(proc, &p(list)).await.unwrap()
}

fn customer(id: &str) -> Vec<(&'static str, SqlValue)> {
    vec![
        ("CUSTNMBR", t(id)),
        ("CUSTNAME", t("eConnect Customer")),
        ("CUSTCLAS", t("INTERNET")),
        ("PYMTRMID", t("Net 30")),
    ]
}

fn invoice(number: &str, cust: &str) -> Vec<(&'static str, SqlValue)> {
    let date = format!("{}-03-15", this_year());
    vec![
        ("RMDTYPAL", SqlValue::Int(1)),
        ("DOCNUMBR", t(number)),
        ("DOCDATE", d(&date)),
        ("BACHNUMB", t("EC-B1")),
        ("CUSTNMBR", t(cust)),
        ("DOCAMNT", n("106.00000")),
        ("SLSAMNT", n("100.00000")),
        ("TAXAMNT", n("6.00000")),
        ("TAXSCHID", t("USASTCITY-6*")),
        ("CREATEDIST", SqlValue::Int(0)),
    ]
}

fn dist(
    number: &str,
    cust: &str,
    kind: i64,
    account: &str,
    debit: &str,
    credit: &str,
) -> Vec<(&'static str, SqlValue)> {
    vec![
        ("RMDTYPAL", SqlValue::Int(1)),
        ("DOCNUMBR", t(number)),
        ("CUSTNMBR", t(cust)),
        ("DISTTYPE", SqlValue::Int(kind)),
        ("ACTNUMST", t(account)),
        ("DEBITAMT", n(debit)),
        ("CRDTAMNT", n(credit)),
    ]
}

fn tax(number: &str, cust: &str, amount: &str) -> Vec<(&'static str, SqlValue)> {
    vec![
        ("CUSTNMBR", t(cust)),
        ("DOCNUMBR", t(number)),
        ("RMDTYPAL", SqlValue::Int(1)),
        ("BACHNUMB", t("EC-B1")),
        ("TAXDTLID", t("USASTCITY-6*")),
        ("TAXAMNT", n(amount)),
        ("STAXAMNT", n(amount)),
        ("TAXDTSLS", n("100.00000")),
    ]
}

/// Customer, tax row, three distributions and the invoice in one transaction.
async fn full_invoice(s: &mut EconnectSession, number: &str, tax_amount: &str, receivables: &str) -> Vec<ProcOutcome> {
    s.begin().await.unwrap();
    let mut out = vec![call(s, "taUpdateCreateCustomerRcd", &customer("EC-CUST")).await];
    out.push(call(s, "taRMTransactionTaxInsert", &tax(number, "EC-CUST", tax_amount)).await);
    out.push(call(s, "taRMDistribution", &dist(number, "EC-CUST", 3, "000-1200-00", receivables, "0")).await);
    out.push(call(s, "taRMDistribution", &dist(number, "EC-CUST", 9, "000-4100-00", "0", "100.00")).await);
    out.push(call(s, "taRMDistribution", &dist(number, "EC-CUST", 13, "000-2310-00", "0", "6.00")).await);
    out.push(call(s, "taRMTransaction", &invoice(number, "EC-CUST")).await);
    out
}

#[tokio::test]
async fn customer_and_invoice_with_lines_commit_in_one_transaction() {
    let sb = start().await;
    let mut s = session(&sb).await;
    let out = full_invoice(&mut s, "EC-INV-1", "6.00", "106.00").await;
    assert!(out.iter().all(|o| o.error_state == 0), "{out:?}");
    s.commit().await.unwrap();
    let doc = sb.control().document(FABRIKAM, DocType::Invoice, "EC-INV-1").await.unwrap().unwrap();
    assert_eq!((doc.amounts.document, doc.batch_source.as_str()), (10600, "RM_Sales"));
    let q = "SELECT SEQNUMBR, DISTTYPE, ACTNUMST, DEBITAMT, CRDTAMNT, DistRef FROM RM10101 INNER JOIN GL00105 ON GL00105.ACTINDX = RM10101.DSTINDX WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2 ORDER BY SEQNUMBR";
    let rs = s.query(q, &[SqlValue::Int(1), t("EC-INV-1")]).await.unwrap();
    assert_eq!(rs.rows.len(), 3);
    assert_eq!(rs.rows[0][2], t("000-1200-00"));
    assert_eq!(rs.rows[0][3], SqlValue::Decimal { units: 10_600_000, scale: 5 });
    // SOAP reads the document eConnect wrote.
    let mut c = Client::login(&sb).await;
    let body = format!("<key><Id>EC-INV-1</Id></key>{}", context(FABRIKAM));
    let a = c.soap("GetReceivablesInvoiceByKey", &body).await;
    assert!(a.body.contains("EC-CUST") && a.body.contains("106.00"), "{a:?}");
}

#[tokio::test]
async fn refusals_roll_back_the_whole_document() {
    let sb = start().await;
    let cases = [
        ("5.00", "106.00", "712"),  // tax details ≠ TAXAMNT
        ("6.00", "100.00", "9031"), // debits ≠ credits (and receivables ≠ document)
    ];
    for (tax_amount, receivables, number) in cases {
        let mut s = session(&sb).await;
        let out = full_invoice(&mut s, "EC-INV-X", tax_amount, receivables).await;
        let last = out.last().unwrap();
        assert!(last.error_string.split(' ').any(|e| e == number), "{out:?}");
        assert!(!s.in_transaction(), "a refusal rolls the transaction back");
    }
    assert!(sb.control().customer(FABRIKAM, "EC-CUST").await.unwrap().is_none(), "the customer went with it");
    assert_eq!(invoices(&sb).await, 0);
    let mut s = session(&sb).await;
    let q = "SELECT TAXDTLID, TAXAMNT, STAXAMNT, TDTTXSLS FROM RM10601 WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2 ORDER BY TAXDTLID";
    assert!(s.query(q, &[SqlValue::Int(1), t("EC-INV-X")]).await.unwrap().rows.is_empty());
}

#[tokio::test]
async fn each_procedure_refuses_with_its_number() {
    let sb = start().await;
    let mut s = session(&sb).await;
    assert_eq!(call(&mut s, "taUpdateCreateCustomerRcd", &customer("EC-C2")).await.error_state, 0);
    let date = format!("{}-03-15", this_year());
    let mut bad_class = customer("EC-C3");
    bad_class[2].1 = t("NO SUCH CLASS");
    let mut bad_terms = customer("EC-C3");
    bad_terms[3].1 = t("Net 999");
    let unknown_account = dist("X1", "EC-C2", 3, "999-9999-99", "1.00", "0");
    let bad_type = dist("X1", "EC-C2", 19, "000-1200-00", "1.00", "0");
    let mut missing_rate = invoice("EC-CAD", "EC-C2");
    missing_rate.extend([("CURNCYID", t("Z-C$")), ("RATETPID", t("BUY")), ("CREATEDIST", SqlValue::Int(1))]);
    missing_rate.retain(|(k, _)| *k != "TAXSCHID");
    let mut bad_schedule = invoice("EC-SCH", "EC-C2");
    bad_schedule[8].1 = t("NOWHERE");
    bad_schedule.push(("CREATEDIST", SqlValue::Int(1)));
    bad_schedule.retain(|(k, v)| *k != "CREATEDIST" || *v == SqlValue::Int(1));
    let receipt = |card: Option<&str>| {
        let mut r = vec![
            ("CUSTNMBR", t("EC-C2")),
            ("DOCNUMBR", t("EC-PMT")),
            ("DOCDATE", d(&date)),
            ("ORTRXAMT", n("10.00")),
            ("GLPOSTDT", d(&date)),
            ("BACHNUMB", t("EC-CASH")),
            ("CSHRCTYP", SqlValue::Int(2)),
        ];
        if let Some(c) = card {
            r.push(("CRCARDID", t(c)));
        }
        r
    };
    type Case<'a> = (&'a str, Vec<(&'a str, SqlValue)>, u32);
    let cases: Vec<Case> = vec![
        ("taUpdateCreateCustomerRcd", bad_class, 9036),
        ("taUpdateCreateCustomerRcd", bad_terms, 9037),
        ("taRMDistribution", unknown_account, 716),
        ("taRMTransaction", invoice("EC-NODIST", "EC-C2"), 9034),
        ("taRMTransaction", invoice("EC-NOCUST", "NOBODY"), 221),
        ("taRMTransaction", missing_rate, 9039),
        ("taRMTransaction", bad_schedule, 7023),
        ("taRMCashReceiptInsert", receipt(Some("Diners")), 9038),
        ("taRMCashReceiptInsert", receipt(None), 9003),
        (
            "taCreateInternetAddresses",
            vec![("Master_Type", t("VEN")), ("Master_ID", t("EC-C2")), ("ADRSCODE", t("PRIMARY"))],
            9045,
        ),
    ];
    for (proc, params, number) in cases {
        let o = call(&mut s, proc, &params).await;
        assert_eq!(o.error_state, number as i32, "{proc}: {o:?}");
    }
    // A DISTTYPE the document type does not allow is refused when the header checks its lines.
    s.begin().await.unwrap();
    assert_eq!(call(&mut s, "taRMDistribution", &bad_type).await.error_state, 0);
    let o = call(&mut s, "taRMTransaction", &invoice("X1", "EC-C2")).await;
    assert!(o.error_string.split(' ').any(|e| e == "9032"), "{o:?}");
    assert_eq!(invoices(&sb).await, 0);
}

#[tokio::test]
async fn sql_level_errors_and_login() {
    let sb = start().await;
    let backend = sb.econnect_backend();
    let mut s = session(&sb).await;
    assert_eq!(s.call("taNoSuchProc", &[]).await.unwrap_err().number, 2812);
    let e = s.call("taRMApply", &p(&[("NOPE", t("x"))])).await.unwrap_err();
    assert_eq!((e.number, e.message.as_str()), (8145, "@I_vNOPE is not a parameter for procedure taRMApply."));
    let e = s.call("taRMApply", &p(&[("APTODCNM", t("x"))])).await.unwrap_err();
    assert_eq!(e.number, 201, "{e:?}");
    assert_eq!(s.query("SELECT * FROM RM00101", &[]).await.unwrap_err().number, 102);
    let login = sb.sql_login();
    let ok = Login {
        user: login.user.clone(),
        password: login.password.clone(),
        database: "TWO".into(),
        app_name: String::new(),
    };
    assert_eq!(backend.login(&ok).await.unwrap().database(), "TWO");
    let system = Login { database: "DYNAMICS".into(), ..ok.clone() };
    assert!(backend.login(&system).await.is_ok());
    let wrong = Login { password: "nope".into(), ..ok.clone() };
    assert_eq!(backend.login(&wrong).await.err().unwrap().number, 18456);
    let unknown = Login { database: "NOPE".into(), ..ok };
    let e = backend.login(&unknown).await.err().unwrap();
    assert_eq!(
        (e.number, e.message.as_str()),
        (4060, "Cannot open database \"NOPE\" requested by the login. The login failed.")
    );
}

#[tokio::test]
async fn receipt_apply_void_and_every_read_query() {
    let sb = start().await;
    let mut s = session(&sb).await;
    let date = format!("{}-03-15", this_year());
    assert_eq!(call(&mut s, "taUpdateCreateCustomerRcd", &customer("EC-CUST")).await.error_state, 0);
    let inet =
        [("Master_Type", t("CUS")), ("Master_ID", t("EC-CUST")), ("ADRSCODE", t("PRIMARY")), ("INET1", t("a@b.test"))];
    assert_eq!(call(&mut s, "taCreateInternetAddresses", &inet).await.error_state, 0);
    let mut inv = invoice("EC-INV-2", "EC-CUST");
    inv.retain(|(k, _)| *k != "CREATEDIST");
    assert_eq!(call(&mut s, "taRMTransaction", &inv).await.error_state, 0, "CREATEDIST default 1 builds distributions");
    // GP applies to posted documents: the clerk posts the invoice's batch.
    assert!(sb.control().post_batch(FABRIKAM, "EC-B1", "RM_Sales").await.unwrap().is_posted());
    let receipt = [
        ("CUSTNMBR", t("EC-CUST")),
        ("DOCNUMBR", t("EC-PMT-1")),
        ("DOCDATE", d(&date)),
        ("ORTRXAMT", n("50.00")),
        ("GLPOSTDT", d(&date)),
        ("BACHNUMB", t("EC-CASH")),
        ("CSHRCTYP", SqlValue::Int(2)),
        ("CRCARDID", t("VISA")),
    ];
    assert_eq!(call(&mut s, "taRMCashReceiptInsert", &receipt).await.error_state, 0);
    let apply = |amount: &str| {
        vec![
            ("APTODCNM", t("EC-INV-2")),
            ("APFRDCNM", t("EC-PMT-1")),
            ("APPTOAMT", n(amount)),
            ("APFRDCTY", SqlValue::Int(9)),
            ("APTODCTY", SqlValue::Int(1)),
        ]
    };
    assert_eq!(call(&mut s, "taRMApply", &apply("60.00")).await.error_state, 9024, "over the receipt");
    assert_eq!(call(&mut s, "taRMApply", &apply("40.00")).await.error_state, 0);
    let void = [
        ("CUSTNMBR", t("EC-CUST")),
        ("DOCNUMBR", t("EC-PMT-1")),
        ("VOIDSTTS", SqlValue::Int(1)),
        ("RMDTYPAL", SqlValue::Int(9)),
        ("VOIDDATE", d(&date)),
        ("GLPOSTDT", d(&date)),
    ];
    assert_eq!(call(&mut s, "taRMVoidTransaction", &void).await.error_state, 9048, "the receipt is unposted");
    assert!(sb.control().post_batch(FABRIKAM, "EC-CASH", "RM_Cash").await.unwrap().is_posted());
    assert_eq!(call(&mut s, "taRMVoidTransaction", &void).await.error_state, 0);
    assert_eq!(call(&mut s, "taRMVoidTransaction", &void).await.error_state, 9044);
    // The void unapplied the receipt: the invoice is owed in full again.
    let inv_doc = sb.control().document(FABRIKAM, DocType::Invoice, "EC-INV-2").await.unwrap().unwrap();
    assert_eq!(inv_doc.remaining, 10600);
    // Every query of docs/econnect.md answers (parameters typed as the executor sends them).
    for q in query_texts() {
        let params: Vec<SqlValue> = match q.matches("@P").count() {
            0 => vec![],
            _ if q.contains("PERIODDT") => vec![d(&date)],
            _ if q.contains("EXCHDATE") => vec![t("Z-EURO"), t("SELL"), d(&date)],
            _ if q.contains("ErrorCode") => vec![SqlValue::Int(712)],
            _ if q.contains("RMDTYPAL = @P1") => vec![SqlValue::Int(1), t("EC-INV-2")],
            _ if q.contains("APFRDCTY = @P1") => vec![SqlValue::Int(9), t("EC-PMT-1")],
            _ if q.contains("Master_ID") => vec![t("EC-CUST"), t("PRIMARY")],
            _ if q.contains("BCHSOURC = @P2") => vec![t("EC-INV-B"), t("RM_Sales")],
            _ => vec![t("x")],
        };
        s.query(&q.to_lowercase().replace(' ', "  "), &params).await.unwrap_or_else(|e| panic!("{q}: {e}"));
    }
    let q = "SELECT ErrorDesc FROM DYNAMICS..taErrorCode WHERE ErrorCode = @P1";
    let rs = s.query(q, &[SqlValue::Int(712)]).await.unwrap();
    assert_eq!(rs.rows[0][0], t("Tax amount (TAXAMNT) does not equal tax details in RM10601"));
    let q = "SELECT INET1 FROM SY01200 WHERE Master_Type = 'CUS' AND Master_ID = @P1 AND ADRSCODE = @P2";
    assert_eq!(s.query(q, &[t("EC-CUST"), t("PRIMARY")]).await.unwrap().rows[0][0], t("a@b.test"));
    let q = "SELECT TOP 1 XCHGRATE, EXCHDATE, EXPNDATE, MC00100.EXGTBLID FROM DYNAMICS..MC00100 INNER JOIN MC40301 ON MC40301.EXGTBLID = MC00100.EXGTBLID WHERE MC40301.CURNCYID = @P1 AND MC40301.RATETPID = @P2 AND EXCHDATE <= @P3 AND (EXPNDATE >= @P3 OR EXPNDATE = '19000101') ORDER BY EXCHDATE DESC";
    let rs = s.query(q, &[t("Z-EURO"), t("SELL"), d(&date)]).await.unwrap();
    assert_eq!(rs.rows[0][0], SqlValue::Decimal { units: 10_850_000, scale: 7 });
}

#[tokio::test]
async fn econnect_reads_what_soap_wrote() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    assert_eq!(create_customer(&mut c, "SOAP-CUST", "Via SOAP").await.status, 200);
    let date = open_date();
    let doc = Doc::new("SOAP-INV", "SOAP-CUST", &date, "25.00");
    assert_eq!(create_invoice(&mut c, &doc).await.status, 200);
    let mut s = session(&sb).await;
    let q = "SELECT RMDTYPAL, DOCNUMBR, DCSTATUS FROM RM00401 WHERE CUSTNMBR = @P1 ORDER BY RMDTYPAL, DOCNUMBR";
    let rs = s.query(q, &[t("SOAP-CUST")]).await.unwrap();
    assert_eq!(rs.rows, vec![vec![SqlValue::Int(1), t("SOAP-INV"), SqlValue::Int(1)]]);
    let q = "SELECT SEQNUMBR, DISTTYPE, ACTNUMST, DEBITAMT, CRDTAMNT, DistRef FROM RM10101 INNER JOIN GL00105 ON GL00105.ACTINDX = RM10101.DSTINDX WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2 ORDER BY SEQNUMBR";
    assert_eq!(
        s.query(q, &[SqlValue::Int(1), t("SOAP-INV")]).await.unwrap().rows.len(),
        2,
        "GP's default distributions"
    );
}
