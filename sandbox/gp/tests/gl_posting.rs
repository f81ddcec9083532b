//! GL posting dates (batch headers, a receipt's GLPOSTDT, `GeneralLedgerPostingDate`) decide
//! the fiscal period at creation and at posting; debit memos; a batch being posted refused on
//! every transport with 9046; the read queries against docs/econnect.md.

// Test helpers: a failed step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use gp_sandbox::DocType;
use gp_sandbox::econnect::{PROCEDURES, query_texts};
use gp_sandbox::tds::backend::Session;
use hyper::{Method, StatusCode};
use support::ec::*;
use support::*;

fn day(year: i32, month: u32, d: u32) -> String {
    format!("{year}-{month:02}-{d:02}")
}

fn dist(kind: i64, number: &str, cust: &str, dist_type: i64, account: &str, debit: &str, credit: &str) -> Params {
    vec![
        ("RMDTYPAL", i(kind)),
        ("DOCNUMBR", t(number)),
        ("CUSTNMBR", t(cust)),
        ("DISTTYPE", i(dist_type)),
        ("ACTNUMST", t(account)),
        ("DEBITAMT", n(debit)),
        ("CRDTAMNT", n(credit)),
    ]
}

#[tokio::test]
async fn the_gl_posting_date_decides_the_period_at_creation_and_at_posting() {
    let sb = start().await;
    let mut s = session(&sb).await;
    let (last, this) = (this_year() - 1, this_year());
    assert_eq!(state(&mut s, "taUpdateCreateCustomerRcd", &customer("GL-CUST")).await, 0);
    // Last year is closed: a document dated then goes in with a GL posting date this year.
    let late = day(last, 12, 30);
    assert_eq!(state(&mut s, "taRMTransaction", &sale(1, "GL-LATE0", "GL-CUST", "GL-S0", &late, "10")).await, 9001);
    assert_eq!(
        state(&mut s, "taCreateUpdateBatchHeaderRcd", &batch_header("GL-S", "RM_Sales", Some(&day(this, 1, 2)))).await,
        0
    );
    assert_eq!(state(&mut s, "taRMTransaction", &sale(1, "GL-LATE", "GL-CUST", "GL-S", &late, "10")).await, 0);
    // A receipt's own GLPOSTDT goes before its batch's and its date.
    let r = receipt("GL-PMT", "GL-CUST", "GL-C", &late, "5", &day(this, 1, 3));
    assert_eq!(state(&mut s, "taRMCashReceiptInsert", &r).await, 0);
    let r = receipt("GL-PMT2", "GL-CUST", "GL-C", &day(this, 1, 3), "5", &late);
    assert_eq!(state(&mut s, "taRMCashReceiptInsert", &r).await, 9001);
    // The batch header updated to a closed date: creation refuses, and so does posting.
    let closed = batch_header("GL-S", "RM_Sales", Some(&day(last, 6, 1)));
    assert_eq!(state(&mut s, "taCreateUpdateBatchHeaderRcd", &closed).await, 0);
    assert_eq!(
        state(&mut s, "taRMTransaction", &sale(1, "GL-2", "GL-CUST", "GL-S", &day(this, 1, 5), "10")).await,
        9001
    );
    let out = sb.control().post_batch(FABRIKAM, "GL-S", "RM_Sales").await.unwrap();
    assert!(!out.is_posted(), "GL-LATE's GL posting date is now in a closed period: {out:?}");
    // Without a date the header keeps its GL posting date; a new one moves it.
    assert_eq!(state(&mut s, "taCreateUpdateBatchHeaderRcd", &batch_header("GL-S", "RM_Sales", None)).await, 0);
    assert!(!sb.control().post_batch(FABRIKAM, "GL-S", "RM_Sales").await.unwrap().is_posted());
    let open = batch_header("GL-S", "RM_Sales", Some(&day(this, 1, 31)));
    assert_eq!(state(&mut s, "taCreateUpdateBatchHeaderRcd", &open).await, 0);
    assert!(sb.control().post_batch(FABRIKAM, "GL-S", "RM_Sales").await.unwrap().is_posted());
    // A posted document reads with the GL posting date it posted with.
    let mut c = Client::login(&sb).await;
    let a = c.soap("GetReceivablesInvoiceByKey", &format!("<key><Id>GL-LATE</Id></key>{}", context(FABRIKAM))).await;
    assert_eq!(
        tag(&a.body, "GeneralLedgerPostingDate"),
        Some(&*format!("{}T00:00:00", day(this, 1, 31))),
        "{}",
        a.body
    );
    let a = c.soap("GetCashReceiptByKey", &format!("<key><Id>GL-PMT</Id></key>{}", context(FABRIKAM))).await;
    assert_eq!(tag(&a.body, "GeneralLedgerPostingDate"), Some(&*format!("{}T00:00:00", day(this, 1, 3))));
}

#[tokio::test]
async fn batch_headers_are_receivables_batches() {
    let sb = start().await;
    let mut s = session(&sb).await;
    let cases = [
        (with(batch_header("H1", "RM_Sales", None), "SERIES", i(2)), 9049),
        (with(batch_header("H1", "RM_Sales", None), "ORIGIN", i(2)), 9049),
        (batch_header("H1", "PM_Trxent", None), 9049),
        (with(batch_header("H1", "RM_Cash", None), "CHEKBKID", t("NO BANK")), 9008),
        (with(batch_header("H1", "RM_Sales", None), "BACHNUMB", t("A-BATCH-NAME-TOO-LONG")), 9004),
    ];
    for (params, expected) in cases {
        assert_eq!(state(&mut s, "taCreateUpdateBatchHeaderRcd", &params).await, expected, "{params:?}");
    }
    let commented = with(batch_header("H2", "RM_Cash", None), "BCHCOMNT", t("Chargebee payments"));
    assert_eq!(state(&mut s, "taCreateUpdateBatchHeaderRcd", &commented).await, 0);
    let batch = sb.control().batches(FABRIKAM).await.unwrap().into_iter().find(|b| b.id == "H2").unwrap();
    assert_eq!((batch.source.as_str(), batch.comment.as_deref()), ("RM_Cash", Some("Chargebee payments")));
}

#[tokio::test]
async fn soap_general_ledger_posting_date_decides_the_period() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    assert_eq!(create_customer(&mut c, "WS-GL", "GL dates").await.status, 200);
    let last = format!("{}-12-30T00:00:00", this_year() - 1);
    let doc = Doc { batch: "WSGL-S", ..Doc::new("WSGL-1", "WS-GL", &last, "10.00") };
    let a = create_invoice(&mut c, &doc).await;
    assert_eq!(validation_messages(&mut c, &a.body).await, [gp_sandbox::rules::PERIOD_CLOSED]);
    // GeneralLedgerPostingDate sits after the tax schedule keys in ReceivablesDocument.
    let glpost = format!("<GeneralLedgerPostingDate>{}-01-02T00:00:00</GeneralLedgerPostingDate>", this_year());
    let xml = doc.sales_xml("receivablesInvoice").replace("<BatchKey>", &format!("{glpost}<BatchKey>"));
    let a = c.soap("CreateReceivablesInvoice", &format!("{xml}{}{}", context(FABRIKAM), policy())).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let a = c.soap("GetReceivablesInvoiceByKey", &format!("<key><Id>WSGL-1</Id></key>{}", context(FABRIKAM))).await;
    assert_eq!(tag(&a.body, "GeneralLedgerPostingDate"), Some(&*format!("{}-01-02T00:00:00", this_year())));
    assert!(sb.control().post_batch(FABRIKAM, "WSGL-S", "RM_Sales").await.unwrap().is_posted());
}

#[tokio::test]
async fn debit_memos_carry_their_distributions_take_applies_and_count() {
    let sb = start().await;
    let mut s = session(&sb).await;
    let date = day(this_year(), 3, 10);
    assert_eq!(state(&mut s, "taUpdateCreateCustomerRcd", &customer("DM-CUST")).await, 0);
    // A refund paid out: receivables debit (3), cash credit (1). Sales (9) is not a debit memo's.
    let header = with(sale(3, "DM-1", "DM-CUST", "DM-S", &date, "40"), "CREATEDIST", i(0));
    let receivables = dist(3, "DM-1", "DM-CUST", 3, "000-1200-00", "40", "0");
    for (other_side, expected) in [(9, 9032), (1, 0)] {
        s.begin().await.unwrap();
        assert_eq!(state(&mut s, "taRMDistribution", &receivables).await, 0);
        let credit = dist(3, "DM-1", "DM-CUST", other_side, "000-1100-00", "0", "40");
        assert_eq!(state(&mut s, "taRMDistribution", &credit).await, 0);
        assert_eq!(state(&mut s, "taRMTransaction", &header).await, expected, "DISTTYPE {other_side}");
        if expected == 0 {
            s.commit().await.unwrap();
        }
    }
    // GP's own distributions for a debit memo (CREATEDIST 1): DISTTYPE 18.
    assert_eq!(state(&mut s, "taRMTransaction", &sale(3, "DM-2", "DM-CUST", "DM-S", &date, "15")).await, 0);
    let rs = query(&mut s, "SELECT SEQNUMBR, DISTTYPE, ACTNUMST, DEBITAMT, CRDTAMNT, DistRef FROM RM10101 INNER JOIN GL00105 ON GL00105.ACTINDX = RM10101.DSTINDX WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2 ORDER BY SEQNUMBR", &[i(3), t("DM-2")]).await;
    assert_eq!(rs.rows.iter().map(|r| r[1].clone()).collect::<Vec<_>>(), [i(3), i(18)]);
    assert_eq!(state(&mut s, "taRMTransaction", &sale(7, "DM-CM", "DM-CUST", "DM-S", &date, "40")).await, 0);
    assert_eq!(state(&mut s, "taRMApply", &apply((7, "DM-CM"), (3, "DM-1"), "40")).await, 9025, "unposted");
    assert!(sb.control().post_batch(FABRIKAM, "DM-S", "RM_Sales").await.unwrap().is_posted());
    assert_eq!(state(&mut s, "taRMApply", &apply((7, "DM-CM"), (3, "DM-1"), "40")).await, 0);
    let rs = query(&mut s, CUSTOMER_DOCUMENTS, &[t("DM-CUST")]).await;
    assert_eq!(rs.rows, vec![vec![i(3), t("DM-1"), i(2)], vec![i(3), t("DM-2"), i(2)], vec![i(7), t("DM-CM"), i(2)]]);
    let rs = query(&mut s, DOCUMENT_OPEN, &[i(3), t("DM-1")]).await;
    assert_eq!(&rs.rows[0][6..], &[m5(4_000_000), m5(0), i(0)]);

    // Web Services: the balance counts DM-2 (15) and nothing of the settled pair.
    let mut c = Client::login(&sb).await;
    let a = c
        .soap("GetCustomerReceivablesSummaryByKey", &format!("<key><Id>DM-CUST</Id></key>{}", context(FABRIKAM)))
        .await;
    let i0 = a.body.find("<BalanceAmount>").unwrap();
    assert_eq!(tag(&a.body[i0..], "Value"), Some("15.00"));
    let a = c.soap("GetReceivablesDebitMemoByKey", &format!("<key><Id>DM-2</Id></key>{}", context(FABRIKAM))).await;
    assert_eq!(
        (tag(&a.body, "Type"), tag(&a.body, "TransactionState")),
        (Some("Debit Memo"), Some("Open")),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn web_services_debit_memos_and_applies_to_them() {
    let sb = start_with_extension().await;
    let mut c = Client::login(&sb).await;
    assert_eq!(create_customer(&mut c, "WS-DM", "Debit memos").await.status, 200);
    let date = open_date();
    let memo = Doc { batch: "WSDM-S", ..Doc::new("WSDM-1", "WS-DM", &date, "30.00") };
    let a = c
        .soap(
            "CreateReceivablesDebitMemo",
            &format!("{}{}{}", memo.sales_xml("receivablesDebitMemo"), context(FABRIKAM), policy()),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert!(sb.control().post_batch(FABRIKAM, "WSDM-S", "RM_Sales").await.unwrap().is_posted());
    let ext = apply_extension("WSDM-1", "20.00").replace("<APTODCNM>", "<APTODCTY>3</APTODCTY><APTODCNM>");
    let receipt = Doc { batch: "WSDM-C", extensions: &ext, ..Doc::new("WSDM-R", "WS-DM", &date, "20.00") };
    assert_eq!(create_receipt(&mut c, &receipt).await.status, StatusCode::OK);
    let a = c.soap("GetReceivablesDebitMemoByKey", &format!("<key><Id>WSDM-1</Id></key>{}", context(FABRIKAM))).await;
    let i0 = a.body.find("<CurrentDocumentAmount>").unwrap();
    assert_eq!(tag(&a.body[i0..], "Value"), Some("10.00"));
    let applies = sb.control().applies(FABRIKAM).await.unwrap();
    assert_eq!((applies[0].to_type, applies[0].amount_minor), (DocType::DebitMemo, 2000));
}

#[tokio::test]
async fn a_batch_being_posted_is_refused_alone_on_every_transport() {
    let sb = start().await;
    let mut s = session(&sb).await;
    let mut c = Client::login(&sb).await;
    let date = day(this_year(), 3, 10);
    assert_eq!(state(&mut s, "taUpdateCreateCustomerRcd", &customer("BUSY")).await, 0);
    assert_eq!(state(&mut s, "taRMTransaction", &sale(1, "BZ-1", "BUSY", "BZ-S", &date, "10")).await, 0);
    sb.control().set_batch_status(FABRIKAM, "BZ-S", "RM_Sales", 1).await.unwrap();
    // eConnect: error_state 9046 and nothing else, even with other faults in the document.
    let out = call(&mut s, "taRMTransaction", &sale(1, "BZ-1", "NO-CUSTOMER", "BZ-S", &date, "10")).await;
    assert_eq!((out.error_state, out.error_string.as_str()), (9046, "9046"));
    let out = call(&mut s, "taCreateUpdateBatchHeaderRcd", &batch_header("BZ-S", "RM_Sales", None)).await;
    assert_eq!(out.error_state, 9046);
    let rs = query(&mut s, "SELECT ErrorDesc FROM DYNAMICS..taErrorCode WHERE ErrorCode = @P1", &[i(9046)]).await;
    assert_eq!(rs.rows, vec![vec![t("Batch is marked for posting by another user.")]]);
    // SOAP: a validation fault with GP's text; its logged error has Id 9046.
    let open = open_date();
    let doc = Doc { batch: "BZ-S", ..Doc::new("BZ-2", "BUSY", &open, "10.00") };
    let a = create_invoice(&mut c, &doc).await;
    assert!(a.body.contains("<faultstring>Batch is marked for posting by another user.</faultstring>"), "{}", a.body);
    let id = fault_log_id(&a.body).unwrap();
    let log = c.soap("GetLoggedValidationResultByKey", &format!("<logId>{id}</logId>{}", context(FABRIKAM))).await;
    assert_eq!(tag(&log.body, "Id"), Some("9046"), "{}", log.body);
    // SBA: 409 with the same text and Id.
    let auth = basic(sb.credentials());
    let body = serde_json::json!({"Payload": {"Key": {"Id": "BZ-3"}, "Date": open_date(), "CustomerKey": {"Id": "BUSY"},
        "BatchKey": {"Id": "BZ-S"}, "SalesAmount": {"Value": 10}}});
    let path = format!("{}/Sales/ReceivablesInvoices", sb.sba_company_url("Fabrikam, Inc."));
    let a = c.json(Method::POST, &path, Some(body), &auth).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{a:?}");
    let err: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    let first = &err["Error"]["ValidationResult"]["Errors"][0];
    assert_eq!(
        (first["Id"].as_str(), first["Message"].as_str()),
        (Some("9046"), Some("Batch is marked for posting by another user."))
    );
    // Available again: the writes go through.
    sb.control().set_batch_status(FABRIKAM, "BZ-S", "RM_Sales", 0).await.unwrap();
    assert_eq!(create_invoice(&mut c, &doc).await.status, StatusCode::OK);
}

#[tokio::test]
async fn next_open_period_and_the_docs_tables() {
    let sb = start().await;
    let mut s = session(&sb).await;
    let this = this_year();
    sb.control().close_period(FABRIKAM, this, 2).await.unwrap();
    sb.control().close_period(FABRIKAM, this, 3).await.unwrap();
    let rs = query(&mut s, NEXT_OPEN_PERIOD, &[t(&day(this, 1, 20))]).await;
    assert_eq!(rs.rows.len(), 1);
    assert_eq!(&rs.rows[0][1..], &[i(4), i(i64::from(this))], "periods 2 and 3 are closed");
    let rs = query(&mut s, NEXT_OPEN_PERIOD, &[t(&day(this + 5, 1, 1))]).await;
    assert!(rs.rows.is_empty(), "no period set up after that");
    assert!(matches!(rs.columns.first().map(|c| c.name.as_str()), Some("PERIODDT")));

    // The emulator answers exactly docs/econnect.md's query texts and procedures.
    let doc = include_str!("../../../docs/econnect.md");
    let section = &doc[doc.find("## Read queries").unwrap()..];
    let doc_queries: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("`SELECT"))
        .map(|l| l.split('`').nth(1).unwrap())
        .collect();
    let mut ours: Vec<&str> = query_texts().collect();
    let mut theirs = doc_queries.clone();
    ours.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(ours, theirs);
    let procs =
        &doc[doc.find("## Procedures and their parameters").unwrap()..doc.find("## eConnect's error numbers").unwrap()];
    let names: Vec<&str> =
        procs.lines().filter_map(|l| l.strip_prefix("| ta")).map(|l| l.split(' ').next().unwrap()).collect();
    let emulated: Vec<String> = PROCEDURES.iter().map(|(n, _)| n[2..].to_string()).collect();
    assert_eq!(names, emulated);
}
